import asyncio

from alembic import context
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from gemmachat.db.tables import metadata

# Several replicas may start at once against one Postgres; the advisory lock
# makes them take turns instead of racing on the same migration.
MIGRATION_LOCK = 7250411


def _run(connection) -> None:
    context.configure(connection=connection, target_metadata=metadata)
    with context.begin_transaction():
        context.run_migrations()


async def _run_online() -> None:
    url = context.config.get_main_option("sqlalchemy.url")
    engine = create_async_engine(url)
    async with engine.connect() as connection:
        postgres = connection.dialect.name == "postgresql"
        if postgres:
            await connection.execute(
                text("SELECT pg_advisory_lock(:k)"), {"k": MIGRATION_LOCK}
            )
            await connection.commit()
        await connection.run_sync(_run)
        await connection.commit()
        if postgres:
            await connection.execute(
                text("SELECT pg_advisory_unlock(:k)"), {"k": MIGRATION_LOCK}
            )
    await engine.dispose()


asyncio.run(_run_online())
