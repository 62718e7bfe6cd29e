"""Languages: the member's words (gettext catalogs through Babel) and numbers, dates and times
as they read them (Babel's CLDR data).

English is the source language: every message is written in English in the code and the
templates, and a language is a catalog under `member_app/locales/<code>/LC_MESSAGES/`
(`python3 tasks.py i18n` extracts, updates and compiles them). Which languages the app offers
is whatever catalogs it finds there, plus English.

The language of the request being answered is a context variable, set once per request by
`web.language.LanguageMiddleware`; `gettext` and the formatters below read it, so code that
builds a message never passes a locale around. Outside a request (start-up, tests that build
views directly) it is English.

Text that comes from Perkville (reward titles, descriptions, the business's own instructions)
is shown as Perkville gives it: it is never passed through a catalog.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path

from babel import Locale
from babel import dates as babel_dates
from babel import numbers as babel_numbers
from babel.support import NullTranslations, Translations
from jinja2 import Environment

LOCALES_DIR = Path(__file__).resolve().parent / "locales"
SOURCE = "en"
DOMAIN = "messages"


@dataclass(frozen=True, slots=True)
class Language:
    """One language the app speaks. `code` is the catalog's (`fr_CA`), `tag` the web's
    (`fr-CA`: `<html lang>`, `Accept-Language`, `?lang=`)."""

    code: str
    locale: Locale = field(compare=False)
    translations: NullTranslations = field(compare=False, repr=False)

    @property
    def tag(self) -> str:
        return self.code.replace("_", "-")

    @property
    def name(self) -> str:
        """The language's own name for itself ("Español"), for the language picker."""
        own = self.locale.get_display_name(self.locale) or self.tag
        return own[:1].upper() + own[1:]


def _language(code: str, directory: Path) -> Language:
    locale = Locale.parse(code)
    if code == SOURCE:
        translations: NullTranslations = NullTranslations()
    else:
        translations = Translations.load(str(directory), [code], DOMAIN)
    return Language(code, locale, translations)


@cache
def languages_in(directory: Path = LOCALES_DIR) -> tuple[Language, ...]:
    """English, then every language with a compiled catalog in `directory`, by code."""
    codes = sorted(
        mo.parent.parent.name for mo in directory.glob(f"*/LC_MESSAGES/{DOMAIN}.mo") if mo.is_file()
    )
    return tuple(
        _language(code, directory) for code in [SOURCE, *(c for c in codes if c != SOURCE)]
    )


@dataclass(frozen=True, slots=True)
class Languages:
    """The languages of one app, and the one used when nothing else says."""

    offered: tuple[Language, ...]
    default: Language

    @classmethod
    def load(cls, default: str, directory: Path | None = None) -> Languages:
        offered = languages_in(directory or LOCALES_DIR)
        chosen = cls._find(offered, default)
        if chosen is None:
            tags = ", ".join(language.tag for language in offered)
            raise ValueError(f"no catalog for the default language {default!r} (have: {tags})")
        return cls(offered, chosen)

    @staticmethod
    def _find(offered: Iterable[Language], wanted: str) -> Language | None:
        wanted = wanted.strip().replace("_", "-").lower()
        for language in offered:
            if language.tag.lower() == wanted:
                return language
        return None

    def exact(self, wanted: str) -> Language | None:
        """The language with exactly this tag (any case, `-` or `_`): a member's explicit
        choice, so no guessing."""
        return self._find(self.offered, wanted)

    def best_for(self, accept_language: str) -> Language | None:
        """The best offered language for an `Accept-Language` header: by the member's order
        of preference (q), `es-MX` served by `es`, `fr` by `fr-CA`, else None."""
        for wanted in _preferences(accept_language):
            found = self.exact(wanted)
            if found is None:  # es-MX → es: the same language, another country
                found = self.exact(wanted.split("-")[0])
            if found is None:  # fr → fr-CA: the only French we have
                base = wanted.split("-")[0].lower()
                found = next((x for x in self.offered if x.locale.language == base), None)
            if found is not None:
                return found
        return None


