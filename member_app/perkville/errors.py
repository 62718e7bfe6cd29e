"""What can go wrong upstream, as a short tree the app's one exception handler understands."""

from __future__ import annotations


class PerkvilleError(Exception):
    """Perkville answered with an error, or could not be reached."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        error_type: str | None = None,
        codes: tuple[str, ...] = (),
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.error_type = error_type
        self.codes = codes


class PerkvilleUnavailable(PerkvilleError):
    """No usable answer: connection failure, timeout, 5xx, 429, or a body that is not JSON.
    `retry_after` is Perkville's `Retry-After` in seconds, when it sent one."""

    def __init__(
        self, message: str, *, status: int | None = None, retry_after: float | None = None
    ):
        super().__init__(message, status=status)
        self.retry_after = retry_after


class PerkvilleAuthError(PerkvilleError):
    """401: the member's token is no longer accepted; they must sign in again."""


class PerkvilleForbidden(PerkvilleError):
    """403: the token lacks a scope or the record is not the member's."""


class PerkvilleNotFound(PerkvilleError):
    """404: no such record (or not one this token may see)."""


class PerkvilleRequestError(PerkvilleError):
    """Another 4xx: a validation error, with Perkville's `pv_*`/field codes in `codes`."""
