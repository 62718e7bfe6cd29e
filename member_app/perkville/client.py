"""The one Perkville client: one method per endpoint, typed results, a short error tree.

Created once in the app's lifespan around one `httpx2.AsyncClient`, so connections are reused.
Views never build upstream URLs or parse upstream JSON; they call these methods, each with the
`Caller` it is made for as its first argument:

    perkville = PerkvilleClient(settings.api_url, cache=cache, member_ttl=30)
    await perkville.business(Caller(admin_token), business_id)
    await perkville.redeem(Caller(token, cache_scope=scope), business_id=4, ...)
"""

from __future__ import annotations

from .endpoints.agreements import AgreementEndpoints
from .endpoints.balances import BalanceEndpoints
from .endpoints.businesses import BusinessEndpoints
from .endpoints.challenges import ChallengeEndpoints
from .endpoints.referrals import ReferralEndpoints
from .endpoints.rewards import RewardEndpoints
from .endpoints.users import UserEndpoints


class PerkvilleClient(
    UserEndpoints,
    BusinessEndpoints,
    RewardEndpoints,
    ChallengeEndpoints,
    ReferralEndpoints,
    AgreementEndpoints,
    BalanceEndpoints,
):
    """Talks to Perkville's v2 API for whoever each call's `Caller` names. The constructor,
    the pool, retries, the circuit breaker (`breaker`) and caching are `Upstream`'s."""
