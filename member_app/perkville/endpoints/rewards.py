"""Earning and spending points: the program's rules as the member sees them, redeeming, the
point history and vouchers (reference: Rewards Program Rules, Earning Rules, Redeeming Rules,
Transaction, User Voucher, Voucher)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from ..caller import Caller
from ..errors import (
    PerkvilleDuplicate,
    PerkvilleError,
    PerkvilleForbidden,
    PerkvilleNotFound,
    PerkvilleRequestError,
)
from ..models import id_from_uri
from ..parsing import more_after, objects, records
from ..program import EarningRule, Page, Reward, Transaction, Voucher
from ..upstream import PAGE_SIZE, Upstream

log = logging.getLogger(__name__)


# The history pages cached for a session: the first few, unfiltered.
CACHED_HISTORY_OFFSET = 100


class RewardEndpoints(Upstream):
    # --- the program's rules ---

    async def earning(
        self, caller: Caller, business_id: int, loc_id: int | None
    ) -> list[EarningRule]:
        """Earning rules as this member sees them, in Perkville's display order."""
        data = await self._get_member(caller, "/v2/earning/", _view(caller, business_id, loc_id))
        return [EarningRule.from_api(obj) for obj in objects(data)]

    async def redeeming(self, caller: Caller, business_id: int, loc_id: int | None) -> list[Reward]:
        """Rewards as this member sees them, in Perkville's display order."""
        params = _view(caller, business_id, loc_id)
        data = await self._get_member(caller, "/v2/redeeming/", params)
        # A list body, a bare list, or one bare rule (the reference's example is one).
        return [Reward.from_api(obj) for obj in records(data, "perk_id")]

    async def perk_locations(self, caller: Caller, perk_id: int) -> frozenset[int] | None:
        """Where a perk applies: its eligible locations, or None for every location (reference,
        Perk: `eligible_at_all_locations`; bonus perks may name locations, and a bonus counts
        only there). Public, so cached for everyone."""
        data = await self._get_public(caller, f"/v2/perks/{perk_id}/")
        if data.get("eligible_at_all_locations") is not False:
            return None
        found = data.get("eligible_locations")
        uris = found if isinstance(found, list) else []
        return frozenset(i for i in map(id_from_uri, uris) if i is not None)

    # --- transactions ---

    async def redeem(
        self,
        caller: Caller,
        *,
        business_id: int,
        location_id: int,
        perk_id: int,
        trans_source_id: str,
    ) -> Transaction:
        """Spend the member's points on a reward (USER_REDEEM). The `trans_source_id` makes a
        repeat of the same request a duplicate instead of a second redemption; a repeat returns
        the transaction the first one made. Raises PerkvilleRefused when the program's rules
        say no, and PerkvilleDuplicate when the id was used by something else. The transaction
        returned may have no voucher (`voucher_id` None) when Perkville names none."""
        body = {
            "business": f"/v2/businesses/{business_id}/",
            "location": f"/v2/locations/{location_id}/",
            "perk": f"/v2/perks/{perk_id}/",
            "quantity": 1,
            "trans_source_id": trans_source_id,
        }
        try:
            # Safe to send again after a timeout: a repeat is a duplicate, never a second redeem.
            data = await self._send(caller, "POST", "/v2/transactions/", body, replayable=True)
        except PerkvilleError as exc:
            if not _maybe_made_before(exc):
                raise
            earlier = await self.transaction_by_source(caller, business_id, trans_source_id)
            if earlier is None or not _redeems(earlier, perk_id):
                raise
            log.info("redeem of perk %s was made before: %s", perk_id, earlier.transaction_id)
            return earlier
        made = Transaction.from_api(data)
        if made.voucher_id is not None:
            return made
        # Reference, Transaction — Returns: "the voucher property will only appear if the
        # transaction actually has a voucher"; and a 2xx may come without a body. The
        # transaction as Perkville lists it may name the voucher.
        try:
            again = await self.transaction_by_source(caller, business_id, trans_source_id)
        except PerkvilleError as exc:
            log.info("redeemed perk %s; its voucher unread: %s", perk_id, type(exc).__name__)
            return made
        return again if again is not None and _redeems(again, perk_id) else made

    async def transaction_by_source(
        self, caller: Caller, business_id: int, trans_source_id: str
    ) -> Transaction | None:
        """The member's transaction with exactly this `trans_source_id`, or None. (Perkville's
        string filters may ignore case: what it finds is checked.)"""
        params = {"business": business_id, "user": caller.user, "trans_source_id": trans_source_id}
        found = objects(await self._get(caller, "/v2/transactions/", params))
        transactions = (Transaction.from_api(obj) for obj in found)
        return next((t for t in transactions if t.trans_source_id == trans_source_id), None)

    async def transactions(
        self,
        caller: Caller,
        business_id: int,
        *,
        offset: int = 0,
        limit: int = 20,
        classification: str | None = None,
        since: str | None = None,
        until: str | None = None,
    ) -> Page:
        """A page of the member's point history: at most `limit` lines (and fewer than the
        largest page), and whether older ones follow. The reference's lists carry no count,
        so one more line than shown is asked for: if it comes, there is more."""
        shown = max(min(limit, PAGE_SIZE - 1), 1)
        params: dict[str, Any] = {
            "business": business_id,
            "user": caller.user,
            "limit": shown + 1,
            "offset": offset,
        }
        if classification:
            params["perk__classification"] = classification
        if since:
            params["transaction_dt__gte"] = since
        if until:
            params["transaction_dt__lte"] = until
        # Dates and deep pages come from the member's input: cached, each distinct one would
        # be a cache entry. Only the first pages of the plain history are kept.
        cached = not (since or until) and offset <= CACHED_HISTORY_OFFSET
        fetch = self._get_member if cached else self._get
        data = await fetch(caller, "/v2/transactions/", params)
        found = [Transaction.from_api(obj) for obj in objects(data)]
        more = len(found) > shown or more_after(data, len(found), shown + 1)
        return Page(offset, shown, tuple(found[:shown]), more)

    # --- vouchers ---

    async def vouchers(self, caller: Caller, business_id: int) -> list[Voucher]:
        """The member's vouchers, in Perkville's display order."""
        if caller.staff:
            return await self._staff_vouchers(caller, business_id)
        params = {"business": business_id, "limit": PAGE_SIZE}
        data = await self._get_member(caller, "/v2/user-vouchers/", params)
        return [Voucher.from_api(obj) for obj in objects(data)]

    async def voucher(self, caller: Caller, voucher_id: str) -> Voucher:
        """One of the member's vouchers; anyone else's reads as missing (PerkvilleNotFound)."""
        if not caller.staff:
            data = await self._get_member(caller, f"/v2/user-vouchers/{voucher_id}/")
            return Voucher.from_api(data)
        data = await self._get_member(caller, f"/v2/vouchers/{voucher_id}/")
        # The staff token sees every voucher of the business: anyone else's reads as missing,
        # exactly as it does for a member's own token.
        if id_from_uri(data.get("user")) != caller.acting_for:
            raise PerkvilleNotFound("Not this member's voucher", status=404)
        return (await self._with_perks(caller, [data]))[0]

    async def mark_voucher_used(self, caller: Caller, voucher_id: str) -> Voucher:
        """Mark one of the member's vouchers used (reference, User Voucher: USER_CUSTOMER_INFO
        may PATCH its status to USED); the voucher as it is now."""
        # Safe to send again: it either marks the voucher once or is refused as already used.
        path = f"/v2/user-vouchers/{voucher_id}/"
        data = await self._send(caller, "PATCH", path, {"status": "USED"}, replayable=True)
        if "status" not in data:  # answered without the voucher (a 204): read it
            return await self.voucher(caller, voucher_id)
        return Voucher.from_api(data)

    async def _staff_vouchers(self, caller: Caller, business_id: int) -> list[Voucher]:
        """An identified member's vouchers: User Voucher needs USER_CUSTOMER_INFO, so the
        reference's Voucher resource (ADMIN_CUSTOMER_REDEEM), filtered to the member; newest
        first, as a member's own list is."""
        member = caller.acting_for
        params = {"business": business_id, "user": member, "limit": PAGE_SIZE}
        data = await self._get_member(caller, "/v2/vouchers/", params)
        found = [obj for obj in objects(data) if id_from_uri(obj.get("user")) == member]
        found.sort(key=lambda obj: str(obj.get("created_datetime") or ""), reverse=True)
        return await self._with_perks(caller, found)

    async def _with_perks(self, caller: Caller, found: list[dict[str, Any]]) -> list[Voucher]:
        """The Voucher resource has no title, fine print or instructions: take them from its
        (public) perk."""
        perk_ids = sorted({i for obj in found if (i := id_from_uri(obj.get("perk"))) is not None})
        perks = await asyncio.gather(
            *(self._get_public(caller, f"/v2/perks/{perk_id}/") for perk_id in perk_ids)
        )
        by_id = dict(zip(perk_ids, perks, strict=True))
        vouchers = []
        for obj in found:
            perk = by_id.get(id_from_uri(obj.get("perk")) or 0, {})
            merged = {
                "title": perk.get("title", ""),
                "perk_description": perk.get("description", ""),
                "perk_fine_print": perk.get("fine_print", ""),
                # A User Voucher's `details` is the perk's text "displayed on the voucher the
                # customer receives" (Perk: redemption_instructions); Voucher has neither.
                "details": perk.get("redemption_instructions", ""),
                **obj,
            }
            vouchers.append(Voucher.from_api(merged))
        return vouchers


