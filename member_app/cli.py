"""`member-app demo | serve | sandbox`: the ways to run the app."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

import uvicorn

from .app import create_app
from .demo import build_demo
from .sandbox import create_sandbox
from .sandbox.seed import (
    ADMIN_CLIENT_ID,
    ADMIN_CLIENT_SECRET,
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    DEFAULT_REDIRECT_URIS,
    MEMBER_EMAIL,
    MEMBER_PASSWORD,
    PENDING_EMAIL,
)
from .serving import ServerThread, bind, url_of
from .settings import KIOSK_IDLE_RANGE, MODES, Settings, SettingsError


def _port(value: str) -> int:
    port = int(value)
    if not 0 < port < 65536:
        raise argparse.ArgumentTypeError("a port is a number from 1 to 65535")
    return port


def _kiosk_idle(value: str) -> int:
    low, high = KIOSK_IDLE_RANGE
    try:
        seconds = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError("a whole number of seconds") from None
    if not low <= seconds <= high:
        raise argparse.ArgumentTypeError(f"from {low} to {high} seconds")
    return seconds


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="member-app", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser("demo", help="run the Perkville sandbox and the app together")
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=_port, default=8000, help="the app's port (8000)")
    demo.add_argument("--sandbox-port", type=_port, default=8001, help="the sandbox's (8001)")
    demo.add_argument(
        "--mode",
        choices=MODES,
        default="phone",
        help="phone (default), webview (inside a gym's app) or kiosk (shared front-desk screen)",
    )
    demo.add_argument(
        "--kiosk-idle-seconds",
        type=_kiosk_idle,
        default=60,
        metavar="N",
        help="kiosk mode: sign out after N seconds without a tap (60)",
    )

    serve = commands.add_parser("serve", help="run the app against the configured Perkville")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=_port, default=8000)
    serve.add_argument(
        "--forwarded-allow-ips",
        default="127.0.0.1",
        help="proxies whose X-Forwarded-* headers are trusted (uvicorn's option)",
    )

    sandbox = commands.add_parser("sandbox", help="run the Perkville sandbox alone")
    sandbox.add_argument("--host", default="127.0.0.1")
    sandbox.add_argument("--port", type=_port, default=8001)
    sandbox.add_argument(
        "--redirect-uri",
        action="append",
        dest="redirect_uris",
        metavar="URI",
        help="register a callback URI for the demo client (repeatable; default: the app on "
        "127.0.0.1:8000 and localhost:8000)",
    )
    # --- admin-token parser (identify helper) ---
    admin = commands.add_parser(
        "admin-token",
        help="get a staff bearer token (password grant) to set as PERKVILLE_ADMIN_TOKEN",
        description="The client secret comes from PERKVILLE_ADMIN_CLIENT_SECRET or a prompt, "
        "the password always from a prompt (never a flag: shell history keeps flags).",
    )
    admin.add_argument("--username", help="the staff account's Perkville email (else prompted)")
    admin.add_argument("--client-id", help="the admin client (default: PERKVILLE_ADMIN_CLIENT_ID)")
    admin.add_argument("--signin-url", help="default: PERKVILLE_SIGNIN_URL or www.perkville.com")
    admin.add_argument(
        "--scope",
        action="append",
        dest="scopes",
        metavar="SCOPE",
        help="repeatable (default: PUBLIC ADMIN_CUSTOMER_INFO ADMIN_CUSTOMER_REDEEM "
        "ADMIN_IDENTIFY_USER)",
    )
    return parser


def _demo_banner(app_url: str, sandbox_url: str) -> str:
    return f"""
  member-app demo is running.

    Open the app:      {app_url}/
    Perkville sandbox: {sandbox_url}/

  Demo member:  {MEMBER_EMAIL} / {MEMBER_PASSWORD}
  Not joined:   {PENDING_EMAIL} / {MEMBER_PASSWORD}
  Staff admin:  {ADMIN_EMAIL} / {ADMIN_PASSWORD}
                (client {ADMIN_CLIENT_ID}, secret {ADMIN_CLIENT_SECRET})

  Press Ctrl-C to stop both.
"""


def demo(
    host: str, port: int, sandbox_port: int, mode: str = "phone", kiosk_idle_seconds: int = 60
) -> int:
    try:
        app_sock, sandbox_sock = bind(host, port), bind(host, sandbox_port)
    except OSError as exc:
        print(f"member-app demo: cannot listen on {host}: {exc.strerror}", file=sys.stderr)
        print("Choose other ports with --port and --sandbox-port.", file=sys.stderr)
        return 2
    demo = build_demo(
        url_of(app_sock), url_of(sandbox_sock), mode=mode, kiosk_idle_seconds=kiosk_idle_seconds
    )
    with ServerThread(demo.sandbox, sandbox_sock):
        print(_demo_banner(demo.settings.public_url, demo.settings.api_url), flush=True)
        server = uvicorn.Server(uvicorn.Config(demo.app, log_level="info"))
        server.run(sockets=[app_sock])
    return 0


def serve(host: str, port: int, forwarded_allow_ips: str) -> int:
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        print("See the configuration table in README.md.", file=sys.stderr)
        return 2
    uvicorn.run(
        create_app(settings),
        host=host,
        port=port,
        proxy_headers=True,
        forwarded_allow_ips=forwarded_allow_ips,
        log_level=settings.log_level.lower(),
    )
    return 0


def sandbox(host: str, port: int, redirect_uris: list[str] | None) -> int:
    print(f"Perkville sandbox on http://{host}:{port}/ (Ctrl-C to stop)", flush=True)
    app = create_sandbox(redirect_uris=redirect_uris or DEFAULT_REDIRECT_URIS)
    uvicorn.run(app, host=host, port=port, log_level="info")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if args.command == "demo":
        return demo(args.host, args.port, args.sandbox_port, args.mode, args.kiosk_idle_seconds)
    # --- admin-token dispatch (identify helper) ---
    if args.command == "admin-token":
        from . import admin_token  # kept at this anchor

        return admin_token.run(
            username=args.username,
            client_id=args.client_id,
            signin_url=args.signin_url,
            scopes=args.scopes,
        )
    if args.command == "serve":
        return serve(args.host, args.port, args.forwarded_allow_ips)
    return sandbox(args.host, args.port, args.redirect_uris)


if __name__ == "__main__":
    raise SystemExit(main())
