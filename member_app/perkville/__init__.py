"""Everything the app knows about talking to Perkville."""

from .caller import Caller, Freshness
from .client import PerkvilleClient
from .errors import (
    PerkvilleAuthError,
    PerkvilleDuplicate,
    PerkvilleError,
    PerkvilleForbidden,
    PerkvilleMalformed,
    PerkvilleNotFound,
    PerkvilleNotImplemented,
    PerkvilleRefused,
    PerkvilleRequestError,
    PerkvilleUnavailable,
)
from .models import Business, Connection, Level, User

__all__ = [
    "Business",
    "Caller",
    "Connection",
    "Freshness",
    "Level",
    "PerkvilleAuthError",
    "PerkvilleClient",
    "PerkvilleDuplicate",
    "PerkvilleError",
    "PerkvilleForbidden",
    "PerkvilleMalformed",
    "PerkvilleNotFound",
    "PerkvilleNotImplemented",
    "PerkvilleRefused",
    "PerkvilleRequestError",
    "PerkvilleUnavailable",
    "User",
]
