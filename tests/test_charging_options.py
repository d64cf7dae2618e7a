"""Idempotent retries, the affordability clamp, quotes, and multibyte text."""

import asyncio

import pytest

from gemmachat.backends.text_stream import StopAwareDecoder
from tests.asgi import LONG_PROMPT
from tests.conftest import auth
from tests.surfaces import OLLAMA, OPENAI, SURFACES

pytestmark = pytest.mark.anyio

MODEL = "gemma-3-270m"
FRANCE = "What is the capital of France?"


async def _status(gc) -> dict:
    return (await gc.client.get("/status", headers=auth())).json()


@pytest.mark.parametrize("surface", SURFACES, ids=lambda s: s.name)
@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
async def test_idempotent_retry_is_charged_once(start, surface, stream):
    gc = await start()
    body = surface.body(FRANCE, MODEL, 16, stream)
    headers = auth() | {"Idempotency-Key": "order-42"}
    first = await gc.client.post(surface.path, json=body, headers=headers)
    again = await gc.client.post(surface.path, json=body, headers=headers)

    assert first.status_code == again.status_code == 200
    assert again.headers["idempotent-replayed"] == "true"
    if stream:
        assert surface.streamed_text(again.text) == surface.streamed_text(first.text)
    else:
        assert surface.text(again.json()) == surface.text(first.json())
    status = await _status(gc)
    assert (status["balance"], status["requests"]) == (19, 1)


async def test_idempotency_key_with_another_body_is_409(start):
    gc = await start()
    headers = auth() | {"Idempotency-Key": "order-43"}
    await gc.client.post(
        "/chat", json={"prompt": "Hi", "max_tokens": 2}, headers=headers
    )
    other = await gc.client.post(
        "/chat", json={"prompt": "Bye", "max_tokens": 2}, headers=headers
    )
    assert other.status_code == 409
    assert other.json()["error"]["type"] == "idempotency_conflict"
    assert (await _status(gc))["balance"] == 19


async def test_concurrent_idempotent_retries_run_once(start):
    gc = await start()
    headers = auth() | {"Idempotency-Key": "order-44"}
    body = {"prompt": "Hi", "max_tokens": 8}
    answers = await asyncio.gather(
        *(gc.client.post("/chat", json=body, headers=headers) for _ in range(10))
    )
    codes = sorted(a.status_code for a in answers)
    assert codes.count(200) >= 1 and set(codes) <= {200, 409}
    for answer in answers:
        if answer.status_code == 409:
            assert answer.json()["error"]["type"] == "idempotency_in_progress"
            assert answer.headers["retry-after"] == "1"
    assert (await _status(gc))["requests"] == 1


async def test_failed_request_frees_its_idempotency_key(start):
    gc = await start(initial_credits=0)
    headers = auth() | {"Idempotency-Key": "order-45"}
    body = {"prompt": "Hi", "max_tokens": 2}
    refused = await gc.client.post("/chat", json=body, headers=headers)
    assert refused.status_code == 402
    again = await gc.client.post("/chat", json=body, headers=headers)
    assert again.status_code == 402  # not replayed, not stuck "in progress"


PRICEY = {
    "pricing": "per_token",
    "input_credits_per_1k_tokens": 10,
    "output_credits_per_1k_tokens": 100,
    "initial_credits": 2,
}


async def test_balance_too_low_for_max_tokens_lowers_it(start):
    gc = await start(**PRICEY | {"initial_credits": 4})
    response = await gc.client.post(
        "/chat",
        headers=auth(),
        json={"prompt": LONG_PROMPT, "max_tokens": 200, "temperature": 0},
    )
    assert response.status_code == 200
    body = response.json()
    assert body["finish_reason"] == "length"
    lowered = body["usage"]["output_tokens"]
    assert 0 < lowered < 200
    assert f"from 200 to {lowered}" in body["notice"]
    assert response.headers["x-max-tokens-lowered"] == f"200->{lowered}"
    assert 0 <= body["credits"]["remaining"] < 0.1


async def test_prompt_alone_unaffordable_is_402(start):
    gc = await start(**PRICEY | {"initial_credits": 0.5})
    response = await gc.client.post(
        "/chat", headers=auth(), json={"prompt": FRANCE, "max_tokens": 50}
    )
    assert response.status_code == 402
    assert response.json()["error"]["remaining"] == 0.5
    assert (await _status(gc))["requests"] == 0


async def test_quote_prices_without_charging(start):
    gc = await start(**PRICEY)
    quote = await gc.client.post(
        "/quote", headers=auth(), json={"prompt": FRANCE, "max_tokens": 100}
    )
    assert quote.status_code == 200
    body = quote.json()
    assert body["input_tokens"] == 94
    assert body["max_credits"] == pytest.approx((94 * 10 + 100 * 100) / 1000)
    assert body["affordable"] is False
    assert 0 < body["affordable_max_tokens"] < 100
    assert (await _status(gc))["balance"] == 2


def test_decoder_never_splits_multibyte_characters():
    text = "你好，世界 🐉🌏 café"
    data = text.encode()
    decoder = StopAwareDecoder(["\nUser:"])
    out = "".join(decoder.feed(data[i : i + 1]) for i in range(len(data)))
    assert out + decoder.flush() == text


ECHO = [
    {"role": "user", "content": "Echo: 早上好"},
    {"role": "assistant", "content": "早上好"},
    {"role": "user", "content": "Echo: 谢谢 🙏"},
    {"role": "assistant", "content": "谢谢 🙏"},
    {"role": "user", "content": "Echo: 你好世界 🐉🌏"},
]


@pytest.mark.parametrize("surface", [OPENAI, OLLAMA], ids=lambda s: s.name)
async def test_chinese_and_emoji_identical_streamed_and_whole(start, surface):
    gc = await start()
    body = surface.body("", MODEL, 24, False) | {"messages": ECHO}
    whole = await gc.client.post(surface.path, json=body, headers=auth())
    streamed = await gc.client.post(
        surface.path, json=body | {"stream": True}, headers=auth()
    )
    text = surface.text(whole.json())
    assert any(ord(char) > 0x2E80 for char in text), text
    assert "\ufffd" not in text
    assert surface.streamed_text(streamed.text) == text
