"""A weekly bonus's days and hours in the member's language.

Perkville writes them in English (reference, Earning Rules, `time_bonuses`:
`{"time_periods": {"Thursday": ["3 pm to 4 pm"]}}`). In English they are shown as Perkville
writes them; in another language a day or time this app can read is said the language's way
("jueves", "15:00 a 16:00"), and anything else is shown as written.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time

from babel import dates as babel_dates

from ..i18n import SOURCE, clock, current, pgettext

_CLOCK = re.compile(r"^(\d{1,2})(?::(\d{2}))?\s*([ap])\.?m\.?$", re.IGNORECASE)
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def clock_of(text: str) -> time | None:
    """ "5 am", "12:30 pm" → the time; None for anything else."""
    match = _CLOCK.match(text.strip())
    if match is None or not 1 <= int(match.group(1)) <= 12:
        return None
    hour = int(match.group(1)) % 12 + (12 if match.group(3).lower() == "p" else 0)
    return time(hour, int(match.group(2) or 0))


def _in_source() -> bool:
    return current().code == SOURCE


def weekday_name(name: str) -> str:
    """ "Thursday" → "jueves" · "jeudi"; a name this app doesn't know, as written."""
    if _in_source() or name.capitalize() not in WEEKDAYS:
        return name
    names = babel_dates.get_day_names("wide", locale=current().locale)
    return str(names[WEEKDAYS.index(name.capitalize())])


def time_words(text: str) -> str:
    """ "5 pm" → "17:00" · "17 h"; as written when it can't be read."""
    moment = clock_of(text)
    if _in_source() or moment is None:
        return text.strip()
    return clock(datetime.combine(date(2000, 1, 1), moment))


def hours_words(span: str) -> str:
    """ "3 pm to 4 pm" → "15:00 a 16:00"; as written when it can't be read."""
    start, _to, end = span.partition(" to ")
    if _in_source() or clock_of(start) is None or clock_of(end) is None:
        return span
    hours = pgettext("a bonus's hours on a day: 3 pm to 4 pm", "%(start)s to %(end)s")
    return hours % {"start": time_words(start), "end": time_words(end)}


def long_day(value: date) -> str:
    """A date with its day of the week in full: "Sunday, Nov 29" · "domingo, 29 nov"."""
    locale = current().locale
    pattern = locale.datetime_skeletons["MMMEd"].pattern
    return babel_dates.format_date(value, re.sub("E+", "EEEE", pattern), locale=locale)
