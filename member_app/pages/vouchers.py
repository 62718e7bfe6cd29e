"""The member's vouchers: the list, one voucher with its code, the moment after redeeming,
and marking one used."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, replace
from datetime import date, timedelta

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from ..i18n import N_, _, day, pgettext
from ..perkville import (
    Business,
    PerkvilleNotFound,
    PerkvilleNotImplemented,
    PerkvilleRequestError,
    PerkvilleUnavailable,
)
from ..perkville.program import Location, Voucher
from ..state import app_state
from ..web.session import mark_stale
from ..web.templating import render
from .codes import barcode_svg, qr_svg
from .common import checked_form, path_key, require_member, today

EXPIRING_SOON = timedelta(days=7)
# Done with: nothing to show at the front desk any more (reference, User Voucher: `status`).
PAST_STATUSES = frozenset({"USED", "EXPIRED", "VOIDED", "CREDITED"})

# Perkville fills in a reward's redemption instructions with its own default when the business
# writes none (reference, Perk: `redemption_instructions`, 'Defaults to "Print or show on
# phone"'), and a voucher carries them as its `details`. Written for a printed voucher, it says
# nothing useful on this screen: the app says what to do with the screen instead. Compared
# without case, spaces or punctuation, with the same words reworded; a business's own words
# are shown as written.
DEFAULT_INSTRUCTIONS = frozenset(
    {
        "print or show on phone",
        "print or show on your phone",
        "print or show on mobile",
        "print or show on mobile device",
        "print or show on your mobile device",
        "print this voucher or show it on your phone",
        "print or show this voucher on your phone",
        "print or show this voucher",
        "print voucher",
        "print this voucher",
        "show on phone",
        "show on your phone",
    }
)
# What the app says instead, translated where it is said (Perkville's default above is matched
# in English, as the reference gives it).
SHOW_ON_PHONE = N_("Show this screen at the front desk.")
SHOW_ON_KIOSK = N_("Ask the front desk to scan this code.")
OPEN_THE_LINK = N_("Your reward is waiting on the partner's site.")
NOT_MARKABLE = N_(
    "Marking vouchers used isn't available in this app for this program. Show this voucher "
    "at the front desk: staff mark it used there."
)


@dataclass(frozen=True, slots=True)
class VoucherView:
    voucher: Voucher
    status_label: str  # in plain words, with the date when one is known ("Expired Nov 1, 2026")
    location: Location | None
    expiring_soon: bool
    days_left: int | None
    past: bool = False  # used, expired, voided or credited: no code to show

    @property
    def code_kind(self) -> str:
        """What to show at the desk, best first: the reward's URL, a QR code of the business's
        coupon code, a barcode of the voucher id; nothing once the voucher is past."""
        if self.past:
            return "none"
        if self.voucher.reward_url:
            return "link"
        return "qr" if self.voucher.external_coupon_code else "barcode"

    @property
    def can_mark_used(self) -> bool:
        return self.voucher.can_mark_used and not self.past

    @property
    def past_note(self) -> str:
        """What became of a past voucher, in a sentence."""
        status = "EXPIRED" if self.past and self.voucher.status == "UNUSED" else self.voucher.status
        return {
            "USED": _("You've used this voucher, so there's no code to show any more."),
            "EXPIRED": _("This voucher expired before it was used, so it can't be used now."),
            "VOIDED": _("This voucher was cancelled, so it can't be used."),
            "CREDITED": _("This reward was credited to your account."),
        }.get(status, "")


def _status_label(status: str) -> str:
    """A voucher's status in plain words; one the app doesn't know, as Perkville names it."""
    labels = {
        "UNUSED": pgettext("voucher status", "Ready to use"),
        "USED": pgettext("voucher status", "Used"),
        "EXPIRED": pgettext("voucher status", "Expired"),
        "VOIDED": pgettext("voucher status", "Voided"),
        "PROCESSING": pgettext("voucher status", "Processing"),
        "EMAILED_REWARD": pgettext("voucher status", "Sent by email"),
        "CREDITED": pgettext("voucher status", "Credited"),
        # Reference, voucher statuses: an ISSUED voucher carries a coupon code to use as it is.
        "ISSUED": pgettext("voucher status", "Ready to use"),
    }
    return labels.get(status, status.title())


def view_of(voucher: Voucher, locations: list[Location], on: date) -> VoucherView:
    location = next((loc for loc in locations if loc.location_id == voucher.location_id), None)
    days_left = (voucher.expiration_date - on).days if voucher.expiration_date else None
    status = voucher.status
    if status == "UNUSED" and days_left is not None and days_left < 0:
        status = "EXPIRED"  # past its date, whether or not Perkville has caught up yet
    label = _status_label(status)
    if status == "EXPIRED" and voucher.expiration_date:
        label = pgettext("voucher status", "Expired %(day)s") % {
            "day": day(voucher.expiration_date)
        }
    return VoucherView(
        voucher,
        label,
        location,
        status == "UNUSED" and days_left is not None and 0 <= days_left <= EXPIRING_SOON.days,
        days_left,
        past=status in PAST_STATUSES,
    )


def _plain(text: str) -> str:
    return re.sub(r"[^a-z ]", "", " ".join(text.lower().split())).strip()


def own_instructions(text: str) -> str | None:
    """The business's own redemption instructions, or None for none or Perkville's default."""
    written = text.strip()
    return written if written and _plain(written) not in DEFAULT_INSTRUCTIONS else None


def how_to_use(view: VoucherView, *, kiosk: bool) -> str:
    """What to do with this voucher now: the business's own instructions as written, or, in
    place of Perkville's default, what to do with this screen on this device."""
    written = own_instructions(view.voucher.details)
    if written:
        return written
    if view.code_kind == "link":
        return _(OPEN_THE_LINK)
    return _(SHOW_ON_KIOSK if kiosk else SHOW_ON_PHONE)


