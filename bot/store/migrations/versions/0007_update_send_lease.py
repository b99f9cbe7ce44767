"""The lease on broadcasting an approved stakeholder update, so a process that dies between
the approval and the broadcast leaves the update to another (or the restarted) one.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26 00:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("stakeholderupdate", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("send_lease_until", sa.DateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("stakeholderupdate", schema=None) as batch_op:
        batch_op.drop_column("send_lease_until")
