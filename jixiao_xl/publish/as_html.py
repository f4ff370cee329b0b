"""The 预算公开 document as one self-contained HTML page for a government website (jinja2, autoescaped).

The page holds its own styles and nothing else: no script, no external font or image. Every text from the
master or a return goes through jinja2's autoescape; the template (templates/公开.html.j2) uses no ``|safe``.
"""

from __future__ import annotations

import jinja2

from . import GRID_HEADER, Publication
from ..resources import text_templates_dir

HTML_TEMPLATE = "公开.html.j2"


def render_html(publication: Publication) -> str:
    """The HTML text of one unit's document."""
    environment = jinja2.Environment(loader=jinja2.FileSystemLoader(str(text_templates_dir())), autoescape=True,
                                     trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    return environment.get_template(HTML_TEMPLATE).render(pub=publication, header=GRID_HEADER)
