"""Ways to earn, and the point history."""

from __future__ import annotations

import re

from starlette.testclient import TestClient

from .helpers import SignIn, visible_text


def test_earning_rules_show_bonuses_and_progress(sign_in: SignIn, client: TestClient) -> None:
    sign_in()
    response = client.get("/earn")
    assert response.status_code == 200
    text = visible_text(response.text)
    assert "Ways to earn" in text
    assert re.search(r"\d+× points", text)  # time or date-range bonus
    assert re.search(r"\d+ of \d+ this (week|month)", text)  # frequency progress
    assert "bonus points" in text


def test_history_is_paged_newest_first(sign_in: SignIn, client: TestClient) -> None:
    sign_in()
    first = client.get("/history")
    assert first.status_code == 200
    times = re.findall(r'<time datetime="([^"]+)"', first.text)
    assert len(times) >= 15
    assert times == sorted(times, reverse=True)
    more = re.search(r'href="(/history\?offset=20)"', first.text)
    assert more, "no Show more link"
    second = client.get(more.group(1))
    later = re.findall(r'<time datetime="([^"]+)"', second.text)
    assert later and max(later) <= min(times)


def test_history_filters_by_kind_and_dates(sign_in: SignIn, client: TestClient) -> None:
    sign_in()
    redeemed = client.get("/history?kind=redeemed")
    assert "−" in redeemed.text
    assert 'class="history-points earned"' not in redeemed.text
    window = client.get("/history?from=2026-10-01&to=2026-10-31")
    dates = re.findall(r'<time datetime="(\d{4}-\d{2}-\d{2})', window.text)
    assert dates and all("2026-10-01" <= d <= "2026-10-31" for d in dates)


def test_history_explains_bad_filters(sign_in: SignIn, client: TestClient) -> None:
    sign_in()
    response = client.get("/history?kind=everything&from=yesterday&offset=-4")
    assert response.status_code == 400
    text = visible_text(response.text)
    assert "choose all, earned or redeemed" in text
    assert "use a date like" in text
    assert "out of range" in text
    backwards = client.get("/history?from=2026-11-01&to=2026-10-01")
    assert "The start date is after the end date." in visible_text(backwards.text)


def test_voided_lines_are_struck_through(sign_in: SignIn, client: TestClient) -> None:
    sign_in()
    pages = [client.get(f"/history?offset={n}").text for n in range(0, 200, 20)]
    assert any("<s>" in page and "(voided)" in page for page in pages)
