"""The tables of the site and of 审核 (unit links, staff, API tokens, uploads, review decisions): one migration
of :data:`.schema.MIGRATIONS`, kept apart because it is long. The ledger owns every table of its file; the site
(:mod:`jixiao_xl.serve.store`) and :mod:`.reviews` read and write these."""

SERVE_TABLES = """
CREATE TABLE serve_links (
    unit_code    TEXT PRIMARY KEY,
    generation   INTEGER NOT NULL,
    token_sha256 TEXT NOT NULL UNIQUE,
    revoked      INTEGER NOT NULL DEFAULT 0 CHECK (revoked IN (0, 1)),
    changed_at   TEXT NOT NULL
);
CREATE TABLE serve_users (
    name          TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,
    created_at    TEXT NOT NULL
);
CREATE TABLE serve_api_tokens (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    token_sha256 TEXT NOT NULL UNIQUE,
    created_at   TEXT NOT NULL
);
CREATE TABLE serve_uploads (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    unit_code    TEXT NOT NULL,
    client_name  TEXT NOT NULL,
    stored_path  TEXT NOT NULL,
    sha256       TEXT NOT NULL,
    size         INTEGER NOT NULL,
    received_at  TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('received', 'done')),
    import_id    INTEGER REFERENCES imports (id),
    refused      INTEGER NOT NULL DEFAULT 0 CHECK (refused IN (0, 1)),
    sendback     TEXT NOT NULL DEFAULT '',
    completed_at TEXT
);
CREATE INDEX serve_uploads_by_unit ON serve_uploads (unit_code, id);
CREATE TABLE serve_reviews (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    unit_code  TEXT NOT NULL,
    import_id  INTEGER NOT NULL REFERENCES imports (id),
    decision   TEXT NOT NULL CHECK (decision IN ('pass', 'return')),
    reason     TEXT NOT NULL,
    reviewer   TEXT NOT NULL,
    decided_at TEXT NOT NULL
);
CREATE INDEX serve_reviews_by_unit ON serve_reviews (unit_code, id);
CREATE TRIGGER serve_reviews_never_deleted BEFORE DELETE ON serve_reviews
BEGIN
    SELECT RAISE(ABORT, 'jixiao-xl ledger: review decisions are never deleted');
END;
CREATE TRIGGER serve_uploads_never_deleted BEFORE DELETE ON serve_uploads
BEGIN
    SELECT RAISE(ABORT, 'jixiao-xl ledger: uploads are never deleted');
END;
"""
