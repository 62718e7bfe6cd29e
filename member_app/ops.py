"""Operations: Prometheus metrics, the readiness answer, request ids and JSON logs.

`Metrics` is one app's registry of request and upstream metrics (`/metrics` serves it:
web/probes.py); `Readiness` keeps the last readiness answer briefly; `configure_logging`
(called by the CLI) makes the `member_app` loggers write one JSON object per line, with
`RedactionFilter` as a last guard against tokens and codes in messages.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.exposition import generate_latest
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import Scope

READY_TTL_SECONDS = 2.0
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "unmatched"

# The id of the request being handled, for every log line written while it runs.
request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "member_app_request_id", default=None
)


# --- metrics ----------------------------------------------------------------------------------


class Metrics:
    """One app's metrics, in its own registry (tests build many apps in one process)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "member_app_requests_total",
            "Requests answered, by route template, method and status.",
            ("route", "method", "status"),
            registry=self.registry,
        )
        self.request_seconds = Histogram(
            "member_app_request_seconds",
            "Time to answer a request, by route template and method.",
            ("route", "method"),
            registry=self.registry,
        )
        self.upstream_requests = Counter(
            "member_app_upstream_requests_total",
            "Calls to Perkville, by method, endpoint ({id} for ids) and status.",
            ("method", "endpoint", "status"),
            registry=self.registry,
        )
        self.upstream_seconds = Histogram(
            "member_app_upstream_seconds",
            "Time of each call to Perkville, by method and endpoint.",
            ("method", "endpoint"),
            registry=self.registry,
        )
        self.upstream_errors = Counter(
            "member_app_upstream_errors_total",
            "Calls to Perkville that timed out, failed to connect, or got a 5xx.",
            ("endpoint", "kind"),
            registry=self.registry,
        )

    def request(self, route: str, method: str, status: int, seconds: float) -> None:
        method = _method(method)
        self.requests.labels(route, method, str(status)).inc()
        self.request_seconds.labels(route, method).observe(seconds)

    def upstream(self, method: str, endpoint: str, status: str, seconds: float) -> None:
        """The PerkvilleClient's `observe` hook."""
        method = _method(method)
        self.upstream_requests.labels(method, endpoint, status).inc()
        self.upstream_seconds.labels(method, endpoint).observe(seconds)
        if status in {"timeout", "error"}:
            kind = "timeout" if status == "timeout" else "transport"
            self.upstream_errors.labels(endpoint, kind).inc()
        elif status.isdigit() and int(status) >= 500:
            self.upstream_errors.labels(endpoint, "5xx").inc()

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


def _method(method: str) -> str:
    """Only the usual methods become labels: a client inventing methods adds no series."""
    return method if method in _METHODS else "OTHER"


def route_template(scope: Scope) -> str:
    """The path template of the route that handled the request (Starlette's router leaves it
    in `scope["route"]`), never the raw path: ids and tokens stay out of labels and logs."""
    route: BaseRoute | None = scope.get("route")
    if isinstance(route, Mount):
        return f"{route.path}/{{path}}"
    if isinstance(route, Route):
        return route.path
    return UNMATCHED


class Readiness:
    """The last readiness answer and when it was found (monotonic seconds)."""

    def __init__(
        self, ttl: float = READY_TTL_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl = ttl
        self.clock = clock
        self._answer: tuple[float, bool] | None = None

    async def check(self, probe: Callable[[], Any]) -> bool:
        now = self.clock()
        if self._answer is not None and now - self._answer[0] < self.ttl:
            return self._answer[1]
        ready = bool(await probe())
        self._answer = (self.clock(), ready)
        return ready


# --- logs -------------------------------------------------------------------------------------

_NEVER_LOGGED = r"code|access_token|refresh_token|id_token|token|state|client_secret|password"
_REDACTIONS = (
    (re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/=-]+"), r"\1 [redacted]"),
    # key='value' or key="value", as in a repr
    (re.compile(rf"""(?i)\b({_NEVER_LOGGED})=(["'])[^"']*\2"""), r"\1=\2[redacted]\2"),
    # key=value, as in a query string or a form body
    (re.compile(rf"(?i)\b({_NEVER_LOGGED})=[^\s&\"',;}}]+"), r"\1=[redacted]"),
    # "key": "value", as in JSON
    (re.compile(rf"""(?i)(["'](?:{_NEVER_LOGGED})["']\s*:\s*["']?)[^\s"',}}]+"""), r"\1[redacted]"),
)


def redact(text: str) -> str:
    """`text` with bearer tokens and code/token/state/secret values replaced by [redacted]."""
    for pattern, replacement in _REDACTIONS:
        text = pattern.sub(replacement, text)
    return text


class RedactionFilter(logging.Filter):
    """A last guard, not the first: code must not log secrets at all, but a URL or an upstream
    error quoted in a message is caught here. Rewrites the message in place, never drops it."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


class RequestIdFilter(logging.Filter):
    """Puts the id of the request being handled (if any) on the record as `request_id`."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = request_id_var.get()
        return True


# LogRecord's own attributes; anything else on a record came from `extra=` and is logged.
_RECORD_FIELDS = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id, then extras."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
            "request_id": getattr(record, "request_id", None) or request_id_var.get(),
        }
        for key, value in record.__dict__.items():
            if key not in _RECORD_FIELDS and key not in entry:
                entry[key] = value if isinstance(value, int | float | bool | None) else str(value)
        if record.exc_info:
            entry["exc"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever `sys.stderr` is at the time (test runners swap it)."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


def configure_logging(level: str) -> None:
    """JSON lines on stderr for the `member_app` loggers, at `level`. Idempotent: every app
    built in one process shares the one handler. The loggers do not propagate to the root
    logger, so a plain-text root handler (basicConfig) does not print each line twice."""
    logger = logging.getLogger("member_app")
    logger.setLevel(level)
    logger.propagate = False
    # httpx2 logs every request's full URL at INFO, query included (an identification code,
    # a user id): our own upstream metrics and logs replace it.
    logging.getLogger("httpx2").setLevel(max(logging.WARNING, logger.level))
    logging.getLogger("httpx").setLevel(max(logging.WARNING, logger.level))
    if not any(isinstance(h, _StderrHandler) for h in logger.handlers):
        handler = _StderrHandler()
        handler.setFormatter(JsonFormatter())
        handler.addFilter(RequestIdFilter())
        handler.addFilter(RedactionFilter())
        logger.addHandler(handler)
