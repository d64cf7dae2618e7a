"""POST /chat and GET /status on the real embedded Gemma."""

import pytest
from sqlalchemy import func, select

from gemmachat.db.tables import usage
from tests.conftest import KEY, OTHER_KEY, auth

pytestmark = pytest.mark.anyio

FRANCE = {"prompt": "What is the capital of France?", "temperature": 0}


async def test_chat_answers_and_charges_one_credit(start):
    gc = await start()
    response = await gc.client.post("/chat", json=FRANCE, headers=auth())
    assert response.status_code == 200
    body = response.json()
    assert "Paris" in body["answer"]
    assert body["credits"] == {"charged": 1, "remaining": 19, "low": False,
                               "alert": None}
    assert body["usage"]["input_tokens"] > 0
    assert body["usage"]["output_tokens"] > 0
    assert body["finish_reason"] == "stop"
    assert response.headers["x-credits-remaining"] == "19"
    assert response.headers["x-credits-charged"] == "1"
    assert response.headers["x-credits-low"] == "false"

    status = (await gc.client.get("/status", headers=auth())).json()
    assert status["balance"] == 19
    assert status["credits_used"] == 1
    assert status["requests"] == 1
    assert status["low"] is False


@pytest.mark.parametrize("question, expected", [
    ("What is the capital of Italy?", "Rome"),
    ("What color is the sky on a clear day?", "blue"),
    ("Who wrote Romeo and Juliet?", "Shakespeare"),
])
async def test_chat_answers_simple_questions_sensibly(start, question, expected):
    gc = await start()
    response = await gc.client.post(
        "/chat", json={"prompt": question, "temperature": 0}, headers=auth())
    assert expected in response.json()["answer"]


async def test_chat_warns_when_balance_reaches_threshold(start):
    gc = await start(initial_credits=7, low_credit_threshold=5)
    first = await gc.client.post("/chat", json=FRANCE, headers=auth())
    assert first.json()["credits"]["low"] is False
    second = await gc.client.post("/chat", json=FRANCE, headers=auth())
    credits = second.json()["credits"]
    assert credits["remaining"] == 5
    assert credits["low"] is True
    assert "5 left" in credits["alert"]
    assert second.headers["x-credits-low"] == "true"
    status = (await gc.client.get("/status", headers=auth())).json()
    assert status["low"] is True and "5 left" in status["alert"]


async def test_chat_without_credits_is_402_and_calls_no_model(start):
    gc = await start(initial_credits=0)
    response = await gc.client.post("/chat", json=FRANCE, headers=auth())
    assert response.status_code == 402
    assert response.json() == {"error": {
        "type": "insufficient_credits",
        "message": "This request needs 1 credits; the key has 0.",
        "param": None, "required": 1, "remaining": 0}}
    assert "retry-after" not in response.headers
    async with gc.gateway.engine.connect() as conn:
        rows = (await conn.execute(select(func.count()).select_from(usage))).scalar()
    assert rows == 0


async def test_session_carries_context_into_the_next_turn(start):
    gc = await start()
    first = await gc.client.post("/chat", headers=auth(), json={
        "prompt": "My name is Alice.", "temperature": 0})
    session_id = first.json()["session_id"]
    second = await gc.client.post("/chat", headers=auth(), json={
        "prompt": "What is my name?", "session_id": session_id,
        "temperature": 0})
    assert second.status_code == 200
    assert second.json()["session_id"] == session_id
    assert "Alice" in second.json()["answer"]
    fresh = await gc.client.post("/chat", headers=auth(), json={
        "prompt": "What is my name?", "temperature": 0})
    assert fresh.json()["session_id"] != session_id
    assert (second.json()["usage"]["input_tokens"]
            > fresh.json()["usage"]["input_tokens"])


async def test_session_of_another_key_is_404_and_free(start):
    gc = await start()
    first = await gc.client.post("/chat", json=FRANCE, headers=auth(KEY))
    session_id = first.json()["session_id"]
    response = await gc.client.post("/chat", headers=auth(OTHER_KEY), json={
        "prompt": "What did I ask?", "session_id": session_id})
    assert response.status_code == 404
    assert response.json() == {"error": {
        "type": "session_not_found",
        "message": f"No session {session_id!r} for this key.",
        "param": "session_id"}}
    status = (await gc.client.get("/status", headers=auth(OTHER_KEY))).json()
    assert status["balance"] == 20


async def test_long_session_drops_oldest_turns_to_fit_the_window(start):
    gc = await start(max_prompt_chars=4000)
    filler = "Please remember this sentence about the weather today. " * 40
    session_id = None
    for _ in range(5):
        body = {"prompt": filler, "max_tokens": 8, "temperature": 0}
        if session_id:
            body["session_id"] = session_id
        response = await gc.client.post("/chat", json=body, headers=auth())
        assert response.status_code == 200, response.text
        session_id = response.json()["session_id"]
        assert response.json()["usage"]["input_tokens"] <= 2048 - 8
