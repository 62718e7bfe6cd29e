"""The sandbox's conditions (latency, counters, faults, revocation, ledger) and bench members.

Most tests run in-process (Starlette's TestClient, or httpx2's AsyncClient on an
ASGITransport); the `drop` and `timeout` faults are also checked over a real uvicorn server,
where what a client sees depends on the socket, not on the ASGI plumbing.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from member_app.cli import _parser
from member_app.demo import build_demo
from member_app.sandbox import create_sandbox
from member_app.sandbox.conditions import Conditions, ConnectionDropped, ledger
from member_app.sandbox.seed.bench import (
    BENCH_CHALLENGE_ID,
    BENCH_CLIENT_ID,
    BENCH_CLIENT_SECRET,
    bench_balance,
    bench_email,
    bench_ids,
)
from member_app.serving import ServerThread, bind
from tests.sandbox_helpers import (
    assert_api_error,
    bearer,
    member_token,
    password_grant,
)

SANDBOX = "http://sandbox.test"
PERKS = "/v2/perks/?business=4"
# Without a token the sandbox itself answers 401: any other status on PERKS is a fault.
UNFAULTED = 401


def conditions_of(app: Starlette) -> Conditions:
    found = app.state.conditions
    assert isinstance(found, Conditions)
    return found


def put(client: TestClient, **changes: Any) -> httpx2.Response:
    return client.put("/_sandbox/conditions", json=changes)


def always(client: TestClient, fault: str, **extra: Any) -> None:
    response = put(client, fault_rate=1, faults=[fault], **extra)
    assert response.status_code == 200, response.text


# --- latency ---------------------------------------------------------------------------------


async def _timed_get(app: Starlette, path: str) -> tuple[float, httpx2.Response]:
    transport = httpx2.ASGITransport(app=app)
    async with httpx2.AsyncClient(transport=transport, base_url=SANDBOX) as client:
        start = time.perf_counter()
        response = await client.get(path)
        return time.perf_counter() - start, response


def test_latency_delays_responses_but_not_the_control_endpoints(sandbox: Starlette) -> None:
    conditions_of(sandbox).latency_ms = 200
    elapsed, response = asyncio.run(_timed_get(sandbox, PERKS))
    assert response.status_code == UNFAULTED
    assert elapsed >= 0.2
    elapsed, response = asyncio.run(_timed_get(sandbox, "/_sandbox/stats"))
    assert response.status_code == 200
    assert elapsed < 0.2


# --- the request counter ---------------------------------------------------------------------


def test_counter_by_label_and_reset(sandbox_client: TestClient) -> None:
    for path in (PERKS, "/v2/levels/", "/login/", "/media/levels/21/badge.svg", "/"):
        sandbox_client.get(path)
    sandbox_client.get("/_sandbox/conditions")  # control endpoints are not counted
    stats = sandbox_client.get("/_sandbox/stats").json()
    assert stats["requests"] == 5
    assert stats["by_label"] == {"login": 1, "media": 1, "root": 1, "v2": 2}
    reset = sandbox_client.post("/_sandbox/stats/reset")
    assert reset.status_code == 200
    assert reset.json()["requests"] == 0
    sandbox_client.get(PERKS)
    assert sandbox_client.get("/_sandbox/stats").json()["by_label"] == {"v2": 1}


# --- faults ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "status", "code"),
    [
        ("500", 500, "server_error"),
        ("502", 502, "bad_gateway"),
        ("503", 503, "service_unavailable"),
    ],
)
def test_server_error_faults(
    sandbox_client: TestClient, fault: str, status: int, code: str
) -> None:
    always(sandbox_client, fault)
    response = sandbox_client.get(PERKS)
    assert_api_error(response, status, "unknown_error", field="__all__", code=code)
    assert response.headers["x-sandbox-fault"] == fault
    stats = sandbox_client.get("/_sandbox/stats").json()
    assert stats["faults_injected"] == {fault: 1}


def test_429_carries_retry_after(sandbox_client: TestClient) -> None:
    always(sandbox_client, "429", retry_after=7)
    response = sandbox_client.get(PERKS)
    assert_api_error(response, 429, "unknown_error", field="__all__", code="rate_limited")
    assert response.headers["retry-after"] == "7"


def test_timeout_hangs_then_answers_504(sandbox_client: TestClient) -> None:
    # In-process there is no client timeout (ASGITransport ignores it): the hang ends and the
    # sandbox answers 504, like a gateway that gave up.
    always(sandbox_client, "timeout", hang_seconds=0.2)
    start = time.perf_counter()
    response = sandbox_client.get(PERKS)
    assert time.perf_counter() - start >= 0.2
    assert_api_error(response, 504, "unknown_error", code="gateway_timeout")


async def _get(app: Starlette, path: str) -> httpx2.Response:
    async with httpx2.AsyncClient(
        transport=httpx2.ASGITransport(app=app), base_url=SANDBOX
    ) as client:
        return await client.get(path)


def test_drop_in_process_raises_a_protocol_error(sandbox: Starlette) -> None:
    conditions_of(sandbox).update({"fault_rate": 1, "faults": ["drop"]})
    # ASGITransport re-raises the app's exception; it is an httpx2.RemoteProtocolError, the
    # same class a client gets from a real server that cut the connection.
    with pytest.raises(httpx2.RemoteProtocolError) as caught:
        asyncio.run(_get(sandbox, PERKS))
    assert isinstance(caught.value, ConnectionDropped)


def test_faults_only_on_fault_paths_and_methods(sandbox_client: TestClient) -> None:
    always(sandbox_client, "500")
    assert sandbox_client.get("/login/").status_code == 200  # not under /v2/
    assert sandbox_client.get("/media/levels/21/badge.svg").status_code == 200
    put(sandbox_client, fault_methods=["POST"])
    assert sandbox_client.get(PERKS).status_code == UNFAULTED
    posted = sandbox_client.post("/v2/transactions/", json={})
    assert posted.status_code == 500
    put(sandbox_client, fault_methods=None, fault_paths=["/v2/levels/"])
    assert sandbox_client.get(PERKS).status_code == UNFAULTED
    assert sandbox_client.get("/v2/levels/").status_code == 500


def _statuses(seed: int, count: int = 40) -> list[int]:
    app = create_sandbox(
        conditions=Conditions(fault_rate=0.5, faults=("500", "503", "429"), seed=seed)
    )
    with TestClient(app, base_url=SANDBOX) as client:
        return [client.get(PERKS).status_code for _ in range(count)]


def test_seeded_faults_are_repeatable() -> None:
    first, again, other = _statuses(7), _statuses(7), _statuses(8)
    assert first == again
    assert first != other
    assert {UNFAULTED, 500, 503, 429} == set(first)


def test_putting_a_seed_restarts_the_sequence(sandbox_client: TestClient) -> None:
    put(sandbox_client, fault_rate=0.5, faults=["500"], seed=3)
    first = [sandbox_client.get(PERKS).status_code for _ in range(20)]
    put(sandbox_client, seed=3)
    assert [sandbox_client.get(PERKS).status_code for _ in range(20)] == first


def test_get_and_put_conditions(sandbox_client: TestClient) -> None:
    assert sandbox_client.get("/_sandbox/conditions").json() == {
        "latency_ms": 0.0,
        "fault_rate": 0.0,
        "faults": ["500", "502", "503", "429"],
        "fault_paths": ["/v2/"],
        "fault_methods": None,
        "retry_after": 1,
        "hang_seconds": 30.0,
        "seed": None,
    }
    response = put(sandbox_client, latency_ms=5, faults="drop,timeout", fault_methods=["get"])
    assert response.status_code == 200
    body = response.json()
    assert (body["latency_ms"], body["faults"], body["fault_methods"]) == (
        5.0,
        ["drop", "timeout"],
        ["GET"],
    )


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"latency_ms": -1}, "latency_ms"),
        ({"latency_ms": "fast"}, "latency_ms"),
        ({"latency_ms": True}, "latency_ms"),
        ({"fault_rate": 1.5}, "fault_rate"),
        ({"faults": ["500", "418"]}, "faults"),
        ({"faults": 500}, "faults"),
        ({"fault_paths": ["v2/"]}, "fault_paths"),
        ({"fault_methods": ["G-T"]}, "fault_methods"),
        ({"retry_after": 1.5}, "retry_after"),
        ({"hang_seconds": -2}, "hang_seconds"),
        ({"seed": "x"}, "seed"),
        ({"chaos": 1}, "chaos"),
    ],
)
def test_put_refuses_bad_values(
    sandbox_client: TestClient, changes: dict[str, Any], field: str
) -> None:
    before = sandbox_client.get("/_sandbox/conditions").json()
    response = sandbox_client.put("/_sandbox/conditions", json={"fault_rate": 0.5, **changes})
    assert_api_error(response, 400, "invalid_request_error", field=field)
    # Nothing applied, not even the valid part.
    assert sandbox_client.get("/_sandbox/conditions").json() == before


def test_put_refuses_a_body_that_is_not_an_object(sandbox_client: TestClient) -> None:
    response = sandbox_client.put("/_sandbox/conditions", content=b"[1]")
    assert_api_error(response, 400, "invalid_request_error", code="invalid_json")


# --- revocation ------------------------------------------------------------------------------


def test_revoke_gives_the_invalid_token_401(sandbox_client: TestClient) -> None:
    token = member_token(sandbox_client)
    assert sandbox_client.get("/v2/users/me/", headers=bearer(token)).status_code == 200
    response = sandbox_client.post("/_sandbox/revoke", json={"email": "Member@Example.com"})
    assert response.json() == {"email": "member@example.com", "revoked": 1}
    after = sandbox_client.get("/v2/users/me/", headers=bearer(token))
    bogus = sandbox_client.get("/v2/users/me/", headers=bearer("not-a-token"))
    assert_api_error(after, 401, "oauth_error", code="invalid_token")
    assert after.json() == bogus.json()
    assert after.headers["www-authenticate"] == bogus.headers["www-authenticate"]
    unknown = sandbox_client.post("/_sandbox/revoke", json={"email": "nobody@example.com"})
    assert_api_error(unknown, 404, "invalid_request_error", field="email")


# --- the ledger ------------------------------------------------------------------------------


def test_seeded_ledger_is_consistent(sandbox_client: TestClient) -> None:
    body = sandbox_client.get("/_sandbox/ledger").json()
    assert body["all_consistent"] is True
    assert body["duplicates"] == 0
    maya = next(u for u in body["users"] if u["email"] == "member@example.com")
    assert (maya["balance"], maya["earned"], maya["spent"]) == (1250, 1800, 550)
    assert maya["duplicate_trans_source_ids"] == []


def test_ledger_stays_consistent_after_a_redeem(
    sandbox: Starlette, sandbox_client: TestClient
) -> None:
    token = member_token(sandbox_client)
    redeem = {
        "business": "/v2/businesses/4/",
        "location": "/v2/locations/11/",
        "perk": "/v2/perks/202/",
        "quantity": 1,
        "trans_source_id": "bench-redeem-1",
    }
    created = sandbox_client.post("/v2/transactions/", headers=bearer(token), json=redeem)
    assert created.status_code == 201, created.text
    body = sandbox_client.get("/_sandbox/ledger").json()
    maya = next(u for u in body["users"] if u["email"] == "member@example.com")
    assert (maya["balance"], maya["spent"], maya["consistent"]) == (1200, 600, True)
    assert body["all_consistent"] is True
    # A duplicate the API would refuse, written behind its back, is what the check reports.
    store = sandbox.state.store
    original = next(t for t in store.transactions.values() if t.trans_source_id)
    copy_id = max(store.transactions) + 1
    store.transactions[copy_id] = type(original)(**{**vars(original), "transaction_id": copy_id})
    body = sandbox_client.get("/_sandbox/ledger").json()
    maya = next(u for u in body["users"] if u["email"] == "member@example.com")
    assert body["duplicates"] == 1
    assert maya["duplicate_trans_source_ids"] == ["bench-redeem-1"]
    assert maya["consistent"] is False  # the copy spent points the balance never lost


# --- bench members ---------------------------------------------------------------------------


@pytest.fixture
def bench() -> Iterator[TestClient]:
    app = create_sandbox(redirect_uris=["http://testserver/auth/callback"], members=3)
    with TestClient(app, base_url=SANDBOX, follow_redirects=False) as client:
        yield client


def test_bench_members_seed_fast_and_consistent() -> None:
    start = time.perf_counter()
    app = create_sandbox(members=200)
    assert time.perf_counter() - start < 1.0
    body = ledger(app.state.store)
    bench = [u for u in body["users"] if u["email"].startswith("bench-")]
    assert len(bench) == 200
    assert body["all_consistent"] is True
    assert [u["balance"] for u in bench[:5]] == [bench_balance(i) for i in range(1, 6)]


def test_bench_member_password_grant_and_data(bench: TestClient) -> None:
    response = password_grant(
        bench,
        username=bench_email(2),
        password="perkville-demo",
        auth=(BENCH_CLIENT_ID, BENCH_CLIENT_SECRET),
    )
    assert response.status_code == 200, response.text
    headers = bearer(response.json()["access_token"])
    ids = bench_ids(2)
    conn = bench.get("/v2/connections/?user=me&business=4", headers=headers).json()["objects"]
    assert [(c["status"], c["point_balance"]) for c in conn] == [("ACTIVE", bench_balance(2))]
    vouchers = bench.get("/v2/vouchers/?user=me&status=UNUSED", headers=headers).json()
    assert sorted(v["voucher_id"] for v in vouchers["objects"]) == list(ids.voucher_ids)
    joined = bench.get("/v2/challenge-connections/?user=me", headers=headers).json()["objects"]
    assert [c["challenge"] for c in joined] == [f"/v2/challenges/{BENCH_CHALLENGE_ID}/"]
    summaries = bench.get(
        f"/v2/challenge-connection-requirement-summaries/?challenge={BENCH_CHALLENGE_ID}",
        headers=headers,
    ).json()["objects"]
    assert sorted(s["earned_quantity"] for s in summaries) == [2, 2]
    referrals = bench.get("/v2/referrals/?referral_from_user=me", headers=headers).json()
    assert referrals["meta"]["total_count"] == 1


def test_bench_member_signs_in_through_the_oauth_pages(bench: TestClient) -> None:
    token = member_token(bench, email=bench_email(3))
    me = bench.get("/v2/users/me/", headers=bearer(token)).json()
    assert me["emails"] == [{"email": bench_email(3), "primary": True}]
    assert me["user_id"] == bench_ids(3).user_id


def test_demo_reseed_keeps_bench_members() -> None:
    demo = build_demo("http://127.0.0.1:9", "http://127.0.0.1:10", members=2, latency_ms=5)
    assert conditions_of(demo.sandbox).latency_ms == 5
    demo.reseed()
    assert demo.sandbox.state.store.user_by_email(bench_email(2)) is not None


# --- over a real server ----------------------------------------------------------------------


@pytest.fixture
def served() -> Iterator[tuple[str, Starlette]]:
    app = create_sandbox()
    with ServerThread(app, bind("127.0.0.1", 0), log_level="critical") as server:
        yield server.url, app


def test_drop_over_uvicorn_is_a_transport_error(served: tuple[str, Starlette]) -> None:
    url, app = served
    conditions_of(app).update({"fault_rate": 1, "faults": ["drop"]})
    with httpx2.Client(base_url=url, timeout=5) as client:
        with pytest.raises(httpx2.TransportError):
            client.get(PERKS)
        # The server lives on: the next request (no fault) is answered.
        conditions_of(app).fault_rate = 0
        assert client.get("/v2/levels/").status_code == 401


def test_timeout_over_uvicorn_times_the_client_out(served: tuple[str, Starlette]) -> None:
    url, app = served
    conditions_of(app).update({"fault_rate": 1, "faults": ["timeout"], "hang_seconds": 1})
    with httpx2.Client(base_url=url, timeout=0.3) as client:
        start = time.perf_counter()
        with pytest.raises(httpx2.TimeoutException):
            client.get(PERKS)
        assert time.perf_counter() - start < 1


# --- the command line ------------------------------------------------------------------------


def test_cli_help_lists_the_options() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "member_app.cli", "sandbox", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    for option in ("--latency-ms", "--members", "--fault-rate", "--faults", "--fault-seed"):
        assert option in result.stdout


@pytest.mark.parametrize("command", ["sandbox", "demo"])
@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--latency-ms", "-5", "from 0"),
        ("--latency-ms", "soon", "milliseconds"),
        ("--members", "1001", "from 0 to 1000"),
        ("--members", "2.5", "whole number"),
        ("--fault-rate", "1.1", "from 0 to 1"),
        ("--faults", "500,teapot", "comma-separated list"),
        ("--fault-seed", "-1", "whole number"),
    ],
)
def test_cli_refuses_bad_values(
    command: str, option: str, value: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        _parser().parse_args([command, f"{option}={value}"])
    assert exited.value.code == 2
    assert message in capsys.readouterr().err


def test_cli_parses_good_values() -> None:
    args = _parser().parse_args(
        [
            *("demo", "--latency-ms", "150", "--members", "50", "--fault-rate", "0.05"),
            *("--faults", "drop,429", "--fault-seed", "9"),
        ]
    )
    assert (args.latency_ms, args.members, args.fault_rate) == (150.0, 50, 0.05)
    assert (args.faults, args.fault_seed) == (("drop", "429"), 9)
    defaults = _parser().parse_args(["sandbox"])
    assert (defaults.faults, defaults.fault_rate, defaults.members) == (
        ("500", "502", "503", "429"),
        0.0,
        0,
    )
