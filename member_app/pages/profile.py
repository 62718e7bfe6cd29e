"""The member's profile: who they are signed in as, their home club's front desk, and the
program's terms (reference: User, Connection, Location, Business, Agreement Version)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..perkville import Business, Connection, User
from ..perkville.program import Location
from ..state import app_state
from ..web.templating import render
from .common import require_member
from .join import Agreement, agreement_of


@dataclass(frozen=True, slots=True)
class ProfilePage:
    user: User
    business: Business
    connection: Connection | None
    home: Location | None  # the connection's home location, where the member's front desk is
    terms: list[Agreement]  # the program's terms in force (its required agreements)

    @property
    def name(self) -> str:
        return " ".join(part for part in (self.user.first_name, self.user.last_name) if part)

    @property
    def joined(self) -> bool:
        return self.connection is not None and self.connection.joined

    @property
    def address(self) -> list[str]:
        """The home club's address, line by line ("120 Market St.", "Portland, OR 97204")."""
        if self.home is None:
            return []
        home = self.home
        region = f"{home.state} {home.postal_code}".strip()
        town = ", ".join(part for part in (home.city, region) if part)
        return [line for line in (home.address_1, home.address_2, town) if line]


async def profile(request: Request) -> Response:
    """Show the member's name and email, their home club's address and the program's terms."""
    member = require_member(request)
    state = app_state(request)
    business_id, perkville, caller = state.settings.business_id, state.perkville, member.caller
    user, business, connection, locations, versions = await asyncio.gather(
        perkville.me(caller),
        perkville.business(caller, business_id),
        perkville.connection(caller, business_id=business_id, user_id=member.user_id),
        perkville.locations(caller, business_id),
        perkville.agreement_versions(caller, business_id),
    )
    home_id = connection.home_location_id if connection else None
    page = ProfilePage(
        user,
        business,
        connection,
        next((loc for loc in locations if loc.location_id == home_id), None),
        [agreement_of(v, business) for v in versions if v.required],
    )
    return render(request, "more/profile.html", {"tab": "more", "page": page}, business=business)


routes = [Route("/profile", profile, name="profile")]
