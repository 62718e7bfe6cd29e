"""Typed views of challenges and the member's part in them (API reference: Challenge, Challenge
Connection, Challenge Connection Requirement Summary, Challenge Perk Requirement)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from .models import id_from_uri, web_link
from .models import text_field as _text
from .program import _date, _int, api_datetime


def _ids(value: object) -> tuple[int, ...]:
    """A list of resource URIs (`["/v2/locations/13/"]`) as ids; anything else as none."""
    if not isinstance(value, list):
        return ()
    return tuple(i for i in (id_from_uri(v) for v in value) if i is not None)


@dataclass(frozen=True, slots=True)
class Challenge:
    challenge_id: int
    business_id: int | None
    name: str
    description: str
    fine_print: str
    start_date: date | None  # either date may be blank (reference, Challenge)
    end_date: date | None
    join_message: str
    ineligible_message: str
    success_message: str
    incomplete_message: str
    home_location_ids: tuple[int, ...]  # empty: open to members of every location
    location_ids: tuple[int, ...]  # empty: visits anywhere count
    require_active_membership: bool

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Challenge:
        return cls(
            challenge_id=_int(data.get("challenge_id"))
            or id_from_uri(data.get("resource_uri"))
            or 0,
            business_id=id_from_uri(data.get("business")),
            name=_text(data, "name"),
            description=_text(data, "description"),
            fine_print=_text(data, "fine_print"),
            start_date=_date(data.get("start_date")),
            end_date=_date(data.get("end_date")),
            join_message=_text(data, "join_message"),
            ineligible_message=_text(data, "ineligible_message"),
            success_message=_text(data, "success_message"),
            incomplete_message=_text(data, "incomplete_message"),
            home_location_ids=_ids(data.get("home_locations")),
            location_ids=_ids(data.get("locations")),
            require_active_membership=bool(data.get("require_active_membership")),
        )


@dataclass(frozen=True, slots=True)
class ChallengeRequirement:
    requirement_id: int
    challenge_id: int | None
    title: str
    description: str
    detail_link: str | None
    required_quantity: int
    display_order: int | None

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> ChallengeRequirement:
        order = data.get("display_order")  # documented as a string, and may be null
        return cls(
            requirement_id=_int(data.get("challenge_perk_requirement_id"))
            or id_from_uri(data.get("resource_uri"))
            or 0,
            challenge_id=id_from_uri(data.get("challenge")),
            title=_text(data, "title"),
            description=_text(data, "description"),
            detail_link=web_link(data.get("detail_link")),
            required_quantity=max(_int(data.get("required_quantity"), 1), 1),
            display_order=None if order in (None, "") else _int(order),
        )


@dataclass(frozen=True, slots=True)
class ChallengeConnection:
    """The member's part in one challenge. Its id lives only in `resource_uri` (the reference's
    examples carry no id field)."""

    challenge_connection_id: int | None
    challenge_id: int | None
    join_status: str  # ACTIVE, INACTIVE (left) or PENDING (invited)
    completed: bool
    completed_dt: datetime | None
    join_dt: datetime | None
    start_date: date | None  # the member's own dates, when the challenge sets them
    end_date: date | None

    @property
    def joined(self) -> bool:
        return self.join_status == "ACTIVE"

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> ChallengeConnection:
        return cls(
            challenge_connection_id=id_from_uri(data.get("resource_uri")),
            challenge_id=id_from_uri(data.get("challenge")),
            join_status=_text(data, "join_status") or "PENDING",
            completed=data.get("completed") is True,
            completed_dt=api_datetime(data.get("completed_dt")),
            join_dt=api_datetime(data.get("join_dt")),
            start_date=_date(data.get("start_date")),
            end_date=_date(data.get("end_date")),
        )


@dataclass(frozen=True, slots=True)
class RequirementSummary:
    """How far the member is with one requirement of a challenge they joined."""

    challenge_connection_id: int | None
    requirement_id: int | None
    earned_quantity: int
    completed_requirement: bool  # may differ from earned ≥ required (reference): trust it

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> RequirementSummary:
        return cls(
            challenge_connection_id=id_from_uri(data.get("challenge_connection")),
            requirement_id=id_from_uri(data.get("challenge_perk_requirement")),
            earned_quantity=max(_int(data.get("earned_quantity")), 0),
            completed_requirement=data.get("completed_requirement") is True,
        )
