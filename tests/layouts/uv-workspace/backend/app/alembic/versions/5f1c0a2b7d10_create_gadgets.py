"""create gadgets: a first deploy replays history like this onto an empty database"""
revision = "5f1c0a2b7d10"
down_revision = None

from alembic import op
import sqlalchemy as sa


def upgrade():
    op.execute('CREATE EXTENSION IF NOT EXISTS "uuid-ossp"')
    op.create_table(
        "gadgets",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("label", sa.String(20), nullable=True),
    )
    # Later history on the same table: a type change and SET NOT NULL (squawk errors on a
    # table in use; harmless on one this run created).
    op.alter_column("gadgets", "label", type_=sa.String(40))
    op.alter_column("gadgets", "label", nullable=False)


def downgrade():
    # Leaves the extension in place, as real projects often do.
    op.drop_table("gadgets")
