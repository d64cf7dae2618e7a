"""The official `openai` and `ollama` Python clients, which no one here
wrote, against a running GemmaChat server."""

import ollama
import openai
import pytest

from tests.conftest import KEY, OTHER_KEY
from tests.live import live_server

MODEL = "gemma-3-270m"
FRANCE = [{"role": "user", "content": "What is the capital of France?"}]


@pytest.fixture(scope="module")
def server(tmp_path_factory, model_path):
    folder = tmp_path_factory.mktemp("live")
    with live_server(folder, model_path, api_keys=KEY, initial_credits=500) as url:
        yield url


@pytest.fixture(scope="module")
def broke_server(tmp_path_factory, model_path):
    folder = tmp_path_factory.mktemp("broke")
    with live_server(folder, model_path, api_keys=OTHER_KEY, initial_credits=0) as url:
        yield url


@pytest.fixture
def openai_for():
    """OpenAI clients for (server URL, key), closed after the test."""
    clients = []

    def make(url, key=KEY):
        clients.append(openai.OpenAI(base_url=f"{url}/v1", api_key=key, max_retries=0))
        return clients[-1]

    yield make
    for client in clients:
        client.close()


def test_openai_chat_answers(server, openai_for):
    completion = openai_for(server).chat.completions.create(
        model=MODEL, messages=FRANCE, temperature=0
    )
    assert "Paris" in completion.choices[0].message.content
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage.prompt_tokens > 0
    assert completion.usage.completion_tokens > 0


def test_openai_stream_matches_whole_answer(server, openai_for):
    client = openai_for(server)
    whole = client.chat.completions.create(model=MODEL, messages=FRANCE, temperature=0)
    chunks = list(
        client.chat.completions.create(
            model=MODEL, messages=FRANCE, temperature=0, stream=True
        )
    )
    assert len({chunk.id for chunk in chunks}) == 1
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == whole.choices[0].message.content
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices]
    assert finishes[-1] == "stop" and set(finishes[:-1]) == {None}
    assert chunks[-1].choices[0].delta.content  # the reason rides on content


def test_openai_stream_include_usage(server, openai_for):
    chunks = list(
        openai_for(server).chat.completions.create(
            model=MODEL,
            messages=FRANCE,
            temperature=0,
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    usage_chunk = chunks[-1]
    assert usage_chunk.choices == []
    assert usage_chunk.usage.completion_tokens > 0
    assert usage_chunk.usage.total_tokens == (
        usage_chunk.usage.prompt_tokens + usage_chunk.usage.completion_tokens
    )
    assert all(chunk.usage is None for chunk in chunks[:-1])


def test_openai_out_of_credits_is_402(broke_server, openai_for):
    with pytest.raises(openai.APIStatusError) as raised:
        openai_for(broke_server, OTHER_KEY).chat.completions.create(
            model=MODEL, messages=FRANCE
        )
    assert raised.value.status_code == 402
    assert raised.value.code == "insufficient_credits"


def test_openai_bad_key_is_authentication_error(server, openai_for):
    with pytest.raises(openai.AuthenticationError):
        openai_for(server, "gc_wrong").chat.completions.create(
            model=MODEL, messages=FRANCE
        )


def test_openai_lists_the_served_model(server, openai_for):
    assert [model.id for model in openai_for(server).models.list()] == [MODEL]


@pytest.fixture
def ollama_client(server):
    with ollama.Client(host=server, headers={"Authorization": f"Bearer {KEY}"}) as c:
        yield c


def test_ollama_chat_answers(ollama_client):
    response = ollama_client.chat(
        model=MODEL, messages=FRANCE, options={"temperature": 0}
    )
    assert "Paris" in response.message.content
    assert response.done and response.done_reason == "stop"
    assert response.eval_count > 0 and response.prompt_eval_count > 0


def test_ollama_generate_answers(ollama_client):
    response = ollama_client.generate(
        model=MODEL,
        prompt="What is the capital of France?",
        options={"temperature": 0},
    )
    assert "Paris" in response.response
    assert response.total_duration > 0


def test_ollama_stream_matches_whole_answer(ollama_client):
    client = ollama_client
    whole = client.chat(model=MODEL, messages=FRANCE, options={"temperature": 0})
    parts = list(
        client.chat(
            model=MODEL, messages=FRANCE, options={"temperature": 0}, stream=True
        )
    )
    assert parts[-1].done and not any(part.done for part in parts[:-1])
    assert "".join(part.message.content for part in parts) == whole.message.content


def test_ollama_lists_the_served_model(ollama_client):
    models = ollama_client.list().models
    assert [model.model for model in models] == [MODEL]
    assert models[0].details.family == "gemma3"


def test_ollama_unknown_model_raises_response_error(ollama_client):
    with pytest.raises(ollama.ResponseError) as raised:
        ollama_client.chat(model="llama3", messages=FRANCE)
    assert raised.value.status_code == 404
