"""identity proving: stored credentials and proving records

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "identity_credentials",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("user_id", sa.String(36), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("issuer", sa.String(255), nullable=False),
        sa.Column("credential_type", sa.String(64), nullable=False),
        sa.Column("signed_jwt", sa.Text(), nullable=False),
        sa.Column("not_before", sa.DateTime(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_identity_credentials_user_id", "identity_credentials", ["user_id"])
    op.create_table(
        "proving_records",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("user_id", sa.String(36), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("client_id", sa.String(128), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("level", sa.String(4), nullable=False),
        sa.Column("profile", sa.String(8), nullable=True),
        sa.Column("return_codes", sa.JSON(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("completed_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_proving_records_user_id", "proving_records", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_proving_records_user_id", "proving_records")
    op.drop_table("proving_records")
    op.drop_index("ix_identity_credentials_user_id", "identity_credentials")
    op.drop_table("identity_credentials")
