"""docs/admin.md, run as written: its CLI and curl walkthrough against a
live server, on the server's database."""

import asyncio
import os
import re
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from gemmachat.db.tables import audit_log
from tests.admin_helpers import ADMIN_KEY, start_admin
from tests.live_server import serving

pytestmark = pytest.mark.anyio

DOC = Path(__file__).parent.parent / "docs" / "admin.md"
SECRET = "whsec_docs_walkthrough"


def walkthrough() -> str:
    """Every sh block of the document, in order, as one script; each curl
    fails on an error status."""
    blocks = re.findall(r"```sh\n(.*?)```", DOC.read_text(), re.S)
    script = "\n".join(blocks)
    return (
        script.replace("<your ADMIN_API_KEY>", ADMIN_KEY)
        .replace("<your PAYMENT_WEBHOOK_SECRET>", SECRET)
        .replace("curl -s ", "curl -s --fail-with-body ")
    )


async def test_admin_walkthrough_runs_as_written(start, tmp_path):
    gc = await start_admin(start, payment_webhook_secret=SECRET)
    env = {
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        "HOME": str(tmp_path),
        "DATA_DIR": str(gc.settings.data_dir),
        "SERVER_SECRET": "test-secret",
        "DATABASE_URL": gc.settings.database_url,
    }
    async with serving(gc.app) as url:
        script = walkthrough().replace("localhost:8000", url.removeprefix("http://"))
        process = await asyncio.create_subprocess_exec(
            "bash",
            "-euo",
            "pipefail",
            "-c",
            script,
            cwd=tmp_path,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        output = (await process.communicate())[0].decode()
    assert process.returncode == 0, output
    assert '"error"' not in output
    async with gc.gateway.engine.connect() as conn:
        done = set((await conn.execute(select(audit_log.c.action))).scalars())
    assert done == {
        "key.create",
        "key.update",
        "key.rotate",
        "key.revoke",
        "credits.recharge",
        "voucher.create",
        "voucher.redeem",
        "payment.grant",
    }
