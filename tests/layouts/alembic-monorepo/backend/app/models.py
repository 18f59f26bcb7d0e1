# The models Alembic's env.py imports (its target_metadata): a change here needs a migration.
import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass


class Widget(Base):
    __tablename__ = "widgets"
    id = sa.Column(sa.Integer, primary_key=True)
    name = sa.Column(sa.Text)
