"""Alert intake's claims and pacing, and drills' offline responders.

`alertgroup.auto_declare_pending` (a new group waits for its auto_declare check) with
`declare_lease_until`; `resolution_lease_until` (telling the war room, under a lease);
`triagepace` (one channel's next Slack write, shared by every replica);
`drillinject.offline_user` (whom an offline inject took out of the drill).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("alertgroup") as table:
        table.add_column(
            sa.Column(
                "auto_declare_pending", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
        table.add_column(
            sa.Column("declare_lease_until", sa.DateTime(timezone=True), nullable=True)
        )
        table.add_column(
            sa.Column("resolution_lease_until", sa.DateTime(timezone=True), nullable=True)
        )
    op.create_table(
        "triagepace",
        sa.Column("channel", sa.String(), nullable=False),
        sa.Column("next_write_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("channel"),
    )
    with op.batch_alter_table("drillinject") as table:
        table.add_column(sa.Column("offline_user", sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("drillinject") as table:
        table.drop_column("offline_user")
    op.drop_table("triagepace")
    with op.batch_alter_table("alertgroup") as table:
        table.drop_column("resolution_lease_until")
        table.drop_column("declare_lease_until")
        table.drop_column("auto_declare_pending")