@dataclass(frozen=True, slots=True)
class VouchersPage:
    """The vouchers page: those to use, then the past ones, each in Perkville's order."""

    ready: list[VoucherView]
    past: list[VoucherView]


@dataclass(frozen=True, slots=True)
class VoucherPage:
    """One voucher; right after redeeming it, the moment: the reward, the member's new
    balance, the code and what to do next."""

    view: VoucherView
    how_to_use: str
    redeemed: bool  # just redeemed: the success screen
    marked: bool  # just marked used
    balance: int | None  # the member's balance after redeeming (None: Perkville didn't say)


async def vouchers_index(request: Request) -> Response:
    """List the member's vouchers: those ready to use, then the past ones, each part in
    Perkville's order."""
    member = require_member(request)
    state = app_state(request)
    business_id, perkville = state.settings.business_id, state.perkville
    business, vouchers, locations = await asyncio.gather(
        perkville.business(member.caller, business_id),
        perkville.vouchers(member.caller, business_id),
        perkville.locations(member.caller, business_id),
    )
    on = today(request)
    views = [view_of(v, locations, on) for v in vouchers]
    page = VouchersPage([v for v in views if not v.past], [v for v in views if v.past])
    # Right after a redemption Perkville named no voucher for: it is among these.
    redeemed = request.query_params.get("redeemed") == "1"
    return render(
        request,
        "vouchers/index.html",
        {"tab": "vouchers", "page": page, "redeemed": redeemed},
        business=business,
    )


async def _voucher_view(request: Request) -> tuple[VoucherView | None, Business]:
    member = require_member(request)
    state = app_state(request)
    business_id, perkville = state.settings.business_id, state.perkville
    voucher_id = path_key(request, "voucher_id")
    business_call = perkville.business(member.caller, business_id)
    if voucher_id is None:
        return None, await business_call
    try:
        business, voucher, locations = await asyncio.gather(
            business_call,
            perkville.voucher(member.caller, voucher_id),
            perkville.locations(member.caller, business_id),
        )
    except PerkvilleNotFound:
        # Another member's voucher reads as missing upstream: say the same here.
        return None, await perkville.business(member.caller, business_id)
    if not voucher.voucher_id:  # an id the app's URLs can't carry: the one it was asked by
        voucher = replace(voucher, voucher_id=voucher_id)
    return view_of(voucher, locations, today(request)), business


