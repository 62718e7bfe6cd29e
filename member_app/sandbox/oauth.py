"""Perkville's OAuth pages and token endpoint, as the API reference describes them.

`GET /api/authorize/` → sign-in page → consent page → redirect back with `code` and `state`.
`POST /api/token/` exchanges a code (PKCE, S256 only) or a password for a bearer token.

The pages speak the browser's language (`Accept-Language`), or in the default profile the one
an authorization asks for with OpenID Connect's `ui_locales`, remembered in the sandbox's
session from the authorize request through the sign-in to the consent page. What the app hears
on its redirect URI (`error_description`) and the token endpoint's errors stay English: they
are Perkville's protocol, not pages.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from .. import i18n
from ..i18n import _
from .pages import (
    csrf_token,
    csrf_valid,
    language_tagged,
    page,
    signed_in_user,
    speak,
    ui_language,
)
from .profiles import profile_of
from .records import User
from .store import SCOPE_DESCRIPTIONS, AuthorizationCode, Client, Store, new_secret

CODE_LIFETIME = timedelta(minutes=5)
SUPPORTED_GRANTS = frozenset({"authorization_code", "password"})
_CHALLENGE = re.compile(r"^[A-Za-z0-9_-]{43}$")
_AUTHORIZE_PARAMS = (
    "client_id",
    "redirect_uri",
    "response_type",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
)
# The session's memory of the language an authorization asked for (`ui_locales`):
# {"for": the authorization's fingerprint, "tag": "es"}.
_UI_LOCALE = "ui_locale"


class AuthorizeProblem(Exception):
    """The request cannot be sent back to the client: show an error page, never redirect."""


@dataclass(frozen=True, slots=True)
class AuthorizeRequest:
    client: Client
    redirect_uri: str
    scopes: tuple[str, ...]
    state: str | None
    code_challenge: str | None
    params: dict[str, str]

    def redirect(self, **result: str) -> RedirectResponse:
        query = dict(result)
        if self.state is not None:
            query["state"] = self.state
        sep = "&" if "?" in self.redirect_uri else "?"
        return RedirectResponse(f"{self.redirect_uri}{sep}{urlencode(query)}", status_code=302)


class RedirectError(Exception):
    """A problem the client should hear about, on its redirect URI (RFC 6749 §4.1.2.1)."""

    def __init__(self, request: AuthorizeRequest, error: str, description: str) -> None:
        super().__init__(description)
        self.response = request.redirect(error=error, error_description=description)


def parse_authorize(store: Store, params: dict[str, str]) -> AuthorizeRequest:
    client = store.clients.get(params.get("client_id", ""))
    if client is None:
        raise AuthorizeProblem(_("This app is not registered with Perkville (unknown client_id)."))
    redirect_uri = params.get("redirect_uri") or (client.redirect_uris or [""])[0]
    # Exact string match, as the reference requires; anything else would be an open redirect.
    if redirect_uri not in client.redirect_uris:
        raise AuthorizeProblem(
            _("The redirect_uri does not match any address registered for this app.")
        )
    requested = tuple(params["scope"].split()) if params.get("scope") else client.allowed_scopes
    request = AuthorizeRequest(
        client,
        redirect_uri,
        tuple(dict.fromkeys(requested)),
        # An absent state is not echoed back as "state=" (RFC 6749 §4.1.2: only if sent).
        params.get("state") or None,
        params.get("code_challenge") or None,
        {k: params[k] for k in _AUTHORIZE_PARAMS if params.get(k)},
    )
    if params.get("response_type") != "code":
        raise RedirectError(request, "unsupported_response_type", 'response_type must be "code".')
    if "authorization_code" not in client.grant_types:
        raise RedirectError(request, "unauthorized_client", "This client may not use this flow.")
    unknown = [s for s in request.scopes if s not in client.allowed_scopes]
    if unknown:
        raise RedirectError(
            request, "invalid_scope", f"This app may not request: {' '.join(unknown)}."
        )
    method = params.get("code_challenge_method")
    if request.code_challenge is None:
        if client.is_public:
            raise RedirectError(
                request, "invalid_request", "This app must use PKCE (code_challenge, S256)."
            )
        if method:
            raise RedirectError(request, "invalid_request", "code_challenge is missing.")
    else:
        # Only S256 is supported (reference, PKCE); a missing method would mean "plain".
        if method != "S256":
            raise RedirectError(
                request, "invalid_request", "Only code_challenge_method=S256 is supported."
            )
        if not _CHALLENGE.match(request.code_challenge):
            raise RedirectError(request, "invalid_request", "code_challenge is malformed.")
    return request


def _problem_page(request: Request, message: str, language: i18n.Language) -> Response:
    return page(request, "error.html", {"message": message}, status=400, language=language)


def _describe(scope: str) -> str:
    """A scope as the consent page words it, in the page's language."""
    description = SCOPE_DESCRIPTIONS.get(scope)
    return _(description) if description is not None else scope


