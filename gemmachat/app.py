"""The FastAPI application: wiring only, no request logic."""

import asyncio
import contextlib
import logging
from collections.abc import Callable

import anyio
from fastapi import FastAPI

from gemmachat import __version__, rate_limits
from gemmachat.api import errors
from gemmachat.api.access import AccessMiddleware
from gemmachat.api.body_limit import BodyLimitMiddleware
from gemmachat.api.json_body import AssumeJsonMiddleware
from gemmachat.api.routes import (
    admin_audit,
    admin_credits,
    admin_keys,
    admin_usage,
    admin_vouchers,
    chat,
    health,
    ollama,
    openai,
    quote,
    status,
    usage,
    vouchers,
    webhooks,
)
from gemmachat.backends.base import Backend
from gemmachat.backends.factory import build_backend
from gemmachat.db.engine import create_engine
from gemmachat.db.migrate import upgrade
from gemmachat.gateway import Gateway
from gemmachat.ledger import ledger
from gemmachat.ledger.accounts import sync_config_keys
from gemmachat.ledger.money import to_units
from gemmachat.settings import Settings

log = logging.getLogger("gemmachat")
SWEEP_EVERY_SECONDS = 60


def create_app(
    settings: Settings | None = None,
    backend: Backend | None = None,
    on_ready: Callable[[], None] | None = None,
) -> FastAPI:
    """The app. A `backend` passed in is shared, not started or closed;
    `on_ready` runs once the model is loaded and requests can be served."""
    settings = settings or Settings()
    settings.check_for_production()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        gateway = await _start(settings, backend)
        app.state.gateway = gateway
        sweeper = asyncio.create_task(_sweep_forever(gateway))
        await gateway.alerts.start()
        if on_ready is not None:
            on_ready()
        try:
            yield
        finally:
            # Wait for the sweeper to stop: a sweep cut off mid-query would
            # leave its connection for the garbage collector.
            sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sweeper
            await gateway.alerts.stop()
            if backend is None:
                await gateway.backend.close()
            await gateway.engine.dispose()

    app = FastAPI(title="GemmaChat", version=__version__, lifespan=lifespan)
    errors.install(app)
    for module in (chat, status, health, quote, openai, ollama):
        app.include_router(module.router)
    for module in (usage, vouchers, webhooks, admin_keys, admin_credits):
        app.include_router(module.router)
    for module in (admin_vouchers, admin_usage, admin_audit):
        app.include_router(module.router)
    app.add_middleware(AssumeJsonMiddleware)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(AccessMiddleware)
    return app


async def _start(settings: Settings, shared: Backend | None) -> Gateway:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    url = settings.resolved_database_url
    await anyio.to_thread.run_sync(upgrade, url)
    engine = create_engine(url)
    await sync_config_keys(
        engine,
        settings.secret,
        settings.api_key_list,
        to_units(settings.initial_credits),
    )
    backend = shared
    if backend is None:
        backend = await anyio.to_thread.run_sync(build_backend, settings)
        await backend.start()
    log.info("ready backend=%s model=%s", backend.name, backend.info.name)
    return Gateway.assemble(settings, engine, backend)


async def _sweep_forever(gateway: Gateway) -> None:
    ttl = gateway.settings.reservation_ttl_seconds
    while True:
        released = await ledger.sweep_stale_reservations(gateway.engine, ttl)
        if released:
            log.warning("released %d stale reservations", released)
        # Past rate-limit windows are never read again; without this the
        # table would keep a row per limited key and minute for good.
        await rate_limits.forget_old_windows(gateway.engine, gateway.clock())
        await asyncio.sleep(SWEEP_EVERY_SECONDS)
