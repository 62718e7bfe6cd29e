"""Which language a request is answered in, and the member's choice of it.

In order: the member's explicit choice (More, or the kiosk's attract screen), kept in a cookie
of its own so that it outlives sign-in and sign-out; else the browser's `Accept-Language`;
else `MEMBER_APP_DEFAULT_LANGUAGE`. Inside a gym's app (webview mode, or a phone deployment
opened with `?embed=1&lang=es`) the app may pass `?lang=` on any page: it becomes the choice.

On a kiosk the choice is for one person: the cookie lasts only for the browser session, and
ending the kiosk session (Done, or the idle sign-out) clears it, as does the attract screen
once nobody has touched it for a minute (static/kiosk.js).
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection, Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .. import i18n
from ..i18n import Language, Languages
from ..settings import Settings
from ..state import app_state
from .csrf import csrf_valid
from .exceptions import FormExpired
from .redirects import safe_next

YEAR = 365 * 24 * 3600


def cookie_name(settings: Settings) -> str:
    return "__Host-lang" if settings.cookies_secure else "member_lang"


def choice_cookie(settings: Settings, tag: str | None) -> str:
    """The Set-Cookie value keeping (or, with None, forgetting) the member's choice."""
    attributes = ["Path=/", "HttpOnly", "SameSite=Lax"]
    if settings.cookies_secure:
        attributes.append("Secure")
    if tag is None:
        return "; ".join([f"{cookie_name(settings)}=", "Max-Age=0", *attributes])
    if not settings.kiosk:  # a kiosk's choice never outlives the browser session
        attributes.append(f"Max-Age={YEAR}")
    return "; ".join([f"{cookie_name(settings)}={tag}", *attributes])


def _query_lang(scope: Scope) -> str | None:
    raw: bytes = scope.get("query_string", b"")
    for pair in raw.decode("latin-1").split("&"):
        name, _, value = pair.partition("=")
        if name == "lang":
            return value
    return None


class LanguageMiddleware:
    """Decides the request's language (see the module's docstring) before anything renders,
    so error pages, even the 500 page, are in it too."""

    def __init__(self, app: ASGIApp, *, settings: Settings, languages: Languages) -> None:
        self.app = app
        self.settings = settings
        self.languages = languages

    def choose(self, connection: HTTPConnection) -> tuple[Language, str | None]:
        """The language, and a choice to remember from `?lang=` (else None)."""
        languages = self.languages
        asked = _query_lang(connection.scope)
        inside_app = self.settings.mode == "webview" or connection.query_params.get("embed") == "1"
        if asked is not None and inside_app:
            found = languages.exact(asked)
            if found is not None:
                return found, found.tag
        cookie = connection.cookies.get(cookie_name(self.settings))
        if cookie:
            found = languages.exact(cookie)
            if found is not None:
                return found, None
        header = connection.headers.get("accept-language", "")
        return languages.best_for(header) or languages.default, None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        language, remember = self.choose(HTTPConnection(scope))
        i18n.use(language)
        scope.setdefault("state", {})["language"] = language

        async def send_with_language(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("Content-Language", language.tag)
                if remember is not None:
                    headers.append("Set-Cookie", choice_cookie(self.settings, remember))
            await send(message)

        await self.app(scope, receive, send_with_language)


def language_of(connection: HTTPConnection) -> Language:
    found = connection.scope.get("state", {}).get("language")
    return found if isinstance(found, Language) else i18n.current()


def _same_origin(request: Request, settings: Settings) -> bool:
    """A signed-out visitor has no session, so no CSRF token: the browser's own word that the
    form came from this site stands in (Fetch Metadata, else Origin)."""
    site = request.headers.get("sec-fetch-site")
    if site is not None:
        return site in ("same-origin", "none")
    origin = request.headers.get("origin")
    if origin is not None:
        return origin.rstrip("/") == settings.public_url.rstrip("/")
    return False


async def choose_language(request: Request) -> Response:
    """Keep the member's choice (an empty choice goes back to the browser's language), then
    back to the page they chose it on."""
    state = app_state(request)
    settings = state.settings
    form = await request.form()
    has_session = bool(request.scope.get("session", {}).get("csrf"))
    if has_session and not csrf_valid(request, form.get("csrf")):
        raise FormExpired
    if not has_session and not _same_origin(request, settings):
        raise FormExpired
    wanted = form.get("lang")
    language = state.languages.exact(wanted) if isinstance(wanted, str) and wanted else None
    back = safe_next(form.get("next")) or request.url_for("more").path
    response = RedirectResponse(back, status_code=303)
    if isinstance(wanted, str) and wanted and language is None:
        return response  # not a language we have: nothing changes
    response.headers.append(
        "Set-Cookie", choice_cookie(settings, language.tag if language else None)
    )
    return response


def forget_choice(response: Response, settings: Settings) -> None:
    """The kiosk's next person starts in the default language."""
    response.headers.append("Set-Cookie", choice_cookie(settings, None))


routes = [Route("/language", choose_language, methods=["POST"], name="choose_language")]
