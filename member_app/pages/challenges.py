"""Challenges: the member's own, the ones open to join and the ones coming up; one challenge
with its goals and progress; joining and leaving (reference, Challenge and Challenge
Connection)."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import date

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from ..i18n import N_, _, day, day_short, ngettext, number, pgettext
from ..perkville import (
    Business,
    Caller,
    Connection,
    PerkvilleError,
    PerkvilleNotImplemented,
    PerkvilleRequestError,
)
from ..perkville.challenges import (
    Challenge,
    ChallengeConnection,
    ChallengeRequirement,
    RequirementSummary,
)
from ..perkville.program import Location
from ..state import app_state
from ..web.session import TRACKED, Member, int_list, mark_stale
from ..web.templating import render
from .common import checked_form, path_id, require_member, today
from .place import choose_location

log = logging.getLogger(__name__)

# Where a challenge stands for this member. Perkville has no such field: it follows from the
# dates and the member's challenge connection (sandbox README, "Challenge dates").
IN_PROGRESS, COMPLETED, INCOMPLETE = "in_progress", "completed", "incomplete"
OPEN, INELIGIBLE, NOT_A_MEMBER = "open", "ineligible", "not_a_member"
UPCOMING, ENDED = "upcoming", "ended"


def state_label(state: str) -> str:
    """A challenge's state as the badge on its page reads it."""
    return {
        IN_PROGRESS: pgettext("challenge state", "In progress"),
        COMPLETED: pgettext("challenge state", "Completed"),
        INCOMPLETE: pgettext("challenge state", "Incomplete"),
        OPEN: pgettext("challenge state", "Open to join"),
        INELIGIBLE: pgettext("challenge state", "Not open to you"),
        NOT_A_MEMBER: pgettext("challenge state", "Not open to you"),
        UPCOMING: pgettext("challenge state", "Coming up"),
        ENDED: pgettext("challenge state", "Ended"),
    }[state]


# Perkville's refusals (sandbox README, error codes), as the short key the detail page's
# one-shot `?problem=` flag carries, and in plain words. "ineligible" shows the challenge's own
# ineligible message (reference, Challenge). The words are translated where they are shown.
PROBLEMS = {
    "not_started": N_("This challenge hasn't started yet. You can join it once it opens."),
    "ended": N_("This challenge has ended, so it can't be changed now."),
    "completed": N_("You've completed this challenge, so there's nothing to leave."),
    "no_connection": N_("Join the rewards program first, then you can take part in challenges."),
    "failed": N_(
        "This challenge couldn't be updated just now. Check its dates and who it's open to, "
        "then try again; the front desk can help if it keeps happening."
    ),
}
# The app's own problems (not Perkville's codes): the change isn't available here at all.
NOT_HERE = "not_here"
OWN_PROBLEMS = {
    NOT_HERE: N_(
        "Joining or leaving challenges isn't available in this app. Ask at the front desk."
    ),
}
DEFAULT_INELIGIBLE = N_("Sorry, you do not meet the requirements for this challenge.")


@dataclass(frozen=True, slots=True)
class Goal:
    """One requirement, with the member's progress once they take part."""

    requirement: ChallengeRequirement
    earned: int | None  # None: the member isn't taking part, so there is no progress to show
    done: bool

    @property
    def shown(self) -> int:
        return min(self.earned or 0, self.requirement.required_quantity)


@dataclass(frozen=True, slots=True)
class Progress:
    value: int
    max: int
    text: str


