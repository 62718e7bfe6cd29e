"""Rewards the member can get, and redeeming one (without ever spending twice)."""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from ..i18n import N_, _, number, points
from ..perkville import (
    Business,
    Connection,
    PerkvilleDuplicate,
    PerkvilleError,
    PerkvilleNotImplemented,
    PerkvilleRequestError,
)
from ..perkville.program import Location, Reward, Transaction
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
from .eligibility import UNREAD, Redemptions, RewardCard, RewardsList, Standing, assess
from .place import Place, at_member_location
from .vouchers import own_instructions

log = logging.getLogger(__name__)

# Plain words for Perkville's refusal codes (the reference names pv_txn_insufficient_points;
# the sandbox README lists the others it assumes). Unknown codes get a generic sentence.
# Translated where they are said (`_()`).
REFUSALS = {
    "pv_txn_insufficient_points": N_("You don't have enough points to redeem this reward."),
    "pv_perk_redemption_limit_reached": N_(
        "You've reached the redemption limit for this reward. Try again when it resets."
    ),
    "pv_connection_membership_not_active": N_(
        "Your membership isn't active, so rewards can't be redeemed right now."
    ),
    "pv_connection_not_joined": N_("Join the rewards program first, then redeem."),
    "pv_perk_level_required": N_("This reward unlocks at a higher level."),
    "pv_perk_home_location_only": N_("This reward can only be redeemed at your home location."),
    "pv_perk_not_available": N_("This reward isn't available right now."),
    "pv_perk_not_in_date_range": N_("This reward isn't available on today's date."),
    "pv_perk_not_available_at_location": N_("This reward isn't offered at this location."),
    "pv_connection_not_found": N_(
        "We couldn't find your membership at this business. Ask at the front desk."
    ),
    "pv_perk_inactive": N_("This reward isn't available right now."),
}
NOT_HERE = N_(
    "Redeeming isn't available in this app for this program. Ask at the front desk to "
    "redeem it; your points were not spent."
)
UNRESOLVED_REPLAY = N_(
    "This confirmation was already used, and we couldn't find what it redeemed. Check your "
    "vouchers before redeeming again."
)
# Where a redemption lands when Perkville named no voucher for it.
VOUCHERS_AFTER_REDEEM = "/vouchers?redeemed=1"
_ATTEMPT = re.compile(r"^[A-Za-z0-9_-]{16,40}$")
_ATTEMPTS_KEPT = 5
# How many of an identified member's redemptions are read, newest first: one page (of the
# largest, 100, the last line only says whether more follow). A limit whose period reaches
# further back than that is said to be unknown (eligibility.py).
REDEMPTIONS_READ = 99


async def redemptions(request: Request, member: Member) -> Redemptions | None:
    """An identified member's redemptions (None for a member signed in with their own token,
    whose rewards view says their limits). Without an answer, every limit is unknown."""
    if not member.identified:
        return None
    state = app_state(request)
    try:
        page = await state.perkville.transactions(
            member.caller,
            state.settings.business_id,
            limit=REDEMPTIONS_READ,
            classification="REDEEM",
        )
    except PerkvilleError as exc:
        log.info("redemptions of member %s unread: %s", member.user_id, type(exc).__name__)
        return UNREAD
    return Redemptions.of(page.items, not page.has_more, ZoneInfo(state.settings.timezone))


async def _program(
    request: Request, member: Member
) -> tuple[Business, list[Reward], Place, Standing]:
    state = app_state(request)
    business_id, perkville = state.settings.business_id, state.perkville
    # Rewards differ by location (reference, Redeeming Rules: loc_id).
    business, levels, (place, connection, rewards), history = await asyncio.gather(
        perkville.business(member.caller, business_id),
        perkville.levels(member.caller, business_id),
        at_member_location(
            request,
            member,
            lambda loc_id: perkville.redeeming(member.caller, business_id, loc_id),
        ),
        redemptions(request, member),
    )
    home = place.home.name if place.home else None
    return business, rewards, place, Standing(connection, levels, today(request), home, history)


