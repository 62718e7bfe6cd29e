"""Joining the rewards program: the program's terms to accept, then the member's connection
becomes ACTIVE (reference, Connection: `status`)."""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass, replace

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from ..i18n import N_, _
from ..perkville import (
    Business,
    Caller,
    Connection,
    PerkvilleAuthError,
    PerkvilleForbidden,
    PerkvilleNotFound,
    PerkvilleNotImplemented,
    PerkvilleRequestError,
)
from ..perkville.community import AgreementVersion
from ..state import app_state
from ..web.session import Member, mark_stale
from ..web.templating import render
from .common import checked_form, refusal, require_member

log = logging.getLogger(__name__)

# Agreement texts may carry links written `[label](https://…)`: only http(s) targets become
# links; the rest stays text.
_LINK = re.compile(r"\[([^\]\n]{1,200})\]\((https?://[^\s)]{1,500})\)")

# Plain words for Perkville's refusals of a join (the sandbox README lists the codes); they
# and the page's other problems below are translated when the page is shown.
REFUSALS = {
    "pv_connection_membership_not_active": N_(
        "This program is for active members. If you just joined, allow up to 24 hours for "
        "your membership to sync, then try again."
    ),
    "pv_connection_agreement_required": N_(
        "The program's terms have changed. Please read and accept them again to join."
    ),
}
GENERIC_REFUSAL = N_(
    "We couldn't finish joining you just now. Please try again in a moment; if it keeps "
    "happening, join on the rewards website or ask at the front desk."
)
NOT_HERE = N_(
    "Joining isn't available in this app for this program. Join on the rewards website or ask "
    "at the front desk."
)
# The query flag of the join page that sends the member to accept the terms on the rewards
# website (and `check`: they say they have, and the page looks again).
ELSEWHERE, CHECK = "elsewhere", "check"
UNTICKED = N_("To join, tick the box to accept the program terms.")


@dataclass(frozen=True, slots=True)
class Agreement:
    version: AgreementVersion
    parts: tuple[tuple[str, str | None], ...]  # (text, link target or None), in order
    title: str  # the business's name for it ("Summit Rewards program terms")

    @property
    def field(self) -> str:
        return f"agree-{self.version.version_id}"


@dataclass(frozen=True, slots=True)
class JoinPage:
    business: Business
    connection: Connection | None
    join_bonus: int | None  # points of the REGISTRATION earning rule, if there is one
    agreements: list[Agreement]  # active ones the member has not accepted yet
    can_record: bool  # a staff token is configured: acceptances can be recorded from here
    # Perkville did not record them from here (no such endpoint, or it refused): the member
    # accepts them on the rewards website.
    elsewhere: bool = False

    @property
    def blocked(self) -> bool:
        """Terms must be accepted that this app cannot record: finish on the rewards website."""
        unrecordable = not self.can_record or self.elsewhere
        return unrecordable and any(a.version.required for a in self.agreements)

    @property
    def offered(self) -> list[Agreement]:
        """The agreements shown with a checkbox (optional ones only when they can be recorded)."""
        return self.agreements if self.can_record and not self.elsewhere else []


def agreement_of(version: AgreementVersion, business: Business) -> Agreement:
    """An agreement as members read it: its title, and its text with the links made links.
    Without a name from the business, the title says what it is in the program's words."""
    fallback = (
        _("%(program)s terms") % {"program": business.program_name}
        if version.required
        else _("Optional extra")
    )
    return Agreement(version, linked(version.text), version.name.strip() or fallback)


def linked(text: str) -> tuple[tuple[str, str | None], ...]:
    parts: list[tuple[str, str | None]] = []
    last = 0
    for match in _LINK.finditer(text):
        parts += [(text[last : match.start()], None), (match[1], match[2])]
        last = match.end()
    parts.append((text[last:], None))
    return tuple((words, href) for words, href in parts if words)


