"""Declaring is durable: each declaration's progress (`declaration`, its lease and where the
declarer is answered) and its finished steps (`declarationstep`); the card's pin and version.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "declaration",
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("answer_url", sa.String(), nullable=True),
        sa.Column("answer_channel", sa.String(), nullable=True),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("channel_name", sa.String(), nullable=True),
        sa.Column("runs", sa.Integer(), nullable=False),
        sa.Column("lease_owner", sa.String(), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["incident_id"], ["incident.id"]),
        sa.PrimaryKeyConstraint("incident_id"),
    )
    with op.batch_alter_table("declaration") as table:
        table.create_index(table.f("ix_declaration_finished_at"), ["finished_at"], unique=False)
    op.create_table(
        "declarationstep",
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("step", sa.String(), nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("result", sa.String(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["incident_id"], ["declaration.incident_id"]),
        sa.PrimaryKeyConstraint("incident_id", "step"),
    )
    # Plain ADD COLUMN (SQLite has it): a batch would copy the table its neighbours point to.
    op.add_column(
        "incident",
        sa.Column("card_pinned", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column(
        "incident",
        sa.Column("card_version", sa.Integer(), nullable=False, server_default=sa.text("0")),
    )
    # Cards posted before: pinned then (a failed pin was reported in the room).
    op.execute("UPDATE incident SET card_pinned = (card_ts IS NOT NULL)")


def downgrade() -> None:
    with op.batch_alter_table("incident") as table:
        table.drop_column("card_version")
        table.drop_column("card_pinned")
    op.drop_table("declarationstep")
    with op.batch_alter_table("declaration") as table:
        table.drop_index(table.f("ix_declaration_finished_at"))
    op.drop_table("declaration")
