"""A caller's mistake gets the envelope and a clear status, and costs nothing."""

import json

import pytest

from tests.conftest import auth

pytestmark = pytest.mark.anyio

BAD_BODIES = [
    ("missing-prompt", {}, 422, "prompt"),
    ("prompt-number", {"prompt": 42}, 422, "prompt"),
    ("prompt-null", {"prompt": None}, 422, "prompt"),
    ("prompt-list", {"prompt": ["hi"]}, 422, "prompt"),
    ("empty-prompt", {"prompt": ""}, 422, "prompt"),
    ("whitespace-prompt", {"prompt": " \n\t "}, 422, "prompt"),
    ("negative-max-tokens", {"prompt": "hi", "max_tokens": -1}, 422, "max_tokens"),
    ("zero-max-tokens", {"prompt": "hi", "max_tokens": 0}, 422, "max_tokens"),
    ("fractional-max-tokens", {"prompt": "hi", "max_tokens": 1.5}, 422, "max_tokens"),
    ("string-max-tokens", {"prompt": "hi", "max_tokens": "5"}, 422, "max_tokens"),
    ("huge-max-tokens", {"prompt": "hi", "max_tokens": 10**9}, 422, "max_tokens"),
    ("string-temperature", {"prompt": "hi", "temperature": "hot"}, 422, "temperature"),
    ("negative-temperature", {"prompt": "hi", "temperature": -1}, 422, "temperature"),
    ("high-temperature", {"prompt": "hi", "temperature": 3}, 422, "temperature"),
    ("session-number", {"prompt": "hi", "session_id": 7}, 422, "session_id"),
    ("long-prompt", {"prompt": "x" * 9000}, 422, "prompt"),
    ("body-is-list", ["hi"], 422, "body"),
    ("body-is-string", "hi", 422, "body"),
]


def _raw(body) -> bytes:
    return json.dumps(body).encode()


@pytest.mark.parametrize("body, status, param",
                         [case[1:] for case in BAD_BODIES],
                         ids=[case[0] for case in BAD_BODIES])
async def test_bad_chat_body_is_refused_free(start, body, status, param):
    gc = await start()
    response = await gc.client.post(
        "/chat", content=_raw(body),
        headers=auth() | {"content-type": "application/json"})
    await _assert_refused_free(gc, response, status, param)


@pytest.mark.parametrize("content", [b"not json", b'{"prompt": "hi"', b""],
                         ids=["text", "truncated", "empty"])
async def test_non_json_body_is_refused_free(start, content):
    gc = await start()
    response = await gc.client.post(
        "/chat", content=content,
        headers=auth() | {"content-type": "application/json"})
    await _assert_refused_free(gc, response, 422, "body")


async def test_oversize_body_is_413_free(start):
    gc = await start(max_body_bytes=2048)
    response = await gc.client.post(
        "/chat", json={"prompt": "x" * 4096}, headers=auth())
    await _assert_refused_free(gc, response, 413, "body")
    assert response.json()["error"]["type"] == "request_too_large"


async def test_oversize_chunked_body_is_413_free(start):
    gc = await start(max_body_bytes=2048)

    async def chunks():
        for _ in range(10):
            yield b"x" * 512

    response = await gc.client.post("/chat", content=chunks(), headers=auth())
    await _assert_refused_free(gc, response, 413, "body")


async def test_unknown_route_is_404_envelope(start):
    gc = await start()
    response = await gc.client.get("/nowhere", headers=auth())
    assert response.status_code == 404
    assert response.json() == {"error": {"type": "not_found",
                                         "message": "No route /nowhere.",
                                         "param": None}}


async def test_wrong_method_uses_the_envelope(start):
    gc = await start()
    response = await gc.client.get("/chat", headers=auth())
    assert response.status_code == 405
    assert response.json() == {"error": {"type": "http_error",
                                         "message": "Method Not Allowed",
                                         "param": None}}


async def _assert_refused_free(gc, response, status, param):
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) == {"type", "message", "param"}
    assert error["param"] == param
    assert error["message"]
    balance = (await gc.client.get("/status", headers=auth())).json()
    assert balance["balance"] == 20
    assert balance["requests"] == 0
