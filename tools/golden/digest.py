"""Print a JSON digest of every file under a folder: ``python digest.py FOLDER``.

Each file is hashed with the folder's own path taken out of its bytes (outputs quote their paths); an .xlsx or
.docx is hashed member by member, so a difference names the sheet or part. The ledger and the worker noise in
stderr.log are left out: the ledger's bytes change with every write, what it holds shows in the outputs.
"""

from __future__ import annotations

import hashlib
import json
import sys
import zipfile
from pathlib import Path

SKIPPED = ("ledger.sqlite", "ledger.sqlite-wal", "ledger.sqlite-shm", "stderr.log")


def digest(root: Path) -> dict[str, str]:
    """Relative path (``file!member`` inside a zip package) → the first 16 hex digits of its sha256."""
    needle = str(root).encode()

    def short(data: bytes) -> str:
        return hashlib.sha256(data.replace(needle, b"<OUT>")).hexdigest()[:16]

    found: dict[str, str] = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        relative = path.relative_to(root).as_posix()
        if relative.endswith(SKIPPED):
            continue
        if path.suffix in (".xlsx", ".docx") and zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as package:
                for member in sorted(package.namelist()):
                    found[f"{relative}!{member}"] = short(package.read(member))
        else:
            found[relative] = short(path.read_bytes())
    return found


if __name__ == "__main__":
    json.dump(digest(Path(sys.argv[1])), sys.stdout, ensure_ascii=False, indent=0)
