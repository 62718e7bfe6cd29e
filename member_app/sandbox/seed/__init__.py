"""The demo gym: a deterministic seed, identical on every start.

`demo_store()` builds it from the parts in this package: `gym.py` (the businesses, people and
OAuth clients, and the names and credentials everyone uses for them), `rewards.py` (the
rewards program and a year of point history), `challenges.py`, `referrals.py` and
`membership.py` (agreements, join rules). `bench.py` adds bench members for load runs.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..store import Store
from .challenges import seed_challenges
from .gym import (
    ADMIN_CLIENT_ID,
    ADMIN_CLIENT_SECRET,
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    DEFAULT_REDIRECT_URIS,
    DEMO_BUSINESS_ID,
    DEMO_CLIENT_ID,
    DEMO_NOW,
    MEMBER_EMAIL,
    MEMBER_PASSWORD,
    PENDING_EMAIL,
    demo_clock,
    seed_gym,
)
from .membership import seed_membership
from .referrals import seed_referrals
from .rewards import seed_rewards

__all__ = [
    "ADMIN_CLIENT_ID",
    "ADMIN_CLIENT_SECRET",
    "ADMIN_EMAIL",
    "ADMIN_PASSWORD",
    "DEFAULT_REDIRECT_URIS",
    "DEMO_BUSINESS_ID",
    "DEMO_CLIENT_ID",
    "DEMO_NOW",
    "MEMBER_EMAIL",
    "MEMBER_PASSWORD",
    "PENDING_EMAIL",
    "demo_clock",
    "demo_store",
]


def demo_store(redirect_uris: Iterable[str] = DEFAULT_REDIRECT_URIS) -> Store:
    """Build the demo gym. `redirect_uris` are registered for the demo (PKCE) client."""
    store = Store()
    seed_gym(store, redirect_uris)
    seed_rewards(store)
    seed_challenges(store)
    seed_referrals(store)
    seed_membership(store)
    return store