def _preferences(header: str) -> list[str]:
    """Language tags of an `Accept-Language` header, most wanted first (RFC 9110 §12.5.4);
    `*`, q=0 and malformed entries are dropped."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")[:20]):  # a header is a handful
        tag, _, params = part.strip().partition(";")
        tag = tag.strip()
        if not tag or tag == "*" or len(tag) > 35:
            continue
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if q > 0:
            ranked.append((-q, position, tag))
    return [tag for _, _, tag in sorted(ranked)]


# --- the language of this request ---------------------------------------------------------

_ENGLISH = _language(SOURCE, LOCALES_DIR)
_current: ContextVar[Language] = ContextVar("language", default=_ENGLISH)


def current() -> Language:
    return _current.get()


def use(language: Language) -> None:
    """Answer the rest of this request (this context) in `language`."""
    _current.set(language)


def gettext(message: str) -> str:
    return _current.get().translations.gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return _current.get().translations.ngettext(singular, plural, n)


def pgettext(context: str, message: str) -> str:
    return str(_current.get().translations.pgettext(context, message))


def npgettext(context: str, singular: str, plural: str, n: int) -> str:
    return str(_current.get().translations.npgettext(context, singular, plural, n))


_ = gettext


def N_(message: str) -> str:
    """Marks a message for the catalog where it is defined (a module-level table); it is
    translated with `_()` where it is shown."""
    return message


def install(env: Environment) -> None:
    """Jinja2's i18n extension and the formatters below as filters, for an environment.
    `{{ _("You have %(n)s", n=...) }}`: newstyle gettext escapes the values it is given and
    fails loudly on a missing one; a literal percent sign is written `%%`."""
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(  # type: ignore[attr-defined]  # added by the extension
        gettext, ngettext, newstyle=True, pgettext=pgettext, npgettext=npgettext
    )
    env.globals["current_language"] = current
    env.filters.update(
        number=number,
        points=points,
        day=day,
        day_short=day_short,
        weekday=weekday,
        clock=clock,
        moment=moment,
        relative=relative,
        in_days=in_days,
        month=month,
    )


# --- numbers, dates and times, as the member reads them -------------------------------------


def number(value: int | float) -> str:
    """1,250 · 1.250 · 1 250."""
    return babel_numbers.format_decimal(value, locale=current().locale)


def points(value: int) -> str:
    """ "1,250 points", "1 point", in the member's language."""
    return ngettext("%(num)s point", "%(num)s points", abs(value)) % {"num": number(value)}


def day(value: date) -> str:
    """A date with its year: "Nov 27, 2026" · "27 nov 2026" · "27 nov. 2026"."""
    return babel_dates.format_date(value, "medium", locale=current().locale)


def day_short(value: date) -> str:
    """A date without its year: "Nov 27" · "27 nov"."""
    return babel_dates.format_skeleton("MMMd", value, locale=current().locale)


def weekday(value: date) -> str:
    """A day of the week and date: "Fri, Nov 27" · "vie, 27 nov"."""
    return babel_dates.format_skeleton("MMMEd", value, locale=current().locale)


def clock(value: datetime) -> str:
    """A time of day in the datetime's own time zone: "5:15 PM" · "17:15" · "17 h 15"."""
    return babel_dates.format_time(value, "short", tzinfo=value.tzinfo, locale=current().locale)


def moment(value: datetime) -> str:
    """A date and time: "Nov 27, 2026 · 5:15 PM"."""
    return f"{day(value)} · {clock(value)}"


def relative(delta: timedelta) -> str:
    """ "in 3 days", "2 hours ago", in the member's language."""
    return babel_dates.format_timedelta(
        delta, add_direction=True, threshold=1, locale=current().locale
    )


def in_days(days: int) -> str:
    """ "in 3 days", "in 1 week" · "dentro de 3 días" · "dans 3 jours": CLDR's own words."""
    return relative(timedelta(days=days))


def month(value: date) -> str:
    """A month and year: "November 2026" · "noviembre de 2026"."""
    return babel_dates.format_skeleton("yMMMM", value, locale=current().locale)
