"""Runs alert work off the request path: `notice` only starts a background
task, and one worker per process sends due deliveries with backoff."""

import asyncio
import contextlib
import json
import logging
import time

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from gemmachat.admin import signing
from gemmachat.alerts import store
from gemmachat.ledger.accounts import Account
from gemmachat.ledger.money import to_units
from gemmachat.settings import Settings

log = logging.getLogger("gemmachat.alerts")
IDLE_POLL_SECONDS = 30.0
SEND_TIMEOUT_SECONDS = 10.0
MAX_RETRY_SECONDS = 3600.0


class AlertDispatcher:
    def __init__(self, engine: AsyncEngine, settings: Settings):
        self.engine = engine
        self.settings = settings
        self.url = settings.low_credit_webhook_url
        self._tasks: set[asyncio.Task] = set()
        self._wake = asyncio.Event()
        self._worker: asyncio.Task | None = None
        self._client: httpx.AsyncClient | None = None

    async def start(self) -> None:
        if self.url is None:
            return
        self._client = httpx.AsyncClient(timeout=SEND_TIMEOUT_SECONDS)
        self._worker = asyncio.create_task(self._run())

    async def stop(self) -> None:
        # Crossings being recorded finish first: their rows are what a
        # later start (or another replica) delivers.
        await self.flush_crossings()
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
        if self._client is not None:
            await self._client.aclose()

    def notice(self, account: Account, balance: int, threshold: int) -> None:
        """Called after a request settled. Costs the request nothing: the
        check that this is a new crossing runs in the background, and a key
        already alerted (as read when the request began) is not checked."""
        if self._worker is None or not account.alert_armed or balance > threshold:
            return
        task = asyncio.create_task(self._record_crossing(account.id, balance))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def flush_crossings(self) -> None:
        """Wait for the crossing checks started so far."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _record_crossing(self, account_id: int, balance: int) -> None:
        default = to_units(self.settings.low_credit_threshold)
        try:
            queued = await store.queue_if_crossed(
                self.engine, account_id, self.url, default, balance
            )
            if queued:
                self._wake.set()
        except Exception:
            log.exception("could not record a low-credit crossing")

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            try:
                for delivery in await store.claim_due(self.engine):
                    await self._send(delivery)
                wait = await store.seconds_to_next(self.engine)
            except Exception:
                log.exception("alert delivery pass failed")
                wait = None
            wait = IDLE_POLL_SECONDS if wait is None else min(wait, IDLE_POLL_SECONDS)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=wait)

    async def _send(self, delivery: store.Delivery) -> None:
        body = json.dumps({"id": delivery.id, **json.loads(delivery.payload)}).encode()
        status, error = None, None
        try:
            response = await self._client.post(
                delivery.url, content=body, headers=self._headers(delivery, body)
            )
            status = response.status_code
            if not response.is_success:
                error = f"HTTP {status}"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"[:500]
        if error is not None:
            log.warning(
                "low-credit alert %s attempt %s failed: %s",
                delivery.id,
                delivery.attempts,
                error,
            )
        await store.record_attempt(
            self.engine,
            delivery,
            status=status,
            error=error,
            retry_in=self._retry_in(delivery.attempts) if error else None,
        )

    def _retry_in(self, attempts: int) -> float | None:
        """Seconds to the next attempt, doubling each time; None when the
        attempts are used up."""
        if attempts >= self.settings.alert_max_attempts:
            return None
        delay = self.settings.alert_retry_seconds * 2 ** (attempts - 1)
        return min(delay, MAX_RETRY_SECONDS)

    def _headers(self, delivery: store.Delivery, body: bytes) -> dict[str, str]:
        headers = {
            "content-type": "application/json",
            "GemmaChat-Delivery": str(delivery.id),
        }
        secret = self.settings.low_credit_webhook_secret
        if secret is not None:
            headers[signing.HEADER] = signing.sign(
                secret.get_secret_value().encode(), int(time.time()), body
            )
        return headers
