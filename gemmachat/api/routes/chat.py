"""POST /chat: GemmaChat's own chat route, from the original design."""

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from gemmachat import conversations
from gemmachat.api.billing import credit_headers, credits_view, note_for_log
from gemmachat.api.deps import Caller, authenticate, get_gateway
from gemmachat.api.generation import complete, plan
from gemmachat.api.schemas import ChatBody, ChatReply, Usage
from gemmachat.backends.base import Message
from gemmachat.gateway import Gateway
from gemmachat.metering import MeteredGeneration

router = APIRouter()


@router.post("/chat", response_model=ChatReply)
async def chat(body: ChatBody, request: Request,
               caller: Caller = Depends(authenticate),
               gateway: Gateway = Depends(get_gateway)) -> Response:
    account = caller.account
    history = []
    if body.session_id is not None:
        history = await conversations.history(gateway.engine, account.id,
                                              body.session_id)
    generation, input_tokens = plan(
        gateway, history, [Message("user", body.prompt)], body.max_tokens,
        temperature=body.temperature)
    call = MeteredGeneration(gateway, account, "/chat",
                             request.state.request_id, generation, input_tokens)
    async with call:
        answer = await complete(request, call)
    note_for_log(request, call)
    if answer is None:
        return Response(status_code=499)  # nobody is listening any more
    session_id = await conversations.record_exchange(
        gateway.engine, account.id, body.session_id, body.prompt, answer)
    reply = ChatReply(
        answer=answer, session_id=session_id, model=gateway.backend.info.name,
        finish_reason=call.finished.finish_reason,
        usage=Usage(input_tokens=call.record.input_tokens,
                    output_tokens=call.record.output_tokens),
        credits=credits_view(call.charge),
    )
    return JSONResponse(reply.model_dump(), headers=credit_headers(call.charge))
