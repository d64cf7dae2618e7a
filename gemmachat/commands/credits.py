"""`gemmachat credits recharge|refill`."""

from typing import Annotated

import typer

from gemmachat.admin import credits, key_views, refills
from gemmachat.commands import common
from gemmachat.commands.common import console

app = typer.Typer(help="Recharge keys and serve allowances.", no_args_is_help=True)


@app.command()
def recharge(
    key: Annotated[str, typer.Argument(help="Key id or key prefix.")],
    amount: Annotated[str, typer.Argument(help="Credits to add.")],
    reason: Annotated[
        str, typer.Option(help="Why (kept in the ledger and the audit log).")
    ],
) -> None:
    """Add credits to a key."""
    units = common.units(amount, "AMOUNT")
    if not reason.strip():
        raise typer.BadParameter("give a reason", param_hint="--reason")

    async def work(ctx):
        key_id = await key_views.find_key_id(ctx, key)
        async with ctx.engine.begin() as conn:
            return await credits.recharge(conn, ctx, key_id, units, reason.strip())

    grant = common.run(work)
    console.print(
        f"Recharged key {grant.key_id} ({grant.key_prefix}) with "
        f"{common.credits(grant.units)} credits; balance "
        f"{common.credits(grant.balance)}.",
        highlight=False,
    )


@app.command()
def refill() -> None:
    """Top up every key whose allowance period has turned."""
    count = common.run(refills.apply_all_due)
    console.print(f"Refilled {count} key(s).")