def _view(caller: Caller, business_id: int, loc_id: int | None) -> dict[str, Any]:
    """The rules' filters. view_as_user needs USER_CUSTOMER_INFO; an identified member (staff
    token) sees the program from the signed-out perspective, their balance coming from the
    connection."""
    as_user = "false" if caller.staff else "true"
    params: dict[str, Any] = {
        "business": business_id,
        "view_as_user": as_user,
        "limit": PAGE_SIZE,
    }
    if loc_id is not None:
        params["loc_id"] = loc_id
    return params


def _maybe_made_before(exc: PerkvilleError) -> bool:
    """Whether a refused redemption may have been made by an earlier try of the same request:
    Perkville says its trans_source_id was used, or any 4xx came to a request sent again after
    a try whose answer was lost (that try may have spent the points it now says are short)."""
    if isinstance(exc, PerkvilleDuplicate):
        return True
    answered = isinstance(exc, PerkvilleRequestError | PerkvilleForbidden | PerkvilleNotFound)
    return exc.retried and answered


def _redeems(earlier: Transaction, perk_id: int) -> bool:
    """Whether an earlier transaction is this redemption, as far as its data says (the
    reference's examples leave `classification` out, and may leave `perk` out)."""
    same_perk = earlier.perk_id is None or earlier.perk_id == perk_id
    spent = earlier.classification in ("", "REDEEM")
    return same_perk and spent
