"""Timeline entries filled from Slack's history after downtime are marked `from_history`.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
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
