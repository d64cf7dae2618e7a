"""Ollama-compatible routes: /api/chat, /api/generate, /api/tags,
/api/show and /api/version."""

from fastapi import APIRouter, Request
from fastapi.responses import Response

from gemmachat import __version__
from gemmachat.api.charged import ChargedRequest, serve
from gemmachat.api.deps import CurrentCaller, CurrentGateway
from gemmachat.api.formats.ollama import OllamaFormat, created_at
from gemmachat.api.generation import plan, served_model
from gemmachat.api.ollama_schemas import (
    OllamaChatBody,
    OllamaGenerateBody,
    OllamaShowBody,
)
from gemmachat.backends.base import Message
from gemmachat.gateway import Gateway

router = APIRouter(prefix="/api")


@router.post("/chat", response_model=None)
async def chat(
    body: OllamaChatBody,
    request: Request,
    caller: CurrentCaller,
    gateway: CurrentGateway,
) -> Response | dict:
    model = served_model(gateway, body.model)
    renderer = OllamaFormat(model, "chat")
    if not body.messages:
        return renderer.loaded()
    messages = [Message(m.role, m.content) for m in body.messages]
    return await _generate(request, caller, gateway, body, messages, renderer)


@router.post("/generate", response_model=None)
async def generate(
    body: OllamaGenerateBody,
    request: Request,
    caller: CurrentCaller,
    gateway: CurrentGateway,
) -> Response | dict:
    model = served_model(gateway, body.model)
    renderer = OllamaFormat(model, "generate")
    if not body.prompt.strip():
        return renderer.loaded()
    messages = [Message("user", body.prompt)]
    if body.system:
        messages.insert(0, Message("system", body.system))
    return await _generate(request, caller, gateway, body, messages, renderer)


async def _generate(request, caller, gateway, body, messages, renderer) -> Response:
    options = body.options
    generation, input_tokens = plan(
        gateway,
        [],
        messages,
        options.max_tokens,
        prompt_param="messages" if renderer.kind == "chat" else "prompt",
        temperature=options.temperature,
        top_p=options.top_p,
        stop=options.stop,
        seed=options.seed,
    )
    charged = ChargedRequest(
        route=request.url.path,
        generation=generation,
        input_tokens=input_tokens,
        stream=body.stream,
        renderer=renderer,
    )
    return await serve(request, gateway, caller, charged)


def _details(gateway: Gateway) -> dict:
    info = gateway.backend.info
    return {
        "parent_model": "",
        "format": "gguf",
        "family": info.family,
        "families": [info.family],
        "parameter_size": info.parameter_size,
        "quantization_level": info.quantization,
    }


@router.get("/tags")
async def tags(_: CurrentCaller, gateway: CurrentGateway) -> dict:
    info = gateway.backend.info
    model = {
        "name": info.name,
        "model": info.name,
        "modified_at": created_at(),
        "size": info.size_bytes,
        "digest": info.digest,
        "details": _details(gateway),
    }
    return {"models": [model]}


@router.post("/show")
async def show(body: OllamaShowBody, _: CurrentCaller, gateway: CurrentGateway):
    served_model(gateway, body.model)
    info = gateway.backend.info
    return {
        "modelfile": "",
        "parameters": "",
        "template": "",
        "details": _details(gateway),
        "model_info": {
            "general.architecture": info.family,
            f"{info.family}.context_length": info.context_window,
        },
        "capabilities": ["completion"],
    }


@router.get("/version")
async def version() -> dict:
    return {"version": __version__}
