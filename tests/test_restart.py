"""Balances survive restarts and crashes; the key list is obeyed."""

import signal
import threading
import time

import httpx
import pytest

from tests.asgi import LONG_PROMPT
from tests.conftest import KEY, OTHER_KEY, auth
from tests.fakes.server import free_port
from tests.live import start_server, stop_server

HI = {"prompt": "Hi", "max_tokens": 4}


@pytest.mark.anyio
async def test_restart_keeps_balances_and_drops_unlisted_keys(start):
    first = await start()
    await first.client.post("/chat", json=HI, headers=auth(KEY))
    await first.client.post("/chat", json=HI, headers=auth(OTHER_KEY))
    await first.close()

    second = await start(api_keys=KEY, initial_credits=100)
    status = await second.client.get("/status", headers=auth(KEY))
    assert status.json()["balance"] == 19
    dropped = await second.client.get("/status", headers=auth(OTHER_KEY))
    assert dropped.status_code == 401
    assert dropped.json()["error"]["type"] == "invalid_api_key"
    await second.close()

    third = await start(api_keys=f"{KEY},{OTHER_KEY}")
    back = await third.client.get("/status", headers=auth(OTHER_KEY))
    assert back.json()["balance"] == 19


def _wait_for_reservation(url: str) -> None:
    """Until the request's credit is reserved: it is then generating."""
    deadline = time.monotonic() + 30
    while httpx.get(f"{url}/status", headers=auth()).json()["balance"] != 19:
        assert time.monotonic() < deadline, "the request never started"
        time.sleep(0.02)


def test_crash_mid_request_loses_no_credit(tmp_path, model_path):
    port = free_port()
    server, url = start_server(tmp_path, model_path, port, api_keys=KEY)
    outcome = []

    def ask():
        try:
            outcome.append(
                httpx.post(
                    f"{url}/chat",
                    headers=auth(),
                    timeout=30,
                    json={"prompt": LONG_PROMPT, "max_tokens": 300, "temperature": 0},
                )
            )
        except httpx.TransportError as error:
            outcome.append(error)  # the server died under us, as intended

    asking = threading.Thread(target=ask)
    asking.start()
    _wait_for_reservation(url)
    server.send_signal(signal.SIGKILL)
    server.wait(timeout=10)
    asking.join()
    assert isinstance(outcome[0], httpx.TransportError)
    time.sleep(1.1)  # older than reservation_ttl_seconds below

    server, url = start_server(
        tmp_path, model_path, port, api_keys=KEY, reservation_ttl_seconds=1
    )
    try:
        status = httpx.get(f"{url}/status", headers=auth()).json()
        assert status["balance"] == 20
        assert status["requests"] == 0
    finally:
        stop_server(server)
