"""OpenAI-compatible routes: /v1/chat/completions and /v1/models."""

from fastapi import APIRouter, Request
from fastapi.responses import Response

from gemmachat.api.charged import ChargedRequest, serve
from gemmachat.api.deps import CurrentCaller, CurrentGateway
from gemmachat.api.formats.openai import OpenAIFormat
from gemmachat.api.generation import plan, served_model
from gemmachat.api.openai_schemas import ChatCompletionBody
from gemmachat.backends.base import Message
from gemmachat.gateway import Gateway

router = APIRouter(prefix="/v1")
STARTED = 1_700_000_000  # a fixed `created` for the served model


def _model_card(gateway: Gateway) -> dict:
    return {
        "id": gateway.backend.info.name,
        "object": "model",
        "created": STARTED,
        "owned_by": "gemmachat",
    }


@router.get("/models")
async def list_models(_: CurrentCaller, gateway: CurrentGateway) -> dict:
    return {"object": "list", "data": [_model_card(gateway)]}


@router.get("/models/{model}")
async def get_model(model: str, _: CurrentCaller, gateway: CurrentGateway) -> dict:
    served_model(gateway, model)
    return _model_card(gateway)


@router.post("/chat/completions")
async def chat_completions(
    body: ChatCompletionBody,
    request: Request,
    caller: CurrentCaller,
    gateway: CurrentGateway,
) -> Response:
    model = served_model(gateway, body.model)
    messages = [
        Message("system" if m.role == "developer" else m.role, m.content)
        for m in body.messages
    ]
    generation, input_tokens = plan(
        gateway,
        [],
        messages,
        body.limit,
        prompt_param="messages",
        temperature=body.temperature,
        top_p=body.top_p,
        stop=body.stop,
        seed=body.seed,
    )
    charged = ChargedRequest(
        route="/v1/chat/completions",
        generation=generation,
        input_tokens=input_tokens,
        stream=body.stream,
        renderer=OpenAIFormat(request.state.request_id, model, body.wants_usage),
    )
    return await serve(request, gateway, caller, charged)
