"""The demo gym's challenges, referrals, promotions and agreements (see community.py).

Deterministic, with fixed datetimes around "today", 2026-11-22; the sandbox itself always
compares with `store.now()`, so a challenge's phase follows the real (or a test's) clock.

Progress perks (`progress_perk`, 9101-9105) and the referral offer's perks (9110, 9111) are
PROGRESS_ACTIVITY and REFERRAL perk ids for rewards.py's perk table.
"""

from __future__ import annotations

from datetime import UTC, datetime

from .store import (
    AgreementVersion,
    Challenge,
    ChallengeConnection,
    ChallengePerkRequirement,
    ChallengeRequirementSummary,
    JoinRules,
    Promotion,
    Referral,
    Store,
    UserBusinessAgreement,
)

# Named ids, for tests and docs.
CHALLENGE_JOINED = 801  # Maya joined, in progress (7/12 check-ins, 2/2 classes)
CHALLENGE_OPEN = 802  # running, Maya may join (Jordan is invited: PENDING)
CHALLENGE_COMPLETED = 803  # ended in October, Maya completed it
CHALLENGE_INELIGIBLE = 804  # Northgate home members only; Maya's home is Downtown
CHALLENGE_UPCOMING = 805  # starts 2027-01-01
CHALLENGE_ENDED_INCOMPLETE = 806  # ended in August, Maya joined but did not finish
REFERRAL_SENT, REFERRAL_COMPLETED, REFERRAL_VOID = 701, 702, 703
PROMOTION_ALL_LOCATIONS, PROMOTION_NORTHGATE = 601, 602
AGREEMENT_TERMS_OLD, AGREEMENT_TERMS, AGREEMENT_SMS = 61, 62, 63

_TERMS = (
    "By joining Summit Rewards you agree that points and rewards have no cash value, that "
    "points expire after 12 months without activity, and that you will follow the "
    "[program rules](https://summit-fitness.example/rewards/rules). Summit Fitness may change "
    "or end the program with 30 days' notice."
)


