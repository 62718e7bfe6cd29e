"""The demo gym's referrals and referral offers (reference: Referral, Promotion).

The offers' perks (9110, 9111) are REFERRAL perks of the rewards seed (`rewards.py`). The
completed referral is Riley's (gym.py): she joined, and her first check-in completed it, when
Maya's "Referral" line (+100) was written (`rewards.py`).
"""

from __future__ import annotations

from ..records import Promotion, Referral
from ..store import Store
from .gym import FRIEND_EMAIL, local

# Named ids, for tests and docs.
REFERRAL_SENT, REFERRAL_COMPLETED, REFERRAL_VOID = 701, 702, 703
PROMOTION_ALL_LOCATIONS, PROMOTION_NORTHGATE = 601, 602


def seed_referrals(store: Store) -> None:
    """Add Maya's referrals, one of Alex's at Harbor Yoga, and the demo gym's two offers."""
    # The positional rows are kept compact on purpose, as in gym.py.
    # fmt: off
    store.referrals = {
        701: Referral(
            701, 4, 1001, "casey@example.net", "SENT", local("2026-11-18 08:20"),
            local("2026-11-18 08:20"), source="PERKVILLE_EMAIL", location_id=11,
            to_first_name="Casey", to_last_name="Nguyen",
            referral_content="Come lift with me on Saturdays!",
        ),
        702: Referral(  # Riley took Maya's link, joined, checked in: completed
            702, 4, 1001, FRIEND_EMAIL, "COMPLETED", local("2026-10-02 12:00"),
            local("2026-10-02 12:00"), source="DIRECT_LINK", to_user_id=1005,
            location_id=12, to_first_name="Riley", to_last_name="Chen",
            completed_dt=local("2026-10-15 10:05"), distribution_type="",
        ),
        703: Referral(
            703, 4, 1001, "drew@example.net", "VOID", local("2026-06-05 09:00"),
            local("2026-06-05 09:00"), source="LOGGED_IN", location_id=11,
            to_first_name="Drew",
        ),
        704: Referral(  # at Harbor Yoga, by Alex: nothing to do with Maya
            704, 5, 1004, "morgan@example.net", "SENT", local("2026-11-01 11:00"),
            local("2026-11-01 11:00"), source="LOGGED_IN", location_id=51,
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
    # fmt: on