@dataclass(frozen=True, slots=True)
class ChallengeCard:
    challenge: Challenge
    entry: ChallengeConnection | None  # the member's challenge connection, if any
    state: str
    start: date | None  # the member's own dates win over the challenge's
    end: date | None
    timing: str  # "8 days left", "Starts in 40 days", "Ended Oct 31, 2026"
    reason: str | None  # why it cannot be joined; None when it can, or when already in it
    goals: tuple[Goal, ...]

    @property
    def label(self) -> str:
        return state_label(self.state)

    @property
    def invited(self) -> bool:
        return self.entry is not None and self.entry.join_status == "PENDING"

    @property
    def can_join(self) -> bool:
        return self.state == OPEN

    @property
    def can_leave(self) -> bool:
        return self.state == IN_PROGRESS

    @property
    def over(self) -> bool:
        return self.state in (COMPLETED, INCOMPLETE, ENDED)

    @property
    def headline(self) -> str:
        """The list's line under the name: time left and dates, or how it ended."""
        if self.state == COMPLETED and self.entry and self.entry.completed_dt:
            return pgettext("challenge", "Completed %(date)s") % {
                "date": day(self.entry.completed_dt)
            }
        return self.timing if self.over else f"{self.timing} · {self.dates}"

    @property
    def dates(self) -> str:
        if self.start and self.end:
            # The start's year only when it differs from the end's: "Nov 1 to Nov 30, 2026".
            same_year = self.start.year == self.end.year
            start = day_short(self.start) if same_year else day(self.start)
            return _("%(start)s to %(end)s") % {"start": start, "end": day(self.end)}
        if self.end:
            return _("Until %(date)s") % {"date": day(self.end)}
        if self.start:
            return _("From %(date)s") % {"date": day(self.start)}
        return _("Ongoing")

    @property
    def outcome(self) -> str | None:
        """The challenge's own message once it is over for the member (reference, Challenge)."""
        if self.state == COMPLETED:
            return self.challenge.success_message or _("You completed this challenge!")
        if self.state == INCOMPLETE:
            return self.challenge.incomplete_message or _(
                "This challenge ended before you finished."
            )
        return None

    @property
    def progress(self) -> Progress | None:
        """The list's one-line progress: the goal itself when there is one, else goals met."""
        tracked = [g for g in self.goals if g.earned is not None]
        if not tracked:
            return None
        if len(tracked) == 1:
            goal = tracked[0]
            need = goal.requirement.required_quantity
            text = _("%(goal)s: %(done)s of %(required)s") % {
                "goal": goal.requirement.title,
                "done": number(goal.shown),
                "required": number(need),
            }
            return Progress(goal.shown, need, text)
        met, total = sum(g.done for g in tracked), len(tracked)
        text = ngettext("%(done)s of %(num)s goal done", "%(done)s of %(num)s goals done", total)
        return Progress(met, total, text % {"done": number(met), "num": number(total)})


def timing(start: date | None, end: date | None, on: date) -> str:
    """Time left, in days; start and end days both count (sandbox README)."""
    if start and on < start:
        days = (start - on).days
        if days == 1:
            return _("Starts tomorrow")
        return ngettext("Starts in %(num)s day", "Starts in %(num)s days", days) % {
            "num": number(days)
        }
    if end and on > end:
        return _("Ended %(date)s") % {"date": day(end)}
    if end is None:
        return _("No end date")
    days = (end - on).days
    if days == 0:
        return _("Last day today")
    return ngettext("%(num)s day left", "%(num)s days left", days) % {"num": number(days)}


def assess(
    challenge: Challenge,
    entry: ChallengeConnection | None,
    connection: Connection | None,
    requirements: list[ChallengeRequirement],
    summaries: list[RequirementSummary],
    on: date,
) -> ChallengeCard:
    """Where this challenge stands for the member, and what they can do about it."""
    start = (entry.start_date if entry else None) or challenge.start_date
    end = (entry.end_date if entry else None) or challenge.end_date
    upcoming, ended = bool(start and on < start), bool(end and on > end)
    joined = entry is not None and entry.joined
    reason: str | None = None
    if entry is not None and entry.completed:
        state = COMPLETED
    elif joined and not upcoming:
        state = INCOMPLETE if ended else IN_PROGRESS
    elif upcoming:
        state = UPCOMING
        opens = {"date": day(start) if start else ""}
        reason = (
            _("You're in. It starts %(date)s.") % opens
            if joined
            else _("You can join from %(date)s.") % opens
        )
    elif ended:
        state, reason = ENDED, _("This challenge has ended.")
    elif connection is None or connection.status == "INACTIVE":
        state, reason = NOT_A_MEMBER, _(PROBLEMS["no_connection"])
    elif (
        challenge.home_location_ids
        and connection.home_location_id not in challenge.home_location_ids
    ):
        state = INELIGIBLE
        reason = challenge.ineligible_message or _(DEFAULT_INELIGIBLE)
    else:
        state = OPEN
    taking_part = joined or state == COMPLETED
    entry_id = entry.challenge_connection_id if entry and taking_part else None
    mine = {
        s.requirement_id: s
        for s in summaries
        if entry_id is not None and s.challenge_connection_id == entry_id
    }
    goals = []
    for req in requirements:
        summary = mine.get(req.requirement_id)
        earned = (summary.earned_quantity if summary else 0) if taking_part else None
        goals.append(Goal(req, earned, bool(summary and summary.completed_requirement)))
    return ChallengeCard(
        challenge, entry, state, start, end, timing(start, end, on), reason, tuple(goals)
    )


def counts_at(challenge: Challenge, loc_id: int | None) -> bool:
    """Whether visits at this location count towards the challenge (reference, Challenge:
    `locations`, empty for every location). With no location chosen, every challenge does."""
    return loc_id is None or not challenge.location_ids or loc_id in challenge.location_ids


