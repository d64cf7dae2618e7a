"""What every admin command shares: a Context on the configured database,
errors shown as one line, and how credits and times are printed."""

import asyncio
import getpass
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TypeVar

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from gemmachat.admin.amounts import units_from_text
from gemmachat.admin.context import Context
from gemmachat.db.engine import create_engine
from gemmachat.db.migrate import upgrade
from gemmachat.errors import GemmaChatError
from gemmachat.ledger.money import as_json_number
from gemmachat.settings import Settings

T = TypeVar("T")
console = Console()
# Accepted by --expires, --since and --until; a time without zone is UTC.
TIME_FORMATS = [
    "%Y-%m-%d",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S%z",
]


def actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no name for this uid (some containers)
        return "cli"


def run(work: Callable[[Context], Awaitable[T]]) -> T:
    """Run `work` against the database of the current settings; a
    GemmaChat error ends the command with its message and exit code 1."""

    async def main() -> T:
        settings = Settings()
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        url = settings.resolved_database_url
        await asyncio.to_thread(upgrade, url)
        engine = create_engine(url)
        try:
            return await work(Context(engine, settings, actor()))
        finally:
            await engine.dispose()

    try:
        return asyncio.run(main())
    except GemmaChatError as error:
        console.print(f"[red]Error:[/] {error.message}", highlight=False)
        raise typer.Exit(1) from None


def units(text: str, option: str, *, allow_zero: bool = False) -> int:
    try:
        return units_from_text(text, allow_zero=allow_zero)
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint=option) from None


def utc(moment: datetime | None) -> datetime | None:
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def credits(amount: int | None) -> str:
    return "" if amount is None else str(as_json_number(amount))


def when(moment: datetime | None) -> str:
    return "" if moment is None else moment.strftime("%Y-%m-%d %H:%M")


def day(moment: datetime | None) -> str:
    return "" if moment is None else moment.strftime("%Y-%m-%d")


# Free text may wrap in a narrow terminal; ids, prefixes, amounts and
# states keep their full width so they can be read and copied whole.
WRAPPING = {"Label", "Owner", "Note", "detail", "model", "route", "target"}


def table(title: str, columns: list[str], rows: list[list]) -> Table:
    cells = [[str(cell) for cell in row] for row in rows]
    shown = Table(
        title=title,
        title_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        collapse_padding=True,
    )
    for index, column in enumerate(columns):
        widest = max((len(row[index]) for row in cells), default=0)
        shown.add_column(
            column, overflow="fold", min_width=(None if column in WRAPPING else widest)
        )
    for row in cells:
        shown.add_row(*row)
    return shown


def details(title: str, fields: dict) -> Table:
    """One record, a field per line."""
    shown = Table(title=title, title_justify="left", box=box.SIMPLE, show_header=False)
    shown.add_column(style="bold", no_wrap=True)
    shown.add_column(overflow="fold")
    for name, value in fields.items():
        shown.add_row(name, str(value))
    return shown


def more(next_cursor: int | None) -> None:
    if next_cursor is not None:
        console.print(f"More: add --cursor {next_cursor}")


def secret(label: str, value: str) -> None:
    """A plaintext key or code, on a line of its own so it copies whole."""
    console.print(f"{label} (shown once, store it now):")
    typer.echo(value)
