"""POST /quote: the most a /chat request could cost, without running it."""

from fastapi import APIRouter

from gemmachat import conversations
from gemmachat.api.deps import CurrentCaller, CurrentGateway
from gemmachat.api.generation import plan
from gemmachat.api.schemas import ChatBody
from gemmachat.backends.base import Message
from gemmachat.ledger import ledger
from gemmachat.ledger.money import as_json_number

router = APIRouter()


@router.post("/quote")
async def quote(body: ChatBody, caller: CurrentCaller, gateway: CurrentGateway):
    """Tokenize the request with the served model and price it; nothing is
    charged or reserved."""
    account = caller.account
    history = await conversations.history(gateway.engine, account.id, body.session_id)
    generation, input_tokens = plan(
        gateway, history, [Message("user", body.prompt)], body.max_tokens
    )
    most = gateway.pricing.most(input_tokens, generation.max_tokens)
    balance = await ledger.balance(gateway.engine, account.id)
    answer = {
        "model": gateway.backend.info.name,
        "input_tokens": input_tokens,
        "max_tokens": generation.max_tokens,
        "max_credits": as_json_number(most),
        "balance": as_json_number(balance),
        "affordable": balance >= most,
        "pricing": gateway.settings.pricing,
    }
    if not gateway.pricing.per_request:
        # What /chat would lower max_tokens to, rather than refuse.
        payable = gateway.pricing.affordable_output(input_tokens, balance)
        answer["affordable_max_tokens"] = max(0, min(payable, generation.max_tokens))
    return answer
