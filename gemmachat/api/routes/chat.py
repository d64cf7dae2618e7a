"""POST /chat: GemmaChat's own chat route, from the original design."""

from fastapi import APIRouter, Request
from fastapi.responses import Response

from gemmachat import conversations
from gemmachat.api.charged import ChargedRequest, serve
from gemmachat.api.deps import CurrentCaller, CurrentGateway
from gemmachat.api.formats.native import NativeFormat
from gemmachat.api.generation import plan
from gemmachat.api.schemas import ChatBody, ChatReply
from gemmachat.backends.base import Message
from gemmachat.metering import Outcome

router = APIRouter()


@router.post("/chat", response_model=ChatReply)
async def chat(
    body: ChatBody,
    request: Request,
    caller: CurrentCaller,
    gateway: CurrentGateway,
) -> Response:
    """Answer `prompt`, continuing `session_id` when given; with
    `stream: true` the answer comes as server-sent events."""
    account = caller.account
    history = await conversations.history(gateway.engine, account.id, body.session_id)
    generation, input_tokens = plan(
        gateway,
        history,
        [Message("user", body.prompt)],
        body.max_tokens,
        temperature=body.temperature,
    )

    async def remember(outcome: Outcome) -> None:
        outcome.extra["session_id"] = await conversations.record_exchange(
            gateway.engine, account.id, body.session_id, body.prompt, outcome.text
        )

    charged = ChargedRequest(
        route="/chat",
        generation=generation,
        input_tokens=input_tokens,
        stream=body.stream,
        renderer=NativeFormat(request.state.request_id),
        after=remember,
    )
    return await serve(request, gateway, caller, charged)
