"""Everything the app knows about talking to Perkville."""

from .client import PerkvilleClient
from .errors import (
    PerkvilleAuthError,
    PerkvilleError,
    PerkvilleForbidden,
    PerkvilleNotFound,
    PerkvilleRequestError,
    PerkvilleUnavailable,
)
from .models import AdminView, Business, Connection, Level, MemberToken, User

__all__ = [
    "AdminView",
    "Business",
    "Connection",
    "Level",
    "MemberToken",
    "PerkvilleAuthError",
    "PerkvilleClient",
    "PerkvilleError",
    "PerkvilleForbidden",
    "PerkvilleNotFound",
    "PerkvilleRequestError",
    "PerkvilleUnavailable",
    "User",
]