async def _balance(request: Request) -> int | None:
    """The member's points now. Redeeming marked their cached data stale, so right after a
    redemption this is the balance it left. The voucher matters more: without an answer
    from Perkville the page goes on without the balance."""
    member = require_member(request)
    state = app_state(request)
    try:
        connection = await state.perkville.connection(
            member.caller, business_id=state.settings.business_id, user_id=member.user_id
        )
    except PerkvilleUnavailable:
        return None
    return connection.point_balance if connection else None


def _missing(request: Request, business: Business) -> Response:
    return render(
        request, "vouchers/missing.html", {"tab": "vouchers"}, status_code=404, business=business
    )


async def voucher_detail(request: Request) -> Response:
    """One voucher, with the code to show at the front desk; after redeeming (`?redeemed=1`),
    the success screen with the member's new balance. A past voucher shows no code."""
    redeemed = request.query_params.get("redeemed") == "1"
    if redeemed:
        (view, business), balance = await asyncio.gather(_voucher_view(request), _balance(request))
    else:
        (view, business), balance = await _voucher_view(request), None
    if view is None:
        return _missing(request, business)
    page = VoucherPage(
        view,
        how_to_use(view, kiosk=app_state(request).settings.kiosk),
        redeemed=redeemed and not view.past,  # an old link to a voucher since used: no party
        marked=request.query_params.get("used") == "1",
        balance=balance,
    )
    return render(
        request,
        "vouchers/detail.html",
        {"tab": "vouchers", "page": page, "view": view},
        business=business,
    )


async def voucher_code(request: Request) -> Response:
    """The voucher's code as an SVG image: QR for a coupon code, Code 128 barcode otherwise."""
    view, _business = await _voucher_view(request)
    if view is None or view.past:  # a past voucher has no code to scan
        return Response("Not found", status_code=404, media_type="text/plain")
    return Response(
        code_svg(view.voucher),
        media_type="image/svg+xml",
        headers={"Cache-Control": "private, no-store"},
    )


def code_svg(voucher: Voucher) -> bytes:
    if voucher.external_coupon_code:
        title = _("QR code %(code)s") % {"code": voucher.code}
        return qr_svg(voucher.external_coupon_code, title=title)
    return barcode_svg(voucher.voucher_id)


async def mark_used(request: Request) -> Response:
    """Confirm (GET) and mark the voucher used (POST). It cannot be undone."""
    view, business = await _voucher_view(request)
    if view is None:
        return _missing(request, business)
    error = None
    if request.method == "POST":
        await checked_form(request)
        if not view.can_mark_used:
            return RedirectResponse(f"/vouchers/{view.voucher.voucher_id}", status_code=303)
        mark_stale(request)
        member = require_member(request)
        perkville = app_state(request).perkville
        voucher_id = view.voucher.voucher_id
        try:
            await perkville.mark_voucher_used(member.caller, voucher_id)
        except PerkvilleNotImplemented:
            error = _(NOT_MARKABLE)
        except PerkvilleRequestError:
            # A retry after a lost answer is refused as "not UNUSED": it worked the first time.
            now = await perkville.voucher(member.caller, voucher_id)
            if now.status != "USED":
                error = _("Perkville couldn't mark this voucher used. Please show it to staff.")
        if error is None:
            return RedirectResponse(f"/vouchers/{view.voucher.voucher_id}?used=1", status_code=303)
    if not view.can_mark_used:
        return RedirectResponse(f"/vouchers/{view.voucher.voucher_id}", status_code=303)
    return render(
        request,
        "vouchers/use.html",
        {"tab": "vouchers", "view": view, "error": error},
        status_code=400 if error else 200,
        business=business,
    )


routes = [
    Route("/vouchers", vouchers_index, name="vouchers"),
    Route("/vouchers/{voucher_id}", voucher_detail, name="voucher"),
    Route("/vouchers/{voucher_id}/code.svg", voucher_code, name="voucher_code"),
    Route("/vouchers/{voucher_id}/use", mark_used, methods=["GET", "POST"], name="voucher_use"),
]
