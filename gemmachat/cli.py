"""The `gemmachat` command."""

import asyncio
import logging
from functools import partial

import typer
from rich.console import Console

from gemmachat.commands import credits, keys, reports, vouchers
from gemmachat.db.engine import create_engine
from gemmachat.db.migrate import upgrade
from gemmachat.ledger.demo import ensure_demo_key
from gemmachat.settings import Settings

app = typer.Typer(
    help="GemmaChat: a metered gateway in front of Gemma.", no_args_is_help=True
)
console = Console()


@app.command()
def serve(
    host: str = typer.Option(None, help="Address to listen on (default HOST)."),
    port: int = typer.Option(None, help="Port to listen on (default PORT)."),
    demo: bool = typer.Option(False, help="Create (or reuse) a demo key and print it."),
) -> None:
    """Run the gateway."""
    import uvicorn

    from gemmachat.app import create_app

    settings = Settings()
    host, port = host or settings.host, port or settings.port
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)
    banner = None
    if demo:
        key = asyncio.run(_demo_key(settings))
        banner = partial(_print_banner, f"http://{host}:{port}", key, settings.backend)
    uvicorn.run(
        create_app(settings, on_ready=banner),
        host=host,
        port=port,
        log_config=None,
        access_log=False,
    )


def _print_banner(base: str, key: str, backend: str) -> None:
    """Printed once the model is loaded, so the curl below works at once."""
    console.print(f"[bold]GemmaChat[/] on {base}  (backend: {backend})")
    console.print(f"Demo API key: [bold green]{key}[/]")
    console.print(
        f"Try: curl -s {base}/chat -H 'x-api-key: {key}' "
        "-H 'content-type: application/json' "
        '-d \'{"prompt":"What is the capital of France?"}\'',
        soft_wrap=True,
    )


@app.command()
def migrate() -> None:
    """Apply database migrations."""
    upgrade(Settings().resolved_database_url)
    console.print("Database is up to date.")


# Admin commands: they work on the database directly, server up or down.
app.add_typer(keys.app, name="keys")
app.add_typer(credits.app, name="credits")
app.add_typer(vouchers.app, name="vouchers")
app.command("usage")(reports.usage_command)
app.command("audit")(reports.audit_command)


async def _demo_key(settings: Settings) -> str:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    url = settings.resolved_database_url
    await asyncio.to_thread(upgrade, url)
    engine = create_engine(url)
    try:
        return await ensure_demo_key(settings, engine)
    finally:
        await engine.dispose()
