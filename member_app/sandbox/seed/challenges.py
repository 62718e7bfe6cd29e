"""The demo gym's challenges (reference: Challenge, Challenge Perk Requirement, Challenge
Connection, Challenge Connection Requirement Summary).

Fixed datetimes around "today", 2026-11-22; the sandbox itself always compares with
`store.now()`, so a challenge's phase follows the real (or a test's) clock. A requirement counts
an earning rule (check-ins 101, classes 102) or an activity (cardio 9103, strength 9104) of the
rewards seed (`rewards.py`), and the members' progress is not written here but replayed from
their point history: each earn after they joined, through the sandbox's own rule
(`record_challenge_progress`), so a challenge's "7 of 12" is the 7 check-ins in its dates.
"""

from __future__ import annotations

from ..challenges import record_challenge_progress
from ..records import (
    Challenge,
    ChallengeConnection,
    ChallengePerkRequirement,
    ChallengeRequirementSummary,
)
from ..store import Store
from .gym import local

CHECK_IN, CLASS, CARDIO, STRENGTH = 101, 102, 9103, 9104

# Named ids, for tests and docs.
CHALLENGE_JOINED = 801  # Maya joined, in progress (7/12 check-ins, 2/2 classes in November)
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
            901, 801, 4, "Check in 12 times", 12, CHECK_IN, "Any club, once a day.",
            display_order=1,
        ),
        902: ChallengePerkRequirement(
            902, 801, 4, "Take 2 group classes", 2, CLASS, "Any group class on the schedule.",
            detail_link="https://summit-fitness.example/classes", display_order=2,
        ),
        903: ChallengePerkRequirement(903, 802, 4, "Take 10 classes", 10, CLASS, display_order=1),
        904: ChallengePerkRequirement(
            904, 803, 4, "Log 8 cardio sessions", 8, CARDIO, display_order=1,
        ),
        905: ChallengePerkRequirement(
            905, 804, 4, "Visit Northgate 5 times", 5, CHECK_IN, display_order=1,
        ),
        906: ChallengePerkRequirement(
            906, 805, 4, "Check in 15 times", 15, CHECK_IN, display_order=1,
        ),
        907: ChallengePerkRequirement(
            907, 806, 4, "Complete 6 strength sessions", 6, STRENGTH, display_order=1,
        ),
    }
    # Who joined what, and when: (challenge connection, its summaries' ids).
    joined = [
        (ChallengeConnection(
            851, 801, 3001, 4, "ACTIVE", local("2026-11-02 07:30"), local("2026-11-02 07:30"),
            join_dt=local("2026-11-02 07:30"),
        ), (871, 872)),
        (ChallengeConnection(
            853, 803, 3001, 4, "ACTIVE", local("2026-10-01 12:00"), local("2026-10-01 12:00"),
            join_dt=local("2026-10-01 12:00"),
        ), (873,)),
        (ChallengeConnection(
            856, 806, 3001, 4, "ACTIVE", local("2026-07-03 09:30"), local("2026-07-03 09:30"),
            join_dt=local("2026-07-03 09:30"),
        ), (874,)),
    ]
    store.challenge_connections = {
        857: ChallengeConnection(  # an invitation Jordan has not answered
            857, 802, 3003, 4, "PENDING", local("2026-11-16 10:00"), local("2026-11-16 10:00"),
        ),
    }
    # fmt: on
    store.challenge_summaries = {}
    _replay_progress(store, joined)


def _replay_progress(
    store: Store, joined: list[tuple[ChallengeConnection, tuple[int, ...]]]
) -> None:
    """Join each challenge at its join_dt (a summary per requirement, at 0), and count every
    earn from then on, in time order, as the sandbox counts a new one."""
    waiting = sorted(joined, key=lambda pair: pair[0].created_dt)
    earns = sorted(
        (t for t in store.transactions.values() if t.classification == "EARN"),
        key=lambda t: (t.transaction_dt, t.transaction_id),
    )
    for txn in earns:
        while waiting and waiting[0][0].created_dt <= txn.transaction_dt:
            cc, summary_ids = waiting.pop(0)
            _join(store, cc, summary_ids)
        if txn.transaction_status == "ACTIVE":
            record_challenge_progress(
                store, user_id=txn.user_id, business_id=txn.business_id, perk_id=txn.perk_id,
                quantity=txn.quantity, location_id=txn.location_id, when=txn.transaction_dt,
            )  # fmt: skip
    for cc, summary_ids in waiting:
        _join(store, cc, summary_ids)
    for cc, _ in joined:
        progress = [
            s.last_mod_dt
            for s in store.challenge_summaries.values()
            if s.challenge_connection_id == cc.challenge_connection_id
        ]
        cc.last_mod_dt = max([cc.last_mod_dt, *progress])
    store.challenge_connections = dict(sorted(store.challenge_connections.items()))
    store.challenge_summaries = dict(sorted(store.challenge_summaries.items()))


def _join(store: Store, cc: ChallengeConnection, summary_ids: tuple[int, ...]) -> None:
    store.challenge_connections[cc.challenge_connection_id] = cc
    requirements = [k for k, r in sorted(store.challenge_requirements.items())
                    if r.challenge_id == cc.challenge_id]  # fmt: skip
    for summary_id, requirement_id in zip(summary_ids, requirements, strict=True):
        store.challenge_summaries[summary_id] = ChallengeRequirementSummary(
            summary_id, cc.challenge_connection_id, requirement_id, cc.created_dt, cc.created_dt
        )
