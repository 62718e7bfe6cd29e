"""Oversized and malformed input: every odd request gets a 4xx or a page that says what is
wrong, never a 500 or a stack trace, and changes nothing."""

from __future__ import annotations

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from ..helpers import MAYA, SignIn, csrf_of, visible_text

HUGE = "99999999999999999999999"
MISSING = {
    "voucher": "We can't find that voucher",
    "reward": "This reward isn't available",
    "challenge": "We can't find that challenge",
}


def assert_no_trace(html: str) -> None:
    for trace in ("Traceback", 'File "', "Exception", "Internal Server Error"):
        assert trace not in html


@pytest.mark.parametrize(
    ("path", "missing"),
    [
        *((f"/vouchers/{bad}", "voucher") for bad in ("-1", HUGE, "abc", "%FF", "1e3", "0x10")),
        *((f"/vouchers/{bad}/use", "voucher") for bad in ("-1", HUGE, "abc")),
        *((f"/rewards/{bad}/redeem", "reward") for bad in ("abc", "-1", HUGE, "%00")),
        *((f"/challenges/{bad}", "challenge") for bad in ("-1", HUGE, "abc", "%E2%80%AE")),
    ],
)
def test_bad_ids_in_paths_are_friendly_404s(
    sign_in: SignIn, client: TestClient, path: str, missing: str
) -> None:
    sign_in()
    response = client.get(path)
    assert response.status_code == 404, path
    assert MISSING[missing] in visible_text(response.text)
    assert_no_trace(response.text)


@pytest.mark.parametrize(
    "path", [f"/vouchers/{HUGE}/code.svg", "/vouchers/-1/code.svg", "/icons/x" * 200 + ".png"]
)
def test_bad_ids_in_image_paths_are_404s(sign_in: SignIn, client: TestClient, path: str) -> None:
    sign_in()
    assert client.get(path).status_code == 404


@pytest.mark.parametrize(
    ("path", "action"),
    [
        (f"/vouchers/{HUGE}/use", "voucher"),
        ("/vouchers/-5/use", "voucher"),
        (f"/challenges/{HUGE}/join", "challenge"),
        ("/challenges/abc/leave", "challenge"),
        (f"/rewards/{HUGE}/redeem", "reward"),
    ],
)
def test_actions_on_bad_ids_are_friendly_404s(
    sign_in: SignIn, client: TestClient, path: str, action: str
) -> None:
    sign_in()
    response = client.post(path, data={"csrf": csrf_of(client), "attempt": "A" * 22})
    assert response.status_code == 404, response.text
    assert MISSING[action] in visible_text(response.text)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("offset=-1", "That page number is out of range."),
        ("offset=abc", "That page number is out of range."),
        (f"offset={HUGE}", "That page number is out of range."),
        ("offset=%FF%FE", "That page number is out of range."),
        ("from=2026-13-45", "From: use a date like 2026-11-01."),
        ("to=notadate", "To: use a date like 2026-11-01."),
        ("from=%FF%FE%00", "From: use a date like 2026-11-01."),
        ("from=99999-01-01", "From: use a date like 2026-11-01."),
        ("from=2026-11-30&to=2026-11-01", "The start date is after the end date."),
        ("kind=%3Cscript%3E", "Show: choose all, earned or redeemed."),
        ("kind=" + "x" * 20000, "Show: choose all, earned or redeemed."),
    ],
)
def test_bad_history_filters_are_named_on_the_page(
    sign_in: SignIn, client: TestClient, query: str, message: str
) -> None:
    sign_in()
    response = client.get(f"/history?{query}")
    assert response.status_code in {200, 400}
    assert message in visible_text(response.text)
    assert_no_trace(response.text)


