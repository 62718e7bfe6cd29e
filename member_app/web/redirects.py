"""Where the app may send a member: local paths only, never another origin."""

from __future__ import annotations

from urllib.parse import urlsplit


def safe_next(value: object) -> str | None:
    """A path on this site to go to after sign-in, or None. Never another origin."""
    if not isinstance(value, str) or len(value) > 512:
        return None
    if not value.startswith("/") or value.startswith("//") or "\\" in value:
        return None
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or any(ord(c) < 32 for c in value):
        return None
    return value
