"""Per-key rate limits: a request over the key's requests per minute is a
429 with Retry-After on every generating route, costs nothing, and the
count is shared by every replica on the database."""

import asyncio
from collections import Counter

import openai
import pytest
from sqlalchemy import event

from gemmachat import rate_limits
from gemmachat.db.tables import rate_windows, usage
from tests.admin_helpers import (
    admin,
    balance,
    count_rows,
    create_key,
    fixed_clock,
    ledger_kinds,
    start_admin,
)
from tests.conftest import BOTH_DATABASES, KEY, auth
from tests.live import live_server
from tests.surfaces import NATIVE, OLLAMA, OPENAI, SURFACES

pytestmark = pytest.mark.anyio

MODEL = "gemma-3-270m"
ANSWERED = ["reserve", "release", "charge"]
SHORT = {"num_predict": 2}


def refused_message(limit: int, wait: int) -> str:
    return (
        f"Rate limit reached: this key allows {limit} requests per minute. "
        f"Try again in {wait} s."
    )


REFUSAL = refused_message(3, 30)
ROUTES = [
    (
        NATIVE.path,
        NATIVE.body("Hi", MODEL, 2, stream=False),
        {
            "error": {
                "type": "rate_limited",
                "message": REFUSAL,
                "param": None,
                "limit": 3,
                "retry_after": 30,
            }
        },
    ),
    (
        OPENAI.path,
        OPENAI.body("Hi", MODEL, 2, stream=False),
        {
            "error": {
                "message": REFUSAL,
                "type": "rate_limit_error",
                "param": None,
                "code": "rate_limited",
            }
        },
    ),
    (OLLAMA.path, OLLAMA.body("Hi", MODEL, 2, stream=False), {"error": REFUSAL}),
    (
        "/api/generate",
        {"model": MODEL, "prompt": "Hi", "stream": False, "options": SHORT},
        {"error": REFUSAL},
    ),
]


def limit_headers(response) -> dict[str, str | None]:
    names = ("retry-after", "ratelimit-limit", "ratelimit-remaining", "ratelimit-reset")
    return {name: response.headers.get(name) for name in names}


@pytest.mark.parametrize(
    "path, body, refusal", ROUTES, ids=[route[0] for route in ROUTES]
)
async def test_request_over_the_limit_is_429_and_costs_nothing(
    start, path, body, refusal
):
    gc = await start_admin(start)
    made = await create_key(gc, credits=10, requests_per_minute=3)
    fixed_clock(gc, "2030-01-01T10:00:30")
    for remaining in ("2", "1", "0"):
        answer = await gc.client.post(path, json=body, headers=auth(made["key"]))
        assert answer.status_code == 200, answer.text
        assert limit_headers(answer) == {
            "retry-after": None,
            "ratelimit-limit": "3",
            "ratelimit-remaining": remaining,
            "ratelimit-reset": "30",
        }
    for _ in range(2):
        refused = await gc.client.post(path, json=body, headers=auth(made["key"]))
        assert refused.status_code == 429
        assert refused.json() == refusal
        assert limit_headers(refused) == {
            "retry-after": "30",
            "ratelimit-limit": "3",
            "ratelimit-remaining": "0",
            "ratelimit-reset": "30",
        }
        assert "x-credits-charged" not in refused.headers
    assert await balance(gc, made["id"]) == 7
    assert await count_rows(gc, usage, usage.c.account_id == made["id"]) == 3
    assert await ledger_kinds(gc, made["id"]) == ["grant", *ANSWERED * 3]


