"""`gemmachat keys create|list|show|update|rotate|revoke`."""

from datetime import datetime
from typing import Annotated

import typer

from gemmachat.admin import key_views, keys
from gemmachat.admin.refills import PERIODS, Refill
from gemmachat.commands import common
from gemmachat.commands.common import console
from gemmachat.rate_limits import MAX_PER_MINUTE

app = typer.Typer(
    help="Create, list, show, update, rotate and revoke API keys.",
    no_args_is_help=True,
)


def _refill(text: str | None) -> Refill | None:
    if text is None:
        return None
    amount, _, period = text.partition("/")
    if period not in PERIODS:
        raise typer.BadParameter(
            "write it as CREDITS/day or CREDITS/month", param_hint="--refill"
        )
    return Refill(common.units(amount, "--refill"), period)


def _rate(text: str | None) -> int | None:
    """A rate limit as typed: a whole number, or "none" for the default."""
    if text is None or text.strip().lower() == "none":
        return None
    try:
        rate = int(text)
    except ValueError:
        rate = 0
    if not 1 <= rate <= MAX_PER_MINUTE:
        raise typer.BadParameter(
            f"a whole number from 1 to {MAX_PER_MINUTE}, or none",
            param_hint="--requests-per-minute",
        )
    return rate


def _refill_text(view: key_views.KeyView) -> str:
    if view.refill is None:
        return ""
    return f"{common.credits(view.refill.units)}/{view.refill.period}"


def _row(view: key_views.KeyView) -> list:
    return [
        view.id,
        view.key_prefix,
        view.label,
        view.owner,
        view.state,
        common.credits(view.balance),
        common.day(view.created_at),
        common.when(view.last_used_at),
    ]


COLUMNS = ["ID", "Prefix", "Label", "Owner", "State", "Balance", "Created", "Last used"]


def _details(title: str, view: key_views.KeyView) -> None:
    console.print(
        common.details(
            title,
            {
                "ID": view.id,
                "Prefix": view.key_prefix,
                "Label": view.label,
                "Owner": view.owner,
                "Source": view.source,
                "State": view.state,
                "Balance": common.credits(view.balance),
                "Created": common.when(view.created_at),
                "Last used": common.when(view.last_used_at),
                "Expires": common.when(view.expires_at),
                "Max tokens": view.max_tokens or "",
                "Low-credit threshold": common.credits(view.low_credit_threshold),
                "Requests per minute": view.requests_per_minute or "default",
                "Refill": _refill_text(view),
            },
        )
    )


Text = str | None
RequestsPerMinute = Annotated[
    Text,
    typer.Option(
        help="Rate limit; none: DEFAULT_REQUESTS_PER_MINUTE (unlimited if unset)."
    ),
]
Expires = Annotated[
    datetime | None,
    typer.Option(
        formats=common.TIME_FORMATS, help="Expiry time (UTC unless a zone is given)."
    ),
]


@app.command()
def create(
    label: Annotated[str, typer.Option(help="What the key is for.")] = "",
    owner: Annotated[str, typer.Option(help="Who holds it.")] = "",
    credits: Annotated[
        Text, typer.Option(help="Opening balance (default INITIAL_CREDITS).")
    ] = None,
    expires: Expires = None,
    max_tokens: Annotated[
        int | None, typer.Option(min=1, help="Most output tokens per request.")
    ] = None,
    low_credit_threshold: Annotated[
        Text, typer.Option(help="Low-credit alert threshold.")
    ] = None,
    refill: Annotated[
        Text, typer.Option(help="Allowance, e.g. 100/day or 500/month.")
    ] = None,
    requests_per_minute: RequestsPerMinute = None,
) -> None:
    """Create a key; its secret is printed once."""
    spec = keys.KeySpec(
        label=label,
        owner=owner,
        units=_optional_units(credits, "--credits"),
        expires_at=common.utc(expires),
        max_tokens=max_tokens,
        low_credit_threshold=_optional_units(
            low_credit_threshold, "--low-credit-threshold"
        ),
        refill=_refill(refill),
        requests_per_minute=_rate(requests_per_minute),
    )
    key, view = common.run(lambda ctx: keys.create_key(ctx, spec))
    _details("Created", view)
    common.secret("API key", key)


def _optional_units(text: str | None, option: str) -> int | None:
    if text is None:
        return None
    return common.units(text, option, allow_zero=True)


@app.command("list")
def list_keys(
    state: Annotated[
        Text, typer.Option(help="active, expired, revoked or unlisted.")
    ] = None,
    owner: Annotated[Text, typer.Option()] = None,
    limit: Annotated[int, typer.Option(min=1, max=500)] = 50,
    cursor: Annotated[
        int | None, typer.Option(min=1, help="Continue after this key id.")
    ] = None,
) -> None:
    """List keys, oldest first."""
    if state is not None and state not in key_views.STATES:
        raise typer.BadParameter(
            f"one of {', '.join(key_views.STATES)}", param_hint="--state"
        )
    page = common.run(
        lambda ctx: key_views.list_keys(
            ctx, state=state, owner=owner, cursor=cursor, limit=limit
        )
    )
    console.print(common.table("Keys", COLUMNS, [_row(v) for v in page.items]))
    common.more(page.next_cursor)


KeyRef = Annotated[str, typer.Argument(help="Key id or key prefix.")]


async def _by_ref(ctx, ref: str, action):
    return await action(ctx, await key_views.find_key_id(ctx, ref))


@app.command()
def show(key: KeyRef) -> None:
    """Show one key."""
    view = common.run(lambda ctx: _by_ref(ctx, key, key_views.get_key))
    _details("Key", view)


@app.command()
def update(key: KeyRef, requests_per_minute: RequestsPerMinute = None) -> None:
    """Change a key's settings; only the options given change."""
    if requests_per_minute is None:
        raise typer.BadParameter("give at least one setting to change")
    changes = {"requests_per_minute": _rate(requests_per_minute)}

    def change(ctx, key_id: int):
        return keys.update_key(ctx, key_id, changes)

    view = common.run(lambda ctx: _by_ref(ctx, key, change))
    _details("Updated", view)


@app.command()
def revoke(key: KeyRef) -> None:
    """Revoke a key: it stops working at once."""
    view = common.run(lambda ctx: _by_ref(ctx, key, keys.revoke_key))
    _details("Revoked", view)


@app.command()
def rotate(key: KeyRef) -> None:
    """Give a key a new secret; the old one stops working at once."""
    new, view = common.run(lambda ctx: _by_ref(ctx, key, keys.rotate_key))
    _details("Rotated", view)
    common.secret("New API key", new)
