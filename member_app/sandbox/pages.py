"""What the sandbox's HTML pages share: who is signed in to the sandbox, the templates
(`templates/sandbox/`), and the session-bound CSRF token of their forms."""

from __future__ import annotations

import hmac
import secrets
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from .. import i18n
from .profiles import profile_of
from .records import User
from .store import Store


def signed_in_user(request: Request) -> User | None:
    store: Store = request.app.state.store
    uid = request.session.get("uid")
    return store.users.get(uid) if isinstance(uid, int) else None


def _speak(request: Request) -> None:
    """The sandbox's pages are Perkville's: in the browser's language when there is a catalog
    for it, as a real sign-in page would be."""
    languages = i18n.Languages.load(i18n.SOURCE)
    i18n.use(languages.best_for(request.headers.get("accept-language", "")) or languages.default)


def page(request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
    templates = request.app.state.templates
    _speak(request)
    # The sign-out page exists in the default profile only (profiles.DEFAULT_ONLY_PATHS).
    context = {"sign_out": profile_of(request) == "default", **context}
    response: Response = templates.TemplateResponse(
        request, f"sandbox/{name}", context, status_code=status
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def csrf_token(request: Request) -> str:
    """The session's CSRF token for forms (created on first use)."""
    token = request.session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(24)
        request.session["csrf"] = token
    return token


def csrf_valid(request: Request, submitted: object) -> bool:
    expected = request.session.get("csrf")
    return (
        isinstance(expected, str)
        and isinstance(submitted, str)
        # As bytes: `compare_digest` raises TypeError for a str with non-ASCII characters,
        # which a forged form can send.
        and hmac.compare_digest(expected.encode(), submitted.encode())
    )
