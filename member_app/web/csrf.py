"""CSRF: every state-changing form carries the session's token, set when the session starts."""

from __future__ import annotations

import hmac

from starlette.requests import Request

from .session import CSRF


def csrf_token(request: Request) -> str:
    """The session's token for a form. Read only: a session gets its token when it starts
    (`session._rotate`); a page without a session has no form to protect."""
    token = request.scope.get("session", {}).get(CSRF)
    return token if isinstance(token, str) else ""


def csrf_valid(request: Request, submitted: object) -> bool:
    expected = request.session.get(CSRF)
    return (
        isinstance(expected, str)
        and bool(expected)
        and isinstance(submitted, str)
        # As bytes: `compare_digest` raises TypeError for a str with non-ASCII characters,
        # which a forged form can send.
        and hmac.compare_digest(expected.encode(), submitted.encode())
    )