def _fingerprint(params: dict[str, str]) -> str:
    """What tells one authorization from another: its parameters (those it carries through
    the sign-in's `next` and the consent form), hashed to keep the session cookie small."""
    kept = sorted((k, params[k]) for k in _AUTHORIZE_PARAMS if params.get(k))
    return hashlib.sha256(urlencode(kept).encode()).hexdigest()[:32]


def _remembered_language(request: Request, params: dict[str, str]) -> i18n.Language | None:
    """The language the authorization with these parameters asked for, if it asked."""
    memory = request.session.get(_UI_LOCALE)
    if isinstance(memory, dict) and memory.get("for") == _fingerprint(params):
        return language_tagged(memory.get("tag"))
    return None


def _authorization_language(request: Request, params: dict[str, str]) -> i18n.Language | None:
    """OpenID Connect's `ui_locales` on GET /api/authorize/ (default profile): the first tag
    the sandbox has a catalog for, remembered for this authorization's sign-in and consent
    pages; none known (or none sent, for a new authorization) leaves Accept-Language to choose.
    The reference profile ignores `ui_locales`, as it does `prompt`: Step 1 names neither."""
    if profile_of(request) != "default":
        return None
    raw = request.query_params.get("ui_locales") if request.method == "GET" else None
    if raw is None:  # the round trip back from the sign-in page, or the consent form's POST
        return _remembered_language(request, params)
    language = ui_language(raw)
    if language is None:
        request.session.pop(_UI_LOCALE, None)
    else:
        request.session[_UI_LOCALE] = {"for": _fingerprint(params), "tag": language.tag}
    return language


def _login_language(request: Request, next_url: str) -> i18n.Language | None:
    """The sign-in page of an authorization speaks the language it asked for."""
    parts = urlsplit(next_url)
    if parts.path != "/api/authorize/" or profile_of(request) != "default":
        return None
    query = parse_qs(parts.query)
    return _remembered_language(request, {k: v[0] for k, v in query.items() if v})


def _keeping_ui_locale(request: Request) -> None:
    """Start a fresh session (signing in or out), keeping the language of the authorization
    in progress: the sign-in page's round trip ("Not you?" too) stays in it."""
    memory = request.session.get(_UI_LOCALE)
    request.session.clear()
    if memory is not None:
        request.session[_UI_LOCALE] = memory


def _issue_code(store: Store, auth: AuthorizeRequest, user: User) -> Response:
    code = AuthorizationCode(
        new_secret(),
        auth.client.client_id,
        user.user_id,
        auth.redirect_uri,
        frozenset(auth.scopes),
        auth.code_challenge,
        store.now() + CODE_LIFETIME,
    )
    store.codes[code.code] = code
    return auth.redirect(code=code.code)


async def authorize(request: Request) -> Response:
    """Step 2 of the reference: sign in, agree, and go back to the app with a code."""
    store: Store = request.app.state.store
    prompt = request.query_params.get("prompt") if request.method == "GET" else None
    if prompt == "login" and profile_of(request) == "default":
        # OIDC's prompt=login (kiosks): forget who is signed in here, so the sign-in page shows.
        # `prompt` is not in _AUTHORIZE_PARAMS, so the page's `next` does not ask again. The
        # reference profile ignores it: Step 1 lists no such parameter.
        request.session.pop("uid", None)
    if request.method == "POST":
        form = await request.form()
        params = {k: str(form.get(k, "")) for k in _AUTHORIZE_PARAMS}
    else:
        params = {k: request.query_params.get(k, "") for k in _AUTHORIZE_PARAMS}
    language = speak(request, _authorization_language(request, params))
    try:
        auth = parse_authorize(store, params)
    except AuthorizeProblem as problem:
        return _problem_page(request, str(problem), language)
    except RedirectError as error:
        return error.response

    user = signed_in_user(request)
    if user is None:
        next_url = f"/api/authorize/?{urlencode(auth.params)}"
        return RedirectResponse(f"/login/?{urlencode({'next': next_url})}", status_code=303)

    if request.method == "POST":
        if not csrf_valid(request, form.get("csrf")):
            return _problem_page(
                request, _("This form has expired. Go back to the app and start again."), language
            )
        request.session.pop(_UI_LOCALE, None)  # this authorization is over
        if form.get("decision") != "allow":
            return auth.redirect(error="access_denied", error_description="The user said no.")
        key = (user.user_id, auth.client.client_id)
        store.consents[key] = store.consents.get(key, frozenset()) | frozenset(auth.scopes)
        return _issue_code(store, auth, user)

    if set(auth.scopes) <= store.consents.get((user.user_id, auth.client.client_id), frozenset()):
        request.session.pop(_UI_LOCALE, None)
        return _issue_code(store, auth, user)
    return page(
        request,
        "consent.html",
        {
            "client": auth.client,
            "user": user,
            "scopes": [(s, _describe(s)) for s in auth.scopes],
            "params": auth.params,
            "csrf": csrf_token(request),
        },
        language=language,
    )


