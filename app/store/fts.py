"""SQL for the full-text index (SQLite FTS5, external-content tables kept by triggers).

Shared by the migration that creates the index and by anything that must rebuild it (a later
migration that recreates an indexed table in batch mode changes its rowids and drops its
triggers, so it must call ``create_statements`` again and rebuild).
"""

from __future__ import annotations

# table -> indexed columns. Tombstoned rows (deleted_at set) are kept out of the index.
INDEXED: dict[str, tuple[str, ...]] = {
    "meetings": ("title", "summary", "decisions"),
    "segments": ("text",),
    "action_items": ("text", "owner", "quote"),
}


def _fts(table: str) -> str:
    return f"{table}_fts"


def create_statements(table: str) -> list[str]:
    cols = INDEXED[table]
    fts = _fts(table)
    col_list = ", ".join(cols)
    new_vals = ", ".join(f"new.{c}" for c in cols)
    old_vals = ", ".join(f"old.{c}" for c in cols)
    return [
        f"CREATE VIRTUAL TABLE IF NOT EXISTS {fts} USING fts5({col_list}, content='{table}', "
        f"content_rowid='rowid', tokenize='porter unicode61 remove_diacritics 2')",
        f"CREATE TRIGGER IF NOT EXISTS {fts}_ai AFTER INSERT ON {table} "
        f"WHEN new.deleted_at IS NULL BEGIN "
        f"INSERT INTO {fts}(rowid, {col_list}) VALUES (new.rowid, {new_vals}); END",
        f"CREATE TRIGGER IF NOT EXISTS {fts}_ad AFTER DELETE ON {table} "
        f"WHEN old.deleted_at IS NULL BEGIN "
        f"INSERT INTO {fts}({fts}, rowid, {col_list}) "
        f"VALUES ('delete', old.rowid, {old_vals}); END",
        # One update trigger doing both halves, in order: take out what was indexed, then index
        # what is there now (unless it is a tombstone). Only indexed columns fire it.
        f"CREATE TRIGGER IF NOT EXISTS {fts}_au AFTER UPDATE OF {col_list}, deleted_at "
        f"ON {table} BEGIN "
        f"INSERT INTO {fts}({fts}, rowid, {col_list}) "
        f"SELECT 'delete', old.rowid, {old_vals} WHERE old.deleted_at IS NULL; "
        f"INSERT INTO {fts}(rowid, {col_list}) "
        f"SELECT new.rowid, {new_vals} WHERE new.deleted_at IS NULL; END",
    ]


def fill_statement(table: str) -> str:
    cols = ", ".join(INDEXED[table])
    return (f"INSERT INTO {_fts(table)}(rowid, {cols}) "
            f"SELECT rowid, {cols} FROM {table} WHERE deleted_at IS NULL")


def drop_statements(table: str) -> list[str]:
    fts = _fts(table)
    return [f"DROP TRIGGER IF EXISTS {fts}_{s}" for s in ("ai", "ad", "au")] + [
        f"DROP TABLE IF EXISTS {fts}"
    ]
