"""the citizen's account: activity, deletion

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The account page reads a citizen's recent events, newest first.
    op.create_index("ix_audit_events_user_id_at", "audit_events", ["user_id", "at"])


def downgrade() -> None:
    op.drop_index("ix_audit_events_user_id_at", table_name="audit_events")