@pytest.mark.parametrize("surface", SURFACES, ids=lambda surface: surface.name)
async def test_streamed_request_over_the_limit_is_refused_before_streaming(
    start, surface
):
    gc = await start_admin(start)
    made = await create_key(gc, credits=10, requests_per_minute=1)
    fixed_clock(gc, "2030-01-01T10:00:00")
    body = surface.body("Hi", MODEL, 2, stream=True)
    streamed = await gc.client.post(surface.path, json=body, headers=auth(made["key"]))
    assert streamed.status_code == 200
    assert surface.streamed_text(streamed.text)
    assert streamed.headers["ratelimit-remaining"] == "0"
    refused = await gc.client.post(surface.path, json=body, headers=auth(made["key"]))
    assert refused.status_code == 429
    assert refused.headers["content-type"] == "application/json"
    assert refused.headers["retry-after"] == "60"
    assert await ledger_kinds(gc, made["id"]) == ["grant", *ANSWERED]


async def test_window_ends_on_the_minute(start):
    gc = await start_admin(start)
    made = await create_key(gc, requests_per_minute=2)
    clock = fixed_clock(gc, "2030-01-01T10:00:59.600")
    chat = NATIVE.body("Hi", MODEL, 2, stream=False)

    async def ask():
        return await gc.client.post("/chat", json=chat, headers=auth(made["key"]))

    assert [(await ask()).status_code for _ in range(3)] == [200, 200, 429]
    refused = await ask()
    # 0.4 s are left: Retry-After is whole seconds, and never 0.
    assert limit_headers(refused)["retry-after"] == "1"
    assert refused.json()["error"]["message"] == refused_message(2, 1)
    clock.set("2030-01-01T10:01:00")
    answer = await ask()
    assert answer.status_code == 200
    assert limit_headers(answer) == {
        "retry-after": None,
        "ratelimit-limit": "2",
        "ratelimit-remaining": "1",
        "ratelimit-reset": "60",
    }


@BOTH_DATABASES
async def test_two_replicas_share_one_limit(start):
    first = await start_admin(start)
    second = await start_admin(start)
    made = await create_key(first, credits=100, requests_per_minute=5)
    for gc in (first, second):
        fixed_clock(gc, "2030-01-01T10:00:10")
    chat = NATIVE.body("Say hi.", MODEL, 2, stream=False)
    calls = [
        gc.client.post("/chat", json=chat, headers=auth(made["key"]))
        for gc in [first, second] * 10
    ]
    responses = await asyncio.gather(*calls)
    assert Counter(r.status_code for r in responses) == {200: 5, 429: 15}
    refused = {r.json()["error"]["type"] for r in responses if r.status_code == 429}
    assert refused == {"rate_limited"}
    assert await balance(first, made["id"]) == 95
    assert await count_rows(first, usage, usage.c.account_id == made["id"]) == 5


