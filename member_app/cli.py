"""`member-app demo | serve | sandbox`: the ways to run the app."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

import uvicorn

from . import admin_token
from .app import create_app
from .demo import build_demo
from .ops import configure_logging
from .sandbox import PROFILES, Profile, create_sandbox
from .sandbox.conditions import (
    DEFAULT_FAULTS,
    FAULT_KINDS,
    MAX_LATENCY_MS,
    Conditions,
    conditions_from,
)
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
from .sandbox.seed.bench import BENCH_CLIENT_ID, BENCH_CLIENT_SECRET, MAX_MEMBERS, bench_email
from .serving import ServerThread, bind, url_of
from .settings import KIOSK_IDLE_RANGE, MODES, Mode, Settings, SettingsError


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


def _latency(value: str) -> float:
    try:
        ms = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError("a number of milliseconds") from None
    # `not <=` also refuses nan.
    if not 0 <= ms <= MAX_LATENCY_MS:
        raise argparse.ArgumentTypeError(f"from 0 to {MAX_LATENCY_MS:g} milliseconds")
    return ms


def _members(value: str) -> int:
    try:
        count = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError("a whole number of members") from None
    if not 0 <= count <= MAX_MEMBERS:
        raise argparse.ArgumentTypeError(f"from 0 to {MAX_MEMBERS}")
    return count


def _fault_rate(value: str) -> float:
    try:
        rate = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError("a probability from 0 to 1, e.g. 0.05") from None
    if not 0 <= rate <= 1:
        raise argparse.ArgumentTypeError("a probability from 0 to 1, e.g. 0.05")
    return rate


def _faults(value: str) -> tuple[str, ...]:
    kinds = [part.strip() for part in value.split(",") if part.strip()]
    unknown = [kind for kind in kinds if kind not in FAULT_KINDS]
    if unknown or not kinds:
        raise argparse.ArgumentTypeError(
            f"a comma-separated list of {','.join(FAULT_KINDS)} (got {value!r})"
        )
    return tuple(dict.fromkeys(kinds))


def _fault_seed(value: str) -> int:
    try:
        seed = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError("a whole number") from None
    if seed < 0:
        raise argparse.ArgumentTypeError("a whole number from 0")
    return seed


def _add_condition_options(parser: argparse.ArgumentParser) -> None:
    """The sandbox's conditions and bench members (sandbox/README.md), on `sandbox` and `demo`."""
    group = parser.add_argument_group("sandbox conditions")
    group.add_argument(
        "--latency-ms",
        type=_latency,
        default=0.0,
        metavar="N",
        help="delay every sandbox response by N milliseconds (0)",
    )
    group.add_argument(
        "--members",
        type=_members,
        default=0,
        metavar="K",
        help=f"seed K bench members bench-1..K@example.com, 0 to {MAX_MEMBERS} (0)",
    )
    group.add_argument(
        "--fault-rate",
        type=_fault_rate,
        default=0.0,
        metavar="F",
        help="probability from 0 to 1 that a /v2/ request gets a fault (0)",
    )
    group.add_argument(
        "--faults",
        type=_faults,
        default=DEFAULT_FAULTS,
        metavar="KINDS",
        help=f"fault kinds to draw from: comma list of {','.join(FAULT_KINDS)} "
        f"(default {','.join(DEFAULT_FAULTS)})",
    )
    group.add_argument(
        "--fault-seed",
        type=_fault_seed,
        default=None,
        metavar="N",
        help="seed the fault draw, for a repeatable run",
    )


def _add_profile_option(parser: argparse.ArgumentParser) -> None:
    """The sandbox's profile (sandbox/README.md, "Profiles"), on `sandbox` and `demo`."""
    parser.add_argument(
        "--profile",
        choices=PROFILES,
        default="default",
        help="default: the sandbox as it is, newer Perkville behaviour assumed; reference: "
        "only what the Perkville v2 API reference documents",
    )


def _profile_line(profile: Profile) -> str:
    if profile == "reference":
        return "  Sandbox profile: reference (only what the Perkville v2 API reference documents)\n"
    return "  Sandbox profile: default (newer Perkville behaviour assumed; --profile reference)\n"


def _conditions_of(args: argparse.Namespace) -> Conditions:
    return conditions_from(
        latency_ms=args.latency_ms,
        fault_rate=args.fault_rate,
        faults=args.faults,
        seed=args.fault_seed,
    )


