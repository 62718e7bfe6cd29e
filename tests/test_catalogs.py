"""The translation catalogs are complete and current: every message of the code and the
templates is in the template catalog, every language translates every one of them (none
untranslated, none fuzzy), keeps its placeholders and markup, and is compiled as shipped."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from member_app.i18n import LOCALES_DIR, SOURCE, languages_in

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ("es", "fr_CA")
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]|\{(\w+)\}")
TAG = re.compile(r"</?([a-z]+)\b[^>]*>")


def _po(code: str) -> Catalog:
    with (LOCALES_DIR / code / "LC_MESSAGES" / "messages.po").open("rb") as file:
        return read_po(file, locale=code)


def _forms(value: str | tuple[str, ...] | list[str] | None) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def _names(text: str) -> set[str]:
    return {a or b for a, b in PLACEHOLDER.findall(text)}


def _key(message: Message) -> tuple[str | None, tuple[str, ...]]:
    return message.context, tuple(_forms(message.id))


def _messages(catalog: Catalog) -> list[Message]:
    return [m for m in catalog if m.id]


def test_the_shipped_languages_are_english_spanish_and_french_canada() -> None:
    assert [language.tag for language in languages_in()] == ["en", "es", "fr-CA"]
    assert languages_in()[0].code == SOURCE


def test_the_template_catalog_holds_every_message_of_the_code_and_templates(
    tmp_path: Path,
) -> None:
    """Someone who adds a message runs `python3 tasks.py i18n`; this says when they didn't."""
    fresh = tmp_path / "messages.pot"
    pybabel = Path(sys.executable).parent / "pybabel"
    subprocess.run(
        [pybabel, "extract", "-F", "babel.cfg", "-o", fresh, "member_app", "templates"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    with fresh.open("rb") as file:
        extracted = {m.id if isinstance(m.id, str) else m.id[0] for m in _messages(read_po(file))}
    with (LOCALES_DIR / "messages.pot").open("rb") as file:
        shipped = {m.id if isinstance(m.id, str) else m.id[0] for m in _messages(read_po(file))}
    assert extracted - shipped == set(), "run `python3 tasks.py i18n`: messages missing"
    assert shipped - extracted == set(), "run `python3 tasks.py i18n`: messages gone"
    assert len(extracted) > 300  # the whole app, not an empty extraction


@pytest.mark.parametrize("code", SHIPPED)
def test_every_message_is_translated_and_none_is_fuzzy(code: str) -> None:
    catalog = _po(code)
    with (LOCALES_DIR / "messages.pot").open("rb") as file:
        wanted = {m.id if isinstance(m.id, str) else m.id[0] for m in _messages(read_po(file))}
    have = {m.id if isinstance(m.id, str) else m.id[0] for m in _messages(catalog)}
    assert wanted - have == set(), f"{code}: not in the catalog (run `python3 tasks.py i18n`)"
    untranslated = [m.id for m in _messages(catalog) if not all(_forms(m.string))]
    fuzzy = [m.id for m in _messages(catalog) if m.fuzzy]
    assert untranslated == [], f"{code}: {len(untranslated)} untranslated: {untranslated[:10]}"
    assert fuzzy == [], f"{code}: {len(fuzzy)} fuzzy: {fuzzy[:10]}"
    plural_forms = catalog.num_plurals
    short = [m.id for m in _messages(catalog) if m.pluralizable and len(m.string) != plural_forms]
    assert short == [], f"{code}: plural messages without all {plural_forms} forms: {short}"


@pytest.mark.parametrize("code", SHIPPED)
def test_translations_keep_every_placeholder_and_tag(code: str) -> None:
    """A lost `%(points)s` shows the member a sentence without its number; an unknown one
    fails the page. Markup (`<strong>`, links) must survive too."""
    problems = []
    for message in _messages(_po(code)):
        ids = _forms(message.id)
        for index, text in enumerate(_forms(message.string)):
            source = ids[min(index, len(ids) - 1)]
            names, given = _names(source), _names(text)
            # A plural form may leave the count out ("un punto"), never add a name.
            ok = given <= names if message.pluralizable else given == names
            if not ok:
                problems.append(f"{source!r} → {text!r}: {sorted(names)} vs {sorted(given)}")
            if sorted(TAG.findall(source)) != sorted(TAG.findall(text)):
                problems.append(f"{source!r} → {text!r}: markup differs")
            # Messages land in attributes (aria-label, data-*) as trusted markup: a straight
            # double quote there would end the attribute. « » and “ ” read better anyway.
            if text.count('"') != source.count('"'):
                problems.append(f"{source!r} → {text!r}: a straight double quote")
    assert problems == [], f"{code}:\n" + "\n".join(problems)


@pytest.mark.parametrize("code", SHIPPED)
def test_the_compiled_catalog_is_the_translated_one(code: str) -> None:
    """The app loads messages.mo: it must say what messages.po says."""
    with (LOCALES_DIR / code / "LC_MESSAGES" / "messages.mo").open("rb") as file:
        compiled = {_key(m): tuple(_forms(m.string)) for m in read_mo(file) if m.id}
    written = {_key(m): tuple(_forms(m.string)) for m in _messages(_po(code))}
    assert compiled == written, "run `python3 tasks.py i18n` to compile the catalogs"
