"""The demo gym's challenges (reference: Challenge, Challenge Perk Requirement, Challenge
Connection, Challenge Connection Requirement Summary).

Fixed datetimes around "today", 2026-11-22; the sandbox itself always compares with
`store.now()`, so a challenge's phase follows the real (or a test's) clock. The requirements'
progress perks (9101-9105) are PROGRESS_ACTIVITY perks of the rewards seed (`rewards.py`).
"""

from __future__ import annotations

from ..records import (
    Challenge,
    ChallengeConnection,
    ChallengePerkRequirement,
    ChallengeRequirementSummary,
)
from ..store import Store
from .gym import dt

# Named ids, for tests and docs.
CHALLENGE_JOINED = 801  # Maya joined, in progress (7/12 check-ins, 2/2 classes)
CHALLENGE_OPEN = 802  # running, Maya may join (Jordan is invited: PENDING)
CHALLENGE_COMPLETED = 803  # ended in October, Maya completed it
CHALLENGE_INELIGIBLE = 804  # Northgate home members only; Maya's home is Downtown
CHALLENGE_UPCOMING = 805  # starts 2027-01-01
CHALLENGE_ENDED_INCOMPLETE = 806  # ended in August, Maya joined but did not finish


def _challenge(
    challenge_id: int,
    name: str,
    slug: str,
    start_date: str,
    end_date: str,
    description: str,
    fine_print: str = "",
    *,
    location_ids: list[int] | None = None,
    home_location_ids: list[int] | None = None,
    ineligible_message: str = "Sorry, you do not meet the requirements for this challenge.",
    require_active_membership: bool = False,
) -> Challenge:
    """A challenge of business 4 with the demo's messages."""
    return Challenge(
        challenge_id,
        4,
        name,
        slug,
        description,
        fine_print,
        join_message="You're in! Every visit now counts towards this challenge.",
        ineligible_message=ineligible_message,
        success_message="Congratulations, you completed the challenge!",
        incomplete_message="You'll get it next time!",
        location_ids=location_ids or [],
        home_location_ids=home_location_ids or [],
        start_date=start_date,
        end_date=end_date,
        require_active_membership=require_active_membership,
    )


def seed_challenges(store: Store) -> None:
    """Add the challenges of the demo gym (business 4) and Maya's and Jordan's part in them."""
    # The positional rows are kept compact on purpose, as in gym.py.
    # fmt: off
    store.challenges = {
        801: _challenge(
            801, "November Check-In Challenge", "november-check-in", "2026-11-01", "2026-11-30",
            "Check in 12 times and take 2 group classes in November to earn 500 bonus points.",
            "Check-ins at any Summit Fitness club count. One check-in per day.",
        ),
        802: _challenge(
            802, "Holiday Hustle", "holiday-hustle", "2026-11-15", "2026-12-31",
            "Take 10 classes between mid-November and New Year's Eve for a free smoothie.",
            "Classes at any club count.",
        ),
        803: _challenge(
            803, "October Cardio Kickoff", "october-cardio", "2026-10-01", "2026-10-31",
            "Log 8 cardio sessions in October.",
        ),
        804: _challenge(
            804, "Northgate Grand Opening", "northgate-grand-opening", "2026-11-10",
            "2026-12-15", "Visit our new Northgate club 5 times to earn a Summit water bottle.",
            "Open to members whose home club is Northgate.", location_ids=[13],
            home_location_ids=[13],
            ineligible_message="This challenge is for members of our Northgate club.",
        ),
        805: _challenge(
            805, "New Year Reset", "new-year-reset", "2027-01-01", "2027-01-31",
            "Start the year strong: check in 15 times in January.",
            require_active_membership=True,
        ),
        806: _challenge(
            806, "Summer Strength Series", "summer-strength", "2026-07-01", "2026-08-31",
            "Complete 6 strength sessions over the summer.",
        ),
    }
    store.challenge_requirements = {
        901: ChallengePerkRequirement(
            901, 801, 4, "Check in 12 times", 12, 9101, "Any club, once a day.", display_order=1,
        ),
        902: ChallengePerkRequirement(
            902, 801, 4, "Take 2 group classes", 2, 9102, "Any group class on the schedule.",
            detail_link="https://summit-fitness.example/classes", display_order=2,
        ),
        903: ChallengePerkRequirement(903, 802, 4, "Take 10 classes", 10, 9102, display_order=1),
        904: ChallengePerkRequirement(
            904, 803, 4, "Log 8 cardio sessions", 8, 9103, display_order=1,
        ),
        905: ChallengePerkRequirement(
            905, 804, 4, "Visit Northgate 5 times", 5, 9105, display_order=1,
        ),
        906: ChallengePerkRequirement(906, 805, 4, "Check in 15 times", 15, 9101, display_order=1),
        907: ChallengePerkRequirement(
            907, 806, 4, "Complete 6 strength sessions", 6, 9104, display_order=1,
        ),
    }
    store.challenge_connections = {
        851: ChallengeConnection(
            851, 801, 3001, 4, "ACTIVE", dt("2026-11-02T08:00:00+00:00"),
            dt("2026-11-20T07:42:00+00:00"), join_dt=dt("2026-11-02T08:00:00+00:00"),
        ),
        853: ChallengeConnection(
            853, 803, 3001, 4, "ACTIVE", dt("2026-10-01T12:00:00+00:00"),
            dt("2026-10-24T18:10:00+00:00"), join_dt=dt("2026-10-01T12:00:00+00:00"),
            completed=True, completed_dt=dt("2026-10-24T18:10:00+00:00"),
        ),
        856: ChallengeConnection(
            856, 806, 3001, 4, "ACTIVE", dt("2026-07-03T09:30:00+00:00"),
            dt("2026-08-20T17:00:00+00:00"), join_dt=dt("2026-07-03T09:30:00+00:00"),
        ),
        857: ChallengeConnection(  # an invitation Jordan has not answered
            857, 802, 3003, 4, "PENDING", dt("2026-11-16T10:00:00+00:00"),
            dt("2026-11-16T10:00:00+00:00"),
        ),
    }
    store.challenge_summaries = {
        871: ChallengeRequirementSummary(
            871, 851, 901, dt("2026-11-02T08:00:00+00:00"), dt("2026-11-20T07:42:00+00:00"),
            earned_quantity=7,
        ),
        872: ChallengeRequirementSummary(
            872, 851, 902, dt("2026-11-02T08:00:00+00:00"), dt("2026-11-12T19:00:00+00:00"),
            earned_quantity=2, completed_requirement=True,
            completed_dt=dt("2026-11-12T19:00:00+00:00"),
        ),
        873: ChallengeRequirementSummary(
            873, 853, 904, dt("2026-10-01T12:00:00+00:00"), dt("2026-10-24T18:10:00+00:00"),
            earned_quantity=8, completed_requirement=True,
            completed_dt=dt("2026-10-24T18:10:00+00:00"),
        ),
        874: ChallengeRequirementSummary(
            874, 856, 907, dt("2026-07-03T09:30:00+00:00"), dt("2026-08-20T17:00:00+00:00"),
            earned_quantity=4,
        ),
    }
    # fmt: on