async def rewards_index(request: Request) -> Response:
    """Show the rewards: those to redeem now first, then the rest by the points still
    needed, each with what it costs and why it can't be redeemed yet."""
    member = require_member(request)
    business, rewards, place, standing = await _program(request, member)
    return render(
        request,
        "rewards/index.html",
        {
            "rewards": RewardsList([assess(r, standing) for r in rewards]),
            "connection": standing.connection,
            "identified": member.identified,
            "tab": "rewards",
            "place": place,
        },
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


def _done(request: Request, perk_id: int, attempt: str) -> str | None:
    """Where this confirmation's redemption landed, once made: its voucher's page, or the
    vouchers page when Perkville named no voucher. None while it is not made."""
    entry = request.session.get(REDEEM_ATTEMPTS, {}).get(str(perk_id))
    if not entry or entry.get("attempt") != attempt:
        return None
    voucher = entry.get("voucher")
    if isinstance(voucher, int | str) and not isinstance(voucher, bool) and str(voucher):
        return f"/vouchers/{voucher}"
    return VOUCHERS_AFTER_REDEEM if entry.get("done") is True else None


def _remember(request: Request, perk_id: int, attempt: str, voucher_id: str | None) -> None:
    attempts = dict(request.session.get(REDEEM_ATTEMPTS, {}))
    attempts[str(perk_id)] = {"attempt": attempt, "voucher": voucher_id, "done": True}
    request.session[REDEEM_ATTEMPTS] = attempts


def trans_source_id(member: Member, perk_id: int, attempt: str) -> str:
    """Unique per business (reference, Transaction): member, reward and confirmation."""
    return f"member-app:{member.user_id}:{perk_id}:{attempt}"


async def redeem(request: Request) -> Response:
    """Confirm a redemption (GET) and carry it out (POST), exactly once."""
    member = require_member(request)
    perk_id = path_id(request, "perk_id")
    business, rewards, place, standing = await _program(request, member)
    connection = require_joined(standing.connection)  # redeeming is for members who have joined
    reward = next((r for r in rewards if r.perk_id == perk_id), None)
    if perk_id is None or reward is None:
        return render(
            request,
            "rewards/missing.html",
            {"tab": "rewards"},
            status_code=404,
            business=business,
        )
    card = assess(reward, standing)
    location_id = _location_for(reward, connection, place)
    location = next((loc for loc in place.locations if loc.location_id == location_id), None)
    error: str | None = None

    if request.method == "POST":
        form = await checked_form(request)
        attempt = form.get("attempt", "")
        if not _ATTEMPT.match(attempt):
            error = _("This confirmation is no longer valid. Please confirm again.")
        else:
            done = _done(request, reward.perk_id, attempt)
            if done is not None:
                return RedirectResponse(done, status_code=303)
            mark_stale(request)
            await rate_limit(request, "redeem", member)
            where = (location_id, location)
            txn, error = await _spend(request, member, card, where, attempt, business)
            if txn is not None:
                _remember(request, reward.perk_id, attempt, txn.voucher_id)
                landing = _done(request, reward.perk_id, attempt) or VOUCHERS_AFTER_REDEEM
                return RedirectResponse(
                    f"{landing}?redeemed=1" if txn.voucher_id else landing, status_code=303
                )

    again = request.query_params.get("again") == "1"
    attempt = _attempt_for(request, reward.perk_id, fresh=again)
    return render(
        request,
        "rewards/redeem.html",
        {
            "tab": "rewards",
            "card": card,
            "reward": reward,
            "instructions": own_instructions(reward.instructions),
            "balance": card.balance,
            "balance_after": card.balance - reward.points,
            "identified": member.identified,
            "location": location,
            "place": place,
            "attempt": attempt,
            "recent_url": _done(request, reward.perk_id, attempt),
            "error": error,
        },
        status_code=400 if error else 200,
        business=business,
    )


def _location_for(reward: Reward, connection: Connection, place: Place) -> int | None:
    """Where to redeem: the chosen location, except that a home-location-only reward must be
    redeemed at home (reference, Transaction: must_redeem_at_home_location)."""
    if reward.must_redeem_at_home_location:
        return connection.home_location_id
    return place.loc_id or reward.loc_id


async def _spend(
    request: Request,
    member: Member,
    card: RewardCard,
    where: tuple[int | None, Location | None],
    attempt: str,
    business: Business,
) -> tuple[Transaction | None, str | None]:
    """Redeem once at `where` (the location's id, and the location when the business lists
    it): a replay of an earlier try gives the transaction that try made (the client resolves
    it by the trans_source_id). On a refusal, why, in plain words."""
    location_id, location = where
    if location_id is None:
        return None, _("We don't know which location to redeem at. Please ask at the front desk.")
    perk_id = card.reward.perk_id
    try:
        txn = await app_state(request).perkville.redeem(
            member.caller,
            business_id=business.business_id,
            location_id=location_id,
            perk_id=perk_id,
            trans_source_id=trans_source_id(member, perk_id, attempt),
        )
    except PerkvilleNotImplemented:
        log.warning("redeeming is not implemented by Perkville")
        return None, _(NOT_HERE)
    except PerkvilleDuplicate:  # the id was used, and not for this redemption as far as we see
        log.info("redeem replay unresolved for member %s", member.user_id)
        return None, _(UNRESOLVED_REPLAY)
    except PerkvilleRequestError as exc:
        log.info("redeem refused for member %s: %s", member.user_id, ",".join(exc.codes))
        known = refusal(exc, REFUSALS, None)
        return None, _(known) if known else likely_refusal(card, location)
    log.info("member %s redeemed perk %s", member.user_id, perk_id)
    return txn, None


def likely_refusal(card: RewardCard, location: Location | None) -> str:
    """A refusal whose code the app doesn't know (or a generic one), in plain words: the
    likeliest reason from what the app knows of the reward and the member (their points, the
    reward's limit, where it is redeemed), and what to do next."""
    said = _("This reward wasn't redeemed, so your points were not spent.")
    return f"{said} {_likely_reason(card, location)}"


def _likely_reason(card: RewardCard, location: Location | None) -> str:
    reward = card.reward
    if card.reason:
        return card.reason
    if card.balance < reward.points:
        return _("It costs %(points)s and you have %(balance)s.") % {
            "points": points(reward.points),
            "balance": number(card.balance),
        }
    if card.limit is not None:
        rule = card.limit.rule  # "Once a month", in the middle of the sentence
        return _(
            "It can be redeemed %(rule)s: you may have reached that limit. Your vouchers page "
            "shows your recent redemptions."
        ) % {"rule": rule[:1].lower() + rule[1:]}
    if reward.must_redeem_at_home_location:
        return _("It's only redeemed at your home location: ask at the front desk there.")
    if location and location.name:
        return _(
            "It may not be offered at %(location)s: ask at the front desk, or try another location."
        ) % {"location": location.name}
    return _("It may not be offered here: ask at the front desk, or try another location.")


routes = [
    Route("/rewards", rewards_index, name="rewards"),
    Route("/rewards/{perk_id}/redeem", redeem, methods=["GET", "POST"], name="redeem"),
]
