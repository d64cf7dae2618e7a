"""The admin CLI, run as a user runs it, on a real database file: with the
server down, and next to a running server on the same database."""

import asyncio
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import anyio
import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from gemmachat.cli import app
from gemmachat.commands.common import actor
from gemmachat.db.engine import create_engine
from gemmachat.db.tables import accounts
from tests.admin_helpers import fixed_clock, start_admin
from tests.conftest import assert_ledger_matches_balances, auth


@pytest.fixture
def gemmachat(tmp_path, monkeypatch, database_url):
    """Run `gemmachat ...` with the settings the `start` fixture uses."""
    monkeypatch.chdir(tmp_path)  # no stray .env
    env = {
        "DATA_DIR": str(tmp_path / "data"),
        "SERVER_SECRET": "test-secret",
        "DATABASE_URL": database_url,
        "INITIAL_CREDITS": "20",
        "COLUMNS": "200",
    }
    runner = CliRunner()

    def run(*args: str, code: int = 0) -> str:
        result = runner.invoke(app, list(args), env=env)
        assert result.exit_code == code, result.output
        return result.output

    yield run
    # What the commands wrote must keep every ledger summing to its balance;
    # checked on a loop of its own, as the commands themselves run.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, _check_ledgers(database_url)).result()


async def _check_ledgers(url: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            keys = (await conn.execute(select(func.count(accounts.c.id)))).scalar()
        if keys:
            await assert_ledger_matches_balances(SimpleNamespace(engine=engine))
    finally:
        await engine.dispose()


def _secret(output: str) -> str:
    """The plaintext printed on the line after the "shown once" notice."""
    lines = output.splitlines()
    marker = next(i for i, line in enumerate(lines) if "shown once" in line)
    return lines[marker + 1].strip()


def test_cli_manages_keys_with_the_server_down(gemmachat):
    created = gemmachat(
        "keys",
        "create",
        "--label",
        "Build bot",
        "--owner",
        "ci",
        "--credits",
        "5",
        "--refill",
        "10/day",
    )
    key = _secret(created)
    assert key.startswith("gc_") and "Build bot" in created
    assert "10/day" in created
    recharged = gemmachat("credits", "recharge", key[:10], "2.5", "--reason", "pack")
    assert recharged.strip() == (
        f"Recharged key 1 ({key[:10]}) with 2.5 credits; balance 7.5."
    )
    listed = gemmachat("keys", "list")
    assert key[:10] in listed and "Build bot" in listed and "7.5" in listed
    assert key not in listed

    new = _secret(gemmachat("keys", "rotate", "1"))
    shown = gemmachat("keys", "show", new[:10])
    assert "7.5" in shown and "active" in shown
    assert "revoked" in gemmachat("keys", "revoke", "1")
    assert "revoked" in gemmachat("keys", "list", "--state", "revoked")

    log = gemmachat("audit")
    for action in ("key.create", "credits.recharge", "key.rotate", "key.revoke"):
        assert action in log
    assert actor() in log


def test_cli_creates_vouchers_and_lists_them_without_codes(gemmachat):
    created = gemmachat(
        "vouchers", "create", "--credits", "3", "--count", "2", "--note", "launch"
    )
    codes = [line for line in created.splitlines() if line.startswith("gcv_")]
    assert len(codes) == 2
    listed = gemmachat("vouchers", "list")
    assert "launch" in listed and "0/1" in listed
    assert all(code not in listed for code in codes)


@pytest.mark.parametrize(
    "args, code, message",
    [
        (["credits", "recharge", "1", "abc", "--reason", "x"], 2, "not a number"),
        (
            ["credits", "recharge", "1", "0.0000001", "--reason", "x"],
            2,
            "must have at most 6 decimal places",
        ),
        (
            ["credits", "recharge", "1", "0", "--reason", "x"],
            2,
            "must be greater than 0",
        ),
        (["credits", "recharge", "1", "1", "--reason", " "], 2, "give a reason"),
        (
            ["credits", "recharge", "99", "1", "--reason", "x"],
            1,
            "Error: No key matches '99'.",
        ),
        (["keys", "create", "--refill", "5/week"], 2, "CREDITS/day"),
        (
            ["keys", "create", "--expires", "2000-01-01"],
            1,
            "expires_at: must be in the future",
        ),
        (
            ["keys", "update", "1", "--requests-per-minute", "0"],
            2,
            "a whole number from 1 to 1000000, or none",
        ),
        (["keys", "update", "1"], 2, "give at least one setting to change"),
    ],
    ids=[
        "word",
        "too-fine",
        "zero",
        "blank-reason",
        "unknown-key",
        "bad-refill",
        "past-expiry",
        "zero-rate",
        "nothing-to-update",
    ],
)
def test_cli_refuses_bad_input_and_changes_nothing(gemmachat, args, code, message):
    gemmachat("keys", "create", "--credits", "1")  # key 1 exists
    output = gemmachat(*args, code=code)
    assert message in " ".join(output.split())
    assert "credits.recharge" not in gemmachat("audit")
    assert "key.update" not in gemmachat("audit")
    assert "Balance 1 " in " ".join(gemmachat("keys", "show", "1").split())


@pytest.mark.anyio
async def test_cli_key_works_on_the_running_server(start, gemmachat):
    gc = await start_admin(start)

    async def cli(*args: str) -> str:
        return await anyio.to_thread.run_sync(lambda: gemmachat(*args))

    key = _secret(await cli("keys", "create", "--credits", "4"))
    response = await gc.client.post(
        "/chat", headers=auth(key), json={"prompt": "Hi", "max_tokens": 2}
    )
    assert response.json()["credits"]["remaining"] == 3
    await cli("credits", "recharge", key[:10], "10", "--reason", "top-up")
    status = await gc.client.get("/status", headers=auth(key))
    assert status.json()["balance"] == 13
    usage = await cli("usage", "--key", key[:10], "--format", "csv")
    assert usage.splitlines()[0].startswith("time,request_id,key_id")
    assert response.headers["x-request-id"] in usage
    summary = await cli("usage", "--summary", "--by-key", "--format", "json")
    assert '"requests": 1' in summary
    await cli("keys", "revoke", key[:10])
    assert (await gc.client.get("/status", headers=auth(key))).status_code == 401


@pytest.mark.anyio
async def test_cli_sets_and_clears_the_rate_limit(start, gemmachat):
    gc = await start_admin(start)

    async def cli(*args: str) -> str:
        output = await anyio.to_thread.run_sync(lambda: gemmachat(*args))
        return " ".join(output.split())

    created = await cli("keys", "create", "--requests-per-minute", "1")
    assert "Requests per minute 1 " in created
    key = created.split()[-1]
    fixed_clock(gc, "2030-01-01T10:00:00")

    async def ask() -> int:
        chat = {"prompt": "Hi", "max_tokens": 2}
        return (await gc.client.post("/chat", headers=auth(key), json=chat)).status_code

    assert [await ask(), await ask()] == [200, 429]
    cleared = await cli("keys", "update", key[:10], "--requests-per-minute", "none")
    assert "Requests per minute default " in cleared
    assert await ask() == 200
    await cli("keys", "update", key[:10], "--requests-per-minute", "5")
    assert "Requests per minute 5 " in await cli("keys", "show", key[:10])
    assert "key.update" in await cli("audit", "--key", key[:10])