@dataclass(frozen=True, slots=True)
class ChallengesPage:
    """The member's own challenges wherever they count; the ones to join and the ones coming
    up only where they count at the chosen location `loc_id`."""

    cards: list[ChallengeCard]
    loc_id: int | None = None

    def _in(self, *states: str) -> list[ChallengeCard]:
        return [c for c in self.cards if c.state in states]

    def _here(self, *states: str) -> list[ChallengeCard]:
        return [c for c in self._in(*states) if counts_at(c.challenge, self.loc_id)]

    @property
    def in_progress(self) -> list[ChallengeCard]:
        return sorted(self._in(IN_PROGRESS), key=lambda c: c.end or date.max)

    @property
    def completed(self) -> list[ChallengeCard]:
        return sorted(self._in(COMPLETED), key=lambda c: c.end or date.max, reverse=True)

    @property
    def incomplete(self) -> list[ChallengeCard]:
        return sorted(self._in(INCOMPLETE), key=lambda c: c.end or date.max, reverse=True)

    @property
    def available(self) -> list[ChallengeCard]:
        # Open ones first; the others say why not, as rewards do.
        cards = self._here(OPEN, INELIGIBLE, NOT_A_MEMBER)
        return sorted(cards, key=lambda c: (not c.can_join, c.end or date.max))

    @property
    def upcoming(self) -> list[ChallengeCard]:
        return sorted(self._here(UPCOMING), key=lambda c: c.start or date.min)


@dataclass(frozen=True, slots=True)
class ChallengeData:
    """The challenges as this member sees them, with what was fetched alongside them (the
    member's connection and the business's locations), so callers need not fetch it again."""

    business: Business
    connection: Connection | None
    locations: list[Location]
    cards: list[ChallengeCard]


# The session keeps the ids of the challenge connections it last tracked progress for
# (`session.TRACKED`): fetching their progress alongside the challenge connections themselves
# saves a round trip.
TRACKED_KEPT = 20  # more than this, and the guess is not worth the cookie


def _tracked(entries: list[ChallengeConnection]) -> list[int]:
    """The challenge connections whose progress the member's pages show."""
    return sorted(
        e.challenge_connection_id
        for e in entries
        if (e.joined or e.completed) and e.challenge_connection_id is not None
    )


async def tracked_at_sign_in(request: Request, caller: Caller) -> list[int] | None:
    """The member's tracked challenge connections, fetched during sign-in alongside their
    account, so the first home page gets their progress in its first round trip. None when
    Perkville did not say (the page then finds out itself)."""
    state = app_state(request)
    try:
        entries = await state.perkville.challenge_connections(caller, state.settings.business_id)
    except PerkvilleError as exc:
        log.info("challenge connections at sign-in failed: %s", type(exc).__name__)
        return None
    tracked = _tracked(entries)
    return tracked if len(tracked) <= TRACKED_KEPT else None


async def challenge_cards(
    request: Request, member: Member, only: int | None = None
) -> ChallengeData:
    """Every challenge of the business as this member sees it (or just `only`). Progress
    needs the ids of the member's challenge connections; the ids this session saw last time
    are fetched at once, and only new ones cost a second round trip."""
    state = app_state(request)
    business_id, perkville, caller = state.settings.business_id, state.perkville, member.caller
    known = int_list(request, TRACKED)
    # Two gathers only because typeshed types `gather` for up to six calls: all go at once.
    (
        (business, challenges, entries, requirements),
        (connection, locations, summaries),
    ) = await asyncio.gather(
        asyncio.gather(
            perkville.business(caller, business_id),
            perkville.challenges(caller, business_id),
            perkville.challenge_connections(caller, business_id),
            perkville.challenge_requirements(caller, business_id),
        ),
        asyncio.gather(
            perkville.connection(caller, business_id=business_id, user_id=member.user_id),
            perkville.locations(caller, business_id),
            perkville.challenge_summaries(caller, known),
        ),
    )
    tracked = _tracked(entries)
    missing = [i for i in tracked if i not in known]
    if missing:
        summaries = summaries + await perkville.challenge_summaries(member.caller, missing)
    if tracked != known:
        if len(tracked) <= TRACKED_KEPT:
            request.session[TRACKED] = tracked
        else:
            request.session.pop(TRACKED, None)
    challenges = [c for c in challenges if only is None or c.challenge_id == only]
    shown = {c.challenge_id for c in challenges}
    entry_of = {e.challenge_id: e for e in entries if e.challenge_id in shown}
    on = today(request)
    goals = sorted(requirements, key=lambda r: (r.display_order is None, r.display_order or 0))

    def card(c: Challenge) -> ChallengeCard:
        own = [r for r in goals if r.challenge_id == c.challenge_id]
        return assess(c, entry_of.get(c.challenge_id), connection, own, summaries, on)

    return ChallengeData(business, connection, locations, [card(c) for c in challenges])


