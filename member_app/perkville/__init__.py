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
from .models import Business, Connection, Level, User

__all__ = [
    "Business",
    "Connection",
    "Level",
    "PerkvilleAuthError",
    "PerkvilleClient",
    "PerkvilleError",
    "PerkvilleForbidden",
    "PerkvilleNotFound",
    "PerkvilleRequestError",
    "PerkvilleUnavailable",
    "User",
]
