"""widget name"""
revision = "0002"
down_revision = "0001"

from alembic import op
import sqlalchemy as sa


def upgrade():
    op.add_column("widgets", sa.Column("name", sa.Text))


def downgrade():
    op.drop_column("widgets", "name")
