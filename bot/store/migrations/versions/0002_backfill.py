"""Timeline entries filled from Slack's history after downtime are marked `from_history`.

Revision ID: 0002_backfill
Revises: 0002_drills
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_backfill"
down_revision = "0002_drills"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("timelineentry") as table:
        table.add_column(
            sa.Column("from_history", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("timelineentry") as table:
        table.drop_column("from_history")
