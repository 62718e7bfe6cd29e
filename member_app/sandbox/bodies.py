"""What a write sends: its JSON body ("Include only valid JSON in your HTTP body") and the values
in it, each checked with the reference's error body naming the field at fault."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request

from .errors import invalid_request

_URI = re.compile(r"^(?:https?://[^/]+)?/v2/(?P<name>[a-z-]+)/(?P<key>[0-9]+)/?$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")


async def read_json(request: Request) -> dict[str, Any]:
    """The JSON object a write sends."""
    try:
        body = await request.json()
    except ValueError:
        raise invalid_request("invalid_json", "The body must be a JSON object.") from None
    if not isinstance(body, dict):
        raise invalid_request("invalid_json", "The body must be a JSON object.")
    return body


def only(body: dict[str, Any], allowed: Sequence[str]) -> None:
    """Refuse any key but `allowed` (`unknown_field`), so a typo is not silently dropped."""
    for key in sorted(body):
        if key not in allowed:
            raise invalid_request(
                "unknown_field",
                f"{key} is not a parameter of this request (send {', '.join(allowed)}).",
                key,
            )


def ref(value: object, name: str, field: str) -> int:
    """The id in a resource URI such as "/v2/challenges/5/" (what the reference's writes send)."""
    if isinstance(value, str):
        match = _URI.match(value.strip())
        if match and match["name"] == name:
            return int(match["key"])
    raise invalid_request("invalid", f"{field} must be a URI such as /v2/{name}/5/.", field)


def pk(value: object, field: str) -> int:
    """A primary key, as the batch endpoints take them ("Resource URIs are not supported")."""
    if isinstance(value, bool):
        value = None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    raise invalid_request("invalid", f"{field} must be an id (a whole number).", field)


def text(body: dict[str, Any], key: str, max_length: int) -> str:
    """An optional string of at most `max_length` characters, trimmed ("" when absent)."""
    value = body.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise invalid_request("invalid", f"{key} must be a string.", key)
    if len(value.strip()) > max_length:
        raise invalid_request("max_length", f"{key} must be at most {max_length} characters.", key)
    return value.strip()


def flag(body: dict[str, Any], key: str, default: bool) -> bool:
    value = body.get(key, default)
    if not isinstance(value, bool):
        raise invalid_request("invalid", f"{key} must be true or false.", key)
    return value


def email(value: object, field: str) -> str:
    """A required email address, trimmed and lower-cased."""
    if value is None or value == "":
        raise invalid_request("required", f"{field} is required.", field)
    address = value.strip() if isinstance(value, str) else ""
    if not _EMAIL.match(address) or len(address) > 254:
        raise invalid_request("invalid", "Enter a valid email address.", field)
    return address.lower()


def moment(value: object, field: str) -> datetime | None:
    """An ISO 8601 datetime (`T` or a space, `Z`, an offset or none: UTC), in UTC; None stays
    None."""
    if value is None:
        return None
    try:
        if not isinstance(value, str):
            raise ValueError(value)
        parsed = datetime.fromisoformat(value.strip().replace(" ", "T", 1).replace("Z", "+00:00"))
    except ValueError:
        raise invalid_request(
            "invalid", f"{field} must be an ISO 8601 datetime, e.g. 2026-11-22T10:00:00Z.", field
        ) from None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)
