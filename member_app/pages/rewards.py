"""Rewards the member can get, and redeeming one (without ever spending twice)."""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import date

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from ..perkville import Business, Connection, Level, PerkvilleRefused, PerkvilleRequestError
from ..perkville.program import Reward
from ..state import app_state
from ..web.session import REDEEM_ATTEMPTS, Member, mark_stale
from ..web.templating import render
from .common import (
    checked_form,
    path_id,
    rate_limit,
    refusal,
    require_joined,
    require_member,
    today,
)
from .place import Place, at_member_location

log = logging.getLogger(__name__)

# Plain words for Perkville's refusal codes (the reference names pv_txn_insufficient_points;
# the sandbox README lists the others it assumes). Unknown codes get a generic sentence.
REFUSALS = {
    "pv_txn_insufficient_points": "You don't have enough points to redeem this reward.",
    "pv_perk_redemption_limit_reached": (
        "You've reached the redemption limit for this reward. Try again when it resets."
    ),
    "pv_connection_membership_not_active": (
        "Your membership isn't active, so rewards can't be redeemed right now."
    ),
    "pv_connection_not_joined": "Join the rewards program first, then redeem.",
    "pv_perk_level_required": "This reward unlocks at a higher level.",
    "pv_perk_home_location_only": "This reward can only be redeemed at your home location.",
    "pv_perk_not_available": "This reward isn't available right now.",
    "pv_perk_not_in_date_range": "This reward isn't available on today's date.",
    "pv_perk_not_available_at_location": "This reward isn't offered at this location.",
    "pv_connection_not_found": (
        "We couldn't find your membership at this business. Ask at the front desk."
    ),
    "pv_perk_inactive": "This reward isn't available right now.",
}
HOME_ONLY = "Only at your home location."
GENERIC_REFUSAL = "Perkville couldn't redeem this reward. Your points were not spent."

_ATTEMPT = re.compile(r"^[A-Za-z0-9_-]{16,40}$")
_ATTEMPTS_KEPT = 5


@dataclass(frozen=True, slots=True)
class RewardCard:
    reward: Reward
    reason: str | None  # why it cannot be redeemed now; None when it can
    points_needed: int

    @property
    def can_redeem(self) -> bool:
        return self.reason is None


def assess(
    reward: Reward,
    connection: Connection | None,
    levels: list[Level],
    on: date,
    *,
    home_name: str | None = None,
) -> RewardCard:
    """Say whether this reward can be redeemed now, and if not, why."""
    balance = connection.point_balance if connection else 0
    needed = max(reward.points - balance, 0)
    level_names = {lv.level_id: lv for lv in levels}
    required = level_names.get(reward.required_level_id) if reward.required_level_id else None
    current = level_names.get(connection.level_id) if connection and connection.level_id else None
    reason: str | None = None
    if connection is None or not connection.joined:
        reason = "Join the rewards program to redeem rewards."
    elif reward.is_external:
        reason = None if reward.external_reward_url else "Ask at the front desk for this one."
    elif reward.has_met_limit:
        reason = "You've reached the limit for this reward" + (
            f". Next chance: {reward.next_redemption:%b %-d, %Y}."
            if reward.next_redemption
            else "."
        )
    elif required and (current is None or current.point_floor < required.point_floor):
        reason = f"Unlocks at {required.name} level."
    elif reward.start_date and reward.start_date > on:
        reason = f"Available from {reward.start_date:%b %-d, %Y}."
    elif reward.end_date and reward.end_date < on:
        reason = "This reward has ended."
    elif reward.must_redeem_at_home_location and reward.loc_id not in {
        None,
        connection.home_location_id,
    }:
        reason = f"Only at your home location ({home_name})." if home_name else HOME_ONLY
    elif needed:
        reason = f"You need {needed:,} more points."
    elif reward.can_redeem is False:
        reason = "Not available to you right now."
    return RewardCard(reward, reason, needed)


async def _program(
    request: Request, member: Member
) -> tuple[Business, Connection | None, list[Level], list[Reward], Place]:
    state = app_state(request)
    business_id, perkville = state.settings.business_id, state.perkville
    # Rewards differ by location (reference, Redeeming Rules: loc_id).
    business, levels, (place, connection, rewards) = await asyncio.gather(
        perkville.business(member.caller, business_id),
        perkville.levels(member.caller, business_id),
        at_member_location(
            request,
            member,
            lambda loc_id: perkville.redeeming(member.caller, business_id, loc_id),
        ),
    )
    return business, connection, levels, rewards, place


def _home_name(place: Place) -> str | None:
    return place.home.name if place.home else None


async def rewards_index(request: Request) -> Response:
    """Show the rewards, what each costs, and why any cannot be redeemed yet."""
    member = require_member(request)
    business, connection, levels, rewards, place = await _program(request, member)
    on = today(request)
    home = _home_name(place)
    cards = [assess(r, connection, levels, on, home_name=home) for r in rewards]
    return render(
        request,
        "rewards/index.html",
        {"cards": cards, "connection": connection, "tab": "rewards", "place": place},
        business=business,
    )


