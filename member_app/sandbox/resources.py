"""The machinery every v2 resource shares: bearer auth, scopes, filters, pagination.

A resource is declared once (`Resource`) with its table, serializer, filterable fields, scope
rule, per-token visibility and required-filter rule; `resource_routes` turns a list of them into
`/v2/{name}/` and `/v2/{name}/{id}/` routes. The rules several resources share (customer
records, "Required Filters") are here too.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .errors import AUTHORIZATION_ERROR, OAUTH_ERROR, ApiError, invalid_request, not_found
from .profiles import Profile, filter_allowed, me_allowed, meta, profile_of, trim
from .store import AccessToken, Store

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
OPERATORS = ("in", "gt", "gte", "lt", "lte")
RESERVED_PARAMS = frozenset({"limit", "offset", "format"})
ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
# HEAD is GET without the body (Starlette adds it to every GET route).
READ_METHODS = frozenset({"GET", "HEAD"})


def iso(value: datetime | None) -> str | None:
    """ISO 8601 with an explicit UTC offset, as every datetime in the reference is written."""
    return None if value is None else value.astimezone(UTC).isoformat(timespec="seconds")


def iso_date(value: date | None) -> str | None:
    """A date without a time, "2026-11-30"."""
    return None if value is None else value.isoformat()


def uri(name: str, key: int | None) -> str | None:
    return None if key is None else f"/v2/{name}/{key}/"


@dataclass(frozen=True, slots=True)
class Context:
    """What a serializer may need beyond the row itself."""

    store: Store
    token: AccessToken
    base_url: str  # absolute, for media URLs such as logos and badges
    profile: Profile = "default"  # profiles.py: what the sandbox serves beyond the reference


Serializer = Callable[[Any, Context], dict[str, Any]]
# What a write made: the status (201 created, 202 updated) and the object, which the machinery
# serves as the profile says (`respond`).
Written = tuple[int, dict[str, Any]]
CreateHandler = Callable[[Request, "Context"], Awaitable[Written]]
UpdateHandler = Callable[[Request, "Context", Any], Awaitable[Written]]
Getter = Callable[[Any, Store], Any]


@dataclass(frozen=True, slots=True)
class Field:
    """A filterable field: how to read it from a row, and what type its query values have."""

    get: Getter
    kind: str = "int"  # int | str | datetime | bool | user (an int that also accepts "me")


@dataclass(frozen=True, slots=True)
class Filter:
    field: str
    op: str  # "exact" or one of OPERATORS
    values: tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class ScopeRule:
    all_of: tuple[str, ...] = ("PUBLIC",)
    any_of: tuple[str, ...] = ()

    def check(self, token: AccessToken) -> None:
        missing = [s for s in self.all_of if s not in token.scopes]
        if self.any_of and not token.scopes.intersection(self.any_of):
            missing.append(" or ".join(self.any_of))
        if missing:
            raise ApiError(
                403,
                AUTHORIZATION_ERROR,
                "insufficient_scope",
                f"This request needs the {', '.join(missing)} scope.",
            )


# The read scopes of the customer records (User, Connection, Transaction, Challenge Connection,
# User Business Agreement, ...): PUBLIC and one of the two CUSTOMER_INFO scopes.
CUSTOMER_INFO = ScopeRule(any_of=("ADMIN_CUSTOMER_INFO", "USER_CUSTOMER_INFO"))


def customer_visible(
    business_id: int, owner_id: int | None, token: AccessToken, store: Store
) -> bool:
    """The reference's rule for customer records: your own with USER_CUSTOMER_INFO; with
    ADMIN_CUSTOMER_INFO, those of a business where you are ADMIN staff."""
    if "USER_CUSTOMER_INFO" in token.scopes and owner_id == token.user_id:
        return True
    return "ADMIN_CUSTOMER_INFO" in token.scopes and store.is_admin(token.user_id, business_id)


@dataclass(frozen=True)
class Resource:
    name: str
    label: str
    table: Callable[[Store], Mapping[int, Any]]
    serialize: Serializer
    scopes: ScopeRule = ScopeRule()
    fields: Mapping[str, Field] = field(default_factory=dict)
    visible: Callable[[Any, AccessToken, Store], bool] = lambda row, token, store: True
    check_filters: Callable[[Sequence[Filter]], None] | None = None
    # /v2/users/me/: the key "me" means the token's own user.
    me_alias: bool = False
    # Writes, where the reference allows them. Each handler checks its own scopes (they differ
    # from the read scopes) and returns the reference's status (201 created, 202 updated).
    create: CreateHandler | None = None  # POST /v2/{name}/
    update: UpdateHandler | None = None  # PATCH /v2/{name}/{id}/ (row already visibility-checked)
    # List order (default: primary key ascending), e.g. transactions newest first.
    order: Callable[[list[Any], Store], list[Any]] | None = None
    # Required filters that depend on the token (transactions: an admin must name a user).
    check_token_filters: Callable[[Sequence[Filter], AccessToken], None] | None = None
    # Query parameters answered by a lookup rather than a row's field (users: the Identify User
    # Flow's `code`): name -> (raw value, token, store) -> the keys of the rows it selects.
    lookups: Mapping[str, Callable[[str, AccessToken, Store], set[int]]] = field(
        default_factory=dict
    )
    # Filters a list applies when the query does not filter that field (perks: only ACTIVE ones,
    # as the reference's "In" filter example reads: "all active redeem perks").
    default_filters: tuple[Filter, ...] = ()


def required_filters(
    label: str, any_of: tuple[str, ...], no_in: str
) -> Callable[[Sequence[Filter]], None]:
    """The reference's "Required Filters": one of `any_of` (any operator), never `no_in__in`."""

    def check(filters: Sequence[Filter]) -> None:
        if any(f.field == no_in and f.op == "in" for f in filters):
            raise invalid_request(
                "invalid_filter",
                f"An IN query on {no_in} is not allowed for {label}.",
                f"{no_in}__in",
            )
        if not any(f.field in any_of for f in filters):
            raise invalid_request(
                "required", f"{label.capitalize()} must be filtered by {' or '.join(any_of)}."
            )

    return check


