"""Configuration, read once from the environment into a frozen, typed `Settings`.

Nothing else in the package touches `os.environ`. Tests build `Settings(...)` directly.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .i18n import Languages

DEFAULT_SCOPES = ("PUBLIC", "USER_CUSTOMER_INFO", "USER_REDEEM", "USER_REFERRAL")
MIN_SECRET_LENGTH = 32
MIN_METRICS_TOKEN_LENGTH = 16
Mode = Literal["phone", "webview", "kiosk"]
SigninFlow = Literal["pkce", "identify"]
MODES: tuple[str, ...] = get_args(Mode)
SIGNIN_FLOWS: tuple[str, ...] = get_args(SigninFlow)
KIOSK_IDLE_RANGE = (10, 3600)


class SettingsError(ValueError):
    """Configuration is missing or wrong; the message lists every problem at once."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(
            "member-app is not configured correctly:\n" + "\n".join(f"  - {p}" for p in problems)
        )


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the app needs to know about its deployment."""

    secret_key: str = field(repr=False)
    client_id: str
    business_id: int
    public_url: str = "http://127.0.0.1:8000"
    api_url: str = "https://api.perkville.com"
    signin_url: str = "https://www.perkville.com"
    client_secret: str | None = field(default=None, repr=False)
    scopes: tuple[str, ...] = DEFAULT_SCOPES
    session_idle_seconds: int = 24 * 3600
    session_max_seconds: int = 14 * 24 * 3600
    upstream_timeout_seconds: float = 10.0
    program_name: str = "Rewards"
    secure_cookies: bool | None = None  # None: decided by the scheme of public_url
    log_level: str = "INFO"
    # Guards GET /metrics: callers send `Authorization: Bearer <token>`. Unset, /metrics answers
    # only loopback clients that no proxy forwarded (ops.py).
    metrics_token: str | None = field(default=None, repr=False)
    # Dates shown to members (history, expiry) are in the business's time zone; the API
    # reference's Location has no time-zone field, so it is configuration.
    timezone: str = "UTC"
    # A staff (ADMIN) token from the password grant (`member-app admin-token`), for the few
    # calls the reference reserves for admin scopes, such as recording a member's acceptance
    # of the program's agreements. Optional: without it those steps are explained instead.
    admin_token: str | None = field(default=None, repr=False)
    # Where the app runs: a member's own phone, inside a gym's app (webview), or a shared
    # kiosk, which gets short sessions and ends the Perkville sign-in too.
    mode: Mode = "phone"
    kiosk_idle_seconds: int = 60
    kiosk_max_seconds: int = 900
    # Perkville's sign-out page (`?next=` brings the browser back); kiosk sign-out goes through it.
    perkville_logout_url: str | None = None
    # The app URLs the business listed under "Allowed registration URLs" in Perkville: the
    # only `register_at` values passed on to Perkville.
    register_at_urls: tuple[str, ...] = ()
    # How a member's visit starts: `pkce` (sign in and allow the app) or `identify` (Perkville's
    # Identify User Flow: a member already signed in at Perkville is recognised with no prompt
    # and browses read-only; any action asks for the PKCE sign-in first). Needs admin_token.
    signin_flow: SigninFlow = "pkce"
    # Where Perkville's answers are cached: `memory` (this process) or a Redis URL
    # (`redis://host:6379/0`), so that replicas share one cache. It may carry a password.
    cache_url: str = field(default="memory", repr=False)
    # How long a member's own data (balance, vouchers, history) is reused within their session;
    # anything they do themselves clears it at once. 0 turns it off.
    member_cache_seconds: float = 20.0
    # Limits on sign-in starts, redeems and referrals (ratelimit.py). Off only for load tests
    # that drive many members from one machine.
    rate_limits: bool = True
    # The app on a member's own phone (a deployment in phone mode), which the kiosk's "use your
    # phone" QR code opens. Unset: this deployment's public URL.
    phone_url: str | None = None
    # Origins allowed to show the app in a frame (CSP frame-ancestors); none by default. A
    # gym's app embeds us in a webview, which is not a frame and needs nothing here.
    frame_ancestors: tuple[str, ...] = ()
    # Live updates (live/): how often Perkville is asked for balances that moved while a
    # member watches home, vouchers or challenges (seconds; 0 turns live updates off), and,
    # without a staff token (each watcher then polled with their own token), how many such
    # calls one process may make a second.
    live_interval_seconds: float = 3.0
    live_member_budget: float = 10.0
    # The language for members whose browser asks for none the app has (`en`, `es`, `fr-CA`,
    # or any other catalog in `locale_dir`); each member can choose their own on More.
    default_language: str = "en"
    # Where the translation catalogs are; empty: the ones shipped in the package.
    locale_dir: str = ""

    def __post_init__(self) -> None:
        problems = _problems(self)
        if problems:
            raise SettingsError(problems)
        # Trailing slashes are normalised away so URLs join the same way everywhere.
        for name in ("public_url", "api_url", "signin_url"):
            object.__setattr__(self, name, getattr(self, name).rstrip("/"))
        if self.phone_url is not None:
            object.__setattr__(self, "phone_url", self.phone_url.rstrip("/"))

    @property
    def kiosk(self) -> bool:
        return self.mode == "kiosk"

    @property
    def idle_seconds(self) -> int:
        """The idle timeout in force: a kiosk's own, shorter one in kiosk mode."""
        return self.kiosk_idle_seconds if self.kiosk else self.session_idle_seconds

    @property
    def max_seconds(self) -> int:
        """The absolute session limit in force (the kiosk's in kiosk mode)."""
        return self.kiosk_max_seconds if self.kiosk else self.session_max_seconds

    @property
    def redirect_uri(self) -> str:
        """The one callback URL registered with Perkville (never derived from the request)."""
        return f"{self.public_url}/auth/callback"

    @property
    def identify_redirect_uri(self) -> str:
        """Where Perkville's identify page sends the member back (registered for the admin
        token's client, reference "Identify Token" Step 1)."""
        return f"{self.public_url}/auth/identify/callback"

    @property
    def identify(self) -> bool:
        return self.signin_flow == "identify"

    @property
    def cookies_secure(self) -> bool:
        if self.secure_cookies is not None:
            return self.secure_cookies
        return self.public_url.startswith("https://")

    @property
    def session_cookie(self) -> str:
        # The __Host- prefix pins the cookie to this exact origin, but browsers only accept
        # it on Secure cookies; plain http (the local demo) gets an ordinary name.
        return "__Host-member" if self.cookies_secure else "member_session"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read the `MEMBER_APP_*` and `PERKVILLE_*` variables (see the README's table). A
        variable that is unset or blank leaves the field's default."""
        env = os.environ if environ is None else environ
        problems: list[str] = []
        values: dict[str, Any] = {}
        for name, (variable, read) in _ENVIRONMENT.items():
            raw = env.get(variable, "").strip()
            if not raw:
                if _DEFAULTS.get(name, dataclasses.MISSING) is dataclasses.MISSING:
                    problems.append(f"{variable} is required")
                continue
            try:
                values[name] = read(raw)
            except ValueError as exc:
                problems.append(f"{variable} {exc}, got {raw!r}")
        if problems:
            raise SettingsError(problems)
        return cls(**values)


def _whole_number(raw: str) -> int:
    try:
        return int(raw)
    except ValueError:
        raise ValueError("must be a whole number") from None


def _number(raw: str) -> float:
    try:
        return float(raw)
    except ValueError:
        raise ValueError("must be a number") from None


def _flag(raw: str) -> bool:
    lowered = raw.lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ValueError("must be true or false")


def _words(raw: str) -> tuple[str, ...]:
    return tuple(raw.split())


def _text(raw: str) -> str:
    return raw


# Field → (environment variable, how to read it). The defaults are the fields' own.
_ENVIRONMENT: dict[str, tuple[str, Callable[[str], Any]]] = {
    "secret_key": ("MEMBER_APP_SECRET_KEY", _text),
    "client_id": ("PERKVILLE_CLIENT_ID", _text),
    "business_id": ("PERKVILLE_BUSINESS_ID", _whole_number),
    "public_url": ("MEMBER_APP_PUBLIC_URL", _text),
    "api_url": ("PERKVILLE_API_URL", _text),
    "signin_url": ("PERKVILLE_SIGNIN_URL", _text),
    "client_secret": ("PERKVILLE_CLIENT_SECRET", _text),
    "scopes": ("PERKVILLE_SCOPES", _words),
    "session_idle_seconds": ("MEMBER_APP_SESSION_IDLE_SECONDS", _whole_number),
    "session_max_seconds": ("MEMBER_APP_SESSION_MAX_SECONDS", _whole_number),
    "upstream_timeout_seconds": ("PERKVILLE_TIMEOUT_SECONDS", _number),
    "program_name": ("MEMBER_APP_PROGRAM_NAME", _text),
    "secure_cookies": ("MEMBER_APP_SECURE_COOKIES", _flag),
    "log_level": ("MEMBER_APP_LOG_LEVEL", str.upper),
    "metrics_token": ("MEMBER_APP_METRICS_TOKEN", _text),
    "timezone": ("MEMBER_APP_TIMEZONE", _text),
    "admin_token": ("PERKVILLE_ADMIN_TOKEN", _text),
    "mode": ("MEMBER_APP_MODE", str.lower),
    "kiosk_idle_seconds": ("MEMBER_APP_KIOSK_IDLE_SECONDS", _whole_number),
    "kiosk_max_seconds": ("MEMBER_APP_KIOSK_MAX_SECONDS", _whole_number),
    "perkville_logout_url": ("PERKVILLE_LOGOUT_URL", _text),
    "register_at_urls": ("PERKVILLE_REGISTER_AT_URLS", _words),
    "signin_flow": ("MEMBER_APP_SIGNIN_FLOW", str.lower),
    "cache_url": ("MEMBER_APP_CACHE_URL", _text),
    "member_cache_seconds": ("MEMBER_APP_MEMBER_CACHE_SECONDS", _number),
    "rate_limits": ("MEMBER_APP_RATE_LIMITS", _flag),
    "frame_ancestors": ("MEMBER_APP_FRAME_ANCESTORS", _words),
    "phone_url": ("MEMBER_APP_PHONE_URL", _text),
    "live_interval_seconds": ("MEMBER_APP_LIVE_INTERVAL", _number),
    "live_member_budget": ("MEMBER_APP_LIVE_MEMBER_BUDGET", _number),
    "default_language": ("MEMBER_APP_DEFAULT_LANGUAGE", _text),
    "locale_dir": ("MEMBER_APP_LOCALE_DIR", _text),
}
_DEFAULTS: dict[str, Any] = {
    f.name: f.default if f.default_factory is dataclasses.MISSING else f.default_factory()
    for f in dataclasses.fields(Settings)
}


def _problems(s: Settings) -> list[str]:
    problems = []
    if len(s.secret_key) < MIN_SECRET_LENGTH:
        problems.append(
            f"MEMBER_APP_SECRET_KEY must be at least {MIN_SECRET_LENGTH} characters "
            '(make one with: python3 -c "import secrets; print(secrets.token_urlsafe(48))")'
        )
    if not s.client_id:
        problems.append("PERKVILLE_CLIENT_ID is required")
    if s.business_id <= 0:
        problems.append("PERKVILLE_BUSINESS_ID must be a positive whole number")
    for env_name, url in (
        ("MEMBER_APP_PUBLIC_URL", s.public_url),
        ("PERKVILLE_API_URL", s.api_url),
        ("PERKVILLE_SIGNIN_URL", s.signin_url),
        *([("MEMBER_APP_PHONE_URL", s.phone_url)] if s.phone_url is not None else []),
    ):
        parts = urlsplit(url)
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            problems.append(f"{env_name} must be an absolute http(s) URL, got {url!r}")
        elif parts.query or parts.fragment:
            problems.append(f"{env_name} must not carry a query or fragment, got {url!r}")
    if not s.scopes:
        problems.append("PERKVILLE_SCOPES must name at least one scope")
    if s.session_idle_seconds <= 0 or s.session_max_seconds <= 0:
        problems.append("session timeouts must be positive numbers of seconds")
    elif s.session_idle_seconds > s.session_max_seconds:
        problems.append(
            "MEMBER_APP_SESSION_IDLE_SECONDS must not exceed MEMBER_APP_SESSION_MAX_SECONDS"
        )
    if s.upstream_timeout_seconds <= 0:
        problems.append("PERKVILLE_TIMEOUT_SECONDS must be positive")
    if s.metrics_token is not None and (
        len(s.metrics_token) < MIN_METRICS_TOKEN_LENGTH
        or any(c.isspace() or ord(c) < 33 or ord(c) > 126 for c in s.metrics_token)
    ):
        # The value itself is not echoed: it is a secret.
        problems.append(
            f"MEMBER_APP_METRICS_TOKEN must be at least {MIN_METRICS_TOKEN_LENGTH} printable "
            "characters without spaces"
        )
    try:
        ZoneInfo(s.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(f"MEMBER_APP_TIMEZONE must be an IANA time zone name, got {s.timezone!r}")
    if s.mode not in MODES:
        problems.append(f"MEMBER_APP_MODE must be phone, webview or kiosk, got {s.mode!r}")
    low, high = KIOSK_IDLE_RANGE
    if not low <= s.kiosk_idle_seconds <= high:
        problems.append(f"MEMBER_APP_KIOSK_IDLE_SECONDS must be from {low} to {high}")
    elif s.kiosk_idle_seconds > s.kiosk_max_seconds:
        problems.append(
            "MEMBER_APP_KIOSK_IDLE_SECONDS must not exceed MEMBER_APP_KIOSK_MAX_SECONDS"
        )
    if s.perkville_logout_url is not None:
        parts = urlsplit(s.perkville_logout_url)
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            problems.append(
                "PERKVILLE_LOGOUT_URL must be an absolute http(s) URL, "
                f"got {s.perkville_logout_url!r}"
            )
        elif parts.query or parts.fragment:
            problems.append("PERKVILLE_LOGOUT_URL must not carry a query or fragment")
    for url in s.register_at_urls:
        if "://" not in url or any(c.isspace() or ord(c) < 32 for c in url):
            problems.append(f"PERKVILLE_REGISTER_AT_URLS entries must be app URLs, got {url!r}")
    if s.signin_flow not in SIGNIN_FLOWS:
        problems.append(f"MEMBER_APP_SIGNIN_FLOW must be pkce or identify, got {s.signin_flow!r}")
    elif s.signin_flow == "identify" and not s.admin_token:
        problems.append(
            "MEMBER_APP_SIGNIN_FLOW=identify needs PERKVILLE_ADMIN_TOKEN (a staff token with "
            "ADMIN_IDENTIFY_USER and ADMIN_CUSTOMER_INFO; make one with: member-app admin-token)"
        )
    elif s.signin_flow == "identify" and s.mode == "kiosk":
        # A shared screen would recognise whoever last signed in at Perkville on it.
        problems.append("MEMBER_APP_SIGNIN_FLOW=identify is not for MEMBER_APP_MODE=kiosk")
    if s.cache_url != "memory" and urlsplit(s.cache_url).scheme not in {
        "redis",
        "rediss",
        "unix",
    }:
        # The URL itself is not echoed: it may carry Redis's password.
        problems.append("MEMBER_APP_CACHE_URL must be memory or a redis:// (rediss://) URL")
    for origin in s.frame_ancestors:
        parts = urlsplit(origin)
        if parts.scheme != "https" or not parts.netloc or parts.path not in {"", "/"}:
            problems.append(
                f"MEMBER_APP_FRAME_ANCESTORS entries must be https origins, got {origin!r}"
            )
    if not 0 <= s.member_cache_seconds <= 300:
        problems.append("MEMBER_APP_MEMBER_CACHE_SECONDS must be from 0 to 300")
    if not (s.live_interval_seconds == 0 or 0.2 <= s.live_interval_seconds <= 60):
        problems.append("MEMBER_APP_LIVE_INTERVAL must be 0 (off) or from 0.2 to 60 seconds")
    if not 0.1 <= s.live_member_budget <= 1000:
        problems.append("MEMBER_APP_LIVE_MEMBER_BUDGET must be from 0.1 to 1000 calls a second")
    if s.log_level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
        problems.append("MEMBER_APP_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR")
    if s.locale_dir and not Path(s.locale_dir).is_dir():
        problems.append(f"MEMBER_APP_LOCALE_DIR must be a folder, got {s.locale_dir!r}")
    else:
        try:
            Languages.load(s.default_language, Path(s.locale_dir) if s.locale_dir else None)
        except ValueError as exc:
            problems.append(f"MEMBER_APP_DEFAULT_LANGUAGE: {exc}")
    return problems