def _safe_next(value: str | None) -> str:
    # Only paths on this origin: "//evil.example" and "https://…" would leave the sandbox.
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/"


async def login(request: Request) -> Response:
    """The Perkville sign-in page (email + password)."""
    store: Store = request.app.state.store
    next_url = _safe_next(request.query_params.get("next"))
    language = speak(request, _login_language(request, next_url))
    context: dict[str, Any] = {"next": next_url, "email": "", "error": None}
    if request.method == "POST":
        form = await request.form()
        email = str(form.get("email", "")).strip()
        password = str(form.get("password", ""))
        context["email"] = email
        if not csrf_valid(request, form.get("csrf")):
            context["error"] = _("This form expired. Please try again.")
        else:
            user = store.user_by_email(email) if email else None
            if user is not None and _same(user.password, password):
                _keeping_ui_locale(request)
                request.session["uid"] = user.user_id
                return RedirectResponse(next_url, status_code=303)
            context["error"] = _("That email and password do not match a Perkville account.")
    context["csrf"] = csrf_token(request)
    status = 400 if context["error"] else 200
    return page(request, "login.html", context, status=status, language=language)


def _origin(url: str) -> tuple[str, str] | None:
    parts = urlsplit(url)
    if parts.scheme.lower() not in {"http", "https"} or not parts.netloc:
        return None
    return parts.scheme.lower(), parts.netloc.lower()


def _logout_next(store: Store, value: str) -> str:
    # Besides local paths: an absolute URL on the origin of a redirect URI some client
    # registered (a kiosk app sends the browser through this sign-out and back to itself).
    # Any other origin, "//host", "javascript:" or a backslash falls back to a local page.
    origin = _origin(value)
    if origin is not None and "\\" not in value and value.isprintable() and " " not in value:
        registered = {_origin(uri) for c in store.clients.values() for uri in c.redirect_uris}
        if origin in registered:
            return value
    return _safe_next(value)


async def logout(request: Request) -> Response:
    """End the Perkville sign-in, then go back to a local page or a registered app's origin."""
    _keeping_ui_locale(request)
    next_url = request.query_params.get("next")
    if next_url:
        return RedirectResponse(_logout_next(request.app.state.store, next_url), status_code=303)
    return page(request, "signed_out.html", {})


async def home(request: Request) -> Response:
    return page(request, "home.html", {"user": signed_in_user(request)})


# --- token endpoint ---------------------------------------------------------------------------


def token_error(
    status: int, code: str, message: str, *, basic_auth_used: bool = False
) -> JSONResponse:
    # The reference's error body (error_type: oauth_error) carrying RFC 6749's "error" and
    # "error_description" too, so standard OAuth libraries (Authlib) recognise the failure.
    headers = {"Cache-Control": "no-store", "Pragma": "no-cache"}
    if basic_auth_used:
        # RFC 6749 §5.2: a client that authenticated with the Authorization header gets a
        # challenge for the scheme it used.
        headers["WWW-Authenticate"] = 'Basic realm="perkville"'
    return JSONResponse(
        {
            "error": code,
            "error_description": message,
            "error_type": "oauth_error",
            "errors": {"__all__": [{"code": code, "message": message}]},
        },
        status_code=status,
        headers=headers,
    )


def _client_credentials(request: Request, form: dict[str, str]) -> tuple[str, str | None] | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
        client_id, sep, secret = decoded.partition(":")
        return (client_id, secret) if sep else None
    if form.get("client_id"):
        # Reference, Step 3: "Include the secret here as a GET parameter, or in a Basic Auth
        # header"; the form field is accepted too (the table lists client_secret as a key).
        given = form.get("client_secret") or request.query_params.get("client_secret")
        return form["client_id"], given
    return None


