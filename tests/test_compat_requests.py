"""Requests on the OpenAI and Ollama surfaces: what is accepted, what is
refused (400 naming the field, nothing charged, no model call)."""

import pytest
from sqlalchemy import func, select

from gemmachat.db.tables import usage
from tests.conftest import auth

pytestmark = pytest.mark.anyio

MODEL = "gemma-3-270m"
HI = [{"role": "user", "content": "Hi"}]
GOOD = {"model": MODEL, "messages": HI, "max_tokens": 4}

BAD_OPENAI = [
    ("max-tokens-zero", GOOD | {"max_tokens": 0}, "max_tokens"),
    ("max-tokens-negative", GOOD | {"max_tokens": -5}, "max_tokens"),
    ("max-tokens-fractional", GOOD | {"max_tokens": 2.5}, "max_tokens"),
    ("temperature-negative", GOOD | {"temperature": -1}, "temperature"),
    ("temperature-three", GOOD | {"temperature": 3}, "temperature"),
    ("top-p-two", GOOD | {"top_p": 2}, "top_p"),
    ("stop-number", GOOD | {"stop": 7}, "stop"),
    ("stop-five", GOOD | {"stop": ["a", "b", "c", "d", "e"]}, "stop"),
    ("n-two", GOOD | {"n": 2}, "n"),
    ("messages-empty", GOOD | {"messages": []}, "messages"),
    ("messages-missing", {"model": MODEL}, "messages"),
    ("model-missing", {"messages": HI}, "model"),
    ("empty-object", {}, "model"),
    (
        "content-null",
        GOOD | {"messages": [{"role": "user", "content": None}]},
        "messages.0.content",
    ),
    (
        "content-whitespace",
        GOOD | {"messages": [{"role": "user", "content": " \n"}]},
        "messages.0.content",
    ),
    (
        "content-image-part",
        GOOD
        | {
            "messages": [
                {
                    "role": "user",
                    "content": [{"type": "image_url", "image_url": {"url": "data:,"}}],
                }
            ]
        },
        "messages.0.content",
    ),
    (
        "role-unknown",
        GOOD | {"messages": [{"role": "wizard", "content": "hi"}]},
        "messages.0.role",
    ),
]


async def _assert_free(gc):
    status = (await gc.client.get("/status", headers=auth())).json()
    assert (status["balance"], status["requests"]) == (20, 0)
    async with gc.gateway.engine.connect() as conn:
        assert (
            await conn.execute(select(func.count()).select_from(usage))
        ).scalar() == 0


@pytest.mark.parametrize(
    "body, param", [case[1:] for case in BAD_OPENAI], ids=[c[0] for c in BAD_OPENAI]
)
async def test_bad_openai_request_is_400_naming_the_field(start, body, param):
    gc = await start()
    response = await gc.client.post("/v1/chat/completions", json=body, headers=auth())
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert (error["param"], error["type"]) == (param, "invalid_request_error")
    assert error["code"] == "invalid_request" and error["message"]
    await _assert_free(gc)


async def test_non_json_openai_body_is_400(start):
    gc = await start()
    response = await gc.client.post(
        "/v1/chat/completions",
        content=b"{not json",
        headers=auth() | {"content-type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "body"
    await _assert_free(gc)


async def test_unknown_model_is_404_model_not_found(start):
    gc = await start()
    response = await gc.client.post(
        "/v1/chat/completions", json=GOOD | {"model": "gpt-4o"}, headers=auth()
    )
    assert response.status_code == 404
    assert response.json() == {
        "error": {
            "message": "The model 'gpt-4o' is not served here; the served model is "
            "'gemma-3-270m'.",
            "type": "invalid_request_error",
            "param": "model",
            "code": "model_not_found",
        }
    }
    await _assert_free(gc)


async def test_openai_bad_key_is_401_in_openai_shape(start):
    gc = await start()
    response = await gc.client.post(
        "/v1/chat/completions", json=GOOD, headers={"authorization": "Bearer nope"}
    )
    assert response.status_code == 401
    assert response.json() == {
        "error": {
            "message": "Invalid or missing API key.",
            "type": "authentication_error",
            "param": None,
            "code": "invalid_api_key",
        }
    }


async def test_content_as_text_parts_is_answered(start):
    gc = await start()
    parts = [
        {"type": "text", "text": "What is the capital "},
        {"type": "text", "text": "of France?"},
    ]
    response = await gc.client.post(
        "/v1/chat/completions",
        headers=auth(),
        json={
            "model": MODEL,
            "temperature": 0,
            "messages": [{"role": "user", "content": parts}],
        },
    )
    assert response.status_code == 200
    assert "Paris" in response.json()["choices"][0]["message"]["content"]


BAD_OLLAMA = [
    ("model-missing", {"messages": HI}, "model"),
    (
        "num-predict-text",
        {"model": MODEL, "messages": HI, "options": {"num_predict": "many"}},
        "options.num_predict",
    ),
    (
        "temperature-three",
        {"model": MODEL, "messages": HI, "options": {"temperature": 3}},
        "options.temperature",
    ),
    (
        "content-number",
        {"model": MODEL, "messages": [{"role": "user", "content": 1}]},
        "messages.0.content",
    ),
]


@pytest.mark.parametrize(
    "body, param", [case[1:] for case in BAD_OLLAMA], ids=[c[0] for c in BAD_OLLAMA]
)
async def test_bad_ollama_request_is_400_error_string(start, body, param):
    gc = await start()
    response = await gc.client.post("/api/chat", json=body, headers=auth())
    assert response.status_code == 400
    assert set(response.json()) == {"error"}
    assert response.json()["error"].startswith(f"{param}:")
    await _assert_free(gc)


async def test_ollama_empty_chat_loads_the_model_for_free(start):
    gc = await start()
    response = await gc.client.post(
        "/api/chat", json={"model": MODEL, "messages": []}, headers=auth()
    )
    assert response.status_code == 200
    assert response.json()["done_reason"] == "load"
    await _assert_free(gc)


async def test_ollama_routes_take_the_key_either_way(start):
    gc = await start()
    for headers in (auth(), {"authorization": f"Bearer {auth()['x-api-key']}"}):
        shown = await gc.client.post(
            "/api/show", json={"model": MODEL}, headers=headers
        )
        assert shown.json()["model_info"]["gemma3.context_length"] == 2048
    refused = await gc.client.get("/api/tags")
    assert refused.status_code == 401
    assert refused.json() == {"error": "Invalid or missing API key."}