async def challenges_index(request: Request) -> Response:
    """Show the member's challenges, the ones they can join, and the ones coming up."""
    member = require_member(request)
    # The list is scoped to the selected location. The endpoint takes no loc_id, so the app
    # scopes it with each challenge's `locations` (where visits count); the member's own
    # challenges show whatever the location.
    data = await challenge_cards(request, member)
    place = choose_location(request, data.locations, data.connection)
    page = ChallengesPage(data.cards, place.loc_id)
    return render(
        request,
        "challenges/index.html",
        {"tab": "more", "page": page, "place": place},
        business=data.business,
    )


@dataclass(frozen=True, slots=True)
class ChallengeDetail:
    card: ChallengeCard
    notice: str | None  # good news after joining or leaving
    problem: str | None  # Perkville's refusal, in plain words


async def challenge_detail(request: Request) -> Response:
    """One challenge: what it asks, the member's progress, and joining or leaving."""
    member = require_member(request)
    challenge_id = path_id(request, "challenge_id")
    if challenge_id is None:
        return await _missing(request, member)
    data = await challenge_cards(request, member, only=challenge_id)
    business, cards = data.business, data.cards
    if not cards:
        return await _missing(request, member, business)
    card = cards[0]
    notice = None
    if request.query_params.get("joined") == "1" and card.state == IN_PROGRESS:
        notice = card.challenge.join_message or _("You're in! Good luck.")
    elif request.query_params.get("left") == "1" and card.state != IN_PROGRESS:
        notice = _("You've left this challenge.")
    key = request.query_params.get("problem", "")
    words = PROBLEMS.get(key) or OWN_PROBLEMS.get(key)
    problem = _(words) if words else None
    if key == "ineligible":
        problem = card.challenge.ineligible_message or _(DEFAULT_INELIGIBLE)
    page = ChallengeDetail(card, notice, problem)
    return render(
        request, "challenges/detail.html", {"tab": "more", "page": page}, business=business
    )


async def _missing(request: Request, member: Member, business: Business | None = None) -> Response:
    if business is None:
        settings = app_state(request).settings
        business = await app_state(request).perkville.business(member.caller, settings.business_id)
    return render(
        request, "challenges/missing.html", {"tab": "more"}, status_code=404, business=business
    )


async def challenge_join(request: Request) -> Response:
    """Join the challenge, then back to it with the challenge's join message."""
    return await _set_join_status(request, "ACTIVE")


async def challenge_leave(request: Request) -> Response:
    """Leave the challenge, then back to it."""
    return await _set_join_status(request, "INACTIVE")


async def _set_join_status(request: Request, join_status: str) -> Response:
    member = require_member(request)
    challenge_id = path_id(request, "challenge_id")
    await checked_form(request)
    mark_stale(request)
    settings = app_state(request).settings
    perkville = app_state(request).perkville
    challenges = await perkville.challenges(member.caller, settings.business_id)
    if challenge_id is None or all(c.challenge_id != challenge_id for c in challenges):
        return await _missing(request, member)
    back = request.url_for("challenge", challenge_id=challenge_id).path
    try:
        await perkville.set_challenge_join_status(member.caller, challenge_id, join_status)
    except PerkvilleNotImplemented:
        return RedirectResponse(f"{back}?problem={NOT_HERE}", status_code=303)
    except PerkvilleRequestError as exc:
        log.info("challenge %s refused for member %s: %s", join_status, member.user_id, exc.codes)
        keys = [code.removeprefix("pv_challenge_") for code in exc.codes]
        key = next((k for k in keys if k in PROBLEMS or k == "ineligible"), "failed")
        return RedirectResponse(f"{back}?problem={key}", status_code=303)
    log.info("member %s set challenge %s to %s", member.user_id, challenge_id, join_status)
    flag = "joined" if join_status == "ACTIVE" else "left"
    return RedirectResponse(f"{back}?{flag}=1", status_code=303)


routes = [
    Route("/challenges", challenges_index, name="challenges"),
    Route("/challenges/{challenge_id}", challenge_detail, name="challenge"),
    Route(
        "/challenges/{challenge_id}/join", challenge_join, methods=["POST"], name="challenge_join"
    ),
    Route(
        "/challenges/{challenge_id}/leave",
        challenge_leave,
        methods=["POST"],
        name="challenge_leave",
    ),
]
