"""Build the CJK font shipped for PDF output: a renamed GB2312 subset of LXGW WenKai (SIL OFL 1.1).

Run: ``python tools/build_font.py SOURCE.ttf [LICENSE.txt]`` where SOURCE is ``LXGWWenKai-Regular.ttf``
(Debian package ``fonts-lxgw-wenkai``; ``apt-get download fonts-lxgw-wenkai`` and ``dpkg-deb -x``). It writes
``jixiao_xl/fonts/JixiaoKai-GB2312.ttf``: every character of GB2312 (symbols, both levels of hanzi),
printable ASCII, the comparison signs the tables print and every character of the bundled sample.

The OFL reserves the names "霞鹜" and "LXGW" for the unmodified font, so the subset is renamed.
"""

from __future__ import annotations

import sys
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTFont

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "jixiao_xl" / "fonts" / "JixiaoKai-GB2312.ttf"
FAMILY = "JixiaoKai GB2312"
EXTRA = "≥≤＞＝＜％（）：，。、；“”‘’《》—…·×"
GB2312_ROWS = tuple(range(1, 10)) + tuple(range(16, 88))  # symbols, then level-1 and level-2 hanzi


def gb2312_characters() -> set[str]:
    """Every character GB2312 encodes (two-byte rows 1–9 and 16–87)."""
    found = set()
    for row in GB2312_ROWS:
        for cell in range(0xA1, 0xFF):
            try:
                found.add(bytes([row + 0xA0, cell]).decode("gb2312"))
            except UnicodeDecodeError:
                pass
    return found


def sample_characters() -> set[str]:
    """The characters of the bundled sample master."""
    found = set()
    for path in (ROOT / "jixiao_xl" / "sample").glob("*.csv"):
        found |= set(path.read_text(encoding="utf-8-sig"))
    return found


def wanted_characters() -> str:
    chars = gb2312_characters() | sample_characters() | {chr(c) for c in range(0x20, 0x7F)} | set(EXTRA)
    return "".join(sorted(c for c in chars if c.isprintable()))


def rename(font: TTFont) -> None:
    """Drop every name record and write the subset's own names (the OFL's reserved names must go)."""
    notice = next((r.toUnicode() for r in font["name"].names if r.nameID == 0 and r.langID == 0x409), "")
    table = font["name"]
    table.names = []
    names = {
        0: notice + "\nSubset and renamed by jixiao-xl (tools/build_font.py); Modified Version under the SIL OFL 1.1.",
        1: FAMILY, 2: "Regular", 3: f"{FAMILY} Regular; jixiao-xl", 4: f"{FAMILY} Regular",
        5: "Version 1.250-gb2312", 6: FAMILY.replace(" ", "") + "-Regular",
        13: "This Font Software is licensed under the SIL Open Font License, Version 1.1.",
        14: "https://openfontlicense.org",
    }
    for name_id, text in names.items():
        table.setName(text, name_id, 3, 1, 0x409)


def build(source: Path, target: Path = TARGET) -> None:
    options = subset.Options()
    options.layout_features = []
    options.hinting = False
    options.notdef_outline = True
    font = TTFont(source)
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=wanted_characters())
    subsetter.subset(font)
    rename(font)
    target.parent.mkdir(parents=True, exist_ok=True)
    font.save(target)
    print(f"{target}: {target.stat().st_size} bytes")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    build(Path(sys.argv[1]))
