"""Refer a friend: the member's referral link (copy, share, QR), the offer their friend gets,
what the member earns, a form to refer a friend by email, and the friends already referred."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from ..i18n import N_, _, ngettext, number, pgettext
from ..perkville import (
    Business,
    Connection,
    PerkvilleError,
    PerkvilleNotImplemented,
    PerkvilleRequestError,
)
from ..perkville.community import Promotion, Referral
from ..perkville.program import EarningRule
from ..state import app_state
from ..web.session import REFERRAL_SENT, Member, mark_stale, take_flag
from ..web.templating import render
from .codes import qr_svg
from .common import checked_form, rate_limit, refusal, require_joined, require_member

log = logging.getLogger(__name__)

NAME_MAX = 50  # the reference's Referral names (sandbox README: at most 50 characters)
NOTE_MAX = 500  # ours: a note a friend will read on a phone (Perkville allows 1,000)
EMAIL_MAX = 254
# RFC 5322's atext before the @ (no markup, quotes or spaces), a dotted domain after it.
_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[^@\s<>\"']+\.[^@\s.<>\"']+$")

YOUR_FRIEND = N_("Your friend")
FRIENDS_LOOKED_UP = 20  # at most this many friends' names are asked for, at once

# Plain words for Perkville's answers to a referral (the sandbox README lists the codes).
# Each is shown next to the form field it is about, translated there.
REFUSALS = {
    "pv_referral_existing_customer": (
        "email",
        N_("This person is already a customer, so they can't be referred. Try another friend."),
    ),
    "pv_referral_self_referral": (
        "email",
        N_("That's your own email address. Enter your friend's email instead."),
    ),
    "pv_referral_already_sent": (
        "email",
        N_("You've already referred this friend. Their offer is still open."),
    ),
    "pv_referral_referrer_not_customer": (
        "form",
        N_("Only members of the rewards program can refer friends."),
    ),
}
GENERIC_REFUSAL = (
    "form",
    N_(
        "We couldn't send this referral. Check your friend's email address and try again, or "
        "share your referral link with them instead."
    ),
)
INVALID_EMAIL = N_("Enter a valid email address, like name@example.com.")
# A refusal under the friend's email whose code the app doesn't know, `invalid` included (the
# address passed the form's own check, so more likely a friend who can't be referred).
EMAIL_REFUSED = (
    "email",
    N_(
        "We couldn't refer this address. Check that it's right; if it is, your friend may "
        "already be a member or have your invitation already, so try another friend."
    ),
)
NOT_HERE = (
    "form",
    N_(
        "Referring by email isn't available in this app for this program. Share your referral "
        "link with your friend instead."
    ),
)


def status_label(status: str) -> str:
    """A referral's status as its badge reads it; one the app doesn't know, as Perkville has
    it."""
    labels = {
        "SENT": pgettext("referral status", "Sent"),
        "COMPLETED": pgettext("referral status", "Completed"),
        "VOID": pgettext("referral status", "Void"),
    }
    return labels.get(status, status.title())


@dataclass(frozen=True, slots=True)
class FriendForm:
    """What the member typed about their friend, kept when the form comes back."""

    email: str = ""
    first_name: str = ""
    last_name: str = ""
    note: str = ""

    @classmethod
    def from_form(cls, form: dict[str, str]) -> FriendForm:
        return cls(
            form.get("email", "").strip(),
            form.get("first_name", "").strip(),
            form.get("last_name", "").strip(),
            form.get("note", "").strip(),
        )

    def problems(self) -> dict[str, str]:
        """Field → what to fix, in plain words; empty when the form can be sent."""
        problems = {}
        if not self.email:
            problems["email"] = _("Enter your friend's email address.")
        elif len(self.email) > EMAIL_MAX or not _EMAIL.match(self.email):
            problems["email"] = _(INVALID_EMAIL)
        for name, value in (("first_name", self.first_name), ("last_name", self.last_name)):
            if len(value) > NAME_MAX:
                problems[name] = ngettext(
                    "Keep names to %(num)s character.",
                    "Keep names to %(num)s characters.",
                    NAME_MAX,
                ) % {"num": number(NAME_MAX)}
        if len(self.note) > NOTE_MAX:
            problems["note"] = ngettext(
                "Keep your note to %(num)s character.",
                "Keep your note to %(num)s characters.",
                NOTE_MAX,
            ) % {"num": number(NOTE_MAX)}
        return problems


@dataclass(frozen=True, slots=True)
class ReferralLine:
    referral: Referral
    label: str
    sent: date | None
    completed: date | None
    friend: str = YOUR_FRIEND  # who was referred, as the member may read it


@dataclass(frozen=True, slots=True)
class ReferralPage:
    business: Business
    connection: Connection
    offer: Promotion | None
    reward: EarningRule | None  # what the member earns for a referral
    lines: list[ReferralLine]
    friend: FriendForm = field(default_factory=FriendForm)
    problems: dict[str, str] = field(default_factory=dict)
    sent: bool = False


def line_of(
    referral: Referral, zone: ZoneInfo, names: Mapping[int, str] | None = None
) -> ReferralLine:
    """One referral as the member reads it. The friend: the email they were referred at (only
    a referral's POST answer carries it), else their name when the member may read their
    user record (`referral_to_user`), else "Your friend"."""
    friend = referral.to_user_id
    named = (names or {}).get(friend) if friend is not None else None
    return ReferralLine(
        referral,
        status_label(referral.status),
        referral.sent.astimezone(zone).date() if referral.sent else None,
        referral.completed.astimezone(zone).date() if referral.completed else None,
        referral.to_email or named or _(YOUR_FRIEND),
    )


async def friend_names(
    request: Request, member: Member, referrals: list[Referral]
) -> dict[int, str]:
    """The names of referred friends the member may read (reference, User: a member's token
    reads only themselves, so usually none), for referrals that carry no email."""
    perkville = app_state(request).perkville
    wanted = sorted({r.to_user_id for r in referrals if not r.to_email and r.to_user_id})
    wanted = wanted[:FRIENDS_LOOKED_UP]
    try:
        users = await asyncio.gather(*(perkville.readable_user(member.caller, i) for i in wanted))
    except PerkvilleError as exc:  # names are a nicety: the list stands without them
        log.info("referred friends unread: %s", type(exc).__name__)
        return {}
    return {
        user.user_id: f"{user.first_name} {user.last_name}".strip()
        for user in users
        if user is not None and (user.first_name or user.last_name)
    }


def referral_offer(promotions: list[Promotion], location_id: int | None) -> Promotion | None:
    """The referral offer to show. Asked for a location, the location's own offer when there
    is one, else the all-locations one (reference, Promotion: "if there is no
    location-specific promotion, the eligible_at_all_locations promotion will be returned");
    asked for none, the all-locations one."""
    offers = [p for p in promotions if p.type == "REFERRAL"] or promotions
    everywhere_last = location_id is not None
    return min(offers, key=lambda p: p.all_locations == everywhere_last, default=None)


async def _page(request: Request, member: Member) -> ReferralPage:
    settings = app_state(request).settings
    perkville = app_state(request).perkville
    business, connection, rules, referrals = await asyncio.gather(
        perkville.business(member.caller, settings.business_id),
        perkville.connection(
            member.caller, business_id=settings.business_id, user_id=member.user_id
        ),
        perkville.earning(member.caller, settings.business_id, None),
        perkville.referrals(member.caller, settings.business_id, member.user_id),
    )
    # Referring is for members who have joined the program.
    connection = require_joined(connection)
    # Offers differ by location, so this waits for the member's home location.
    promotions, names = await asyncio.gather(
        perkville.promotions(member.caller, settings.business_id, connection.home_location_id),
        friend_names(request, member, referrals),
    )
    zone = ZoneInfo(settings.timezone)
    newest_first = sorted(
        referrals, key=lambda r: r.sent.timestamp() if r.sent else 0.0, reverse=True
    )
    return ReferralPage(
        business,
        connection,
        referral_offer(promotions, connection.home_location_id),
        next((rule for rule in rules if rule.type == "REFERRAL"), None),
        [line_of(r, zone, names) for r in newest_first],
    )


async def _send(
    request: Request, member: Member, page: ReferralPage, friend: FriendForm
) -> dict[str, str]:
    """Ask Perkville to send the offer to the friend; problems in plain words, by field."""
    try:
        await app_state(request).perkville.refer(
            member.caller,
            business_id=page.business.business_id,
            email=friend.email,
            first_name=friend.first_name,
            last_name=friend.last_name,
            note=friend.note,
            location_id=page.connection.home_location_id,
        )
    except PerkvilleNotImplemented:
        log.warning("referring is not implemented by Perkville")
        where, message = NOT_HERE
        return {where: _(message)}
    except PerkvilleRequestError as exc:
        log.info("referral refused for member %s: %s", member.user_id, ",".join(exc.codes))
        # A code the app doesn't know: the field it came under says what it is about.
        about_email = {"referral_to_email", "email"} & set(exc.fields)
        where, message = refusal(exc, REFUSALS, EMAIL_REFUSED if about_email else GENERIC_REFUSAL)
        return {where: _(message)}
    log.info("member %s referred a friend", member.user_id)
    return {}


async def referrals(request: Request) -> Response:
    """Show the member's referral link, offer and referrals (GET); refer a friend (POST)."""
    member = require_member(request)
    form = await checked_form(request) if request.method == "POST" else None
    page = await _page(request, member)
    if form is None:
        page = replace(page, sent=take_flag(request, REFERRAL_SENT))
    else:
        friend = FriendForm.from_form(form)
        problems = friend.problems()
        if not problems:
            mark_stale(request)
            await rate_limit(request, "refer", member)
            problems = await _send(request, member, page, friend)
        if not problems:
            # A flag only: a friend's email has no business in the member's cookie.
            request.session[REFERRAL_SENT] = True
            return RedirectResponse(request.url_for("referrals").path, status_code=303)
        page = replace(page, friend=friend, problems=problems)
    return render(
        request,
        "referrals/index.html",
        {"tab": "more", "page": page, "limits": {"name": NAME_MAX, "note": NOTE_MAX}},
        status_code=400 if page.problems else 200,
        business=page.business,
    )


async def referral_qr(request: Request) -> Response:
    """The member's referral link as a QR code (SVG), for a friend standing next to them."""
    member = require_member(request)
    settings = app_state(request).settings
    connection = await app_state(request).perkville.connection(
        member.caller, business_id=settings.business_id, user_id=member.user_id
    )
    if connection is None or not connection.joined or not connection.referral_offer_url:
        return Response("Not found", status_code=404, media_type="text/plain")
    return Response(
        qr_svg(connection.referral_offer_url, title=_("QR code of your referral link")),
        media_type="image/svg+xml",
        headers={"Cache-Control": "private, no-store"},
    )


routes = [
    Route("/referrals", referrals, methods=["GET", "POST"], name="referrals"),
    Route("/referrals/qr.svg", referral_qr, name="referral_qr"),
]
