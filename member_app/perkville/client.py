"""The one Perkville client: one method per endpoint, typed results, a short error tree.

Created once in the app's lifespan around one `httpx2.AsyncClient`, so connections are reused.
Views never build upstream URLs or parse upstream JSON; they call these methods.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable
from typing import Any

import httpx2

from ..cache import Cache
from .challenges import Challenge, ChallengeConnection, ChallengeRequirement, RequirementSummary
from .community import AgreementAcceptance, AgreementVersion, Promotion, Referral
from .errors import (
    PerkvilleAuthError,
    PerkvilleError,
    PerkvilleForbidden,
    PerkvilleNotFound,
    PerkvilleRequestError,
    PerkvilleUnavailable,
)
from .models import AdminView, Business, Connection, Level, User, id_from_uri
from .program import EarningRule, Location, Page, Reward, Transaction, Voucher
from .resilience import CircuitBreaker, backoff

log = logging.getLogger(__name__)

# Business records, levels, locations, challenges... are public and change rarely; Perkville's
# guide asks clients to cache them rather than fetch them on every screen. Fresh for 5 minutes,
# then served for up to a day more while a background call refreshes them (issue 6).
PUBLIC_TTL_SECONDS = 300.0
PUBLIC_STALE_SECONDS = 86_400.0
# A member's own data is fresh for seconds only, but while Perkville is down the last copy
# (up to an hour old) is better than an error page; the page then says when it is from.
MEMBER_STALE_IF_ERROR_SECONDS = 3_600.0

# Told of every upstream call once it ends: (method, endpoint, status, seconds). The endpoint is
# the path with ids as `{id}`, so metrics have few labels; status is the HTTP status, or
# "timeout" or "error" when no answer came.
Observer = Callable[[str, str, str, float], None]

_ID_SEGMENT = re.compile(r"/[0-9]+(?=/|$)")


def endpoint_of(path: str) -> str:
    """`/v2/user-vouchers/42/` as `/v2/user-vouchers/{id}/` (and an absolute URL's path)."""
    path = httpx2.URL(path).path if "://" in path else path
    return _ID_SEGMENT.sub("/{id}", path)


class PerkvilleClient:
    """Talks to Perkville's v2 API on behalf of one bearer token per call."""

    def __init__(
        self,
        api_url: str,
        *,
        transport: httpx2.AsyncBaseTransport | None = None,
        timeout: float = 10.0,
        observe: Observer | None = None,
        cache: Cache | None = None,
        member_ttl: float = 0.0,
        one_at_a_time: bool = False,
    ) -> None:
        """`cache` None caches nothing; `member_ttl` is how long a member's own data is kept
        for their session (0: not at all); `one_at_a_time` makes each member's calls wait for
        one another (the benchmark's baseline: what concurrency buys)."""
        self._observe = observe
        self._http = httpx2.AsyncClient(
            base_url=api_url,
            transport=transport,
            # Every call has a deadline; connecting gets less, so a dead host fails fast.
            timeout=httpx2.Timeout(timeout, connect=min(timeout, 3.0)),
            # One pool for every member: keep-alive saves a TCP (and TLS) handshake per call.
            limits=httpx2.Limits(max_connections=100, max_keepalive_connections=50),
            headers={"Accept": "application/json", "User-Agent": "member-app/0.1"},
        )
        self._cache = cache
        self.breaker = CircuitBreaker()
        self._member_ttl = member_ttl
        self._serial: dict[str, asyncio.Lock] | None = {} if one_at_a_time else None
        # The business as last seen, for pages that must not wait for Perkville (brand.css,
        # the manifest, the landing page): kept in-process whatever the cache backend.
        self._businesses: dict[int, dict[str, Any]] = {}

    async def aclose(self) -> None:
        await self._http.aclose()

    async def reachable(self) -> bool:
        """Whether Perkville answers at all (for /readyz): any HTTP answer below 500 counts,
        a 401 to this token-less request included."""
        try:
            response = await self._http.get("/v2/", timeout=httpx2.Timeout(3.0))
        except httpx2.HTTPError:
            return False
        return response.status_code < 500

    # --- endpoints ----------------------------------------------------------------------------

    async def me(self, token: str) -> User:
        """The member who owns `token` (GET /v2/users/me/)."""
        return User.from_api(await self._get(token, "/v2/users/me/"))

    # --- the Identify User Flow (reference, "Identify Token") ---

    async def identify_token(
        self, admin_token: str, *, identify_url: str, redirect_uri: str, state: str
    ) -> str:
        """Step 1: a single-use identify token (ADMIN_IDENTIFY_USER). The body is form-encoded:
        "Do NOT JSON-encode the POST body"."""
        data = await self._request(
            admin_token,
            "POST",
            identify_url,
            data={"redirect_uri": redirect_uri, "state": state},
        )
        token = data.get("identify_token")
        if not isinstance(token, str) or not token:
            raise PerkvilleUnavailable("Perkville sent no identify token")
        return token

    async def user_by_code(self, admin_token: str, code: str) -> User | None:
        """Step 3: the one member an identification code names, or None (unknown, expired,
        used: Perkville answers an empty list)."""
        data = await self._get(admin_token, "/v2/users/", {"code": code})
        objects = data.get("objects")
        if not isinstance(objects, list) or len(objects) != 1:
            return None
        return User.from_api(objects[0])

    async def business(self, token: str, business_id: int) -> Business:
        data = await self._get_public(token, f"/v2/businesses/{business_id}/")
        self._businesses[business_id] = data
        return Business.from_api(data)

    def cached_business(self, business_id: int) -> Business | None:
        """The business as last fetched by anyone, without a call (for signed-out pages)."""
        data = self._businesses.get(business_id)
        return Business.from_api(data) if data is not None else None

    async def levels(self, token: str, business_id: int) -> list[Level]:
        data = await self._get_public(token, "/v2/levels/", {"business": business_id, "limit": 100})
        levels = [Level.from_api(obj) for obj in data.get("objects", [])]
        return sorted(levels, key=lambda level: level.point_floor)

    async def connection(self, token: str, *, business_id: int, user_id: int) -> Connection | None:
        """The member's connection to the business, or None when they have none."""
        data = await self._get_member(
            token, "/v2/connections/", {"business": business_id, "user": user_id}
        )
        objects = data.get("objects", [])
        return Connection.from_api(objects[0]) if objects else None

    async def locations(self, token: str, business_id: int) -> list[Location]:
        data = await self._get_public(
            token, "/v2/locations/", {"business": business_id, "limit": 100}
        )
        return [Location.from_api(obj) for obj in data.get("objects", [])]

    async def earning(self, token: str, business_id: int, loc_id: int | None) -> list[EarningRule]:
        """Earning rules as this member sees them, in Perkville's display order."""
        data = await self._get_member(token, "/v2/earning/", self._view(token, business_id, loc_id))
        return [EarningRule.from_api(obj) for obj in data.get("objects", [])]

    async def redeeming(self, token: str, business_id: int, loc_id: int | None) -> list[Reward]:
        """Rewards as this member sees them, in Perkville's display order."""
        data = await self._get_member(
            token, "/v2/redeeming/", self._view(token, business_id, loc_id)
        )
        return [Reward.from_api(obj) for obj in data.get("objects", [])]

    async def redeem(
        self,
        token: str,
        *,
        business_id: int,
        location_id: int,
        perk_id: int,
        trans_source_id: str,
    ) -> Transaction:
        """Spend the member's points on a reward (USER_REDEEM). The `trans_source_id` makes a
        repeat of the same request a duplicate instead of a second redemption."""
        body = {
            "business": f"/v2/businesses/{business_id}/",
            "location": f"/v2/locations/{location_id}/",
            "perk": f"/v2/perks/{perk_id}/",
            "quantity": 1,
            "trans_source_id": trans_source_id,
        }
        # Safe to send again after a timeout: a repeat is a duplicate, never a second redeem.
        data = await self._send(token, "POST", "/v2/transactions/", body, replayable=True)
        return Transaction.from_api(data)

    async def transaction_by_source(
        self, token: str, business_id: int, trans_source_id: str
    ) -> Transaction | None:
        data = await self._get(
            token,
            "/v2/transactions/",
            {"business": business_id, "user": _user(token), "trans_source_id": trans_source_id},
        )
        objects = data.get("objects", [])
        return Transaction.from_api(objects[0]) if objects else None

    async def transactions(
        self,
        token: str,
        business_id: int,
        *,
        offset: int = 0,
        limit: int = 20,
        classification: str | None = None,
        since: str | None = None,
        until: str | None = None,
    ) -> Page:
        """A page of the member's point history."""
        params: dict[str, Any] = {
            "business": business_id,
            "user": _user(token),
            "limit": limit,
            "offset": offset,
        }
        if classification:
            params["perk__classification"] = classification
        if since:
            params["transaction_dt__gte"] = since
        if until:
            params["transaction_dt__lte"] = until
        data = await self._get_member(token, "/v2/transactions/", params)
        meta = data.get("meta") or {}
        items = tuple(Transaction.from_api(obj) for obj in data.get("objects", []))
        return Page(int(meta.get("total_count", len(items))), offset, limit, items)

    async def vouchers(self, token: str, business_id: int) -> list[Voucher]:
        """The member's vouchers, in Perkville's display order."""
        if isinstance(token, AdminView):
            return await self._admin_vouchers(token, business_id)
        params = {"business": business_id, "limit": 100}
        data = await self._get_member(token, "/v2/user-vouchers/", params)
        return [Voucher.from_api(obj) for obj in data.get("objects", [])]

    async def voucher(self, token: str, voucher_id: int) -> Voucher:
        if isinstance(token, AdminView):
            data = await self._get_member(token, f"/v2/vouchers/{voucher_id}/")
            # The staff token sees every voucher of the business: anyone else's reads as
            # missing, exactly as it does for a member's own token.
            if id_from_uri(data.get("user")) != token.user_id:
                raise PerkvilleNotFound("Not this member's voucher", status=404)
            return (await self._with_perks(token, [data]))[0]
        return Voucher.from_api(await self._get_member(token, f"/v2/user-vouchers/{voucher_id}/"))

    async def _admin_vouchers(self, token: AdminView, business_id: int) -> list[Voucher]:
        """An identified member's vouchers: User Voucher needs USER_CUSTOMER_INFO, so the
        reference's Voucher resource (ADMIN_CUSTOMER_REDEEM), filtered to the member; newest
        first, as a member's own list is."""
        params = {"business": business_id, "user": token.user_id, "limit": 100}
        data = await self._get_member(token, "/v2/vouchers/", params)
        objects = [obj for obj in data.get("objects", []) if isinstance(obj, dict)]
        objects = [obj for obj in objects if id_from_uri(obj.get("user")) == token.user_id]
        objects.sort(key=lambda obj: str(obj.get("created_datetime") or ""), reverse=True)
        return await self._with_perks(token, objects)

    async def _with_perks(self, token: str, objects: list[dict[str, Any]]) -> list[Voucher]:
        """The Voucher resource has no title or fine print: take them from its (public) perk."""
        perk_ids = {pid for obj in objects if (pid := id_from_uri(obj.get("perk"))) is not None}
        ordered = sorted(perk_ids)
        found = await asyncio.gather(
            *(self._get_public(token, f"/v2/perks/{perk_id}/") for perk_id in ordered)
        )
        perks = dict(zip(ordered, found, strict=True))
        vouchers = []
        for obj in objects:
            perk = perks.get(id_from_uri(obj.get("perk")) or 0, {})
            merged = {
                "title": perk.get("title", ""),
                "perk_description": perk.get("description", ""),
                "perk_fine_print": perk.get("fine_print", ""),
                **obj,
            }
            vouchers.append(Voucher.from_api(merged))
        return vouchers

    async def mark_voucher_used(self, token: str, voucher_id: int) -> Voucher:
        # Safe to send again: it either marks the voucher once or is refused as already used.
        data = await self._send(
            token, "PATCH", f"/v2/user-vouchers/{voucher_id}/", {"status": "USED"}, replayable=True
        )
        return Voucher.from_api(data)

    # --- challenges (challenges.py) ---

    async def challenges(self, token: str, business_id: int) -> list[Challenge]:
        """The business's challenges, whatever their dates (public, so cached like levels)."""
        objects = await self._every(
            token, "/v2/challenges/", {"business": business_id}, public=True
        )
        return [Challenge.from_api(obj) for obj in objects]

    async def challenge_requirements(
        self, token: str, business_id: int
    ) -> list[ChallengeRequirement]:
        """What each of the business's challenges asks for (public, cached)."""
        objects = await self._every(
            token, "/v2/challenge-requirements/", {"business": business_id}, public=True
        )
        return [ChallengeRequirement.from_api(obj) for obj in objects]

    async def challenge_connections(
        self, token: str, business_id: int
    ) -> list[ChallengeConnection]:
        """The member's challenge connections at the business: joined, left or invited.
        `user=me` keeps a staff member's token to their own records (reference, Challenge
        Connection: ADMIN_CUSTOMER_INFO sees the whole business)."""
        params = {"business": business_id, "user": _user(token)}
        objects = await self._every(token, "/v2/challenge-connections/", params, member=True)
        return [ChallengeConnection.from_api(obj) for obj in objects]

    async def challenge_summaries(
        self, token: str, challenge_connection_ids: list[int]
    ) -> list[RequirementSummary]:
        """Progress on each requirement of these challenge connections."""
        if not challenge_connection_ids:
            return []
        params = {"challenge_connection__in": ",".join(map(str, challenge_connection_ids))}
        objects = await self._every(
            token, "/v2/challenge-connection-requirement-summaries/", params, member=True
        )
        return [RequirementSummary.from_api(obj) for obj in objects]

    async def set_challenge_join_status(
        self, token: str, challenge_id: int, join_status: str
    ) -> ChallengeConnection:
        """Join (ACTIVE) or leave (INACTIVE) a challenge as the token's member; the POST
        creates or updates their challenge connection (reference, Challenge Connection POST)."""
        body = {"challenge": f"/v2/challenges/{challenge_id}/", "join_status": join_status}
        data = await self._send(token, "POST", "/v2/challenge-connections/", body)
        return ChallengeConnection.from_api(data)

    async def _every(
        self,
        token: str,
        path: str,
        params: dict[str, Any],
        *,
        public: bool = False,
        member: bool = False,
    ) -> list[dict[str, Any]]:
        """Every object of a list, page by page at Perkville's largest page size (100)."""
        fetch = self._get_public if public else self._get_member if member else self._get
        objects: list[dict[str, Any]] = []
        offset = 0
        for _ in range(50):  # 5,000 records: a bound, should a `next` link never end
            data = await fetch(token, path, {**params, "limit": 100, "offset": offset})
            page = data.get("objects")
            page = page if isinstance(page, list) else []
            objects += [obj for obj in page if isinstance(obj, dict)]
            meta = data.get("meta")
            if not page or not isinstance(meta, dict) or not meta.get("next"):
                break
            offset += len(page)
        return objects

    # --- referrals and joining (referrals.py, join.py) ---

    async def referrals(self, token: str, business_id: int, user_id: int) -> list[Referral]:
        """The friends this member referred (USER_REFERRAL also lists referrals *to* the
        member, hence the referrer filter)."""
        data = await self._get_member(
            token,
            "/v2/referrals/",
            {"business": business_id, "referral_from_user": user_id, "limit": 100},
        )
        return [Referral.from_api(obj) for obj in data.get("objects", [])]

    async def refer(
        self,
        token: str,
        *,
        business_id: int,
        email: str,
        first_name: str = "",
        last_name: str = "",
        note: str = "",
        location_id: int | None = None,
    ) -> Referral:
        """Refer a friend as the member (USER_REFERRAL): Perkville sends them the offer."""
        body: dict[str, Any] = {
            "business": f"/v2/businesses/{business_id}/",
            "referral_to_email": email,
        }
        optional = {
            "referral_to_first_name": first_name,
            "referral_to_last_name": last_name,
            "referral_content": note,
            "location": f"/v2/locations/{location_id}/" if location_id else "",
        }
        body.update({key: value for key, value in optional.items() if value})
        return Referral.from_api(await self._send(token, "POST", "/v2/referrals/", body))

    async def promotions(
        self, token: str, business_id: int, location_id: int | None
    ) -> list[Promotion]:
        """The referral offers at a location (the all-locations one when it has none of its
        own: reference, Promotion)."""
        params: dict[str, Any] = {"business": business_id, "limit": 100}
        if location_id is not None:
            params["location"] = location_id
        data = await self._get_public(token, "/v2/promotions/", params)
        return [Promotion.from_api(obj) for obj in data.get("objects", [])]

    async def agreement_versions(self, token: str, business_id: int) -> list[AgreementVersion]:
        """The business's active agreement versions. Not cached: a new version of the terms
        must be asked for at once."""
        data = await self._get(
            token, "/v2/agreement-versions/", {"business": business_id, "limit": 100}
        )
        versions = [AgreementVersion.from_api(obj) for obj in data.get("objects", [])]
        return [v for v in versions if v.is_active]

    async def accepted_agreements(
        self, token: str, business_id: int, user_id: int
    ) -> list[AgreementAcceptance]:
        data = await self._get_member(
            token,
            "/v2/user-business-agreements/",
            {"business": business_id, "user": user_id, "limit": 100},
        )
        return [AgreementAcceptance.from_api(obj) for obj in data.get("objects", [])]

    async def accept_agreements(
        self, admin_token: str, *, business_id: int, user_id: int, version_ids: list[int]
    ) -> list[AgreementAcceptance]:
        """Record the member's acceptance with a staff token: no member-token write exists
        (reference, User Business Agreement; research notes §3, the batch endpoint). Any item
        Perkville refuses raises, with its codes."""
        body = {
            "business": business_id,
            "user_business_agreements": [
                {"agreement_version": version_id, "user": user_id} for version_id in version_ids
            ],
        }
        data = await self._send(admin_token, "POST", "/v2/batch/user-business-agreements/", body)
        items = data.get("user_business_agreements")
        results = items if isinstance(items, list) else []
        refused = [item for item in results if isinstance(item, dict) and "errors" in item]
        if refused or len(results) != len(version_ids):
            codes = tuple(
                str(error.get("code", ""))
                for item in refused
                for errors in (item.get("errors") or {}).values()
                for error in (errors if isinstance(errors, list) else [])
                if isinstance(error, dict)
            )
            raise PerkvilleRequestError(
                "Perkville did not record every agreement", status=200, codes=codes
            )
        return [AgreementAcceptance.from_api(item) for item in results]

    async def join(self, token: str, connection_id: int) -> Connection:
        """Join the rewards program: the member's connection becomes ACTIVE (reference,
        Connection PATCH; research notes §3, §21.9)."""
        data = await self._send(
            token, "PATCH", f"/v2/connections/{connection_id}/", {"status": "ACTIVE"}
        )
        return Connection.from_api(data)

    # --- plumbing -----------------------------------------------------------------------------

    @staticmethod
    def _view(token: str, business_id: int, loc_id: int | None) -> dict[str, Any]:
        # view_as_user needs USER_CUSTOMER_INFO; an identified member (staff token) sees the
        # program from the signed-out perspective, their balance coming from the connection.
        as_user = "false" if isinstance(token, AdminView) else "true"
        params: dict[str, Any] = {"business": business_id, "view_as_user": as_user, "limit": 100}
        if loc_id is not None:
            params["loc_id"] = loc_id
        return params

    @staticmethod
    def _key(path: str, params: dict[str, Any] | None) -> str:
        return path + "?" + "&".join(f"{k}={v}" for k, v in sorted((params or {}).items()))

    async def _get_public(
        self, token: str, path: str, params: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """The business's public data: the same for every member, so one cache for all."""
        if self._cache is None:
            return await self._get(token, path, params)
        return await self._cache.fetch(
            "p:" + self._key(path, params),
            lambda: self._get(token, path, params),
            fresh=PUBLIC_TTL_SECONDS,
            stale=PUBLIC_STALE_SECONDS,
            if_error=PUBLIC_STALE_SECONDS,
            fallback_on=(PerkvilleUnavailable,),
            on_stale=_stale_note(token),
        )

    async def _get_member(
        self, token: str, path: str, params: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """A member's own data: cached briefly for their session only, never served stale."""
        scope = getattr(token, "cache_scope", None)
        if self._cache is None or self._member_ttl <= 0 or scope is None:
            return await self._get(token, path, params)
        return await self._cache.fetch(
            f"m:{scope}:" + self._key(path, params),
            lambda: self._get(token, path, params),
            fresh=self._member_ttl,
            if_error=MEMBER_STALE_IF_ERROR_SECONDS,
            fallback_on=(PerkvilleUnavailable,),
            on_stale=_stale_note(token),
        )

    async def _get(
        self, token: str, path: str, params: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        return await self._request(token, "GET", path, params=params)

    async def _send(
        self, token: str, method: str, path: str, body: dict[str, Any], *, replayable: bool = False
    ) -> dict[str, Any]:
        return await self._request(token, method, path, json=body, replayable=replayable)

    async def _request(
        self,
        token: str,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: dict[str, Any] | None = None,
        data: dict[str, str] | None = None,
        replayable: bool = False,
    ) -> dict[str, Any]:
        """A call to Perkville, retried when that is safe: GETs, and `replayable` requests whose
        repeat Perkville recognises (a redeem's trans_source_id)."""
        retryable = method == "GET" or replayable
        attempt = 0
        while True:
            try:
                return await self._guarded(token, method, path, params, json, data)
            except PerkvilleUnavailable as exc:
                attempt += 1
                delay = backoff(attempt, exc.retry_after) if retryable else None
                if delay is None or self.breaker.state != "closed":
                    raise
                log.info("retrying %s %s in %.2f s: %s", method, endpoint_of(path), delay, exc)
                await asyncio.sleep(delay)

    async def _guarded(
        self,
        token: str,
        method: str,
        path: str,
        params: dict[str, Any] | None,
        json: dict[str, Any] | None,
        data: dict[str, str] | None,
    ) -> dict[str, Any]:
        """One call, through the circuit breaker (and, for the baseline, one at a time)."""
        self.breaker.before_call()
        try:
            if self._serial is not None:
                async with self._serial.setdefault(token, asyncio.Lock()):
                    result = await self._call(token, method, path, params, json, data)
            else:
                result = await self._call(token, method, path, params, json, data)
        except PerkvilleUnavailable:
            self.breaker.failed()
            raise
        except PerkvilleError:
            self.breaker.succeeded()  # a 4xx is an answer: Perkville is up
            raise
        except BaseException:
            self.breaker.abandoned()  # cancelled: no verdict either way
            raise
        self.breaker.succeeded()
        return result

    async def _call(
        self,
        token: str,
        method: str,
        path: str,
        params: dict[str, Any] | None,
        json: dict[str, Any] | None,
        data: dict[str, str] | None,
    ) -> dict[str, Any]:
        started = time.perf_counter()
        outcome = "error"
        try:
            response = await self._http.request(
                method,
                path,
                params=params,
                json=json,
                data=data,
                headers={"Authorization": f"Bearer {token}"},
            )
            outcome = str(response.status_code)
        except httpx2.TimeoutException as exc:
            outcome = "timeout"
            raise PerkvilleUnavailable(f"Perkville did not answer in time ({path})") from exc
        except httpx2.HTTPError as exc:
            raise PerkvilleUnavailable(f"Perkville could not be reached ({path})") from exc
        finally:
            if self._observe is not None:
                self._observe(method, endpoint_of(path), outcome, time.perf_counter() - started)
        return _parse(response, path)


def _user(token: str) -> int | str:
    """Whose records: the token's own (`me`), or the identified member's (an AdminView)."""
    return token.user_id if isinstance(token, AdminView) else "me"


def _stale_note(token: str) -> Callable[[float], None] | None:
    freshness = getattr(token, "freshness", None)
    return freshness.saw_stale if freshness is not None else None


def _seconds(value: str | None) -> float | None:
    """A `Retry-After` in seconds (the HTTP-date form is treated as "later": no retry)."""
    try:
        return max(float(value), 0.0) if value is not None else None
    except ValueError:
        return float("inf")


def _parse(response: httpx2.Response, path: str) -> dict[str, Any]:
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
            retry_after=_seconds(response.headers.get("retry-after")),
        )
    error_type = body.get("error_type") if isinstance(body.get("error_type"), str) else None
    codes: list[str] = []
    messages: list[str] = []
    errors = body.get("errors")
    if isinstance(errors, dict):
        for items in errors.values():
            for item in items if isinstance(items, list) else []:
                if isinstance(item, dict):
                    codes.append(str(item.get("code", "")))
                    messages.append(str(item.get("message", "")))
    message = "; ".join(m for m in messages if m) or f"Perkville answered {status} ({path})"
    cls: type[PerkvilleError] = {
        401: PerkvilleAuthError,
        403: PerkvilleForbidden,
        404: PerkvilleNotFound,
    }.get(status, PerkvilleRequestError)
    log.info("perkville %s on %s: %s %s", status, path, error_type, ",".join(codes))
    raise cls(message, status=status, error_type=error_type, codes=tuple(codes))
