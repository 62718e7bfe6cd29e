"""The member's vouchers: the list, one voucher with its code, and marking one used."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date, timedelta

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from ..perkville import Business, PerkvilleNotFound, PerkvilleRequestError
from ..perkville.program import Location, Voucher
from ..state import app_state
from ..web.session import mark_stale
from ..web.templating import render
from .codes import barcode_svg, qr_svg
from .common import checked_form, path_id, require_member, today

EXPIRING_SOON = timedelta(days=7)
STATUS_LABELS = {
    "UNUSED": "Ready to use",
    "USED": "Used",
    "EXPIRED": "Expired",
    "VOIDED": "Voided",
    "PROCESSING": "Processing",
    "EMAILED_REWARD": "Sent by email",
    "CREDITED": "Credited",
    "ISSUED": "Issued",
}


@dataclass(frozen=True, slots=True)
class VoucherView:
    voucher: Voucher
    status_label: str
    location: Location | None
    expiring_soon: bool
    days_left: int | None

    @property
    def code_kind(self) -> str:
        """What to show at the desk, best first: the reward's URL, a QR code of the business's
        coupon code, a barcode of the voucher id."""
        if self.voucher.reward_url:
            return "link"
        return "qr" if self.voucher.external_coupon_code else "barcode"


def view_of(voucher: Voucher, locations: list[Location], on: date) -> VoucherView:
    location = next((loc for loc in locations if loc.location_id == voucher.location_id), None)
    days_left = (voucher.expiration_date - on).days if voucher.expiration_date else None
    return VoucherView(
        voucher,
        STATUS_LABELS.get(voucher.status, voucher.status.title()),
        location,
        voucher.status == "UNUSED"
        and days_left is not None
        and 0 <= days_left <= EXPIRING_SOON.days,
        days_left,
    )


async def vouchers_index(request: Request) -> Response:
    """List the member's vouchers in Perkville's order."""
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
    return render(
        request, "vouchers/index.html", {"tab": "vouchers", "views": views}, business=business
    )


async def _voucher_view(request: Request) -> tuple[VoucherView | None, Business]:
    member = require_member(request)
    state = app_state(request)
    business_id, perkville = state.settings.business_id, state.perkville
    voucher_id = path_id(request, "voucher_id")
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
    return view_of(voucher, locations, today(request)), business


def _missing(request: Request, business: Business) -> Response:
    return render(
        request, "vouchers/missing.html", {"tab": "vouchers"}, status_code=404, business=business
    )


async def voucher_detail(request: Request) -> Response:
    """One voucher, with the code to show at the front desk."""
    view, business = await _voucher_view(request)
    if view is None:
        return _missing(request, business)
    return render(
        request,
        "vouchers/detail.html",
        {
            "tab": "vouchers",
            "view": view,
            "redeemed": request.query_params.get("redeemed") == "1",
            "marked": request.query_params.get("used") == "1",
        },
        business=business,
    )


async def voucher_code(request: Request) -> Response:
    """The voucher's code as an SVG image: QR for a coupon code, Code 128 barcode otherwise."""
    view, _ = await _voucher_view(request)
    if view is None:
        return Response("Not found", status_code=404, media_type="text/plain")
    return Response(
        code_svg(view.voucher),
        media_type="image/svg+xml",
        headers={"Cache-Control": "private, no-store"},
    )


def code_svg(voucher: Voucher) -> bytes:
    if voucher.external_coupon_code:
        return qr_svg(voucher.external_coupon_code, title=f"QR code {voucher.code}")
    return barcode_svg(voucher.voucher_id)


async def mark_used(request: Request) -> Response:
    """Confirm (GET) and mark the voucher used (POST). It cannot be undone."""
    view, business = await _voucher_view(request)
    if view is None:
        return _missing(request, business)
    error = None
    if request.method == "POST":
        await checked_form(request)
        if not view.voucher.can_mark_used:
            return RedirectResponse(f"/vouchers/{view.voucher.voucher_id}", status_code=303)
        mark_stale(request)
        member = require_member(request)
        perkville = app_state(request).perkville
        voucher_id = int(view.voucher.voucher_id)
        try:
            await perkville.mark_voucher_used(member.caller, voucher_id)
        except PerkvilleRequestError:
            # A retry after a lost answer is refused as "not UNUSED": it worked the first time.
            now = await perkville.voucher(member.caller, voucher_id)
            if now.status != "USED":
                error = "Perkville couldn't mark this voucher used. Please show it to staff."
        if error is None:
            return RedirectResponse(f"/vouchers/{view.voucher.voucher_id}?used=1", status_code=303)
    if not view.voucher.can_mark_used:
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
