"""Vouchers: the list (ready to use, then past), the code to show at the desk and the words
that go with it, the moment after redeeming, and marking one used."""

from __future__ import annotations

import dataclasses
import re
from datetime import date

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from member_app import Settings
from member_app.pages.vouchers import view_of
from member_app.perkville.program import Voucher

from .forms import parse_form
from .helpers import MAYA, FakeClock, SignIn, balance, make_client, visible_text

# Maya's vouchers in the demo gym (member_app/sandbox/seed/rewards.py).
SMOOTHIE = 52005  # UNUSED, the juice bar's own instructions
REWARD_LINK = 52008  # ISSUED, a partner's reward link with its own instructions
GUEST_PASS = 52009  # UNUSED, Perkville's default instructions
COUPON = 52007  # ISSUED, a coupon code (QR); its instructions are changed below
PROTEIN_BAR = 202  # a reward she can afford (50 points); its voucher gets the default


def voucher_links(html: str) -> list[str]:
    return list(dict.fromkeys(re.findall(r'href="(/vouchers/\d+)"', html)))


def details(client: TestClient) -> dict[str, str]:
    """Each of the member's vouchers: its URL → the detail page's HTML."""
    return {link: client.get(link).text for link in voucher_links(client.get("/vouchers").text)}


def test_voucher_list_shows_status_dates_and_expiry_badges(
    sign_in: SignIn, client: TestClient
) -> None:
    sign_in()
    response = client.get("/vouchers")
    assert response.status_code == 200
    text = visible_text(response.text)
    for label in ("Ready to use", "Used", "Expired"):
        assert label in text
    assert re.search(r"Expires (today|tomorrow|in \d days)", text)
    assert "Redeemed" in text
    assert "points" in text


def test_each_voucher_shows_its_code_in_the_documented_priority(
    sign_in: SignIn, client: TestClient
) -> None:
    sign_in()
    pages = details(client)
    kinds = {
        "link": [p for p in pages.values() if "Open your reward" in p],
        "qr": [p for p in pages.values() if 'alt="QR code for code' in p],
        "barcode": [p for p in pages.values() if 'alt="Barcode for code' in p],
    }
    assert all(kinds.values()), {k: len(v) for k, v in kinds.items()}
    qr_page = kinds["qr"][0]
    code_url = re.search(r'src="(/vouchers/\d+/code\.svg)"', qr_page).group(1)  # type: ignore[union-attr]
    svg = client.get(code_url)
    assert svg.status_code == 200
    assert svg.headers["content-type"].startswith("image/svg+xml")
    assert b"<svg" in svg.content
    barcode_page = kinds["barcode"][0]
    code = re.search(r'<output id="voucher-code">([^<]+)</output>', barcode_page).group(1)  # type: ignore[union-attr]
    assert code.isdigit()  # the voucher id, when no coupon code exists


def test_mark_used_asks_first_then_cannot_be_repeated(sign_in: SignIn, client: TestClient) -> None:
    sign_in()
    unused = next(
        link for link, page in details(client).items() if "Mark as used" in visible_text(page)
    )
    confirm = client.get(f"{unused}/use")
    assert "This can't be undone." in visible_text(confirm.text)
    fields = parse_form(confirm.text).fields
    response = client.post(f"{unused}/use", data=fields)
    assert response.status_code == 303
    page = client.get(response.headers["location"])
    text = visible_text(page.text)
    assert "Marked as used." in text
    assert "Used" in text
    assert "Mark as used" not in text
    # Again: nothing to do, straight back to the voucher.
    again = client.post(f"{unused}/use", data=fields)
    assert again.status_code == 303
    assert again.headers["location"] == unused


def test_mark_used_needs_the_form_token(sign_in: SignIn, client: TestClient) -> None:
    sign_in()
    unused = next(
        link for link, page in details(client).items() if "Mark as used" in visible_text(page)
    )
    response = client.post(f"{unused}/use", data={"csrf": "forged"})
    assert response.status_code == 403
    assert "Mark as used" in visible_text(client.get(unused).text)


def test_someone_elses_or_a_made_up_voucher_is_not_found(
    sign_in: SignIn, client: TestClient, sandbox: Starlette
) -> None:
    sign_in()
    for path in ("/vouchers/99999999", "/vouchers/abc", "/vouchers/99999999/code.svg"):
        assert client.get(path).status_code == 404
    response = client.get("/vouchers/99999999")
    assert "We can't find that voucher" in visible_text(response.text)


# --- the two parts of the list: ready to use, and past --------------------------------------


def section_links(html: str, heading_id: str) -> list[str]:
    """The vouchers linked from the part of the list under one heading, in order."""
    match = re.search(rf'<section[^>]*aria-labelledby="{heading_id}".*?</section>', html, re.S)
    return voucher_links(match.group(0)) if match else []


