"""The program's agreements and the member's acceptance of them (reference: Agreement Version,
User Business Agreement)."""

from __future__ import annotations

from ..caller import Caller
from ..community import AgreementAcceptance, AgreementVersion
from ..parsing import error_details, objects, request_error
from ..upstream import PAGE_SIZE, Upstream


class AgreementEndpoints(Upstream):
    async def agreement_versions(self, caller: Caller, business_id: int) -> list[AgreementVersion]:
        """The business's active agreement versions. Not cached: a new version of the terms
        must be asked for at once."""
        params = {"business": business_id, "limit": PAGE_SIZE}
        data = await self._get(caller, "/v2/agreement-versions/", params)
        versions = [AgreementVersion.from_api(obj) for obj in objects(data)]
        return [v for v in versions if v.is_active]

    async def accepted_agreements(
        self, caller: Caller, business_id: int, user_id: int
    ) -> list[AgreementAcceptance]:
        params = {"business": business_id, "user": user_id, "limit": PAGE_SIZE}
        data = await self._get_member(caller, "/v2/user-business-agreements/", params)
        return [AgreementAcceptance.from_api(obj) for obj in objects(data)]

    async def accept_agreements(
        self, caller: Caller, *, business_id: int, user_id: int, version_ids: list[int]
    ) -> list[AgreementAcceptance]:
        """Record the member's acceptance with the staff token: the reference has no write
        for a member's own token (User Business Agreement), so the batch endpoint, shaped like
        the reference's Batch Endpoints. Any item Perkville refuses raises, with its codes:
        PerkvilleRefused for a `pv_*` code, else PerkvilleRequestError."""
        body = {
            "business": business_id,
            "user_business_agreements": [
                {"agreement_version": version_id, "user": user_id} for version_id in version_ids
            ],
        }
        data = await self._send(caller, "POST", "/v2/batch/user-business-agreements/", body)
        if not data:  # a 2xx without a body: see what was recorded
            accepted = await self.accepted_agreements(caller, business_id, user_id)
            if set(version_ids) - {a.version_id for a in accepted}:
                raise request_error(
                    "Perkville did not record every agreement", status=200, codes=()
                )
            return [a for a in accepted if a.version_id in version_ids]
        items = data.get("user_business_agreements")
        results = items if isinstance(items, list) else []
        refused = [item for item in results if isinstance(item, dict) and "errors" in item]
        if refused or len(results) != len(version_ids):
            details = [d for item in refused for d in error_details(item["errors"])]
            raise request_error(
                "Perkville did not record every agreement",
                status=200,
                codes=tuple(code for _, code, _ in details),
                fields=tuple(field for field, _, _ in details),
            )
        return [AgreementAcceptance.from_api(item) for item in results if isinstance(item, dict)]