async def test_key_without_limit_never_touches_the_rate_table(start):
    gc = await start_admin(start)
    statements = []

    @event.listens_for(gc.gateway.engine.sync_engine, "before_cursor_execute")
    def _seen(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    for _ in range(3):
        answer = await gc.client.post(
            "/chat", json=NATIVE.body("Hi", MODEL, 2, stream=False), headers=auth()
        )
        assert answer.status_code == 200
        assert not any(limit_headers(answer).values())
    assert statements
    # The sweeper's DELETE of old windows runs on its own schedule, whatever
    # the keys; requests must not read or write the table.
    touched = [text for text in statements if "rate_windows" in text]
    assert not [text for text in touched if not text.startswith("DELETE")]
    assert await count_rows(gc, rate_windows) == 0


async def test_default_limit_applies_to_keys_without_their_own(start):
    gc = await start_admin(start, default_requests_per_minute=1)
    own = await create_key(gc, requests_per_minute=2)
    fixed_clock(gc, "2030-01-01T10:00:00")
    chat = NATIVE.body("Hi", MODEL, 2, stream=False)

    async def statuses(key: str, count: int) -> list[int]:
        return [
            (await gc.client.post("/chat", json=chat, headers=auth(key))).status_code
            for _ in range(count)
        ]

    assert await statuses(KEY, 2) == [200, 429]
    assert await statuses(own["key"], 3) == [200, 200, 429]


async def test_admin_sets_and_clears_the_limit(start):
    gc = await start_admin(start)
    made = await create_key(gc, requests_per_minute=1)
    assert made["requests_per_minute"] == 1
    fixed_clock(gc, "2030-01-01T10:00:00")
    chat = NATIVE.body("Hi", MODEL, 2, stream=False)

    async def ask():
        return await gc.client.post("/chat", json=chat, headers=auth(made["key"]))

    assert [(await ask()).status_code for _ in range(2)] == [200, 429]
    cleared = await gc.client.patch(
        f"/admin/keys/{made['id']}", json={"requests_per_minute": None}, headers=admin()
    )
    assert cleared.json()["requests_per_minute"] is None
    answer = await ask()
    assert answer.status_code == 200
    assert "ratelimit-limit" not in answer.headers
    raised = await gc.client.patch(
        f"/admin/keys/{made['id']}", json={"requests_per_minute": 3}, headers=admin()
    )
    assert raised.json()["requests_per_minute"] == 3
    # The window's count already holds the first request: two places left.
    assert [(await ask()).status_code for _ in range(3)] == [200, 200, 429]
    audit = await gc.client.get(
        "/admin/audit",
        params={"key_id": made["id"], "action": "key.update"},
        headers=admin(),
    )
    assert [entry["detail"] for entry in audit.json()["data"]] == [
        {"requests_per_minute": 3},
        {"requests_per_minute": None},
    ]


async def test_idempotent_replay_is_not_counted(start):
    gc = await start_admin(start)
    made = await create_key(gc, requests_per_minute=1)
    fixed_clock(gc, "2030-01-01T10:00:00")
    headers = auth(made["key"]) | {"idempotency-key": "once"}
    chat = NATIVE.body("Hi", MODEL, 2, stream=False)
    first = await gc.client.post("/chat", json=chat, headers=headers)
    replay = await gc.client.post("/chat", json=chat, headers=headers)
    assert (first.status_code, replay.status_code) == (200, 200)
    assert replay.headers["idempotent-replayed"] == "true"
    assert replay.json() == first.json()
    refused = await gc.client.post("/chat", json=chat, headers=auth(made["key"]))
    assert refused.status_code == 429


async def test_sweeper_forgets_windows_before_the_previous_minute(start):
    gc = await start_admin(start)
    made = await create_key(gc, requests_per_minute=10)
    clock = fixed_clock(gc, "2030-01-01T10:00:30")
    chat = NATIVE.body("Hi", MODEL, 2, stream=False)
    for minute in ("10:00:30", "10:01:30", "10:02:30"):
        clock.set(f"2030-01-01T{minute}")
        answer = await gc.client.post("/chat", json=chat, headers=auth(made["key"]))
        assert answer.status_code == 200
    assert await count_rows(gc, rate_windows) == 3
    engine = gc.gateway.engine
    assert await rate_limits.forget_old_windows(engine, clock()) == 1
    assert await count_rows(gc, rate_windows) == 2


def test_openai_client_raises_rate_limit_error(tmp_path, model_path):
    with live_server(
        tmp_path, model_path, api_keys=KEY, default_requests_per_minute=1
    ) as url:
        client = openai.OpenAI(base_url=f"{url}/v1", api_key=KEY, max_retries=0)
        messages = [{"role": "user", "content": "Hi"}]
        # A minute may turn between two calls; within three, one is refused.
        with client, pytest.raises(openai.RateLimitError) as refused:
            for _ in range(3):
                client.chat.completions.create(
                    model=MODEL, messages=messages, max_tokens=2
                )
    error = refused.value
    assert (error.status_code, error.type, error.code) == (
        429,
        "rate_limit_error",
        "rate_limited",
    )
    wait = int(error.response.headers["retry-after"])
    assert 1 <= wait <= 60
    assert error.message.endswith(refused_message(1, wait))
