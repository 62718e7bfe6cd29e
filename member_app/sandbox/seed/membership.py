"""The demo gym's agreements (reference: Agreement Version, User Business Agreement) and its
rule for joining the rewards program.
"""

from __future__ import annotations

from ..records import AgreementVersion, JoinRules, UserBusinessAgreement
from ..store import Store
from .gym import FRIEND_EMAIL, dt, local

# Named ids, for tests and docs.
AGREEMENT_TERMS_OLD, AGREEMENT_TERMS, AGREEMENT_SMS = 61, 62, 63

_TERMS = (
    "By joining Summit Rewards you agree that points and rewards have no cash value, that "
    "points expire after 12 months without activity, and that you will follow the "
    "[program rules](https://summit-fitness.example/rewards/rules). Summit Fitness may change "
    "or end the program with 30 days' notice."
)


def seed_membership(store: Store) -> None:
    """Add the agreements of the demo gym (and one of Harbor Yoga's), who accepted which, and
    the demo gym's join rule: an active membership is required to join."""
    # The positional rows are kept compact on purpose, as in gym.py.
    # fmt: off
    store.agreement_versions = {
        61: AgreementVersion(
            61, 31, 4, "Summit Rewards program terms", "REQUIRED-OPT-IN", "2025.06",
            _TERMS.replace("12 months", "18 months"), False,
            dt("2025-06-01T12:00:00+00:00"), dt("2026-09-01T09:00:00+00:00"),
        ),
        62: AgreementVersion(
            62, 31, 4, "Summit Rewards program terms", "REQUIRED-OPT-IN", "2026.09", _TERMS,
            True, dt("2026-09-01T09:00:00+00:00"), dt("2026-09-01T09:00:00+00:00"),
        ),
        63: AgreementVersion(
            63, 32, 4, "Text message offers", "OPTIONAL-OPT-IN", "1.0",
            "Send me occasional offers from Summit Fitness by text message. Reply STOP to "
            "opt out.", True, dt("2026-02-01T09:00:00+00:00"), dt("2026-02-01T09:00:00+00:00"),
        ),
        64: AgreementVersion(
            64, 33, 5, "Harbor Perks terms", "REQUIRED-OPT-IN", "v1",
            "Harbor Perks points have no cash value.", True,
            dt("2026-01-01T00:00:00+00:00"), dt("2026-01-01T00:00:00+00:00"),
        ),
    }
    store.user_agreements = {
        661: UserBusinessAgreement(  # Maya accepted the terms in force when she joined
            661, 61, 31, 1001, 4, "member@example.com", "Maya", "Lopez",
            local("2025-09-01 10:04"),
        ),
        662: UserBusinessAgreement(
            662, 64, 33, 1004, 5, "alex@example.com", "Alex", "Kim",
            dt("2026-03-03T08:19:00+00:00"),
        ),
        663: UserBusinessAgreement(  # Riley, joining on Maya's referral
            663, 62, 31, 1005, 4, FRIEND_EMAIL, "Riley", "Chen", local("2026-10-14 17:58"),
        ),
    }
    # fmt: on
    store.join_rules = {4: JoinRules(4, require_active_membership=True)}
