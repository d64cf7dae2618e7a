"""GET /health: no key needed, writes nothing."""

from fastapi import APIRouter

from gemmachat import __version__
from gemmachat.api.deps import CurrentGateway

router = APIRouter()


@router.get("/health")
async def health(gateway: CurrentGateway) -> dict:
    backend = gateway.backend
    return {
        "status": "ok" if backend.ready() else "starting",
        "ready": backend.ready(),
        "backend": backend.name,
        "model": backend.info.name,
        "version": __version__,
    }
