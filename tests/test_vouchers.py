"""Vouchers: the list, the code to show at the desk, and marking one used."""

from __future__ import annotations

import re

from starlette.applications import Starlette
from starlette.testclient import TestClient

from .forms import parse_form
from .helpers import SignIn, visible_text


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
