"""Reading a page's forms the way a browser would submit them.

Shared by the tests, the benchmarks and the scripts, so it uses the standard library only;
`bench/` puts the repository root on `sys.path` to import it.

* `forms(html)`: every form on the page, each with its own inputs.
* `find_form(html, action)`: the first form posting to `action` (a path, or a pattern).
* `parse_form(html)`: the page read as one form, the first form's action with every named
  input on the page, for a test that posts "the page's form" with its CSRF token wherever the
  page carries it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class Form:
    """A form's action and method, and its named inputs (name → value, the first of each)."""

    action: str = ""
    method: str = "get"
    fields: dict[str, str] = field(default_factory=dict)
    hidden: dict[str, str] = field(default_factory=dict)  # the `type="hidden"` ones

    def add(self, attributes: dict[str, str]) -> None:
        name, value = attributes["name"], attributes.get("value", "")
        self.fields.setdefault(name, value)
        if attributes.get("type", "").lower() == "hidden":
            self.hidden.setdefault(name, value)


class _FormReader(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self.page = Form()
        self._open: Form | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._open = Form(attributes.get("action", ""), attributes.get("method", "get").lower())
            if not self.forms:
                self.page.action, self.page.method = self._open.action, self._open.method
            self.forms.append(self._open)
        elif tag == "input" and attributes.get("name"):
            self.page.add(attributes)
            if self._open is not None:
                self._open.add(attributes)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._open = None


def _read(html: str) -> _FormReader:
    reader = _FormReader()
    reader.feed(html)
    reader.close()
    return reader


def forms(html: str) -> list[Form]:
    """Every form on the page, in order (entities in values decoded)."""
    return _read(html).forms


def find_form(html: str, action: str | re.Pattern[str]) -> Form | None:
    """The first form whose action is `action` (or matches it, for a pattern), or None."""
    for form in forms(html):
        found = form.action == action if isinstance(action, str) else action.match(form.action)
        if found:
            return form
    return None


def parse_form(html: str) -> Form:
    """The page as one form: the first form's action and method, and every named input on
    the page (the first of each name)."""
    return _read(html).page
