"""Drills: the incident's drill flag, each drill's scenario and scorecard, its timed injects.

Existing incidents are not drills (the flag's server default), so the column is added
without copying the table on SQLite.

Revision ID: 0002_drills
Revises: 0002
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_drills"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "incident", sa.Column("drill", sa.Boolean(), server_default=sa.false(), nullable=False)
    )
    op.create_table(
        "drill",
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("scenario", sa.String(), nullable=True),
        sa.Column("scorecard", sa.JSON(), nullable=True),
        sa.Column("scored_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("score_lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("scorecard_ts", sa.String(), nullable=True),
        sa.ForeignKeyConstraint(["incident_id"], ["incident.id"]),
        sa.PrimaryKeyConstraint("incident_id"),
    )
    op.create_table(
        "drillinject",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("text", sa.String(), nullable=False),
        sa.Column("role", sa.String(), nullable=True),
        sa.Column("question_id", sa.Integer(), nullable=True),
        sa.Column("post_lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["incident_id"], ["incident.id"]),
        sa.ForeignKeyConstraint(["question_id"], ["question.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("incident_id", "position", name="one_inject_per_position"),
    )
    op.create_index("ix_drillinject_due_at", "drillinject", ["due_at"])
    op.create_index("ix_drillinject_incident_id", "drillinject", ["incident_id"])


def downgrade() -> None:
    op.drop_index("ix_drillinject_incident_id", table_name="drillinject")
    op.drop_index("ix_drillinject_due_at", table_name="drillinject")
    op.drop_table("drillinject")
    op.drop_table("drill")
    with op.batch_alter_table("incident") as batch_op:
        batch_op.drop_column("drill")
