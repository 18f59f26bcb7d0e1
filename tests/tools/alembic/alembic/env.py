import os

from alembic import context
from sqlalchemy import create_engine

# The project keeps its driver suffix: neon-migrate must hand over postgresql+psycopg://.
url = os.environ["DATABASE_URL"]
if not url.startswith("postgresql+psycopg://"):
    raise SystemExit("DATABASE_URL does not use the project's driver (postgresql+psycopg://)")


def run_migrations_offline():
    context.configure(url=url, target_metadata=None, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    engine = create_engine(url)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=None)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