def _same(given: str, expected: str) -> bool:
    """A constant-time comparison that takes any text (`compare_digest` refuses non-ASCII
    `str`, which a form can send)."""
    return hmac.compare_digest(given.encode(), expected.encode())


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


async def token(request: Request) -> Response:
    """Step 3 of the reference, and the password grant."""
    store: Store = request.app.state.store
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        return token_error(
            400,
            "invalid_request",
            "Encode the body as application/x-www-form-urlencoded, not JSON.",
        )
    form = {k: str(v) for k, v in (await request.form()).items()}
    basic = request.headers.get("authorization", "").lower().startswith("basic ")
    credentials = _client_credentials(request, form)
    client = store.clients.get(credentials[0]) if credentials else None
    if credentials is None or client is None:
        return token_error(401, "invalid_client", "Unknown client.", basic_auth_used=basic)
    secret = credentials[1] or None
    if client.is_public:
        if secret is not None:
            return token_error(
                401,
                "invalid_client",
                "This client has no secret; send none.",
                basic_auth_used=basic,
            )
    elif secret is None or not _same(secret, client.secret or ""):
        return token_error(
            401, "invalid_client", "The client secret is missing or wrong.", basic_auth_used=basic
        )

    grant = form.get("grant_type", "")
    if grant not in SUPPORTED_GRANTS:
        return token_error(
            400, "unsupported_grant_type", f"{grant or 'No'} grant is not supported."
        )
    if grant not in client.grant_types:
        # RFC 6749 §5.2: a grant the server knows but this client may not use.
        return token_error(
            400, "unauthorized_client", f"This client may not use the {grant} grant."
        )
    if grant == "authorization_code":
        return _exchange_code(store, client, form)
    return _password_grant(store, client, form)


def _exchange_code(store: Store, client: Client, form: dict[str, str]) -> Response:
    code = store.codes.get(form.get("code", ""))
    if code is None:
        return token_error(400, "invalid_grant", "The authorization code is not valid.")
    if code.used:
        # RFC 6749 §4.1.2: a replayed code revokes what it already bought.
        for key in [k for k, t in store.tokens.items() if t.from_code == code.code]:
            del store.tokens[key]
        return token_error(400, "invalid_grant", "The authorization code was already used.")
    code.used = True
    if store.now() >= code.expires_at:
        return token_error(400, "invalid_grant", "The authorization code has expired.")
    if code.client_id != client.client_id:
        return token_error(400, "invalid_grant", "The code was issued to another client.")
    if form.get("redirect_uri") != code.redirect_uri:
        return token_error(400, "invalid_grant", "redirect_uri does not match the authorize step.")
    if code.code_challenge is not None:
        verifier = form.get("code_verifier", "")
        if not verifier or not _same(_s256(verifier), code.code_challenge):
            return token_error(400, "invalid_grant", "The code_verifier does not match.")
    issued = store.issue_token(client.client_id, code.user_id, code.scopes, from_code=code.code)
    return _token_response(issued.token, issued.scopes)


def _password_grant(store: Store, client: Client, form: dict[str, str]) -> Response:
    user = store.user_by_email(form.get("username", ""))
    if user is None or not _same(user.password, form.get("password", "")):
        return token_error(400, "invalid_grant", "The username or password is wrong.")
    requested = form.get("scope", "").split() or list(client.allowed_scopes)
    unknown = [s for s in requested if s not in client.allowed_scopes]
    if unknown:
        return token_error(
            400, "invalid_scope", f"This client may not request: {' '.join(unknown)}."
        )
    issued = store.issue_token(client.client_id, user.user_id, frozenset(requested))
    return _token_response(issued.token, issued.scopes)


def _token_response(access_token: str, scopes: frozenset[str]) -> JSONResponse:
    return JSONResponse(
        {"access_token": access_token, "token_type": "Bearer", "scope": " ".join(sorted(scopes))},
        headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
    )


routes = [
    Route("/", home, name="home"),
    Route("/api/authorize/", authorize, methods=["GET", "POST"], name="authorize"),
    Route("/api/token/", token, methods=["POST"], name="token"),
    Route("/login/", login, methods=["GET", "POST"], name="login"),
    Route("/logout/", logout, methods=["GET", "POST"], name="logout"),
]
