"""三、工作保障措施 as one text field of the department form: written from the master, read back into items.

The form holds the measures as numbered paragraphs, one per line: ``1、措施名称。措施内容`` (what the published
document prints as a heading and its paragraph). Reading back accepts ``1、``, ``1.``, ``1．`` and ``（1）``/``(1)``
prefixes; a paragraph without a number takes the next number. The name is the paragraph up to its first
sentence end (。！？), the content the rest. Numbers that go backwards or repeat cannot be told apart, so such
a text is kept whole as one measure (the reader adds an info finding).
"""

from __future__ import annotations

import re
from typing import Iterable

from .model import DeptMeasure

SENTENCE_ENDS = "。！？!?"
_NUMBERED = re.compile(r"^\s*(?:[（(]\s*(\d{1,3})\s*[)）]|(\d{1,3})\s*[、.．,，:：](?!\d))\s*")


def measures_text(measures: Iterable[DeptMeasure]) -> str:
    """The measures as the form shows them: ``1、名称。内容`` per line, in 序号 order."""
    lines = []
    for measure in measures:
        title = measure.title.strip()
        joint = "" if not title or not measure.text or title[-1] in SENTENCE_ENDS else "。"
        lines.append(f"{measure.seq}、{title}{joint}{measure.text.strip()}")
    return "\n".join(lines)


def parse_measures(text: str, unit_code: str = "") -> tuple[tuple[DeptMeasure, ...], bool]:
    """The measures a text states, and whether its numbering could be followed.

    When it could not (a number repeats or goes backwards), the whole text is one measure, its name the text.
    A blank text gives no measures.
    """
    paragraphs = [line.strip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n") if line.strip()]
    measures: list[DeptMeasure] = []
    last = 0
    for paragraph in paragraphs:
        match = _NUMBERED.match(paragraph)
        if match is None:
            seq, body = last + 1, paragraph
        else:
            seq, body = int(match.group(1) or match.group(2)), paragraph[match.end():]
            if seq <= last:
                return (DeptMeasure(unit_code, 1, "\n".join(paragraphs)),), False
        title, text = _split_title(body)
        measures.append(DeptMeasure(unit_code, seq, title, text))
        last = seq
    return tuple(measures), True


def _split_title(body: str) -> tuple[str, str]:
    """``名称。内容`` → (名称, 内容); a paragraph of one sentence is all name."""
    for k, char in enumerate(body):
        if char in SENTENCE_ENDS and k + 1 < len(body):
            return body[:k].strip(), body[k + 1:].strip()
    return body.rstrip("。").strip(), ""
