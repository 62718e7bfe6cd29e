"""The plumbing under every endpoint: one pooled HTTP client, retries and the circuit breaker
(resilience.py), the cache policy for public and member data, and the metrics hook.

The endpoint groups (endpoints/) build on `Upstream`; they say what to ask, this says how.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx2

from ..cache import MEMBER_PREFIX, Cache
from .caller import Caller
from .errors import PerkvilleError, PerkvilleUnavailable
from .parsing import endpoint_of, more_after, objects, parse
from .resilience import CircuitBreaker, backoff

log = logging.getLogger(__name__)

# Business records, levels, locations, challenges... are public and change rarely; Perkville's
# guide asks clients to cache them rather than fetch them on every screen. Fresh for 5 minutes,
# then served for up to a day more while a background call refreshes them.
PUBLIC_TTL_SECONDS = 300.0
PUBLIC_STALE_SECONDS = 86_400.0
# A member's own data is fresh for seconds only, but while Perkville is down the last copy
# (up to an hour old) is better than an error page; the page then says when it is from.
MEMBER_STALE_IF_ERROR_SECONDS = 600.0

# The largest page asked for (the reference's Pagination names no maximum; 100 is Tastypie's,
# and the sandbox's), and how many pages `_every` reads at most, should a list never end.
PAGE_SIZE = 100
MAX_PAGES = 50

# Told of every upstream call once it ends: (method, endpoint, status, seconds). The endpoint is
# the path with ids as `{id}`, so metrics have few labels; status is the HTTP status, or
# "timeout" or "error" when no answer came.
Observer = Callable[[str, str, str, float], None]

Fetch = Callable[[Caller, str, dict[str, Any] | None], Awaitable[dict[str, Any]]]


BREAKER_GROUPS = ("identify", "reads", "writes")


def breaker_group(method: str, path: str) -> str:
    """Which circuit breaker guards a call: the Identify User Flow's token endpoint, the
    `/v2/` reads, or the `/v2/` writes. (The OAuth token exchange is Authlib's own call.)"""
    if "/api/identify/" in path:
        return "identify"
    return "reads" if method == "GET" else "writes"


class Upstream:
    """How every call reaches Perkville's v2 API, whoever it is made for."""

    def __init__(
        self,
        api_url: str,
        *,
        transport: httpx2.AsyncBaseTransport | None = None,
        timeout: float = 10.0,
        observe: Observer | None = None,
        cache: Cache | None = None,
        member_ttl: float = 0.0,
    ) -> None:
        """`cache` None caches nothing; `member_ttl` is how long a member's own data is kept
        for their session (0: not at all)."""
        self._api_url = api_url
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
        # One breaker per group of endpoints, so that one failing group (say, a throttled
        # identify endpoint) never fails pages that only need another.
        self.breakers = {group: CircuitBreaker() for group in BREAKER_GROUPS}
        self._member_ttl = member_ttl

    def __repr__(self) -> str:
        # Tokens travel with each call (a Caller), never in the client: nothing to hide here.
        states = {group: breaker.state for group, breaker in self.breakers.items()}
        return f"{type(self).__name__}({self._api_url!r}, breakers={states!r})"

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

    # --- the cache policy -----------------------------------------------------------------------

    @staticmethod
    def _key(path: str, params: dict[str, Any] | None) -> str:
        return path + "?" + "&".join(f"{k}={v}" for k, v in sorted((params or {}).items()))

    async def _get_public(
        self, caller: Caller, path: str, params: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """The business's public data: the same for every member, so one cache for all."""
        if self._cache is None:
            return await self._get(caller, path, params)
        return await self._cache.fetch(
            "p:" + self._key(path, params),
            lambda: self._get(caller, path, params),
            fresh=PUBLIC_TTL_SECONDS,
            stale=PUBLIC_STALE_SECONDS,
            if_error=PUBLIC_STALE_SECONDS,
            fallback_on=(PerkvilleUnavailable,),
            on_stale=_stale_note(caller),
        )

    async def _get_member(
        self, caller: Caller, path: str, params: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """A member's own data: cached briefly for their session only, never served stale."""
        scope = caller.cache_scope
        if self._cache is None or self._member_ttl <= 0 or scope is None:
            return await self._get(caller, path, params)
        return await self._cache.fetch(
            f"{MEMBER_PREFIX}{scope}:" + self._key(path, params),
            lambda: self._get(caller, path, params),
            fresh=self._member_ttl,
            if_error=MEMBER_STALE_IF_ERROR_SECONDS,
            fallback_on=(PerkvilleUnavailable,),
            on_stale=_stale_note(caller),
        )

    async def _every(
        self,
        caller: Caller,
        path: str,
        params: dict[str, Any],
        *,
        public: bool = False,
        member: bool = False,
    ) -> list[dict[str, Any]]:
        """Every object of a list, page by page at the largest page size, until a page says it
        is the last (`more_after`)."""
        fetch: Fetch = self._get_public if public else self._get_member if member else self._get
        found: list[dict[str, Any]] = []
        offset = 0
        for _ in range(MAX_PAGES):
            data = await fetch(caller, path, {**params, "limit": PAGE_SIZE, "offset": offset})
            page = objects(data)
            found += page
            if not page or not more_after(data, len(page), PAGE_SIZE):
                break
            offset += len(page)
        return found

    # --- one call -------------------------------------------------------------------------------

    async def _get(
        self, caller: Caller, path: str, params: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        return await self._request(caller, "GET", path, params=params)

    async def _send(
        self,
        caller: Caller,
        method: str,
        path: str,
        body: dict[str, Any],
        *,
        replayable: bool = False,
    ) -> dict[str, Any]:
        return await self._request(caller, method, path, json=body, replayable=replayable)

    async def _request(
        self,
        caller: Caller,
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
        breaker = self.breakers[breaker_group(method, path)]
        attempt = 0
        while True:
            try:
                return await self._guarded(
                    breaker, lambda: self._call(caller, method, path, params, json, data)
                )
            except PerkvilleUnavailable as exc:
                attempt += 1
                delay = backoff(attempt, exc.retry_after) if retryable else None
                if delay is None or breaker.state != "closed":
                    raise
                log.info("retrying %s %s in %.2f s: %s", method, endpoint_of(path), delay, exc)
                await asyncio.sleep(delay)
            except PerkvilleError as exc:
                # An answer to a repeat: the try whose answer was lost may have done it.
                exc.retried = attempt > 0
                raise

    @staticmethod
    async def _guarded(
        breaker: CircuitBreaker, call: Callable[[], Awaitable[dict[str, Any]]]
    ) -> dict[str, Any]:
        """One call, through its group's circuit breaker. `call` makes the request only when
        started, so an open breaker refuses it before anything is sent."""
        breaker.before_call()
        try:
            result = await call()
        except PerkvilleUnavailable:
            breaker.failed()
            raise
        except PerkvilleError:
            breaker.succeeded()  # a 4xx or a 501 is an answer: Perkville is up
            raise
        except BaseException:
            breaker.abandoned()  # cancelled: no verdict either way
            raise
        breaker.succeeded()
        return result

    async def _call(
        self,
        caller: Caller,
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
                headers={"Authorization": f"Bearer {caller.token}"},
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
        return parse(response, path, method)


def _stale_note(caller: Caller) -> Callable[[float], None] | None:
    """Where a cached copy standing in for Perkville is noted, so the page can say so."""
    return caller.freshness.saw_stale if caller.freshness is not None else None
