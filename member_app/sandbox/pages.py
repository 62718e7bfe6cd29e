"""What the sandbox's HTML pages share: who is signed in to the sandbox, the language they
speak, the templates (`templates/sandbox/`), and the session-bound CSRF token of their forms."""

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


# Staff tools, not Perkville's member pages: English, whatever the browser asks.
_ENGLISH_ONLY = frozenset({"front_desk.html"})


def _languages() -> i18n.Languages:
    return i18n.Languages.load(i18n.SOURCE)


def ui_language(ui_locales: str) -> i18n.Language | None:
    """OpenID Connect's `ui_locales` (space-separated language tags, most wanted first): the
    first the sandbox has a catalog for (English always; `es-MX` served by `es`, `fr` by
    `fr-CA`, as for `Accept-Language`), else None."""
    languages = _languages()
    for tag in ui_locales.split()[:20]:  # a handful, at most
        found = languages.best_for(tag)
        if found is not None:
            return found
    return None


def language_tagged(tag: object) -> i18n.Language | None:
    """The language with exactly this tag (one the sandbox remembered), if it still has it."""
    return _languages().exact(tag) if isinstance(tag, str) else None


def speak(request: Request, language: i18n.Language | None = None) -> i18n.Language:
    """Answer the rest of this request in `language`, else in the browser's language when there
    is a catalog for it (`Accept-Language`), as a real sign-in page would be. Call it before
    building a message a page shows."""
    languages = _languages()
    chosen = (
        language
        or languages.best_for(request.headers.get("accept-language", ""))
        or languages.default
    )
    i18n.use(chosen)
    return chosen


def page(
    request: Request,
    name: str,
    context: dict[str, Any],
    status: int = 200,
    *,
    language: i18n.Language | None = None,
) -> Response:
    """A sandbox page, in `language` (the one `speak` chose for this request) or the
    browser's."""
    templates = request.app.state.templates
    speak(request, _languages().default if name in _ENGLISH_ONLY else language)
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
