"""Apply alembic migrations; called at start-up and by the CLI."""

from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str) -> None:
    """Bring the schema at `url` to the newest revisions (blocking).

    "heads": features may add migrations on parallel branches off one base.
    """
    command.upgrade(alembic_config(url), "heads")
