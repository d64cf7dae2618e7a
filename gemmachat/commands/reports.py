"""`gemmachat usage` and `gemmachat audit`: history as tables, CSV or
JSON."""

import csv
import json
import sys
from datetime import datetime
from enum import StrEnum
from typing import Annotated

import typer

from gemmachat.admin import audit, key_views, usage
from gemmachat.api.admin_views import day_json, usage_json
from gemmachat.commands import common
from gemmachat.commands.common import console

Time = Annotated[
    datetime | None,
    typer.Option(formats=common.TIME_FORMATS, help="UTC unless a zone is given."),
]
KeyOption = Annotated[
    str | None, typer.Option("--key", help="Key id or key prefix (default: all keys).")
]


class Output(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


async def _key_id(ctx, ref: str | None) -> int | None:
    return None if ref is None else await key_views.find_key_id(ctx, ref)


def usage_command(
    key: KeyOption = None,
    since: Time = None,
    until: Time = None,
    summary: Annotated[
        bool, typer.Option(help="Totals per UTC day instead of requests.")
    ] = False,
    by_key: Annotated[
        bool, typer.Option(help="With --summary: per key and day.")
    ] = False,
    output: Annotated[Output, typer.Option("--format")] = Output.table,
    limit: Annotated[int, typer.Option(min=1, help="Most rows in a table.")] = 50,
) -> None:
    """Usage history: requests (newest first) or per-day totals."""

    async def work(ctx):
        where = usage.UsageFilter(
            await _key_id(ctx, key), common.utc(since), common.utc(until)
        )
        if summary:
            return [day_json(t) for t in await usage.daily(ctx, where, per_key=by_key)]
        if output is Output.table:
            page = await usage.page(ctx, where, limit=limit)
            return [usage_json(row) for row in page.items]
        return [usage_json(row) async for row in usage.export(ctx, where)]

    _emit(common.run(work), output, "Usage")


def audit_command(
    key: KeyOption = None,
    action: Annotated[str | None, typer.Option(help="e.g. credits.recharge")] = None,
    limit: Annotated[int, typer.Option(min=1, max=500)] = 50,
) -> None:
    """Admin actions, newest first."""

    async def work(ctx):
        page = await audit.entries(
            ctx, key_id=await _key_id(ctx, key), action=action, limit=limit
        )
        return [_audit_row(entry) for entry in page.items]

    _emit(common.run(work), Output.table, "Audit log")


def _audit_row(entry: audit.AuditEntry) -> dict:
    detail = " ".join(f"{name}={value}" for name, value in entry.detail.items())
    return {
        "time": common.when(entry.time),
        "actor": entry.actor,
        "action": entry.action,
        "target": entry.target,
        "before": common.credits(entry.balance_before),
        "after": common.credits(entry.balance_after),
        "detail": detail,
    }


def _emit(rows: list[dict], output: Output, title: str) -> None:
    if output is Output.json:
        typer.echo(json.dumps(rows, indent=2))
    elif output is Output.csv:
        fields = list(rows[0]) if rows else list(usage.FIELDS)
        writer = csv.DictWriter(sys.stdout, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    elif not rows:
        console.print(f"{title}: nothing found.")
    else:
        console.print(
            common.table(title, list(rows[0]), [list(row.values()) for row in rows])
        )
