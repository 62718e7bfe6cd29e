"""Typed views of the referral and joining resources: referrals, the referral offer
(Promotion), and the program's agreements (API reference: Referral, Promotion, Agreement
Version, User Business Agreement)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .models import id_from_uri
from .models import text_field as _text
from .program import _int, api_datetime

REQUIRED = "REQUIRED-OPT-IN"


@dataclass(frozen=True, slots=True)
class Promotion:
    """A business's referral offer: what a referred friend gets."""

    promotion_id: int | None
    title: str
    detail: str
    fine_print: str
    picture_url: str | None
    type: str
    all_locations: bool

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Promotion:
        return cls(
            # The reference's example has no id; the resource URI, when sent, carries one.
            promotion_id=_int(data.get("promotion_id"), 0) or id_from_uri(data.get("resource_uri")),
            title=_text(data, "title"),
            detail=_text(data, "detail"),
            fine_print=_text(data, "fine_print"),
            # The reference lists both; its example only has picture_uri.
            picture_url=_absolute(data.get("picture_url") or data.get("picture_uri")),
            type=_text(data, "type") or "REFERRAL",
            all_locations=data.get("eligible_at_all_locations") is not False,
        )


@dataclass(frozen=True, slots=True)
class Referral:
    """One friend the member referred, and how far it got."""

    referral_id: int | None
    to_email: str  # only the POST answer carries it (reference, Referral)
    status: str  # SENT, COMPLETED or VOID
    sent: datetime | None
    completed: datetime | None
    offer_claimed: bool
    # The friend as a user (reference, Referral — Fields: `referral_to_user`), once they have
    # an account; None before.
    to_user_id: int | None = None

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Referral:
        return cls(
            referral_id=id_from_uri(data.get("resource_uri")),
            to_email=_text(data, "referral_to_email"),
            status=_text(data, "referral_status") or "SENT",
            sent=api_datetime(data.get("referral_date")) or api_datetime(data.get("created_dt")),
            completed=api_datetime(data.get("completed_dt")),
            # The fields table says `voucher`, the GET example `voucher_id`: either means the
            # friend claimed the offer.
            offer_claimed=bool(data.get("voucher") or data.get("voucher_id")),
            to_user_id=id_from_uri(data.get("referral_to_user")),
        )


@dataclass(frozen=True, slots=True)
class AgreementVersion:
    """One version of an agreement the business asks members to accept."""

    version_id: int
    agreement_id: int
    type: str  # REQUIRED-OPT-IN or OPTIONAL-OPT-IN
    version: str
    text: str
    is_active: bool
    # The business's name for the agreement (reference: agreement_internal_name), the only
    # title the resource has; the join page shows it as the agreement's heading.
    name: str = ""

    @property
    def required(self) -> bool:
        return self.type == REQUIRED

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> AgreementVersion:
        return cls(
            version_id=_int(data.get("agreement_version_id")),
            agreement_id=_int(data.get("agreement_id")),
            # Anything but an explicit optional type is treated as required: safer to ask.
            type="OPTIONAL-OPT-IN" if data.get("agreement_type") == "OPTIONAL-OPT-IN" else REQUIRED,
            version=_text(data, "version"),
            text=_text(data, "text"),
            # The reference's example omits is_active; a missing flag reads as active.
            is_active=data.get("is_active") is not False,
            name=_text(data, "agreement_internal_name"),
        )


@dataclass(frozen=True, slots=True)
class AgreementAcceptance:
    """A member's recorded acceptance of one agreement version."""

    version_id: int | None
    agreed: datetime | None

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> AgreementAcceptance:
        return cls(
            id_from_uri(data.get("agreement_version")), api_datetime(data.get("agreement_dt"))
        )


def _absolute(value: object) -> str | None:
    """Only absolute http(s) URLs become images; anything else is dropped."""
    if isinstance(value, str) and value.startswith(("https://", "http://")):
        return value
    return None