def authenticate(request: Request, store: Store) -> AccessToken:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise ApiError(
            401,
            OAUTH_ERROR,
            "missing_token",
            "Send a bearer token in the Authorization header.",
        )
    token = store.tokens.get(value.strip())
    if token is None:
        raise ApiError(
            401, OAUTH_ERROR, "invalid_token", "The bearer token is invalid or has been revoked."
        )
    return token


def _coerce(kind: str, raw: str, name: str, token: AccessToken, me_ok: bool) -> Any:
    try:
        if kind == "user" and raw == "me" and me_ok:
            return token.user_id
        if kind in {"int", "user"}:
            return int(raw)
        if kind == "bool":
            if raw.lower() in {"true", "1"}:
                return True
            if raw.lower() in {"false", "0"}:
                return False
            raise ValueError(raw)
        if kind == "datetime":
            parsed = datetime.fromisoformat(raw.strip().replace(" ", "T", 1))
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
        return raw.strip().lower()
    except ValueError:
        raise invalid_request(
            "invalid", f"{raw!r} is not a valid value for the {name} filter.", name
        ) from None


def parse_filters(resource: Resource, request: Request, token: AccessToken) -> list[Filter]:
    profile = profile_of(request)
    filters = []
    for key, raw in request.query_params.multi_items():
        if key in RESERVED_PARAMS or key in resource.lookups:
            continue
        name, _, op = key.rpartition("__")
        if op not in OPERATORS:
            name, op = key, "exact"
        spec = resource.fields.get(name) if filter_allowed(resource.name, name, profile) else None
        if spec is None:
            raise invalid_request(
                "invalid_filter", f"Filtering {resource.label} by {key!r} is not allowed.", key
            )
        parts = raw.split(",") if op == "in" else [raw]
        # `me` where the profile takes it (reference: only ?user=me on transactions).
        me_ok = me_allowed(resource.name, key, profile)
        values = tuple(_coerce(spec.kind, part, key, token, me_ok) for part in parts if part != "")
        if not values:
            raise invalid_request("invalid", f"The {key} filter needs a value.", key)
        filters.append(Filter(name, op, values))
    if resource.check_filters is not None:
        resource.check_filters(filters)
    if resource.check_token_filters is not None:
        resource.check_token_filters(filters, token)
    return filters


def matches(actual: Any, f: Filter) -> bool:
    candidates = actual if isinstance(actual, list) else [actual]
    for value in candidates:
        if value is None:
            continue
        if isinstance(value, str):
            value = value.lower()
        if f.op in {"exact", "in"} and value in f.values:
            return True
        target = f.values[0]
        if (
            (f.op == "gt" and value > target)
            or (f.op == "gte" and value >= target)
            or (f.op == "lt" and value < target)
            or (f.op == "lte" and value <= target)
        ):
            return True
    return False


def page_bounds(request: Request) -> tuple[int, int]:
    """`limit` and `offset` (reference, Pagination), checked."""

    def read(name: str, default: int) -> int:
        raw = request.query_params.get(name)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise invalid_request("invalid", f"{name} must be a whole number.", name) from None
        if value < 0:
            raise invalid_request("invalid", f"{name} must not be negative.", name)
        return value

    limit = read("limit", DEFAULT_LIMIT)
    # As in Tastypie (which Perkville's v2 API is built on), limit=0 asks for the largest page.
    limit = MAX_LIMIT if limit == 0 else min(limit, MAX_LIMIT)
    return limit, read("offset", 0)


