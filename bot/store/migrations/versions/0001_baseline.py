"""Baseline: the schema `SQLModel.metadata.create_all` made before there were migrations.

A database made that way (no alembic_version table) is stamped at this revision, not
recreated. The partial unique index keeps one current holder per role on both engines.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    _create_incident()
    _create_processedevent()
    _create_roleassignment()
    _create_stakeholderupdate()
    _create_timelineentry()
    _create_question()


def _create_incident() -> None:
    op.create_table(
        "incident",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(), nullable=False),
        sa.Column("impact", sa.String(), nullable=False),
        sa.Column("severity", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("playbook", sa.String(), nullable=False),
        sa.Column("private", sa.Boolean(), nullable=False),
        sa.Column("channel_id", sa.String(), nullable=True),
        sa.Column("channel_name", sa.String(), nullable=True),
        sa.Column("card_ts", sa.String(), nullable=True),
        sa.Column("declared_by", sa.String(), nullable=False),
        sa.Column("declared_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("summary", sa.String(), nullable=False),
        sa.Column("next_update_due", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_update_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("channel_id"),
    )
    op.create_index("ix_incident_next_update_due", "incident", ["next_update_due"])


def _create_processedevent() -> None:
    op.create_table(
        "processedevent",
        sa.Column("event_id", sa.String(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("event_id"),
    )


def _create_roleassignment() -> None:
    op.create_table(
        "roleassignment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(), nullable=False),
        sa.Column("user_id", sa.String(), nullable=False),
        sa.Column("assigned_by", sa.String(), nullable=False),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incident.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_roleassignment_incident_id", "roleassignment", ["incident_id"])
    op.create_index(
        "one_current_holder_per_role",
        "roleassignment",
        ["incident_id", "role"],
        unique=True,
        sqlite_where=sa.text("ended_at IS NULL"),
        postgresql_where=sa.text("ended_at IS NULL"),
    )


def _create_stakeholderupdate() -> None:
    op.create_table(
        "stakeholderupdate",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("final", sa.Boolean(), nullable=False),
        sa.Column("text", sa.String(), nullable=False),
        sa.Column("open_questions", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("post_lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("message_ts", sa.String(), nullable=True),
        sa.Column("escalate_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("escalated", sa.Boolean(), nullable=False),
        sa.Column("decided_by", sa.String(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("skip_reason", sa.String(), nullable=True),
        sa.Column("broadcast_ts", sa.String(), nullable=True),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incident.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_stakeholderupdate_incident_id", "stakeholderupdate", ["incident_id"])
    op.create_index("ix_stakeholderupdate_status", "stakeholderupdate", ["status"])


def _create_timelineentry() -> None:
    op.create_table(
        "timelineentry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("actor", sa.String(), nullable=True),
        sa.Column("text", sa.String(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("key", sa.Boolean(), nullable=False),
        sa.Column("message_ts", sa.String(), nullable=True),
        sa.Column("thread_ts", sa.String(), nullable=True),
        sa.Column("permalink", sa.String(), nullable=True),
        sa.Column("files", sa.JSON(), nullable=False),
        sa.Column("edits", sa.JSON(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incident.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("incident_id", "message_ts", name="one_entry_per_message"),
    )
    op.create_index("ix_timelineentry_incident_id", "timelineentry", ["incident_id"])


def _create_question() -> None:
    op.create_table(
        "question",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("asked_by", sa.String(), nullable=False),
        sa.Column("text", sa.String(), nullable=False),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_in", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["answered_in"],
            ["stakeholderupdate.id"],
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incident.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_question_incident_id", "question", ["incident_id"])


def downgrade() -> None:
    dependents_first = ("question", "timelineentry", "stakeholderupdate", "roleassignment")
    for table in (*dependents_first, "processedevent", "incident"):
        op.drop_table(table)
