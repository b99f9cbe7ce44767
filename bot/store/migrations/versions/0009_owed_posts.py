"""Announcements after a stored change are durable: the posts it owes (`owedpost`), written
in the change's transaction and posted under a lease.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "owedpost",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("channel", sa.String(), nullable=False),
        sa.Column("text", sa.String(), nullable=False),
        sa.Column("lease_owner", sa.String(), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("result", sa.String(), nullable=False),
        sa.ForeignKeyConstraint(["incident_id"], ["incident.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("owedpost") as table:
        table.create_index(table.f("ix_owedpost_incident_id"), ["incident_id"], unique=False)
        table.create_index(table.f("ix_owedpost_finished_at"), ["finished_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("owedpost") as table:
        table.drop_index(table.f("ix_owedpost_finished_at"))
        table.drop_index(table.f("ix_owedpost_incident_id"))
    op.drop_table("owedpost")
