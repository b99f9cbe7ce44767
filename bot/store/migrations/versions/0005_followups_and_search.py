"""After the storm: the review's written versions, where its draft was posted, action
items, problem records, and the knowledge base's search documents with their full-text
index (SQLite FTS5 table and triggers; PostgreSQL tsvector column and GIN index).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 22:00:44.879477
"""

import sqlalchemy as sa
from alembic import op

from bot.store import search

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    _create_actionitem()
    _create_problemrecord()
    _create_reviewpost()
    _create_reviewversion()
    _create_searchdocument()


def _create_actionitem() -> None:
    op.create_table(
        "actionitem",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.String(), nullable=False),
        sa.Column("owner", sa.String(), nullable=True),
        sa.Column("due", sa.Date(), nullable=True),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("created_by", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_by", sa.String(), nullable=True),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("remind_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("permalink", sa.String(), nullable=True),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incident.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("actionitem", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_actionitem_incident_id"), ["incident_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_actionitem_remind_at"), ["remind_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_actionitem_state"), ["state"], unique=False)


def _create_problemrecord() -> None:
    op.create_table(
        "problemrecord",
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(), nullable=False),
        sa.Column("set_by", sa.String(), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incident.id"],
        ),
        sa.PrimaryKeyConstraint("incident_id"),
    )


def _create_reviewpost() -> None:
    op.create_table(
        "reviewpost",
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("message_ts", sa.String(), nullable=False),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incident.id"],
        ),
        sa.PrimaryKeyConstraint("incident_id"),
    )


def _create_reviewversion() -> None:
    op.create_table(
        "reviewversion",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("sections", sa.JSON(), nullable=False),
        sa.Column("edited_by", sa.String(), nullable=False),
        sa.Column("edited_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incident.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("incident_id", "version", name="one_review_version"),
    )
    with op.batch_alter_table("reviewversion", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_reviewversion_incident_id"), ["incident_id"], unique=False
        )


def _create_searchdocument() -> None:
    op.create_table(
        "searchdocument",
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(), nullable=False),
        sa.Column("body", sa.String(), nullable=False),
        sa.Column("private", sa.Boolean(), nullable=False),
        sa.Column("channel_id", sa.String(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incident.id"],
        ),
        sa.PrimaryKeyConstraint("incident_id"),
    )
    search.create_index(op.get_bind())


def downgrade() -> None:
    search.drop_index(op.get_bind())
    op.drop_table("searchdocument")
    with op.batch_alter_table("reviewversion", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reviewversion_incident_id"))

    op.drop_table("reviewversion")
    op.drop_table("reviewpost")
    op.drop_table("problemrecord")
    with op.batch_alter_table("actionitem", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_actionitem_state"))
        batch_op.drop_index(batch_op.f("ix_actionitem_remind_at"))
        batch_op.drop_index(batch_op.f("ix_actionitem_incident_id"))

    op.drop_table("actionitem")
