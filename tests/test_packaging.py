"""An installed (not editable) member-app finds its templates and static files.

The repository keeps `templates/` and `static/` at its top level; the wheel must carry them inside
`member_app/` (pyproject.toml, force-include) and `member_app.paths` must find them there. The
wheel is built from this checkout, installed into a scratch folder, and exercised in a separate
interpreter whose working directory is not the repository.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
PIP_ENV = {"PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_INPUT": "1"}

PACKAGED_FILES = (
    "member_app/templates/base.html",
    "member_app/templates/sandbox/login.html",
    "member_app/static/app.css",
)

# Runs in the child interpreter: argv[1] is the install folder.
SMOKE_SCRIPT = textwrap.dedent(
    """
    import re
    import sys
    from pathlib import Path

    import httpx2
    from starlette.testclient import TestClient

    import member_app
    from member_app import paths
    from member_app.app import create_app
    from member_app.sandbox import create_sandbox
    from member_app.settings import Settings

    site = Path(sys.argv[1]).resolve()

    def under_site(path):
        return Path(path).resolve().is_relative_to(site)

    assert under_site(member_app.__file__), member_app.__file__
    assert under_site(paths.TEMPLATES_DIR), paths.TEMPLATES_DIR
    assert under_site(paths.STATIC_DIR), paths.STATIC_DIR

    settings = Settings(
        secret_key="packaging-smoke-test-secret-0123456789abcdefghij",
        client_id="member-app-demo",
        business_id=4,
        public_url="http://testserver",
        api_url="http://sandbox.test",
        signin_url="http://sandbox.test",
    )
    sandbox = create_sandbox(redirect_uris=[settings.redirect_uri])
    app = create_app(settings, perkville_transport=httpx2.ASGITransport(app=sandbox))

    with TestClient(app) as client:
        landing = client.get("/")
        assert landing.status_code == 200, landing.status_code
        assert "Sign in with Perkville" in landing.text, landing.text
        match = re.search(
            r'<link rel="stylesheet" href="(/static/app\\.css\\?v=[^"]+)"', landing.text
        )
        assert match, "no fingerprinted app.css link on the landing page"
        css = client.get(match.group(1))
        assert css.status_code == 200, (match.group(1), css.status_code)
        assert css.headers["content-type"].startswith("text/css"), css.headers["content-type"]
        assert css.text.strip(), "app.css is empty"

    with TestClient(sandbox, base_url="http://sandbox.test") as perkville:
        login = perkville.get("/login/")
        assert login.status_code == 200, login.status_code
        assert "Sign in to Perkville" in login.text, login.text

    print("installed member_app OK")
    """
)


def _run(args: list[str], *, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, (
        f"{args!r} failed ({result.returncode})\n"
        f"--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
    )
    return result


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("packaging")


@pytest.fixture(scope="module")
def wheel(workdir: Path) -> Path:
    out = workdir / "dist"
    out.mkdir()
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(out),
            str(REPO_ROOT),
        ],
        cwd=workdir,
        env={**os.environ, **PIP_ENV},
    )
    wheels = list(out.glob("member_app-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


@pytest.fixture(scope="module")
def site(workdir: Path, wheel: Path) -> Path:
    target = workdir / "site"
    _run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--target", str(target), str(wheel)],
        cwd=workdir,
        env={**os.environ, **PIP_ENV},
    )
    return target


def test_wheel_carries_templates_and_static_files(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    missing = [name for name in PACKAGED_FILES if name not in names]
    assert missing == [], f"the wheel lacks {missing}"


def test_installed_package_serves_its_pages_and_stylesheet(workdir: Path, site: Path) -> None:
    elsewhere = workdir / "elsewhere"  # not the repository: no checkout to fall back on
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site)}
    result = _run(
        [sys.executable, "-W", "error", "-c", SMOKE_SCRIPT, str(site)], cwd=elsewhere, env=env
    )
    assert "installed member_app OK" in result.stdout
