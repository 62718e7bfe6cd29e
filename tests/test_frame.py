"""The frame of every page (templates/base.html, error.html, _location_switcher.html): what a
member meets on every page whatever it is, read from the HTML the app serves."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from starlette.testclient import TestClient

from .helpers import SignIn, visible_text

TABS = ["Home", "Earn", "Rewards", "Vouchers", "More options"]  # "More" + hidden " options"


class _Outline(HTMLParser):
    """The order of the landmarks, the navigation's links, and the buttons with their
    working labels."""

    def __init__(self) -> None:
        super().__init__()
        self.landmarks: list[str] = []
        self.tabs: list[tuple[str, str, bool]] = []  # href, label, current
        self.buttons: list[tuple[str, str | None]] = []  # label, data-working
        self._in_nav = False
        self._tab: tuple[str, bool] | None = None
        self._button: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag in {"header", "nav", "main"}:
            self.landmarks.append(tag)
        if tag == "nav" and a.get("aria-label") == "Main":
            self._in_nav = True
        if tag == "a" and self._in_nav:
            self._tab, self._text = (a.get("href") or "", a.get("aria-current") == "page"), []
        if tag == "button":
            self._button, self._text = a.get("data-working"), []

    def handle_data(self, data: str) -> None:
        self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        label = " ".join("".join(self._text).split())
        if tag == "a" and self._tab is not None:
            self.tabs.append((self._tab[0], label, self._tab[1]))
            self._tab = None
        elif tag == "nav":
            self._in_nav = False
        elif tag == "button":
            self.buttons.append((label, self._button))


def outline(html: str) -> _Outline:
    parser = _Outline()
    parser.feed(html)
    return parser


def test_not_found_offers_the_way_home(client: TestClient, sign_in: SignIn) -> None:
    for signed_in in (False, True):
        if signed_in:
            sign_in()
        page = client.get("/no-such-page")
        assert page.status_code == 404
        text = visible_text(page.text)
        assert "Page not found" in text
        assert "Try again" not in text  # the address won't work a second time
        assert re.search(r'<a class="button button-primary" href="/">Go home</a>', page.text)


def test_navigation_comes_before_the_page_and_marks_where_the_member_is(
    client: TestClient, sign_in: SignIn
) -> None:
    sign_in()
    for path, current in (("/", "Home"), ("/earn", "Earn"), ("/vouchers", "Vouchers")):
        found = outline(client.get(path).text)
        # Keyboard and screen-reader order: the brand bar, the navigation, then the page
        # (the skip link jumps over the first two).
        assert found.landmarks[:3] == ["header", "nav", "main"], path
        assert [label for _, label, _ in found.tabs] == TABS
        assert [label for _, label, is_current in found.tabs if is_current] == [current], path


def test_signed_out_pages_have_no_navigation(client: TestClient) -> None:
    found = outline(client.get("/").text)
    assert "nav" not in found.landmarks and found.tabs == []


def test_action_buttons_say_what_they_are_doing(client: TestClient, sign_in: SignIn) -> None:
    sign_in()
    found = outline(client.get("/earn").text)
    working = dict(found.buttons)
    assert working["Sign out"] == "Signing out…"
    assert working["Change"] == "Changing…"  # the location switcher


def test_location_switcher_keeps_a_labelled_select_and_a_place_for_the_whole_name(
    client: TestClient, sign_in: SignIn
) -> None:
    sign_in()
    page = client.get("/earn").text
    assert '<label for="location-choice">Location</label>' in page
    assert re.search(r'<select id="location-choice" name="loc_id">', page)
    # app.js writes the chosen location's name here; screen readers read the select instead.
    assert '<span class="location-shown" aria-hidden="true" data-location-shown></span>' in page
