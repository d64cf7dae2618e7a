"""Fixtures: the real app, on a real database, with the real embedded model."""

import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import psycopg
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from sqlalchemy import func, select

from gemmachat.app import create_app
from gemmachat.backends.embedded import EmbeddedBackend, default_model_path
from gemmachat.db.tables import accounts, ledger_entries
from gemmachat.gateway import Gateway
from gemmachat.settings import Settings

KEY = "gc_test_key_alpha_000000000000000"
OTHER_KEY = "gc_test_key_bravo_000000000000000"
POSTGRES_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def model_path(tmp_path_factory):
    return default_model_path(tmp_path_factory.mktemp("model"))


@pytest.fixture(scope="session")
async def embedded(model_path) -> AsyncIterator[EmbeddedBackend]:
    backend = EmbeddedBackend(model_path, 2048, threads=2, queue_size=256)
    await backend.start()
    yield backend
    await backend.close()


@dataclass
class Running:
    settings: Settings
    app: FastAPI
    client: httpx.AsyncClient
    stop: contextlib.AsyncExitStack

    @property
    def gateway(self) -> Gateway:
        return self.app.state.gateway

    async def close(self) -> None:
        await self.stop.aclose()


def make_settings(data_dir, **overrides) -> Settings:
    values = {"data_dir": data_dir, "server_secret": "test-secret",
              "api_keys": f"{KEY},{OTHER_KEY}"} | overrides
    return Settings(_env_file=None, **values)


@pytest.fixture
def database_url(request, tmp_path) -> AsyncIterator[str]:
    """SQLite in the test's folder; `parametrize(..., indirect=True)` with
    "postgres" gives a fresh Postgres database instead."""
    if getattr(request, "param", "sqlite") == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'gemmachat.db'}"
        return
    name = f"gemmachat_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


BOTH_DATABASES = pytest.mark.parametrize(
    "database_url", ["sqlite", "postgres"], indirect=True)
ON_POSTGRES = pytest.mark.parametrize("database_url", ["postgres"], indirect=True)


@pytest.fixture
async def start(tmp_path, embedded, database_url):
    """Start GemmaChat apps (all on one data folder and database unless told
    otherwise). At teardown every account's ledger must sum to its balance."""
    started: list[Running] = []

    async def _start(backend=None, **overrides) -> Running:
        overrides.setdefault("database_url", database_url)
        settings = make_settings(tmp_path / "data", **overrides)
        stack = contextlib.AsyncExitStack()
        app = create_app(settings, backend=backend or embedded)
        manager = await stack.enter_async_context(LifespanManager(app))
        transport = httpx.ASGITransport(app=manager.app)
        client = await stack.enter_async_context(
            httpx.AsyncClient(transport=transport, base_url="http://gemmachat",
                              timeout=120))
        running = Running(settings, app, client, stack)
        started.append(running)
        return running

    yield _start
    for running in started:
        with contextlib.suppress(AttributeError):
            await assert_ledger_matches_balances(running.gateway)
        await running.close()


async def assert_ledger_matches_balances(gateway: Gateway) -> None:
    sums = (
        select(accounts.c.id, accounts.c.balance,
               func.coalesce(func.sum(ledger_entries.c.amount), 0).label("total"))
        .select_from(accounts.outerjoin(ledger_entries))
        .group_by(accounts.c.id, accounts.c.balance)
    )
    async with gateway.engine.connect() as conn:
        rows = (await conn.execute(sums)).all()
    assert rows, "no accounts to check"
    for row in rows:
        assert row.total == row.balance, (
            f"account {row.id}: ledger {row.total} != {row.balance}"
        )


def auth(key: str = KEY) -> dict[str, str]:
    return {"x-api-key": key}
