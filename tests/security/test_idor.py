"""Another member's data: Maya, signed in, asks for other people's vouchers, rewards,
challenges and referrals by id. Each reads as missing, and nothing of theirs changes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from member_app.sandbox.store import Challenge, Voucher

from ..helpers import JORDAN, JORDAN_CONNECTION, SignIn, csrf_of, visible_text

ALEX_VOUCHERS = (52003, 52006)  # Alex's, at Harbor Yoga (business 5)
JORDANS_VOUCHER = 59001  # Jordan's, at Summit Fitness: Maya's own business
HARBOR_REWARD = 502
HARBOR_CHALLENGE = 899
JORDANS_CHALLENGE_CONNECTION = 857  # Jordan's pending invitation to challenge 802
OTHERS_VOUCHERS = (*ALEX_VOUCHERS, JORDANS_VOUCHER)


@pytest.fixture
def sandbox(sandbox: Starlette) -> Starlette:
    """The seed, plus an unused voucher of Jordan's and a challenge at another business."""
    store = sandbox.state.store
    store.vouchers[JORDANS_VOUCHER] = Voucher(
        JORDANS_VOUCHER, 4, JORDAN, 204, None, 12, "Jordan's guest pass", 100, "UNUSED",
        datetime(2026, 11, 1, tzinfo=UTC), external_coupon_code="JORDAN-SECRET",
    )  # fmt: skip
    store.challenges[HARBOR_CHALLENGE] = Challenge(
        HARBOR_CHALLENGE, 5, "Harbor Flow Week", "harbor-flow", start_date="2026-11-01",
        end_date="2026-12-31",
    )  # fmt: skip
    return sandbox


def statuses(sandbox: Starlette) -> dict[int, str]:
    return {v.voucher_id: v.status for v in sandbox.state.store.vouchers.values()}


@pytest.mark.parametrize("voucher_id", OTHERS_VOUCHERS)
def test_another_members_voucher_reads_as_missing(
    sign_in: SignIn, client: TestClient, voucher_id: int
) -> None:
    sign_in()
    for path in (f"/vouchers/{voucher_id}", f"/vouchers/{voucher_id}/use"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "We can't find that voucher" in visible_text(response.text)
        assert "JORDAN-SECRET" not in response.text
        assert "Jordan" not in visible_text(response.text)
    assert client.get(f"/vouchers/{voucher_id}/code.svg").status_code == 404
    assert f"/vouchers/{voucher_id}" not in client.get("/vouchers").text


@pytest.mark.parametrize("voucher_id", OTHERS_VOUCHERS)
def test_another_members_voucher_cannot_be_marked_used(
    sign_in: SignIn, client: TestClient, sandbox: Starlette, voucher_id: int
) -> None:
    sign_in()
    before = statuses(sandbox)
    response = client.post(f"/vouchers/{voucher_id}/use", data={"csrf": csrf_of(client)})
    assert response.status_code == 404
    assert statuses(sandbox) == before


def test_own_voucher_is_shown_so_the_404s_mean_something(
    sign_in: SignIn, client: TestClient
) -> None:
    sign_in()
    assert client.get("/vouchers/52009").status_code == 200


def test_another_business_reward_cannot_be_redeemed(
    sign_in: SignIn, client: TestClient, sandbox: Starlette
) -> None:
    sign_in()
    store = sandbox.state.store
    balances = {c.connection_id: c.point_balance for c in store.connections.values()}
    vouchers = len(store.vouchers)
    assert client.get(f"/rewards/{HARBOR_REWARD}/redeem").status_code == 404
    response = client.post(
        f"/rewards/{HARBOR_REWARD}/redeem", data={"csrf": csrf_of(client), "attempt": "A" * 22}
    )
    assert response.status_code == 404
    assert {c.connection_id: c.point_balance for c in store.connections.values()} == balances
    assert len(store.vouchers) == vouchers


def test_another_business_challenge_reads_as_missing_and_cannot_be_joined(
    sign_in: SignIn, client: TestClient, sandbox: Starlette
) -> None:
    sign_in()
    store = sandbox.state.store
    before = dict(store.challenge_connections)
    response = client.get(f"/challenges/{HARBOR_CHALLENGE}")
    assert response.status_code == 404
    assert "Harbor Flow Week" not in response.text
    joined = client.post(f"/challenges/{HARBOR_CHALLENGE}/join", data={"csrf": csrf_of(client)})
    assert joined.status_code == 404
    assert store.challenge_connections == before


def test_leaving_a_challenge_touches_only_the_members_own_connection(
    sign_in: SignIn, client: TestClient, sandbox: Starlette
) -> None:
    """Jordan has a pending invitation to 802; Maya's leave of 802 must not end it."""
    sign_in()
    store = sandbox.state.store
    jordans = store.challenge_connections[JORDANS_CHALLENGE_CONNECTION]
    assert (jordans.connection_id, jordans.join_status) == (JORDAN_CONNECTION, "PENDING")
    client.post("/challenges/802/leave", data={"csrf": csrf_of(client)})
    assert store.challenge_connections[JORDANS_CHALLENGE_CONNECTION].join_status == "PENDING"


@pytest.mark.parametrize(
    "path",
    [
        f"/challenges/{JORDANS_CHALLENGE_CONNECTION}",
        f"/vouchers/{JORDANS_CHALLENGE_CONNECTION}",
        f"/rewards/{JORDAN_CONNECTION}/redeem",
        f"/vouchers/{JORDAN_CONNECTION}",
    ],
)
def test_other_members_record_ids_in_any_id_slot_are_missing(
    sign_in: SignIn, client: TestClient, path: str
) -> None:
    sign_in()
    assert client.get(path).status_code == 404


def test_other_members_referrals_are_not_listed(sign_in: SignIn, client: TestClient) -> None:
    sign_in()
    page = client.get("/referrals")
    assert page.status_code == 200
    assert "casey@example.net" in page.text or "Casey" in page.text  # Maya's own
    assert "morgan@example.net" not in page.text  # Alex's, at another business


def test_another_business_location_is_not_used(sign_in: SignIn, client: TestClient) -> None:
    sign_in()
    text = visible_text(client.get("/rewards?loc_id=51").text)
    assert "That location isn't part of this program" in text
    assert "Harbor Yoga Waterfront" not in text