@pytest.mark.parametrize(
    "path",
    [
        "/rewards?loc_id=" + "9" * 10000,
        "/earn?loc_id=-1",
        "/challenges?loc_id=%FF",
        "/?embed=" + "1" * 10000,
        "/vouchers/52009?redeemed=%FF&used=" + "1" * 5000,
        "/challenges/801?problem=" + "x" * 10000,
        "/signin?next=/" + "a" * 10000,
        "/signin?register_at=%FF%FE",
        "/" + "a" * 5000,
    ],
)
def test_long_or_non_utf8_query_values_never_break_a_page(
    sign_in: SignIn, client: TestClient, path: str
) -> None:
    sign_in()
    response = client.get(path)
    assert response.status_code in {200, 302, 303, 307, 404}, path
    assert_no_trace(response.text)


def test_a_foreign_loc_id_says_so(sign_in: SignIn, client: TestClient) -> None:
    sign_in()
    text = visible_text(client.get("/rewards?loc_id=" + "9" * 10000).text)
    assert "That location isn't part of this program" in text


def _referrals(sandbox: Starlette) -> int:
    return sum(1 for r in sandbox.state.store.referrals.values() if r.from_user_id == MAYA)


@pytest.mark.parametrize(
    "email",
    [
        "not-an-email",
        "a@b",
        "<script>@example.com",
        "a" * 300 + "@example.com",
        "friend@example.com\r\nBcc: victim@evil.example",
        "a@@example.com",
        "   ",
        "friend@exa mple.com",
    ],
)
def test_invalid_referral_emails_are_refused_before_perkville(
    sign_in: SignIn, client: TestClient, sandbox: Starlette, email: str
) -> None:
    sign_in()
    before = _referrals(sandbox)
    response = client.post(
        "/referrals", data={"csrf": csrf_of(client), "email": email, "first_name": "Robin"}
    )
    assert response.status_code == 400
    text = visible_text(response.text)
    assert "Enter a valid email address" in text or "Enter your friend's email" in text
    assert _referrals(sandbox) == before


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("multipart/form-data", b"--x\r\ngarbage"),
        ("multipart/form-data; boundary=x", b"--x\r\nContent-Disposition: form-data\r\n\r\n"),
        ("multipart/form-data; boundary=x", b"\xff\xfe\x00" * 100),
        ("application/x-www-form-urlencoded", b"%%%&&==&csrf&csrf=%ZZ"),
        ("application/x-www-form-urlencoded", b"csrf=\xff\xfe&email=\xff@example.com"),
        ("application/json", b'{"csrf": "x", "email": "a@example.com"}'),
        ("text/plain", b"csrf=x"),
    ],
)
def test_malformed_bodies_are_refused_without_a_500(
    sign_in: SignIn, client: TestClient, sandbox: Starlette, content_type: str, body: bytes
) -> None:
    sign_in()
    before = _referrals(sandbox)
    response = client.post("/referrals", content=body, headers={"content-type": content_type})
    assert 400 <= response.status_code < 500, response.text
    assert_no_trace(response.text)
    assert _referrals(sandbox) == before


@pytest.mark.parametrize("kind", ["urlencoded", "multipart"])
def test_oversized_bodies_are_refused_with_413(
    sign_in: SignIn, client: TestClient, sandbox: Starlette, kind: str
) -> None:
    sign_in()
    csrf = csrf_of(client)
    before = _referrals(sandbox)
    fields = {"csrf": csrf, "email": "friend@example.net", "note": "x" * 2_000_000}
    if kind == "urlencoded":
        response = client.post("/referrals", data=fields)
    else:
        response = client.post(
            "/referrals", data=fields, files={"upload": ("big.bin", b"\0" * 2_000_000)}
        )
    assert response.status_code == 413
    assert _referrals(sandbox) == before


def test_a_burst_of_actions_is_rate_limited(sign_in: SignIn, client: TestClient) -> None:
    sign_in()
    csrf = csrf_of(client)
    statuses = [
        client.post("/referrals", data={"csrf": csrf, "email": f"friend{i}@example.net"})
        for i in range(60)
    ]
    assert 429 in {response.status_code for response in statuses}
