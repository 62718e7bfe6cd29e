"""Reading Perkville's answers: the JSON object a call returns, or the error it stands for
(reference, Handling Errors: an `error_type`, and `errors` keyed by field, each with a `code`
and a `message`)."""

from __future__ import annotations

import logging
import re
from typing import Any

import httpx2

from .errors import (
    PerkvilleAuthError,
    PerkvilleDuplicate,
    PerkvilleError,
    PerkvilleForbidden,
    PerkvilleNotFound,
    PerkvilleRefused,
    PerkvilleRequestError,
    PerkvilleUnavailable,
)

log = logging.getLogger(__name__)

_ID_SEGMENT = re.compile(r"/[0-9]+(?=/|$)")

# Perkville's own refusal codes start so (pv_txn_insufficient_points, ...); the others are
# field validation codes (required, invalid...).
REFUSAL_PREFIX = "pv_"

_BY_STATUS: dict[int, type[PerkvilleError]] = {
    401: PerkvilleAuthError,
    403: PerkvilleForbidden,
    404: PerkvilleNotFound,
}


def endpoint_of(path: str) -> str:
    """`/v2/user-vouchers/42/` as `/v2/user-vouchers/{id}/` (and an absolute URL's path)."""
    path = httpx2.URL(path).path if "://" in path else path
    return _ID_SEGMENT.sub("/{id}", path)


def objects(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The records of a list answer (reference, Pagination), leaving out anything malformed."""
    found = data.get("objects")
    return [obj for obj in found if isinstance(obj, dict)] if isinstance(found, list) else []


def retry_after(value: str | None) -> float | None:
    """A `Retry-After` in seconds (the HTTP-date form is treated as "later": no retry)."""
    try:
        return max(float(value), 0.0) if value is not None else None
    except ValueError:
        return float("inf")


def error_details(errors: object) -> list[tuple[str, str]]:
    """Each (code, message) of an `errors` object, in order: `{"field": [{"code", "message"}]}`."""
    if not isinstance(errors, dict):
        return []
    return [
        (str(item.get("code", "")), str(item.get("message", "")))
        for items in errors.values()
        for item in (items if isinstance(items, list) else [])
        if isinstance(item, dict)
    ]


def request_error(
    message: str,
    *,
    status: int,
    codes: tuple[str, ...],
    error_type: str | None = None,
    transaction: bool = False,
) -> PerkvilleRequestError:
    """What a refused request means. For a `transaction`, a code that speaks of a duplicate or
    of the trans_source_id says the request was made before (the reference names no code for
    it); otherwise a `pv_*` code is a refusal by the program's rules."""
    if transaction and any("duplicate" in code or "trans_source_id" in code for code in codes):
        return PerkvilleDuplicate(message, status=status, error_type=error_type, codes=codes)
    refusal = next((code for code in codes if code.startswith(REFUSAL_PREFIX)), None)
    if refusal is not None:
        return PerkvilleRefused(
            message, code=refusal, status=status, error_type=error_type, codes=codes
        )
    return PerkvilleRequestError(message, status=status, error_type=error_type, codes=codes)


def parse(response: httpx2.Response, path: str) -> dict[str, Any]:
    """The answer's JSON object, or raise the PerkvilleError it stands for."""
    status = response.status_code
    try:
        body = response.json()
    except ValueError:
        body = None
    if 200 <= status < 300 and isinstance(body, dict):
        return body
    if status >= 500 or status == 429 or not isinstance(body, dict):
        raise PerkvilleUnavailable(
            f"Perkville answered {status} ({path})",
            status=status,
            retry_after=retry_after(response.headers.get("retry-after")),
        )
    error_type = body.get("error_type") if isinstance(body.get("error_type"), str) else None
    details = error_details(body.get("errors"))
    codes = tuple(code for code, _ in details)
    message = "; ".join(m for _, m in details if m) or f"Perkville answered {status} ({path})"
    log.info("perkville %s on %s: %s %s", status, path, error_type, ",".join(codes))
    cls = _BY_STATUS.get(status)
    if cls is not None:
        raise cls(message, status=status, error_type=error_type, codes=codes)
    raise request_error(
        message,
        status=status,
        codes=codes,
        error_type=error_type,
        transaction=endpoint_of(path).endswith("/transactions/"),
    )
