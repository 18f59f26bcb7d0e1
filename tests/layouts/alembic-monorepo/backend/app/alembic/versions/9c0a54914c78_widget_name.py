"""widget name"""
revision = "9c0a54914c78"
down_revision = "e2412789c190"

from alembic import op
import sqlalchemy as sa


def upgrade():
    op.add_column("widgets", sa.Column("name", sa.Text))


def downgrade():
    op.drop_column("widgets", "name")
