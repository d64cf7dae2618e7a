"""Cursor pagination: a page of rows and the cursor of the next one.

The cursor is the id of the last row served; it stays right while new rows
arrive, which an offset would not."""

from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from sqlalchemy import Column, Select

from gemmachat.admin.context import as_utc

T = TypeVar("T")

DEFAULT_LIMIT = 50
MAX_LIMIT = 500


@dataclass
class Page(Generic[T]):
    items: list[T]
    next_cursor: int | None


def page_query(
    query: Select, id_column: Column, cursor: int | None, limit: int, newest_first: bool
) -> Select:
    """`query` limited to one page after `cursor`, one row extra to tell
    whether another page follows."""
    if cursor is not None:
        after = id_column < cursor if newest_first else id_column > cursor
        query = query.where(after)
    order = id_column.desc() if newest_first else id_column.asc()
    return query.order_by(order).limit(limit + 1)


def within(
    query: Select, column: Column, since: datetime | None, until: datetime | None
) -> Select:
    """`query` limited to `since` <= column < `until` (either may be None)."""
    if since is not None:
        query = query.where(column >= as_utc(since))
    if until is not None:
        query = query.where(column < as_utc(until))
    return query


def to_page(rows: list, limit: int, convert) -> Page:
    more = len(rows) > limit
    rows = rows[:limit]
    return Page([convert(row) for row in rows], rows[-1].id if more and rows else None)
