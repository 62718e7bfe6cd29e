"""Health, readiness and metrics for operators.

- `GET /healthz`: the process is alive (never calls Perkville).
- `GET /readyz`: Perkville answers; the answer is kept for a moment (`ops.Readiness`) so a
  load balancer probing every second does not turn into a call to Perkville every second.
- `GET /metrics`: Prometheus text format from this app's own registry. With
  MEMBER_APP_METRICS_TOKEN set it needs `Authorization: Bearer <token>`; without it, only a
  loopback client that no proxy forwarded is answered.
"""

from __future__ import annotations

import hmac
import ipaddress

from prometheus_client import CONTENT_TYPE_LATEST
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from ..state import app_state

# Any of these means a proxy passed the request on: the loopback address is the proxy's.
_FORWARDING_HEADERS = ("x-forwarded-for", "forwarded", "x-real-ip", "x-forwarded-host")


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    state = app_state(request)
    if await state.readiness.check(state.perkville.reachable):
        return JSONResponse({"status": "ready"})
    return JSONResponse({"status": "unavailable", "perkville": "unreachable"}, status_code=503)


async def metrics(request: Request) -> Response:
    if not _may_see_metrics(request):
        return PlainTextResponse("Not found", status_code=404)
    body = app_state(request).metrics.exposition()
    return Response(body, media_type=CONTENT_TYPE_LATEST)


def _may_see_metrics(request: Request) -> bool:
    token = app_state(request).settings.metrics_token
    if token:
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(
            given.strip().encode(), token.encode()
        )
    # No token: this machine only. A request that came through a proxy (which may itself be
    # on loopback) carries forwarding headers and is refused.
    if any(name in request.headers for name in _FORWARDING_HEADERS):
        return False
    host = request.client.host if request.client else ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


routes = [
    Route("/healthz", healthz, methods=["GET"], name="healthz"),
    Route("/readyz", readyz, methods=["GET"], name="readyz"),
    Route("/metrics", metrics, methods=["GET"], name="metrics"),
]
