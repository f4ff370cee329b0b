"""What the site keeps in the ledger: unit links, staff accounts, API tokens and uploads (审核 decisions are the
ledger's own: :mod:`jixiao_xl.ledger.reviews`).

Its tables are created by one ledger migration (:data:`jixiao_xl.ledger.site_schema.SERVE_TABLES`) and
live in the same SQLite file; this module reads and writes them through its own connection.

Secrets are never stored as they are:

* a unit's link token is ``HMAC(workspace key, unit code, generation)``: the ledger keeps only its sha256
  and the generation, and ``jixiao-xl links`` recomputes the link from the key file (``.jixiao-serve.key``,
  beside ``jixiao.toml``, readable by its owner only). A copy of the ledger therefore opens no unit's page;
  rotating a link bumps the generation, which makes the old token unknown;
* staff passwords are hashed with scrypt (memory-hard, from the standard library);
* API tokens are random and kept as their sha256.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError
from ..ledger import BUSY_TIMEOUT_MS, Ledger, now_iso


KEY_NAME = ".jixiao-serve.key"


# scrypt with n=2**14, r=8 needs 16 MiB per hash: costly for a guesser, cheap for one login.
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2 ** 14, 8, 1



# ---------------------------------------------------------------------------------------------------------
# The workspace key


def load_key(root: Path, create: bool = True) -> bytes:
    """The workspace's secret key (32 random bytes in ``root/.jixiao-serve.key``), made on first use."""
    path = Path(root) / KEY_NAME
    try:
        return bytes.fromhex(path.read_text("ascii").strip())
    except FileNotFoundError:
        if not create:
            raise InputError(f"工作区 {root} 还没有填报网站的密钥 {KEY_NAME}；请先运行 jixiao-xl links 生成各单位的链接。") from None
    except (ValueError, UnicodeDecodeError):
        raise InputError(f"密钥文件 {path} 已损坏；删除它会使所有单位链接失效，删除后请运行 jixiao-xl links 重新生成并重新通知各单位。") from None
    key = secrets.token_bytes(32)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first
        return load_key(root, create=False)
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(key.hex() + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    return key


def derive(key: bytes, purpose: str) -> bytes:
    """A sub-key of the workspace key for one purpose (unit links, sessions, CSRF …)."""
    return hmac.new(key, purpose.encode("utf-8"), hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def token_hash(token: str) -> str:
    """How a token is kept in the ledger."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def unit_token(key: bytes, unit_code: str, generation: int) -> str:
    """The link token of a unit's ``generation``-th link (unguessable without the key: 192 bits)."""
    return _b64(hmac.new(derive(key, "unit-link"), f"{unit_code}\n{generation}".encode("utf-8"), hashlib.sha256)
                .digest()[:24])


# ---------------------------------------------------------------------------------------------------------
# Passwords


def hash_password(password: str) -> str:
    """``scrypt$n$r$p$salt$hash`` for ``password`` (a fresh random salt)."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P, dklen=32)
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def check_password(password: str, stored: str) -> bool:
    """True when ``password`` matches a :func:`hash_password` result."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        found = hashlib.scrypt(password.encode("utf-8"), salt=_unb64(salt), n=int(n), r=int(r), p=int(p),
                               dklen=len(_unb64(digest)))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(found, _unb64(digest))


# ---------------------------------------------------------------------------------------------------------
# Rows


@dataclass(frozen=True)
class Upload:
    """One file a unit uploaded through its link."""

    id: int
    unit_code: str
    client_name: str
    stored_path: str
    sha256: str
    size: int
    received_at: str
    status: str
    import_id: int | None
    refused: bool
    sendback: str
    completed_at: str | None


_UPLOAD_COLUMNS = ("id, unit_code, client_name, stored_path, sha256, size, received_at, status, import_id, refused,"
                   " sendback, completed_at")


def _upload(values) -> Upload:
    values = list(values)
    values[9] = bool(values[9])
    return Upload(*values)


class Store(Ledger):
    r"""A ledger with the methods of the site's tables. The CLI opens it with :meth:`Ledger.open` (which
    migrates); the site migrates once at start and then :meth:`connect`\ s one short-lived store per request."""

    @classmethod
    def connect(cls, path: str | Path) -> "Store":
        """An already migrated ledger, opened without the migration check (any thread may use it)."""
        connection = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None,
                                     check_same_thread=False)
        connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        connection.execute("PRAGMA foreign_keys = ON")
        connection.execute("PRAGMA synchronous = FULL")
        return cls(connection, Path(path))

    # -- unit links -----------------------------------------------------------------------------------

    def link_token(self, key: bytes, unit_code: str, rotate: bool = False) -> str:
        """The unit's current link token, made on first use; ``rotate`` replaces it (the old one stops working)."""
        with self._transaction() as db:
            row = db.execute("SELECT generation, revoked FROM serve_links WHERE unit_code = ?", (unit_code,)).fetchone()
            if row is not None and not rotate and not row[1]:
                return unit_token(key, unit_code, row[0])
            generation = (row[0] + 1) if row is not None else 1
            token = unit_token(key, unit_code, generation)
            db.execute("INSERT INTO serve_links (unit_code, generation, token_sha256, revoked, changed_at)"
                       " VALUES (?, ?, ?, 0, ?) ON CONFLICT (unit_code) DO UPDATE SET generation = excluded.generation,"
                       " token_sha256 = excluded.token_sha256, revoked = 0, changed_at = excluded.changed_at",
                       (unit_code, generation, token_hash(token), now_iso()))
            return token

    def revoke_link(self, unit_code: str) -> bool:
        """Stop the unit's link from working (a later :meth:`link_token` makes a new one); False if it had none."""
        with self._transaction() as db:
            cursor = db.execute("UPDATE serve_links SET revoked = 1, changed_at = ? WHERE unit_code = ?",
                                (now_iso(), unit_code))
            return cursor.rowcount > 0

    def unit_of_token(self, token: str) -> str | None:
        """The unit a live link token belongs to, or None."""
        row = self._db.execute("SELECT unit_code FROM serve_links WHERE token_sha256 = ? AND revoked = 0",
                               (token_hash(token),)).fetchone()
        return row[0] if row else None

    def live_links(self) -> set[str]:
        """The units whose link works."""
        return {code for code, in self._db.execute("SELECT unit_code FROM serve_links WHERE revoked = 0")}

    # -- staff and API tokens -------------------------------------------------------------------------

    def set_user(self, name: str, password: str) -> bool:
        """Create the staff account ``name`` or change its password; True when it is new."""
        hashed = hash_password(password)
        with self._transaction() as db:
            exists = db.execute("SELECT 1 FROM serve_users WHERE name = ?", (name,)).fetchone() is not None
            db.execute("INSERT INTO serve_users (name, password_hash, created_at) VALUES (?, ?, ?)"
                       " ON CONFLICT (name) DO UPDATE SET password_hash = excluded.password_hash", (name, hashed, now_iso()))
        return not exists

    def check_user(self, name: str, password: str) -> bool:
        """True when ``name`` is a staff account and ``password`` is its password (always hashes, known or not)."""
        row = self._db.execute("SELECT password_hash FROM serve_users WHERE name = ?", (name,)).fetchone()
        stored = row[0] if row else _DUMMY_HASH
        return check_password(password, stored) and row is not None

    def create_api_token(self) -> str:
        """A new API token (only its hash is kept)."""
        token = "jx_" + secrets.token_urlsafe(32)
        with self._transaction() as db:
            db.execute("INSERT INTO serve_api_tokens (token_sha256, created_at) VALUES (?, ?)", (token_hash(token), now_iso()))
        return token

    def api_token_ok(self, token: str) -> bool:
        """True for a token :meth:`create_api_token` made."""
        return self._db.execute("SELECT 1 FROM serve_api_tokens WHERE token_sha256 = ?",
                                (token_hash(token),)).fetchone() is not None

    # -- uploads --------------------------------------------------------------------------------------

    def record_upload(self, unit_code: str, client_name: str, stored_path: Path, sha256: str, size: int) -> int:
        """Write the "received" row of an upload, before it is imported."""
        with self._transaction() as db:
            cursor = db.execute(
                "INSERT INTO serve_uploads (unit_code, client_name, stored_path, sha256, size, received_at, status)"
                " VALUES (?, ?, ?, ?, ?, ?, 'received')", (unit_code, client_name, str(stored_path), sha256, size, now_iso()))
            return int(cursor.lastrowid)

    def finish_upload(self, upload_id: int, import_id: int | None, refused: bool, sendback: str) -> None:
        """Record what importing an upload gave."""
        with self._transaction() as db:
            db.execute("UPDATE serve_uploads SET status = 'done', import_id = ?, refused = ?, sendback = ?,"
                       " completed_at = ? WHERE id = ?", (import_id, int(refused), sendback, now_iso(), upload_id))

    def upload(self, upload_id: int) -> Upload | None:
        values = self._db.execute(f"SELECT {_UPLOAD_COLUMNS} FROM serve_uploads WHERE id = ?", (upload_id,)).fetchone()
        return _upload(values) if values else None

    def uploads(self, unit_code: str | None = None, status: str | None = None) -> list[Upload]:
        """Uploads, newest first; only one unit's and/or one status when given."""
        where, args = [], []
        if unit_code is not None:
            where.append("unit_code = ?")
            args.append(unit_code)
        if status is not None:
            where.append("status = ?")
            args.append(status)
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        rows = self._db.execute(f"SELECT {_UPLOAD_COLUMNS} FROM serve_uploads{clause} ORDER BY id DESC", args)
        return [_upload(values) for values in rows]


_DUMMY_HASH = "scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
