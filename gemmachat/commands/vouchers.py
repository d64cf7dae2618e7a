"""`gemmachat vouchers create|list`."""

from datetime import datetime
from typing import Annotated

import typer

from gemmachat.admin import vouchers
from gemmachat.commands import common
from gemmachat.commands.common import console

app = typer.Typer(
    help="Credit packs: codes a key holder redeems.", no_args_is_help=True
)
COLUMNS = [
    "ID",
    "Code prefix",
    "Credits",
    "Uses",
    "State",
    "Created",
    "Expires",
    "Note",
]


def _row(view: vouchers.VoucherView) -> list:
    return [
        view.id,
        view.code_prefix,
        common.credits(view.units),
        f"{view.uses}/{view.max_uses}",
        view.state,
        common.when(view.created_at),
        common.when(view.expires_at),
        view.note,
    ]


@app.command()
def create(
    credits: Annotated[str, typer.Option(help="Credits each code is worth.")],
    uses: Annotated[
        int, typer.Option(min=1, max=1_000_000, help="Redemptions per code.")
    ] = 1,
    expires: Annotated[
        datetime | None,
        typer.Option(
            formats=common.TIME_FORMATS,
            help="Expiry time (UTC unless a zone is given).",
        ),
    ] = None,
    note: Annotated[str, typer.Option(help="What the codes are for.")] = "",
    count: Annotated[int, typer.Option(min=1, max=1000, help="How many codes.")] = 1,
) -> None:
    """Create voucher codes; each code is printed once."""
    units = common.units(credits, "--credits")
    created = common.run(
        lambda ctx: vouchers.create_vouchers(
            ctx,
            units,
            max_uses=uses,
            expires_at=common.utc(expires),
            note=note,
            count=count,
        )
    )
    console.print(
        common.table("Vouchers", COLUMNS, [_row(view) for _, view in created])
    )
    console.print("Codes (shown once, store them now):")
    for code, _ in created:
        typer.echo(code)


@app.command("list")
def list_vouchers(
    limit: Annotated[int, typer.Option(min=1, max=500)] = 50,
    cursor: Annotated[int | None, typer.Option(min=1)] = None,
) -> None:
    """List vouchers, newest first (codes are never shown again)."""
    page = common.run(
        lambda ctx: vouchers.list_vouchers(ctx, cursor=cursor, limit=limit)
    )
    console.print(
        common.table("Vouchers", COLUMNS, [_row(view) for view in page.items])
    )
    common.more(page.next_cursor)
