"""Timeline indexes: the log in order, key events, and entries by kind.

Pages deep in a long timeline find their first entry in `timeline_log` alone and are read
by seek; exports and reviews stream the log by (at, id); the review's facts and the
numbers read status and severity changes through `timeline_by_kind`.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

INDEXES = {
    "timeline_log": ["incident_id", "deleted", "at", "id"],
    "timeline_key_events": ["incident_id", "key", "deleted", "at", "id"],
    "timeline_by_kind": ["incident_id", "kind", "at", "id"],
}


def upgrade() -> None:
    for name, columns in INDEXES.items():
        op.create_index(name, "timelineentry", columns)


def downgrade() -> None:
    for name in INDEXES:
        op.drop_index(name, table_name="timelineentry")