def _conditions_banner(conditions: Conditions, members: int) -> str:
    lines = []
    if conditions.latency_ms:
        lines.append(f"  Sandbox latency: {conditions.latency_ms:g} ms per response")
    if conditions.fault_rate:
        seed = f", seed {conditions.seed}" if conditions.seed is not None else ""
        lines.append(
            f"  Sandbox faults:  {conditions.fault_rate:g} of /v2/ requests "
            f"({','.join(conditions.faults)}{seed})"
        )
    if members:
        last = bench_email(members)
        lines.append(
            f"  Bench members:   {bench_email(1)} .. {last} / {MEMBER_PASSWORD}"
            f" (password grant: client {BENCH_CLIENT_ID}, secret {BENCH_CLIENT_SECRET})"
        )
    return "\n".join(lines) + "\n" if lines else ""


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
    _add_profile_option(demo)
    _add_condition_options(demo)

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
    _add_profile_option(sandbox)
    _add_condition_options(sandbox)
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


def _demo_banner(app_url: str, sandbox_url: str, extra: str = "") -> str:
    return f"""
  member-app demo is running.

    Open the app:      {app_url}/
    Perkville sandbox: {sandbox_url}/
    Front desk:        {sandbox_url}/front-desk/  (award points as the gym; sign in as the admin)

  Demo member:  {MEMBER_EMAIL} / {MEMBER_PASSWORD}
  Not joined:   {PENDING_EMAIL} / {MEMBER_PASSWORD}
  Staff admin:  {ADMIN_EMAIL} / {ADMIN_PASSWORD}
                (client {ADMIN_CLIENT_ID}, secret {ADMIN_CLIENT_SECRET})
{extra}
  Press Ctrl-C to stop both.
"""


def demo(
    host: str,
    port: int,
    sandbox_port: int,
    mode: Mode = "phone",
    kiosk_idle_seconds: int = 60,
    conditions: Conditions | None = None,
    members: int = 0,
    profile: Profile = "default",
) -> int:
    conditions = conditions if conditions is not None else Conditions()
    try:
        app_sock, sandbox_sock = bind(host, port), bind(host, sandbox_port)
    except OSError as exc:
        print(f"member-app demo: cannot listen on {host}: {exc.strerror}", file=sys.stderr)
        print("Choose other ports with --port and --sandbox-port.", file=sys.stderr)
        return 2
    demo = build_demo(
        url_of(app_sock),
        url_of(sandbox_sock),
        mode=mode,
        kiosk_idle_seconds=kiosk_idle_seconds,
        latency_ms=conditions.latency_ms,
        fault_rate=conditions.fault_rate,
        faults=conditions.faults,
        fault_seed=conditions.seed,
        members=members,
        profile=profile,
    )
    extra = _profile_line(profile) + _conditions_banner(conditions, members)
    with ServerThread(demo.sandbox, sandbox_sock):
        print(_demo_banner(demo.settings.public_url, demo.settings.api_url, extra), flush=True)
        # uvicorn's access log would print raw URLs (an OAuth callback's code and state):
        # the app writes its own, redacted one (web/request_log.py).
        configure_logging(demo.settings.log_level)
        server = uvicorn.Server(uvicorn.Config(demo.app, log_level="info", access_log=False))
        server.run(sockets=[app_sock])
    return 0


def serve(host: str, port: int, forwarded_allow_ips: str) -> int:
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        print("See the configuration table in README.md.", file=sys.stderr)
        return 2
    configure_logging(settings.log_level)
    uvicorn.run(
        create_app(settings),
        host=host,
        port=port,
        proxy_headers=True,
        forwarded_allow_ips=forwarded_allow_ips,
        log_level=settings.log_level.lower(),
        access_log=False,  # the app's own is structured and redacted (web/request_log.py)
    )
    return 0


def sandbox(
    host: str,
    port: int,
    redirect_uris: list[str] | None,
    conditions: Conditions | None = None,
    members: int = 0,
    profile: Profile = "default",
) -> int:
    conditions = conditions if conditions is not None else Conditions()
    print(f"Perkville sandbox on http://{host}:{port}/ (Ctrl-C to stop)", flush=True)
    print(_profile_line(profile) + _conditions_banner(conditions, members), end="", flush=True)
    app = create_sandbox(
        redirect_uris=redirect_uris or DEFAULT_REDIRECT_URIS,
        conditions=conditions,
        members=members,
        profile=profile,
    )
    uvicorn.run(app, host=host, port=port, log_level="info")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if args.command == "demo":
        return demo(
            args.host,
            args.port,
            args.sandbox_port,
            args.mode,
            args.kiosk_idle_seconds,
            _conditions_of(args),
            args.members,
            args.profile,
        )
    if args.command == "admin-token":
        return admin_token.run(
            username=args.username,
            client_id=args.client_id,
            signin_url=args.signin_url,
            scopes=args.scopes,
        )
    if args.command == "serve":
        return serve(args.host, args.port, args.forwarded_allow_ips)
    return sandbox(
        args.host,
        args.port,
        args.redirect_uris,
        _conditions_of(args),
        args.members,
        args.profile,
    )


if __name__ == "__main__":
    raise SystemExit(main())
