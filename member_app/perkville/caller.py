"""Who a Perkville call is made for: an explicit, frozen value every client method takes."""

from __future__ import annotations

from dataclasses import dataclass


class Freshness:
    """Whether a page is built from what Perkville just said. When Perkville failed and a
    cached copy stood in, `stale_since` is when the oldest such copy was fetched."""

    def __init__(self) -> None:
        self.stale_since: float | None = None

    def saw_stale(self, fetched: float) -> None:
        if self.stale_since is None or fetched < self.stale_since:
            self.stale_since = fetched


@dataclass(frozen=True, slots=True)
class Caller:
    """The bearer token a call carries, and for whom.

    - A member's own token: `acting_for` is None, and `user_id` is the member's id (from
      `/v2/users/me/`, the one place the reference lets a member say `me` besides their
      transactions); their records are filtered by it. It is None only while signing in,
      before the member is known.
    - The app's staff token acting for one identified member (the Identify User Flow):
      `acting_for` is that member's user id, and every query is filtered to it, so the staff
      token never shows anyone else's data.
    - The staff token for the business itself (`Caller(admin_token)`): public data only.

    `cache_scope` names the session's per-member cache (None: nothing of theirs is cached);
    `freshness` is the request's record of cached copies that stood in for Perkville.
    """

    token: str
    acting_for: int | None = None
    cache_scope: str | None = None
    freshness: Freshness | None = None
    user_id: int | None = None

    def __repr__(self) -> str:
        # Never the bearer token: a Caller may end up in a log line or a traceback.
        return (
            f"Caller(acting_for={self.acting_for!r}, user_id={self.user_id!r}, "
            f"cache_scope={self.cache_scope!r})"
        )

    @property
    def staff(self) -> bool:
        """Whether this is the staff token reading for an identified member."""
        return self.acting_for is not None

    @property
    def member_id(self) -> int | None:
        """The member the call is for: the identified member, else the token's own member."""
        return self.acting_for if self.acting_for is not None else self.user_id

    @property
    def user(self) -> int | str:
        """Whose records to ask for, as a `user` filter: the member's id; `me` only while the
        id is not known yet (the reference documents `me` for `/v2/users/me/` and
        `/v2/transactions/?user=me` only)."""
        member = self.member_id
        return member if member is not None else "me"
