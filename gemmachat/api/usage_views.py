"""Usage answers shared by a key holder's /usage and the admin's
/admin/usage: a page of rows, an export (CSV or JSON), per-day totals."""

import csv
import io
import json
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Literal

from fastapi import Query
from fastapi.responses import StreamingResponse

from gemmachat.admin import usage
from gemmachat.admin.context import Context
from gemmachat.admin.pages import MAX_LIMIT
from gemmachat.api.admin_views import day_json, page_json, usage_json

Cursor = Annotated[int | None, Query(ge=1)]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
# Times in ISO 8601; without a zone they are UTC. `until` is exclusive.
Since = Annotated[datetime | None, Query()]
Until = Annotated[datetime | None, Query()]
Format = Annotated[Literal["csv", "json"], Query()]


async def page(
    ctx: Context, where: usage.UsageFilter, cursor: int | None, limit: int
) -> dict:
    found = await usage.page(ctx, where, cursor=cursor, limit=limit)
    return page_json(found, usage_json)


async def daily(ctx: Context, where: usage.UsageFilter, per_key: bool) -> dict:
    totals = await usage.daily(ctx, where, per_key=per_key)
    return {"data": [day_json(total) for total in totals]}


def export(ctx: Context, where: usage.UsageFilter, fmt: str) -> StreamingResponse:
    rows = usage.export(ctx, where)
    body = _csv(rows) if fmt == "csv" else _json(rows)
    media = "text/csv; charset=utf-8" if fmt == "csv" else "application/json"
    return StreamingResponse(
        body,
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="usage.{fmt}"'},
    )


async def _csv(rows: AsyncIterator[usage.UsageRow]) -> AsyncIterator[str]:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=usage.FIELDS, lineterminator="\n")
    writer.writeheader()
    async for row in rows:
        writer.writerow(usage_json(row))
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()


async def _json(rows: AsyncIterator[usage.UsageRow]) -> AsyncIterator[str]:
    separator = "["
    async for row in rows:
        yield separator + json.dumps(usage_json(row))
        separator = ","
    yield "[]" if separator == "[" else "]"
