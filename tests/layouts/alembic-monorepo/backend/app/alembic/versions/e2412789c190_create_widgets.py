"""create widgets"""
revision = "e2412789c190"
down_revision = None

from alembic import op
import sqlalchemy as sa


def upgrade():
    op.create_table("widgets", sa.Column("id", sa.Integer, primary_key=True))


def downgrade():
    op.drop_table("widgets")