def _page_link(request: Request, limit: int, offset: int) -> str:
    params = [(k, v) for k, v in request.query_params.multi_items() if k not in {"limit", "offset"}]
    params += [("limit", str(limit)), ("offset", str(offset))]
    return f"{request.url.path}?{urlencode(params)}"


def list_response(
    resource: Resource, request: Request, ctx: Context, rows: Sequence[Any]
) -> JSONResponse:
    """A page of `rows` in the reference's list body (meta + objects)."""
    limit, offset = page_bounds(request)
    total = len(rows)
    page = rows[offset : offset + limit]
    full = {
        "limit": limit,
        "offset": offset,
        "next": _page_link(request, limit, offset + limit) if offset + limit < total else None,
        "previous": _page_link(request, limit, max(offset - limit, 0)) if offset > 0 else None,
        "total_count": total,
    }
    objects = [trim(resource.name, resource.serialize(r, ctx), ctx.profile) for r in page]
    return JSONResponse({"meta": meta(full, ctx.profile), "objects": objects})


def bare_list_response(
    resource: Resource, request: Request, ctx: Context, rows: Sequence[Any]
) -> JSONResponse:
    """A page of `rows` as the bare objects, with no `meta` (the reference's Scope example)."""
    limit, offset = page_bounds(request)
    page = rows[offset : offset + limit]
    return JSONResponse(
        [trim(resource.name, resource.serialize(r, ctx), ctx.profile) for r in page]
    )


def respond(resource: Resource, data: dict[str, Any], ctx: Context, status: int = 200) -> Response:
    """One object of `resource` (a detail, or what a write made), as the profile serves it."""
    return JSONResponse(trim(resource.name, data, ctx.profile), status_code=status)


def request_context(request: Request, token: AccessToken) -> Context:
    base_url = str(request.base_url).rstrip("/")
    return Context(request.app.state.store, token, base_url, profile_of(request))


def not_implemented(request: Request) -> ApiError:
    return ApiError(
        501,
        "invalid_request_error",
        "method_not_implemented",
        f"{request.method} is not supported on this resource.",
    )


Endpoint = Callable[[Request], Awaitable[Response]]


def _list_endpoint(resource: Resource) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        store: Store = request.app.state.store
        token = authenticate(request, store)
        if request.method == "POST" and resource.create is not None:
            ctx = request_context(request, token)
            status, data = await resource.create(request, ctx)
            return respond(resource, data, ctx, status)
        if request.method not in READ_METHODS:
            raise not_implemented(request)
        resource.scopes.check(token)
        filters = parse_filters(resource, request, token)
        filters += [
            d for d in resource.default_filters if not any(f.field == d.field for f in filters)
        ]
        selected = [
            lookup(request.query_params[name], token, store)
            for name, lookup in resource.lookups.items()
            if name in request.query_params
        ]
        rows = [
            row
            for key, row in sorted(resource.table(store).items())
            if all(key in keys for keys in selected)
            and resource.visible(row, token, store)
            and all(matches(resource.fields[f.field].get(row, store), f) for f in filters)
        ]
        if resource.order is not None:
            rows = resource.order(rows, store)
        return list_response(resource, request, request_context(request, token), rows)

    return endpoint


def _detail_endpoint(resource: Resource) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        store: Store = request.app.state.store
        token = authenticate(request, store)
        writing = request.method == "PATCH" and resource.update is not None
        if request.method not in READ_METHODS and not writing:
            raise not_implemented(request)
        if not writing:
            resource.scopes.check(token)
        raw_key = request.path_params["key"]
        # /v2/users/me/ is "the User which belongs to the Bearer Token" (reference, User), whoever
        # else that token may see: staff who are nobody's customer included.
        mine = resource.me_alias and raw_key == "me"
        if mine:
            key = token.user_id
        else:
            try:
                key = int(raw_key)
            except ValueError:
                raise not_found(resource.label) from None
        row = resource.table(store).get(key)
        # Records outside the token's reach are filtered out of the queryset, so they read as
        # missing (404) rather than forbidden: ids of other members are not confirmed to exist.
        if row is None or not (mine or resource.visible(row, token, store)):
            raise not_found(resource.label)
        ctx = request_context(request, token)
        if writing:
            assert resource.update is not None
            status, data = await resource.update(request, ctx, row)
            return respond(resource, data, ctx, status)
        return respond(resource, resource.serialize(row, ctx), ctx)

    return endpoint


def resource_routes(resources: Sequence[Resource]) -> list[Route]:
    routes = []
    for resource in resources:
        routes.append(Route(f"/v2/{resource.name}/", _list_endpoint(resource), methods=ALL_METHODS))
        routes.append(
            Route(f"/v2/{resource.name}/{{key}}/", _detail_endpoint(resource), methods=ALL_METHODS)
        )
    return routes
