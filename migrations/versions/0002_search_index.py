"""full-text search index (FTS5) over titles, summaries, transcripts and action items

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 13:00:00
"""

from __future__ import annotations

from alembic import op

from app.store import fts

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in fts.INDEXED:
        for statement in fts.create_statements(table):
            op.execute(statement)
        # Index what an older database already holds.
        op.execute(fts.fill_statement(table))


def downgrade() -> None:
    for table in fts.INDEXED:
        for statement in fts.drop_statements(table):
            op.execute(statement)
