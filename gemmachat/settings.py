"""The one place that reads the environment and `.env`."""

import secrets
from decimal import Decimal
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRETS = {"", "change-me", "changeme", "secret", "admin"}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    environment: Literal["development", "production"] = "development"
    host: str = "127.0.0.1"
    port: int = 8000

    # Keys from the original design: each listed key exists with
    # INITIAL_CREDITS on its first start; a key dropped from the list stops
    # working. Kept as one string because pydantic-settings would otherwise
    # expect a JSON list.
    api_keys: SecretStr = SecretStr("")
    initial_credits: Decimal = Field(Decimal(20), ge=0)
    admin_api_key: SecretStr | None = None

    backend: Literal["embedded", "ollama", "openai"] = "embedded"
    ollama_host: str = "http://127.0.0.1:11434"
    ollama_model: str = "gemma3:1b"
    openai_base_url: str = "http://127.0.0.1:8080/v1"
    openai_api_key: SecretStr | None = None
    openai_model: str = "gemma"
    model_path: Path | None = None
    context_window: int = Field(2048, ge=256)
    model_threads: int | None = Field(None, ge=1)
    upstream_timeout_seconds: float = Field(120.0, gt=0)

    data_dir: Path = Path("data")
    database_url: str | None = None
    server_secret: SecretStr | None = None

    low_credit_threshold: Decimal = Field(Decimal(5), ge=0)
    # Where to POST when a key's balance crosses below its threshold; the
    # optional secret signs each delivery like payment webhooks are signed.
    low_credit_webhook_url: str | None = None
    low_credit_webhook_secret: SecretStr | None = None
    alert_max_attempts: int = Field(6, ge=1)
    # The first retry waits this long; each later one waits twice as long.
    alert_retry_seconds: float = Field(2.0, gt=0)

    # Payment provider top-ups: events are signed with this secret, and a
    # signature older (or newer) than the tolerance is refused as a replay.
    payment_webhook_secret: SecretStr | None = None
    payment_webhook_tolerance_seconds: int = Field(300, ge=1)
    request_cost: Decimal = Field(Decimal(1), ge=0)
    pricing: Literal["per_request", "per_token"] = "per_request"
    input_credits_per_1k_tokens: Decimal = Field(Decimal(0), ge=0)
    output_credits_per_1k_tokens: Decimal = Field(Decimal(0), ge=0)

    max_body_bytes: int = Field(64 * 1024, ge=1024)
    max_prompt_chars: int = Field(8000, ge=1)
    default_max_tokens: int = Field(256, ge=1)
    max_tokens_limit: int = Field(1024, ge=1)
    queue_size: int = Field(64, ge=0)
    # A reservation still open after this long belongs to a replica that
    # died mid-request; the sweeper releases it.
    reservation_ttl_seconds: int = Field(900, ge=1)
    # Requests a key may start per minute when it has no limit of its own;
    # None: unlimited.
    default_requests_per_minute: int | None = Field(None, ge=1, le=1_000_000)

    @field_validator(
        "admin_api_key",
        "openai_api_key",
        "model_path",
        "database_url",
        "server_secret",
        "default_requests_per_minute",
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value):
        # `KEY=` in a .env file means "not set", not "set to nothing".
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("data_dir")
    @classmethod
    def _absolute_data_dir(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @property
    def api_key_list(self) -> list[str]:
        raw = self.api_keys.get_secret_value()
        return [key.strip() for key in raw.split(",") if key.strip()]

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{self.data_dir / 'gemmachat.db'}"

    @cached_property
    def secret(self) -> bytes:
        """The key-hashing secret, generated and persisted on first start."""
        if self.server_secret is not None:
            value = self.server_secret.get_secret_value()
            if self.environment == "production" and value in PLACEHOLDER_SECRETS:
                raise ValueError("SERVER_SECRET is a placeholder; set a real one")
            return value.encode()
        path = self.data_dir / "server_secret"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            path.touch(mode=0o600)
            path.write_text(secrets.token_urlsafe(32))
        return path.read_text().strip().encode()

    def check_for_production(self) -> None:
        """Refuse placeholder secrets outside development."""
        if self.environment != "production":
            return
        admin = self.admin_api_key.get_secret_value() if self.admin_api_key else ""
        if admin and admin in PLACEHOLDER_SECRETS:
            raise ValueError("ADMIN_API_KEY is a placeholder; set a real one")
        payments = self.payment_webhook_secret
        if payments and payments.get_secret_value() in PLACEHOLDER_SECRETS:
            raise ValueError("PAYMENT_WEBHOOK_SECRET is a placeholder; set a real one")
        _ = self.secret