async def _page(request: Request, member: Member) -> JoinPage:
    settings = app_state(request).settings
    perkville = app_state(request).perkville
    business, connection, rules, versions, accepted = await asyncio.gather(
        perkville.business(member.caller, settings.business_id),
        perkville.connection(
            member.caller, business_id=settings.business_id, user_id=member.user_id
        ),
        perkville.earning(member.caller, settings.business_id, None),
        perkville.agreement_versions(member.caller, settings.business_id),
        perkville.accepted_agreements(member.caller, settings.business_id, member.user_id),
    )
    done = {a.version_id for a in accepted}
    return JoinPage(
        business,
        connection,
        next((rule.points for rule in rules if rule.type == "REGISTRATION"), None),
        [agreement_of(v, business) for v in versions if v.version_id not in done],
        settings.admin_token is not None,
    )


async def _record(request: Request, member: Member, ticked: list[int]) -> bool:
    """Record the ticked agreements with the staff token. False when Perkville did not: the
    write is not in the reference (User Business Agreement: "You can't create new instances"),
    so a missing endpoint (404, 405, 501) or a refusal sends the member to the rewards website."""
    settings = app_state(request).settings
    if settings.admin_token is None:  # nothing is offered to tick then (JoinPage.offered)
        return False
    try:
        await app_state(request).perkville.accept_agreements(
            Caller(settings.admin_token),
            business_id=settings.business_id,
            user_id=member.user_id,
            version_ids=ticked,
        )
    # The staff token's failures are not the member's: never sign them out for one.
    except (
        PerkvilleAuthError,
        PerkvilleForbidden,
        PerkvilleNotFound,
        PerkvilleNotImplemented,
        PerkvilleRequestError,
    ) as exc:
        log.warning("recording agreements failed: %s %s", exc.status, ",".join(exc.codes))
        return False
    return True


async def _join(request: Request, member: Member, connection: Connection) -> str | None:
    """Join with the member's token. Returns what went wrong, in plain words (in English: the
    page translates it), or None when the member has joined."""
    try:
        await app_state(request).perkville.join(member.caller, connection.connection_id)
    except PerkvilleNotImplemented:
        log.warning("joining is not implemented by Perkville")
        return NOT_HERE
    except PerkvilleRequestError as exc:
        log.info("join refused for member %s: %s", member.user_id, ",".join(exc.codes))
        return refusal(exc, REFUSALS, GENERIC_REFUSAL)
    log.info("member %s joined the program", member.user_id)
    return None


async def join(request: Request) -> Response:
    """Offer a member who hasn't joined the program's terms (GET), and join them (POST). Terms
    this app can't record are accepted on the rewards website, and the member comes back."""
    if request.query_params.get(CHECK) == "1":
        mark_stale(request)  # "I've joined — check again": not the copy from before
    member = require_member(request)
    form = await checked_form(request) if request.method == "POST" else None
    page = await _page(request, member)
    home = request.url_for("home").path
    if page.connection is not None and page.connection.joined:
        return RedirectResponse(home, status_code=303)
    if request.query_params.get(ELSEWHERE) == "1":
        page = replace(page, elsewhere=True)
    ticked = {a.version.version_id for a in page.offered if form and form.get(a.field) == "yes"}
    error = None
    if form is not None and page.connection is not None and not page.blocked:
        required = {a.version.version_id for a in page.offered if a.version.required}
        if required - ticked:
            error = UNTICKED
        else:
            mark_stale(request)
            if ticked and not await _record(request, member, sorted(ticked)):
                if required:  # without them Perkville won't join the member: its website will
                    elsewhere = f"{request.url_for('join').path}?{ELSEWHERE}=1"
                    return RedirectResponse(elsewhere, status_code=303)
                log.info("member %s joins without the optional agreements", member.user_id)
            error = await _join(request, member, page.connection)
        if error is None:
            return RedirectResponse(f"{home}?joined=1", status_code=303)
    return render(
        request,
        "join/index.html",
        {
            "tab": "home",
            "page": page,
            "ticked": ticked,
            "error": _(error) if error else None,
            "perkville_instead": error in (GENERIC_REFUSAL, NOT_HERE),
            "checked": page.blocked and request.query_params.get(CHECK) == "1",
        },
        status_code=400 if error else 200,
        business=page.business,
    )


routes = [Route("/join", join, methods=["GET", "POST"], name="join")]
