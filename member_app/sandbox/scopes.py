"""The Scope resource (reference: Scope): the bearer token's own scopes, no scope needed."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .resources import (
    ALL_METHODS,
    READ_METHODS,
    Field,
    Resource,
    authenticate,
    bare_list_response,
    matches,
    not_implemented,
    parse_filters,
    request_context,
)
from .store import Store

# The reference's scope objects carry only "scope" (no id, so no resource_uri).
_SCOPE_LIST = Resource(
    "scopes",
    "scopes",
    lambda s: {},
    lambda name, ctx: {"scope": name},
    fields={"scope": Field(lambda name, s: name, "str")},
)


async def scopes(request: Request) -> Response:
    """GET /v2/scopes/: the scopes of the bearer token (no scope needed, per the reference), as
    the reference's example shows them: the objects themselves, with no `meta`/`objects` body."""
    token = authenticate(request, request.app.state.store)
    if request.method not in READ_METHODS:
        raise not_implemented(request)
    # Filters are parsed as on every other list, so an unknown parameter is a 400 here too.
    filters = parse_filters(_SCOPE_LIST, request, token)
    store: Store = request.app.state.store
    rows = [
        name
        for name in sorted(token.scopes)
        if all(matches(_SCOPE_LIST.fields[f.field].get(name, store), f) for f in filters)
    ]
    return bare_list_response(_SCOPE_LIST, request, request_context(request, token), rows)


routes = [Route("/v2/scopes/", scopes, methods=ALL_METHODS)]