def _attempt_for(request: Request, perk_id: int, *, fresh: bool) -> str:
    """The id this confirmation will redeem with. Kept in the session per reward, so a
    back-button resubmit or a second click replays the same request instead of a new one."""
    attempts: dict[str, dict[str, object]] = dict(request.session.get(REDEEM_ATTEMPTS, {}))
    entry = attempts.get(str(perk_id))
    if entry is None or fresh:
        entry = {"attempt": secrets.token_urlsafe(16), "voucher": None}
        attempts[str(perk_id)] = entry
        # Only the latest few confirmations are remembered: the cookie stays small.
        request.session[REDEEM_ATTEMPTS] = dict(list(attempts.items())[-_ATTEMPTS_KEPT:])
    return str(entry["attempt"])


def _done_voucher(request: Request, perk_id: int, attempt: str) -> int | None:
    entry = request.session.get(REDEEM_ATTEMPTS, {}).get(str(perk_id))
    if entry and entry.get("attempt") == attempt and isinstance(entry.get("voucher"), int):
        return int(entry["voucher"])
    return None


def _remember_voucher(request: Request, perk_id: int, attempt: str, voucher_id: int) -> None:
    attempts = dict(request.session.get(REDEEM_ATTEMPTS, {}))
    attempts[str(perk_id)] = {"attempt": attempt, "voucher": voucher_id}
    request.session[REDEEM_ATTEMPTS] = attempts


def trans_source_id(member: Member, perk_id: int, attempt: str) -> str:
    """Unique per business (reference, Transaction): member, reward and confirmation."""
    return f"member-app:{member.user_id}:{perk_id}:{attempt}"


async def redeem(request: Request) -> Response:
    """Confirm a redemption (GET) and carry it out (POST), exactly once."""
    member = require_member(request)
    perk_id = path_id(request, "perk_id")
    business, connection, levels, rewards, place = await _program(request, member)
    require_joined(connection)  # redeeming is for members who have joined
    reward = next((r for r in rewards if r.perk_id == perk_id), None)
    if perk_id is None or reward is None:
        return render(
            request,
            "rewards/missing.html",
            {"tab": "rewards"},
            status_code=404,
            business=business,
        )
    card = assess(reward, connection, levels, today(request), home_name=_home_name(place))
    location_id = _location_for(reward, connection, place)
    error: str | None = None

    if request.method == "POST":
        form = await checked_form(request)
        attempt = form.get("attempt", "")
        if not _ATTEMPT.match(attempt):
            error = "This confirmation is no longer valid. Please confirm again."
        else:
            done = _done_voucher(request, reward.perk_id, attempt)
            if done is not None:
                return RedirectResponse(f"/vouchers/{done}", status_code=303)
            mark_stale(request)
            await rate_limit(request, "redeem", member)
            voucher_id, error = await _spend(
                request, member, reward.perk_id, location_id, attempt, business.business_id
            )
            if voucher_id is not None:
                _remember_voucher(request, reward.perk_id, attempt, voucher_id)
                return RedirectResponse(f"/vouchers/{voucher_id}?redeemed=1", status_code=303)

    again = request.query_params.get("again") == "1"
    attempt = _attempt_for(request, reward.perk_id, fresh=again)
    recent = _done_voucher(request, reward.perk_id, attempt)
    location = next((loc for loc in place.locations if loc.location_id == location_id), None)
    balance = connection.point_balance if connection else 0
    return render(
        request,
        "rewards/redeem.html",
        {
            "tab": "rewards",
            "card": card,
            "reward": reward,
            "balance": balance,
            "balance_after": balance - reward.points,
            "location": location,
            "place": place,
            "attempt": attempt,
            "recent_voucher": recent,
            "error": error,
        },
        status_code=400 if error else 200,
        business=business,
    )


def _location_for(reward: Reward, connection: Connection | None, place: Place) -> int | None:
    """Where to redeem: the chosen location, except that a home-location-only reward must be
    redeemed at home (reference, Transaction: must_redeem_at_home_location)."""
    if reward.must_redeem_at_home_location:
        return connection.home_location_id if connection else None
    return place.loc_id or reward.loc_id


async def _spend(
    request: Request,
    member: Member,
    perk_id: int,
    location_id: int | None,
    attempt: str,
    business_id: int,
) -> tuple[int | None, str | None]:
    """Redeem once: a replay of an earlier try gives the voucher that try made (the client
    resolves it by the trans_source_id)."""
    if location_id is None:
        return None, "We don't know which location to redeem at. Please ask at the front desk."
    try:
        txn = await app_state(request).perkville.redeem(
            member.caller,
            business_id=business_id,
            location_id=location_id,
            perk_id=perk_id,
            trans_source_id=trans_source_id(member, perk_id, attempt),
        )
    except PerkvilleRefused as exc:
        log.info("redeem refused for member %s: %s", member.user_id, ",".join(exc.codes))
        return None, refusal(exc, REFUSALS, GENERIC_REFUSAL)
    except PerkvilleRequestError as exc:  # an unresolved replay, or a refusal without a code
        log.info("redeem failed for member %s: %s", member.user_id, type(exc).__name__)
        return None, GENERIC_REFUSAL
    if txn.voucher_id is None:
        return None, GENERIC_REFUSAL
    log.info("member %s redeemed perk %s", member.user_id, perk_id)
    return txn.voucher_id, None


routes = [
    Route("/rewards", rewards_index, name="rewards"),
    Route("/rewards/{perk_id}/redeem", redeem, methods=["GET", "POST"], name="redeem"),
]
