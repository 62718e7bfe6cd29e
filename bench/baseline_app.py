#!/usr/bin/env python3
"""The app as the speed bench's baseline runs it: each member's calls to Perkville one after
another.

    python bench/baseline_app.py [--host 127.0.0.1] [--port 8000]

Configured by the environment, as `member-app serve` is (bench/speed.py sets it, with the
member cache off: MEMBER_APP_MEMBER_CACHE_SECONDS=0). It serves the very app `create_app`
builds; only the transport under its Perkville client differs: `SerialTransport` lets each
caller have one call in flight at a time, so a page's calls no longer overlap and the baseline
shows what that concurrency buys. No setting turns the business's public data cache off, so
the baseline still has it.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

import httpx2
import uvicorn

from member_app import Settings, SettingsError, create_app


class SerialTransport(httpx2.AsyncBaseTransport):
    """Sends each caller's requests one after another: a request waits until the one before
    with the same Authorization header (a member's token, or the staff token) has been
    answered, body included. Different callers' requests still overlap, and requests without
    the header (the sign-in's token exchange) never wait."""

    def __init__(self, transport: httpx2.AsyncBaseTransport) -> None:
        self._transport = transport
        self._turns: dict[str, asyncio.Lock] = {}  # one per token seen: a bench run's members

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        caller = request.headers.get("authorization")
        if caller is None:
            return await self._transport.handle_async_request(request)
        async with self._turns.setdefault(caller, asyncio.Lock()):
            response = await self._transport.handle_async_request(request)
            await response.aread()
            return response

    async def aclose(self) -> None:
        await self._transport.aclose()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return 2
    # The pool the Perkville client would make for itself (member_app/perkville/client.py).
    pool = httpx2.AsyncHTTPTransport(
        limits=httpx2.Limits(max_connections=100, max_keepalive_connections=50)
    )
    app = create_app(settings, perkville_transport=SerialTransport(pool))
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        log_level=settings.log_level.lower(),
        access_log=False,  # as `member-app serve`: the app writes its own access log
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
