"""What can go wrong upstream, as a short tree the app's one exception handler understands.

    PerkvilleError                   Perkville answered with an error, or could not be reached
    ├── PerkvilleUnavailable         no usable answer: timeout, dropped, 5xx, 429, not JSON
    ├── PerkvilleNotImplemented      501: Perkville does not do this (not retried; it is up)
    ├── PerkvilleMalformed           an answer without what the app must read (a record's id)
    ├── PerkvilleAuthError           401: the token is no longer accepted
    ├── PerkvilleForbidden           403: a scope is missing, or the record is not theirs
    ├── PerkvilleNotFound            404: no such record (or none this token may see)
    └── PerkvilleRequestError        another 4xx, with Perkville's codes
        ├── PerkvilleRefused         a refusal by the program's rules (a `pv_*` code)
        └── PerkvilleDuplicate       a transaction whose trans_source_id was already used

The client decides which class an answer is (parsing.py); views act on the types.
"""

from __future__ import annotations


class PerkvilleError(Exception):
    """Perkville answered with an error, or could not be reached. `codes` are the error codes
    of the answer and `fields` the keys they came under (reference, Handling Errors: a field's
    name, or `__all__`); `retried` says the answer came to a request sent again after an
    earlier try got none (so that try may have done what this one was refused)."""

    retried = False

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        error_type: str | None = None,
        codes: tuple[str, ...] = (),
        fields: tuple[str, ...] = (),
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.error_type = error_type
        self.codes = codes
        self.fields = fields


class PerkvilleUnavailable(PerkvilleError):
    """No usable answer: connection failure, timeout, 5xx, 429, or a body that is not JSON.
    `retry_after` is Perkville's `Retry-After` in seconds, when it sent one."""

    def __init__(
        self, message: str, *, status: int | None = None, retry_after: float | None = None
    ):
        super().__init__(message, status=status)
        self.retry_after = retry_after


class PerkvilleNotImplemented(PerkvilleError):
    """501: Perkville does not implement this (reference, Handling Errors: "Method Not
    Implemented"). An answer, not an outage: never retried, never opens a circuit breaker."""


class PerkvilleMalformed(PerkvilleError):
    """Perkville answered, but without what the app must read (a record without its id)."""


class PerkvilleAuthError(PerkvilleError):
    """401: the member's token is no longer accepted; they must sign in again."""


class PerkvilleForbidden(PerkvilleError):
    """403: the token lacks a scope or the record is not the member's."""


class PerkvilleNotFound(PerkvilleError):
    """404: no such record (or not one this token may see)."""


class PerkvilleRequestError(PerkvilleError):
    """Another 4xx: a validation error, with Perkville's `pv_*`/field codes in `codes`."""


class PerkvilleRefused(PerkvilleRequestError):
    """Perkville refused what the member asked for under the program's rules (not enough
    points, a limit reached, not joined...). `code` is the first `pv_*` code of the answer,
    such as `pv_txn_insufficient_points`; `codes` still holds every code."""

    def __init__(
        self,
        message: str,
        *,
        code: str,
        status: int | None = None,
        error_type: str | None = None,
        codes: tuple[str, ...] = (),
        fields: tuple[str, ...] = (),
    ) -> None:
        super().__init__(message, status=status, error_type=error_type, codes=codes, fields=fields)
        self.code = code


class PerkvilleDuplicate(PerkvilleRequestError):
    """Perkville refused a transaction because its `trans_source_id` was already used: the
    same request was made before (reference, Transaction: the id is unique per business)."""
