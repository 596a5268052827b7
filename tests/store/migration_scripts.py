"""A copy of Recap's Alembic folder with one extra, test-only revision on top of the real head.

`scripts_with(tmp, body)` writes the copy; `use_scripts(folder)` points ``app.store.migrate``
at it. Also runnable as a child process (``python -m tests.store.migration_scripts FOLDER DB``)
that upgrades DB with those scripts, for the crash and two-process tests.
"""

from __future__ import annotations

import shutil
import sys
import textwrap
from pathlib import Path

from alembic.script import ScriptDirectory

from app.paths import migrations_path
from app.store import migrate

TEMPLATE = '''
"""test-only revision"""
import os
import time

import sqlalchemy as sa
from alembic import op

revision = "9999"
down_revision = {head!r}
branch_labels = None
depends_on = None


def upgrade() -> None:
{body}


def downgrade() -> None:
    pass
'''


def scripts_with(tmp: Path, body: str) -> Path:
    """Recap's migrations plus a revision "9999" whose upgrade() runs ``body``."""
    folder = tmp / "migrations"
    shutil.copytree(migrations_path(), folder,
                    ignore=shutil.ignore_patterns("__pycache__", "supabase"))
    head = ScriptDirectory(str(migrations_path())).get_current_head()  # the real head
    (folder / "versions" / "9999_test_only.py").write_text(
        TEMPLATE.format(head=head, body=textwrap.indent(textwrap.dedent(body).strip(), "    ")))
    return folder


def use_scripts(folder: Path) -> None:
    migrate.migrations_path = lambda: folder  # type: ignore[assignment]


def main() -> None:
    folder, db = Path(sys.argv[1]), Path(sys.argv[2])
    from app.store.db import Database

    use_scripts(folder)
    database = Database(db, "child")
    try:
        migrate.upgrade(database.engine, db, db.parent / "backups")
    except Exception as exc:
        print(f"failed: {exc}", flush=True)
        sys.exit(1)
    print("upgraded", flush=True)


if __name__ == "__main__":
    main()