def maya_vouchers(sandbox: Starlette) -> dict[str, str]:
    """Maya's vouchers as the sandbox has them: URL → status."""
    return {
        f"/vouchers/{v.voucher_id}": v.status
        for v in sandbox.state.store.vouchers.values()
        if v.user_id == MAYA
    }


def test_vouchers_are_listed_as_ready_to_use_then_past(
    sign_in: SignIn, client: TestClient, sandbox: Starlette
) -> None:
    sign_in()
    html = client.get("/vouchers").text
    text = visible_text(html)
    assert text.index("Ready to use") < text.index("Past")
    ready, past = section_links(html, "ready-heading"), section_links(html, "past-heading")
    statuses = maya_vouchers(sandbox)
    assert set(ready) | set(past) == set(statuses)
    assert {statuses[link] for link in ready} <= {"UNUSED", "ISSUED"}
    assert {statuses[link] for link in past} == {"USED", "EXPIRED", "VOIDED"}
    # Each past voucher says what became of it, in plain words, with the date when known.
    past_part = visible_text(html[html.index('aria-labelledby="past-heading"') :])
    expired = next(
        v
        for v in sandbox.state.store.vouchers.values()
        if v.user_id == MAYA and v.status == "EXPIRED"
    )
    when = expired.expiration_date
    assert f"Expired {when:%b} {when.day}, {when.year}" in past_part
    assert "Used" in past_part and "Voided" in past_part
    assert "Use by" not in past_part
    assert "Ready to use" not in past_part


def test_with_nothing_left_to_use_the_list_says_what_to_do(
    sign_in: SignIn, client: TestClient, sandbox: Starlette
) -> None:
    for voucher in sandbox.state.store.vouchers.values():
        if voucher.user_id == MAYA and voucher.status in {"UNUSED", "ISSUED"}:
            voucher.status = "USED"
    sign_in()
    html = client.get("/vouchers").text
    text = visible_text(html)
    assert "Nothing to use right now." in text
    assert 'href="/rewards"' in html
    assert section_links(html, "ready-heading") == []
    assert set(section_links(html, "past-heading")) == set(maya_vouchers(sandbox))


# --- past vouchers: no code ------------------------------------------------------------------


def shows_a_code(html: str) -> bool:
    """Whether the page offers something to scan or copy."""
    return (
        "/code.svg" in html
        or 'id="voucher-code"' in html
        or "data-copy" in html
        or "Open your reward" in visible_text(html)
    )


def test_past_vouchers_show_no_code_and_no_copy_button(
    sign_in: SignIn, client: TestClient, sandbox: Starlette
) -> None:
    sign_in()
    statuses = maya_vouchers(sandbox)
    pages = details(client)
    for link, status in statuses.items():
        page, text = pages[link], visible_text(pages[link])
        if status in {"USED", "EXPIRED", "VOIDED"}:
            assert not shows_a_code(page), link
            assert "Copy" not in text and "Mark as used" not in text, link
            assert "Find another reward" in text, link
            assert client.get(f"{link}/code.svg").status_code == 404, link
        else:
            assert shows_a_code(page), link
    assert "Used You've used this voucher" in visible_text(pages[_with(statuses, "USED")])
    assert "Voided This voucher was cancelled" in visible_text(pages[_with(statuses, "VOIDED")])
    assert re.search(
        r"Expired \w{3} \d{1,2}, \d{4} This voucher expired",
        visible_text(pages[_with(statuses, "EXPIRED")]),
    )


def _with(statuses: dict[str, str], status: str) -> str:
    return next(link for link, s in statuses.items() if s == status)


def test_a_voucher_marked_used_loses_its_code(sign_in: SignIn, client: TestClient) -> None:
    sign_in()
    unused = next(link for link, page in details(client).items() if "Mark as used" in page)
    assert shows_a_code(client.get(unused).text)
    fields = parse_form(client.get(f"{unused}/use").text).fields
    client.post(f"{unused}/use", data=fields)
    page = client.get(unused).text
    assert not shows_a_code(page)
    assert client.get(f"{unused}/code.svg").status_code == 404
    assert unused in section_links(client.get("/vouchers").text, "past-heading")


def test_a_voucher_past_its_date_reads_expired_whatever_perkville_says() -> None:
    """Perkville may not have caught up with the date yet: the app doesn't offer the code."""
    on = date(2026, 11, 22)
    voucher = Voucher(
        "52009", "Guest pass", "", "UNUSED", None, date(2026, 11, 21), 100, None, None,
        None, None, "", "", "",
    )  # fmt: skip
    view = view_of(voucher, [], on)
    assert view.past and not view.can_mark_used
    assert view.status_label == "Expired Nov 21, 2026"
    assert view.code_kind == "none"
    assert not view_of(dataclasses.replace(voucher, expiration_date=on), [], on).past


# --- what to do with the voucher: the business's words, or this device's ---------------------


