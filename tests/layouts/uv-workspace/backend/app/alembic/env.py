import os

from alembic import context
from sqlalchemy import create_engine

# The project's own driver: neon-migrate must hand the URL over as postgresql+psycopg://.
url = os.environ["DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://", 1)


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
