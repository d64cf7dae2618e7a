"""The demo key the run command prints, kept across restarts.

Only the hash is in the database; the plaintext stays in a file of the data
folder, readable by its owner only, so that a restart can print it again.
"""

from sqlalchemy.ext.asyncio import AsyncEngine

from gemmachat.ledger.accounts import create_account, find_by_key
from gemmachat.ledger.keys import display_prefix, hash_key, new_key
from gemmachat.ledger.money import to_units
from gemmachat.settings import Settings


async def ensure_demo_key(settings: Settings, engine: AsyncEngine) -> str:
    path = settings.data_dir / "demo_key"
    if path.exists():
        key = path.read_text().strip()
        if await find_by_key(engine, settings.secret, key) is not None:
            return key
    key = new_key()
    async with engine.begin() as conn:
        await create_account(
            conn, key_hash=hash_key(settings.secret, key),
            key_prefix=display_prefix(key), source="admin",
            units=to_units(settings.initial_credits), label="demo")
    path.touch(mode=0o600)
    path.write_text(key)
    return key