def test_perkvilles_default_instructions_become_what_to_do_with_this_screen(
    sign_in: SignIn, client: TestClient, sandbox: Starlette
) -> None:
    store = sandbox.state.store
    assert store.vouchers[GUEST_PASS].details == "Print or show on phone"  # Perkville's default
    store.vouchers[COUPON].details = " print or show on your phone. "  # a variant of it
    sign_in()
    for voucher_id in (GUEST_PASS, COUPON):
        text = visible_text(client.get(f"/vouchers/{voucher_id}").text)
        assert "Show this screen at the front desk." in text
        assert "Print" not in text
    # The business's own words are shown as written.
    smoothie = visible_text(client.get(f"/vouchers/{SMOOTHIE}").text)
    assert store.vouchers[SMOOTHIE].details in smoothie
    assert "Show this screen at the front desk." not in smoothie
    link = visible_text(client.get(f"/vouchers/{REWARD_LINK}").text)
    assert store.vouchers[REWARD_LINK].details in link


@pytest.mark.parametrize(
    ("mode", "wording"),
    [
        ("phone", "Show this screen at the front desk."),
        ("webview", "Show this screen at the front desk."),
        ("kiosk", "Ask the front desk to scan this code."),
    ],
)
def test_the_wording_fits_the_device(
    mode: str,
    wording: str,
    settings: Settings,
    sandbox: Starlette,
    sandbox_client: TestClient,
    clock: FakeClock,
) -> None:
    for client, _ in make_client(settings, sandbox, clock, mode=mode):
        SignIn(client, sandbox_client)()
        text = visible_text(client.get(f"/vouchers/{GUEST_PASS}").text)
        assert wording in text
        assert "Print or show on phone" not in text
        others = {"Show this screen at the front desk.", "Ask the front desk to scan this code."}
        assert not any(other in text for other in others - {wording})


# --- the moment after redeeming --------------------------------------------------------------


def redeem(client: TestClient, perk_id: int) -> str:
    """Confirm a reward; return where the app sends the member."""
    link = f"/rewards/{perk_id}/redeem"
    answer = client.post(link, data=parse_form(client.get(link).text).fields)
    assert answer.status_code == 303, answer.text
    return str(answer.headers["location"])


def test_after_redeeming_the_member_sees_the_reward_new_balance_code_and_next_steps(
    sign_in: SignIn, client: TestClient, sandbox: Starlette
) -> None:
    sign_in()
    home_before = client.get("/").text  # read through the app's cache, before redeeming
    before = balance(sandbox)
    assert f"{before:,}" in visible_text(home_before)
    perk = sandbox.state.store.perks[PROTEIN_BAR]
    moment = redeem(client, PROTEIN_BAR)
    assert re.fullmatch(r"/vouchers/\d+\?redeemed=1", moment)
    html = client.get(moment).text
    text = visible_text(html)
    assert balance(sandbox) == before - perk.points
    assert f"Redeemed! {perk.title}" in text
    assert f"Your new balance {before - perk.points:,} points" in text
    assert f"{perk.points:,} points spent" in text
    assert re.search(r"<h1[^>]*autofocus", html)  # screen readers start at the news
    # The voucher, ready to scan, and what to do with it.
    voucher_id = moment.split("/")[2].split("?")[0]
    assert f'src="/vouchers/{voucher_id}/code.svg"' in html
    assert f'<output id="voucher-code">{voucher_id}</output>' in html
    assert "Show this screen at the front desk." in text
    assert 'href="/vouchers">See your vouchers</a>' in html
    assert 'href="/rewards">Back to rewards</a>' in html
    # No page says otherwise: home and the rewards page show the same balance.
    assert f"{before - perk.points:,}" in visible_text(client.get("/").text)
    assert f"{before - perk.points:,}" in visible_text(client.get("/rewards").text)
    # The same voucher without the flag is the ordinary page.
    plain = visible_text(client.get(moment.split("?")[0]).text)
    assert "Redeemed!" not in plain and "Your new balance" not in plain


def test_the_moment_is_not_shown_for_a_voucher_already_done_with(
    sign_in: SignIn, client: TestClient, sandbox: Starlette
) -> None:
    sign_in()
    used = _with(maya_vouchers(sandbox), "USED")
    text = visible_text(client.get(f"{used}?redeemed=1").text)
    assert "Redeemed!" not in text and "Your new balance" not in text
    assert "You've used this voucher" in text


def test_without_the_balance_the_moment_still_shows_the_voucher(
    sign_in: SignIn, client: TestClient, sandbox: Starlette
) -> None:
    sign_in()
    moment = redeem(client, PROTEIN_BAR)
    sandbox.state.conditions.update(
        {"fault_rate": 1.0, "faults": ["503"], "fault_paths": ["/v2/connections/"]}
    )
    page = client.get(moment)
    assert page.status_code == 200
    text = visible_text(page.text)
    assert "Redeemed!" in text and "Show this screen at the front desk." in text
    assert "Your new balance" not in text
    assert "/code.svg" in page.text
