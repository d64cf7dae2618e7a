"""GET /health: no key needed, writes nothing."""

from fastapi import APIRouter, Depends

from gemmachat import __version__
from gemmachat.api.deps import get_gateway
from gemmachat.gateway import Gateway

router = APIRouter()


@router.get("/health")
async def health(gateway: Gateway = Depends(get_gateway)) -> dict:
    backend = gateway.backend
    return {
        "status": "ok" if backend.ready() else "starting",
        "ready": backend.ready(),
        "backend": backend.name,
        "model": backend.info.name,
        "version": __version__,
    }
