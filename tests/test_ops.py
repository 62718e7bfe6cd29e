"""Operations: health and readiness probes, metrics and who may read them, request ids, logs."""

from __future__ import annotations

import dataclasses
import json
import logging
import re
from collections.abc import Iterator
from dataclasses import replace

import httpx2
import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from member_app import Settings, create_app
from member_app.ops import JsonFormatter, Metrics, Readiness, configure_logging, redact
from member_app.perkville import PerkvilleClient

from .helpers import APP_URL, FakeClock, SignIn

DEAD = "http://127.0.0.1:9"  # the discard port: nothing listens there
LOOPBACK = ("127.0.0.1", 50000)
TOKEN = "metrics-" + "t" * 32


def scrape(app: Starlette, *, address: tuple[str, int] = LOOPBACK, **headers: str) -> str:
    """GET /metrics as a client at `address` (no lifespan needed: the app is already built)."""
    response = TestClient(app, base_url=APP_URL, client=address).get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return response.text


# --- probes -----------------------------------------------------------------------------------


def test_healthz_answers_without_a_cookie_and_with_the_security_headers(
    client: TestClient,
) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "set-cookie" not in response.headers
    assert "default-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-content-type-options"] == "nosniff"


def test_readyz_is_ready_when_perkville_answers(client: TestClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready"}
    assert "set-cookie" not in response.headers


def test_readyz_is_unavailable_when_perkville_is_down(settings: Settings, clock: FakeClock) -> None:
    app = create_app(dataclasses.replace(settings, api_url=DEAD, admin_token=None), clock=clock)
    with TestClient(app, base_url=APP_URL) as client:
        response = client.get("/readyz")
        healthz = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"
    assert healthz.status_code == 200  # alive all the same


def test_readyz_answer_is_reused_for_two_seconds(app: Starlette, client: TestClient) -> None:
    now = [1000.0]
    app.state.member_app = replace(app.state.member_app, readiness=Readiness(clock=lambda: now[0]))
    assert client.get("/readyz").status_code == 200
    # Perkville goes away; within the two seconds the probe still hears the last answer.
    working = app.state.member_app.perkville
    app.state.member_app = replace(app.state.member_app, perkville=PerkvilleClient(DEAD, timeout=2))
    client.portal.call(working.aclose)  # type: ignore[union-attr]
    now[0] += 1.5
    assert client.get("/readyz").status_code == 200
    now[0] += 1.0
    assert client.get("/readyz").status_code == 503


# --- metrics ----------------------------------------------------------------------------------


def test_metrics_label_route_templates_and_upstream_endpoints_never_ids(
    app: Starlette, sign_in: SignIn, client: TestClient
) -> None:
    sign_in()
    voucher_path = re.findall(r'href="(/vouchers/\d+)"', client.get("/vouchers").text)[0]
    voucher_id = voucher_path.rsplit("/", 1)[1]
    assert client.get(voucher_path).status_code == 200
    assert client.get("/no/such/page/8675309").status_code == 404

    text = scrape(app)
    assert (
        'member_app_requests_total{method="GET",route="/vouchers/{voucher_id}",status="200"} 1.0'
        in text
    )
    assert 'member_app_requests_total{method="GET",route="unmatched",status="404"} 1.0' in text
    assert 'member_app_request_seconds_bucket{le="0.005",method="GET",route="/vouchers"' in text
    upstream = re.findall(r"^member_app_upstream_requests_total\{(.*)\} (\S+)$", text, re.M)
    endpoints = {re.search(r'endpoint="([^"]*)"', labels).group(1) for labels, _ in upstream}  # type: ignore[union-attr]
    assert "/v2/users/me/" in endpoints
    assert any("{id}" in endpoint for endpoint in endpoints), endpoints
    assert "member_app_upstream_seconds_count" in text
    assert "member_app_upstream_errors_total" in text
    # Raw ids appear in no label.
    labels = " ".join(re.findall(r"\{[^}]*\}", text))
    assert voucher_id not in labels
    assert "8675309" not in text


def test_upstream_timeouts_transport_errors_and_5xx_are_counted_as_errors() -> None:
    metrics = Metrics()
    metrics.upstream("GET", "/v2/users/me/", "timeout", 3.0)
    metrics.upstream("GET", "/v2/users/me/", "error", 0.01)
    metrics.upstream("POST", "/v2/transactions/", "503", 0.2)
    metrics.upstream("GET", "/v2/user-vouchers/{id}/", "404", 0.1)
    text = metrics.exposition().decode()
    assert 'member_app_upstream_errors_total{endpoint="/v2/users/me/",kind="timeout"} 1.0' in text
    assert 'member_app_upstream_errors_total{endpoint="/v2/users/me/",kind="transport"} 1.0' in text
    assert 'member_app_upstream_errors_total{endpoint="/v2/transactions/",kind="5xx"} 1.0' in text
    assert 'endpoint="/v2/user-vouchers/{id}/",kind=' not in text  # a 404 is an answer
    assert (
        'member_app_upstream_requests_total{endpoint="/v2/user-vouchers/{id}/",'
        'method="GET",status="404"} 1.0'
    ) in text


def test_without_a_token_metrics_answer_only_unforwarded_loopback_clients(
    app: Starlette, client: TestClient
) -> None:
    assert client.get("/metrics").status_code == 404  # the test client's address: "testclient"
    assert "member_app_requests_total" in scrape(app, address=LOOPBACK)
    assert "member_app_requests_total" in scrape(app, address=("::1", 50000))
    for address, headers in (
        (("203.0.113.9", 50000), {}),
        (("10.0.0.5", 50000), {}),
        # A reverse proxy on the same machine: loopback, but forwarding someone else.
        (LOOPBACK, {"X-Forwarded-For": "203.0.113.9"}),
        (LOOPBACK, {"Forwarded": "for=203.0.113.9"}),
    ):
        outsider = TestClient(app, base_url=APP_URL, client=address)
        assert outsider.get("/metrics", headers=headers).status_code == 404, (address, headers)


def test_with_a_token_metrics_need_it_from_everyone(
    settings: Settings, sandbox: Starlette, clock: FakeClock
) -> None:
    app = create_app(
        dataclasses.replace(settings, metrics_token=TOKEN),
        perkville_transport=httpx2.ASGITransport(app=sandbox),
        clock=clock,
    )
    for address in (LOOPBACK, ("203.0.113.9", 50000)):
        caller = TestClient(app, base_url=APP_URL, client=address)
        assert caller.get("/metrics").status_code == 404
        wrong = caller.get("/metrics", headers={"Authorization": "Bearer " + "x" * 40})
        assert wrong.status_code == 404
        assert caller.get("/metrics", headers={"Authorization": TOKEN}).status_code == 404
        assert "member_app_requests_total" in scrape(
            app, address=address, Authorization=f"Bearer {TOKEN}"
        )


@pytest.mark.parametrize(
    ("value", "complaint"),
    [("short", "at least 16"), ("has a space in it somewhere", "without spaces")],
)
def test_a_weak_metrics_token_is_refused(value: str, complaint: str) -> None:
    from member_app import SettingsError

    env = {
        "MEMBER_APP_SECRET_KEY": "s" * 48,
        "PERKVILLE_CLIENT_ID": "my-client",
        "PERKVILLE_BUSINESS_ID": "889",
        "MEMBER_APP_METRICS_TOKEN": value,
    }
    with pytest.raises(SettingsError, match=complaint) as caught:
        Settings.from_env(env)
    assert value not in str(caught.value)
    env["MEMBER_APP_METRICS_TOKEN"] = TOKEN
    assert Settings.from_env(env).metrics_token == TOKEN


# --- request ids and logs ---------------------------------------------------------------------


def test_a_well_formed_request_id_is_echoed_and_others_are_replaced(client: TestClient) -> None:
    assert client.get("/healthz", headers={"X-Request-Id": "lb-42.a_b"}).headers[
        "x-request-id"
    ] == ("lb-42.a_b")
    generated = client.get("/healthz").headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", generated)
    assert client.get("/healthz").headers["x-request-id"] != generated
    for bad in ("two words", "x" * 65, "<script>", ""):
        replaced = client.get("/healthz", headers={"X-Request-Id": bad}).headers["x-request-id"]
        assert replaced != bad
        assert re.fullmatch(r"[0-9a-f]{32}", replaced)


@pytest.fixture
def app_logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """The `member_app` loggers, set up as the CLI sets them up (JSON on stderr, not
    propagated): listen directly."""
    configure_logging("INFO")
    logger = logging.getLogger("member_app")
    logger.addHandler(caplog.handler)
    try:
        yield caplog
    finally:
        logger.removeHandler(caplog.handler)


def test_each_request_writes_one_json_access_line_without_the_query_string(
    app_logs: pytest.LogCaptureFixture, client: TestClient, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    response = client.get(
        "/vouchers/12345?code=SECRETCODE&access_token=SECRETTOKEN",
        headers={"X-Request-Id": "req-123", "Cookie": "member_session=SECRETCOOKIE"},
    )
    [record] = [r for r in app_logs.records if r.name == "member_app.access"]
    assert record.__dict__["route"] == "/vouchers/{voucher_id}"
    assert record.__dict__["request_id"] == "req-123"

    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    [entry] = [line for line in lines if line["logger"] == "member_app.access"]
    assert entry["request_id"] == "req-123"
    assert entry["method"] == "GET"
    assert entry["route"] == "/vouchers/{voucher_id}"
    assert entry["status"] == response.status_code
    assert isinstance(entry["duration_ms"], float)
    assert entry["level"] == "INFO"
    assert entry["time"].endswith("+00:00")
    written = json.dumps(lines)
    for secret in ("SECRETCODE", "SECRETTOKEN", "SECRETCOOKIE", "12345", "?"):
        assert secret not in written


def test_log_lines_written_during_a_request_carry_its_id(
    app_logs: pytest.LogCaptureFixture, client: TestClient
) -> None:
    client.get("/healthz", headers={"X-Request-Id": "probe-7"})
    formatted = [json.loads(JsonFormatter().format(r)) for r in app_logs.records]
    assert formatted
    assert {entry["request_id"] for entry in formatted} == {"probe-7"}


def test_tokens_codes_and_state_are_redacted_from_messages(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert redact("Authorization: Bearer abc.DEF-123_x") == "Authorization: Bearer [redacted]"
    assert redact("/auth/callback?code=abc123&state=xyz789") == (
        "/auth/callback?code=[redacted]&state=[redacted]"
    )
    assert redact('{"access_token": "t0k3n", "token_type": "Bearer"}') == (
        '{"access_token": "[redacted]", "token_type": "Bearer"}'
    )
    assert redact("refresh token=abc points=5") == "refresh token=[redacted] points=5"

    configure_logging("INFO")
    capsys.readouterr()
    logging.getLogger("member_app.auth").warning(
        "token exchange failed for %s with %s",
        "https://perkville.test/api/token/?code=C0DE&state=ST4TE",
        "Bearer S3CRET",
    )
    [entry] = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert entry["logger"] == "member_app.auth"
    assert entry["level"] == "WARNING"
    assert entry["request_id"] is None
    for secret in ("C0DE", "ST4TE", "S3CRET"):
        assert secret not in entry["message"]
    assert entry["message"].count("[redacted]") == 3


def test_redaction_leaves_ordinary_words_alone() -> None:
    for text in ("status code: 502", "connection state: ACTIVE", "GET /vouchers/{voucher_id} 200"):
        assert redact(text) == text


def test_upstream_urls_are_not_logged_by_the_http_client(
    sign_in: SignIn, client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    """httpx2 would log each call's full URL, query included (an identification code)."""
    sign_in()
    caplog.set_level(logging.INFO)
    assert client.get("/history").status_code == 200
    assert [r for r in caplog.records if r.name.startswith("httpx")] == []
