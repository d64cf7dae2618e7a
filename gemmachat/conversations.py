"""Chat sessions: the earlier turns a request continues, stored per key."""

import uuid

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from gemmachat.backends.base import Message
from gemmachat.db.tables import chat_sessions, chat_turns
from gemmachat.errors import NotFound
from gemmachat.ledger.accounts import now


class SessionNotFound(NotFound):
    type = "session_not_found"


async def history(engine: AsyncEngine, account_id: int,
                  session_id: str) -> list[Message]:
    """The session's turns, oldest first; 404 unless the key owns it."""
    async with engine.connect() as conn:
        owner = (await conn.execute(
            select(chat_sessions.c.account_id)
            .where(chat_sessions.c.id == session_id))).scalar_one_or_none()
        if owner != account_id:
            raise SessionNotFound(f"No session {session_id!r} for this key.",
                                  param="session_id")
        rows = await conn.execute(
            select(chat_turns.c.role, chat_turns.c.content)
            .where(chat_turns.c.session_id == session_id)
            .order_by(chat_turns.c.id))
        return [Message(row.role, row.content) for row in rows]


async def record_exchange(engine: AsyncEngine, account_id: int,
                          session_id: str | None, prompt: str, answer: str) -> str:
    """Store a question and its answer; starts the session when new."""
    async with engine.begin() as conn:
        if session_id is None:
            session_id = str(uuid.uuid4())
            await conn.execute(insert(chat_sessions).values(
                id=session_id, account_id=account_id, created_at=now()))
        await conn.execute(insert(chat_turns), [
            {"session_id": session_id, "role": "user", "content": prompt,
             "created_at": now()},
            {"session_id": session_id, "role": "assistant", "content": answer,
             "created_at": now()},
        ])
    return session_id


def fit_context(count_tokens, history: list[Message], new: list[Message],
                budget: int) -> list[Message]:
    """Drop the oldest turns of `history` until the prompt fits `budget`
    tokens; the new messages are always kept."""
    kept = list(history)
    while kept and count_tokens(kept + new) > budget:
        kept = kept[2:] if len(kept) >= 2 else []
    return kept + new
