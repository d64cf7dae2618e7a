"""One family of errors; each knows its status and machine-readable type."""

from decimal import Decimal


class GemmaChatError(Exception):
    status = 500
    type = "internal_error"
    headers: dict[str, str] = {}

    def __init__(
        self,
        message: str,
        *,
        param: str | None = None,
        extra: dict | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.param = param
        self.extra = extra or {}
        if headers:
            self.headers = headers


class InvalidRequest(GemmaChatError):
    status = 422
    type = "invalid_request"


class BodyTooLarge(GemmaChatError):
    status = 413
    type = "request_too_large"


class ContextTooLong(GemmaChatError):
    status = 400
    type = "context_length_exceeded"


class Unauthorized(GemmaChatError):
    status = 401
    type = "invalid_api_key"


class ExpiredKey(Unauthorized):
    type = "expired_key"


class Forbidden(GemmaChatError):
    status = 403
    type = "forbidden"


class NotFound(GemmaChatError):
    status = 404
    type = "not_found"


class ModelNotFound(NotFound):
    type = "model_not_found"


class Conflict(GemmaChatError):
    status = 409
    type = "conflict"


class InsufficientCredits(GemmaChatError):
    status = 402
    type = "insufficient_credits"

    def __init__(self, required: Decimal, remaining: Decimal, remaining_units=0):
        super().__init__(
            f"This request needs {required} credits; the key has {remaining}.",
            extra={"required": required, "remaining": remaining},
        )
        self.remaining_units = remaining_units


class RateLimited(GemmaChatError):
    status = 429
    type = "rate_limited"


class BackendBusy(GemmaChatError):
    status = 503
    type = "backend_busy"


class BackendUnavailable(GemmaChatError):
    status = 503
    type = "backend_unavailable"


class BackendTimeout(GemmaChatError):
    status = 504
    type = "backend_timeout"


class BackendFailed(GemmaChatError):
    status = 502
    type = "backend_error"


class InvalidSignature(Unauthorized):
    type = "invalid_signature"


class StaleSignature(InvalidSignature):
    type = "stale_timestamp"


class KeyNotFound(NotFound):
    type = "key_not_found"


class KeyRevoked(Conflict):
    type = "key_revoked"


class ConfigKey(Conflict):
    """Keys listed in API_KEYS are managed by that setting, not by admins."""

    type = "config_key"


class VoucherNotFound(NotFound):
    type = "voucher_not_found"


class VoucherUsedUp(Conflict):
    type = "voucher_used_up"


class VoucherExpired(Conflict):
    type = "voucher_expired"


class VoucherAlreadyRedeemed(Conflict):
    type = "voucher_already_redeemed"


class DuplicateEvent(Conflict):
    type = "duplicate_event"
