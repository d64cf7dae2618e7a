"""The one error handler. Every error leaves as the envelope of the surface
it happened on: GemmaChat's own routes, the OpenAI-compatible /v1 routes or
the Ollama-compatible /api routes."""

from decimal import Decimal

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from gemmachat.errors import GemmaChatError, InvalidRequest, NotFound

GENERIC_500 = "The server failed to handle this request."


def envelope(path: str, error: GemmaChatError, request_id: str) -> tuple[int, dict]:
    """Status and JSON body for `error`, shaped for the surface at `path`."""
    status = error.status
    if path.startswith("/v1/"):
        status = 400 if status == 422 else status
        body = {"error": {"message": error.message, "type": error.type,
                          "param": error.param, "code": error.type}}
    elif path.startswith("/api/"):
        status = 400 if status == 422 else status
        body = {"error": error.message}
    else:
        extra = {k: _json(v) for k, v in error.extra.items()}
        body = {"error": {"type": error.type, "message": error.message,
                          "param": error.param, **extra}}
    if status >= 500 and error.type == "internal_error":
        _attach_request_id(body, request_id)
    return status, body


def _json(value):
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def _attach_request_id(body: dict, request_id: str) -> None:
    if isinstance(body["error"], dict):
        body["error"]["request_id"] = request_id
    else:
        body["request_id"] = request_id


def error_response(request: Request, error: GemmaChatError) -> JSONResponse:
    request_id = getattr(request.state, "request_id", "")
    status, body = envelope(request.url.path, error, request_id)
    headers = dict(error.headers)
    if status == 401 and not request.url.path.startswith("/api/"):
        headers.setdefault("WWW-Authenticate", "Bearer")
    return JSONResponse(body, status_code=status, headers=headers)


def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    first = exc.errors()[0]
    location = [str(part) for part in first.get("loc", ()) if part != "body"]
    if first.get("type") == "json_invalid":
        error = InvalidRequest("The request body is not valid JSON.", param="body")
    elif not location or first.get("type") == "model_attributes_type":
        error = InvalidRequest(
            "The request body must be a JSON object "
            "(sent with content-type: application/json).", param="body")
    else:
        param = ".".join(location) or "body"
        message = first.get("msg", "Invalid value")
        error = InvalidRequest(f"{param}: {message}", param=param)
    return error_response(request, error)


def _http_error(request: Request, exc: HTTPException) -> JSONResponse:
    if exc.status_code == 404:
        return error_response(request, NotFound(f"No route {request.url.path}."))
    error = GemmaChatError(str(exc.detail))
    error.status, error.type = exc.status_code, "http_error"
    return error_response(request, error)


def install(app: FastAPI) -> None:
    app.add_exception_handler(GemmaChatError, error_response)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
