from alembic import context
from flask import current_app

# The URL and the models come from the Flask app that `flask db` loaded.
db = current_app.extensions["migrate"].db
target_metadata = db.metadata


def run_migrations_online():
    with db.engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    context.configure(url=str(db.engine.url), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    run_migrations_online()