def _dt(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


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


def seed_community(store: Store) -> None:
    """Add the community records of the demo gym (business 4; a little of business 5)."""
    # The positional rows are kept compact on purpose, as in seed.py.
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
            851, 801, 3001, 4, "ACTIVE", _dt("2026-11-02T08:00:00+00:00"),
            _dt("2026-11-20T07:42:00+00:00"), join_dt=_dt("2026-11-02T08:00:00+00:00"),
        ),
        853: ChallengeConnection(
            853, 803, 3001, 4, "ACTIVE", _dt("2026-10-01T12:00:00+00:00"),
            _dt("2026-10-24T18:10:00+00:00"), join_dt=_dt("2026-10-01T12:00:00+00:00"),
            completed=True, completed_dt=_dt("2026-10-24T18:10:00+00:00"),
        ),
        856: ChallengeConnection(
            856, 806, 3001, 4, "ACTIVE", _dt("2026-07-03T09:30:00+00:00"),
            _dt("2026-08-20T17:00:00+00:00"), join_dt=_dt("2026-07-03T09:30:00+00:00"),
        ),
        857: ChallengeConnection(  # an invitation Jordan has not answered
            857, 802, 3003, 4, "PENDING", _dt("2026-11-16T10:00:00+00:00"),
            _dt("2026-11-16T10:00:00+00:00"),
        ),
    }
    store.challenge_summaries = {
        871: ChallengeRequirementSummary(
            871, 851, 901, _dt("2026-11-02T08:00:00+00:00"), _dt("2026-11-20T07:42:00+00:00"),
            earned_quantity=7,
        ),
        872: ChallengeRequirementSummary(
            872, 851, 902, _dt("2026-11-02T08:00:00+00:00"), _dt("2026-11-12T19:00:00+00:00"),
            earned_quantity=2, completed_requirement=True,
            completed_dt=_dt("2026-11-12T19:00:00+00:00"),
        ),
        873: ChallengeRequirementSummary(
            873, 853, 904, _dt("2026-10-01T12:00:00+00:00"), _dt("2026-10-24T18:10:00+00:00"),
            earned_quantity=8, completed_requirement=True,
            completed_dt=_dt("2026-10-24T18:10:00+00:00"),
        ),
        874: ChallengeRequirementSummary(
            874, 856, 907, _dt("2026-07-03T09:30:00+00:00"), _dt("2026-08-20T17:00:00+00:00"),
            earned_quantity=4,
        ),
    }
    store.referrals = {
        701: Referral(
            701, 4, 1001, "casey@example.net", "SENT", _dt("2026-11-18T16:20:00+00:00"),
            _dt("2026-11-18T16:20:00+00:00"), source="PERKVILLE_EMAIL", location_id=11,
            to_first_name="Casey", to_last_name="Nguyen",
            referral_content="Come lift with me on Saturdays!",
        ),
        702: Referral(  # Jordan took Maya's offer, then earned points: completed
            702, 4, 1001, "pending@example.com", "COMPLETED", _dt("2026-10-02T12:00:00+00:00"),
            _dt("2026-10-02T12:00:00+00:00"), source="DIRECT_LINK", to_user_id=1003,
            location_id=12, to_first_name="Jordan", to_last_name="Lee",
            completed_dt=_dt("2026-10-15T17:05:00+00:00"), distribution_type="",
        ),
        703: Referral(
            703, 4, 1001, "drew@example.net", "VOID", _dt("2026-06-05T09:00:00+00:00"),
            _dt("2026-06-05T09:00:00+00:00"), source="LOGGED_IN", location_id=11,
            to_first_name="Drew",
        ),
        704: Referral(  # at Harbor Yoga, by Alex: nothing to do with Maya
            704, 5, 1004, "morgan@example.net", "SENT", _dt("2026-11-01T11:00:00+00:00"),
            _dt("2026-11-01T11:00:00+00:00"), source="LOGGED_IN", location_id=51,
        ),
    }
    store.promotions = {
        601: Promotion(
            601, 4, "Free Week Pass",
            "Give a friend a free week at any Summit Fitness club, classes included.",
            "New customers only, 18 or older with a valid ID. One pass per person. Must be "
            "claimed within 30 days.", perk_id=9110,
        ),
        602: Promotion(
            602, 4, "Free Month at Northgate",
            "Our new Northgate club is open: your friend trains free for a month.",
            "New customers only. Valid at Summit Fitness Northgate. Must be claimed by "
            "2026-12-31.", perk_id=9111, eligible_at_all_locations=False,
            eligible_location_ids=[13],
        ),
    }
    store.agreement_versions = {
        61: AgreementVersion(
            61, 31, 4, "Summit Rewards program terms", "REQUIRED-OPT-IN", "2025.06",
            _TERMS.replace("12 months", "18 months"), False,
            _dt("2025-06-01T12:00:00+00:00"), _dt("2026-09-01T09:00:00+00:00"),
        ),
        62: AgreementVersion(
            62, 31, 4, "Summit Rewards program terms", "REQUIRED-OPT-IN", "2026.09", _TERMS,
            True, _dt("2026-09-01T09:00:00+00:00"), _dt("2026-09-01T09:00:00+00:00"),
        ),
        63: AgreementVersion(
            63, 32, 4, "Text message offers", "OPTIONAL-OPT-IN", "1.0",
            "Send me occasional offers from Summit Fitness by text message. Reply STOP to "
            "opt out.", True, _dt("2026-02-01T09:00:00+00:00"), _dt("2026-02-01T09:00:00+00:00"),
        ),
        64: AgreementVersion(
            64, 33, 5, "Harbor Perks terms", "REQUIRED-OPT-IN", "v1",
            "Harbor Perks points have no cash value.", True,
            _dt("2026-01-01T00:00:00+00:00"), _dt("2026-01-01T00:00:00+00:00"),
        ),
    }
    store.user_agreements = {
        661: UserBusinessAgreement(  # Maya accepted the terms in force when she joined
            661, 61, 31, 1001, 4, "member@example.com", "Maya", "Lopez",
            _dt("2025-09-01T10:04:00+00:00"),
        ),
        662: UserBusinessAgreement(
            662, 64, 33, 1004, 5, "alex@example.com", "Alex", "Kim",
            _dt("2026-03-03T08:19:00+00:00"),
        ),
    }
    # fmt: on
    store.join_rules = {4: JoinRules(4, require_active_membership=True)}
