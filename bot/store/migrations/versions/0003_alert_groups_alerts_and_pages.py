"""Alert groups and their alerts (alert intake, by groupKey and fingerprint) and pages
(paging the duty MIM manager, one row per attempt). New tables only.

Revision ID: 0003
Revises: 0002_drills
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002_drills"
branch_labels = None
depends_on = None


def upgrade() -> None:
    _create_alertgroup()
    _create_page()
    _create_alert()


def _create_alertgroup() -> None:
    op.create_table(
        "alertgroup",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_key", sa.String(), nullable=False),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("receiver", sa.String(), nullable=False),
        sa.Column("common_labels", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("first_fired_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("shown_version", sa.Integer(), nullable=False),
        sa.Column("triage_channel", sa.String(), nullable=True),
        sa.Column("triage_ts", sa.String(), nullable=True),
        sa.Column("post_lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("dismissed_by", sa.String(), nullable=True),
        sa.Column("dismissed_reason", sa.String(), nullable=True),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.Column("resolution_told", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incident.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("group_key"),
    )
    with op.batch_alter_table("alertgroup", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_alertgroup_incident_id"), ["incident_id"], unique=False
        )


def _create_page() -> None:
    op.create_table(
        "page",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(), nullable=False),
        sa.Column("paged_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ack_due", sa.DateTime(timezone=True), nullable=False),
        sa.Column("escalated", sa.Boolean(), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("message_ts", sa.String(), nullable=True),
        sa.Column("post_lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incident.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("incident_id", "attempt", name="one_page_per_attempt"),
    )
    with op.batch_alter_table("page", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_page_ack_due"), ["ack_due"], unique=False)
        batch_op.create_index(batch_op.f("ix_page_incident_id"), ["incident_id"], unique=False)


def _create_alert() -> None:
    op.create_table(
        "alert",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("labels", sa.JSON(), nullable=False),
        sa.Column("annotations", sa.JSON(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("generator_url", sa.String(), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["alertgroup.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("group_id", "fingerprint", name="one_alert_per_fingerprint"),
    )
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alert_group_id"), ["group_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alert_group_id"))

    op.drop_table("alert")
    with op.batch_alter_table("page", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_page_incident_id"))
        batch_op.drop_index(batch_op.f("ix_page_ack_due"))

    op.drop_table("page")
    with op.batch_alter_table("alertgroup", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alertgroup_incident_id"))

    op.drop_table("alertgroup")
