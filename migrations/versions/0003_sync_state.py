"""sync bookkeeping: sync state, per-row server versions, conflict history, parked rows

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 13:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sync_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("cursor", sa.Integer(), nullable=False),
        sa.Column("last_synced_at", sa.DateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "sync_rows",
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("row_id", sa.String(length=36), nullable=False),
        sa.Column("server_version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("kind", "row_id"),
    )
    op.create_table(
        "row_history",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("row_id", sa.String(length=36), nullable=False),
        sa.Column("reason", sa.String(length=20), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("winner_device_id", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.Column("restored_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("row_history", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_row_history_kind"), ["kind"], unique=False)
        batch_op.create_index(batch_op.f("ix_row_history_row_id"), ["row_id"], unique=False)
    op.create_table(
        "sync_parked",
        sa.Column("row_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("meeting_id", sa.String(length=36), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("row_id"),
    )
    with op.batch_alter_table("sync_parked", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sync_parked_meeting_id"), ["meeting_id"],
                              unique=False)
    # The outbox query ("synced_at is null") then costs the pending rows, not the table.
    for table in ("meetings", "segments", "action_items", "email_drafts"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(f"ix_{table}_synced_at", ["synced_at"], unique=False)
    with op.batch_alter_table("meetings", schema=None) as batch_op:
        batch_op.create_index("ix_meetings_local_only", ["local_only"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("meetings", schema=None) as batch_op:
        batch_op.drop_index("ix_meetings_local_only")
    for table in ("meetings", "segments", "action_items", "email_drafts"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(f"ix_{table}_synced_at")
    with op.batch_alter_table("sync_parked", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sync_parked_meeting_id"))
    op.drop_table("sync_parked")
    with op.batch_alter_table("row_history", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_row_history_row_id"))
        batch_op.drop_index(batch_op.f("ix_row_history_kind"))
    op.drop_table("row_history")
    op.drop_table("sync_rows")
    op.drop_table("sync_state")
