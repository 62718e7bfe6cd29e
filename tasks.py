#!/usr/bin/env python3
"""The two commands of the README, each doing its own set-up on a machine with only Python.

    python3 tasks.py demo   # venv + install, then `member-app demo` (extra args pass through)
    python3 tasks.py test   # venv + install + Chromium, then ruff, mypy and the whole pytest suite

Standard library only: it runs before anything is installed.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")
CHROMIUM = Path("/usr/bin/chromium")


def say(message: str) -> None:
    print(f"==> {message}", flush=True)


def run(*args: str | Path, env: dict[str, str] | None = None) -> None:
    subprocess.run([str(a) for a in args], cwd=ROOT, check=True, env=env)


def ensure_venv(extra: str | None) -> None:
    """Create .venv and install the project once per change of pyproject.toml."""
    if sys.version_info < (3, 11):  # noqa: UP036 - may run under an older system python
        sys.exit(f"member-app needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    if not PYTHON.exists():
        say(f"creating {VENV.relative_to(ROOT)}")
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
    spec = f".[{extra}]" if extra else "."
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + spec.encode()).hexdigest()
    stamp = VENV / f".installed-{extra or 'app'}"
    if stamp.exists() and stamp.read_text() == digest:
        return
    say(f"installing {spec} into the venv")
    run(PYTHON, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-e", spec)
    stamp.write_text(digest)


def ensure_chromium() -> None:
    """Browser tests drive Debian's Chromium (no browser download at test time)."""
    if CHROMIUM.exists():
        return
    apt = shutil.which("apt-get")
    if apt is None:
        sys.exit("Browser tests need Chromium at /usr/bin/chromium; install it and run again.")
    prefix: list[str] = []
    if os.geteuid() != 0:
        sudo = shutil.which("sudo")
        if sudo is None:
            sys.exit("Installing Chromium needs root: run `apt-get install chromium` as root.")
        prefix = [sudo]
    say("installing Debian's chromium for the browser tests")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    run(*prefix, apt, "update", "-qq", env=env)
    run(*prefix, apt, "install", "-y", "-qq", "--no-install-recommends", "chromium", env=env)


def demo(args: list[str]) -> None:
    ensure_venv(None)
    os.execv(BIN / "member-app", [str(BIN / "member-app"), "demo", *args])  # noqa: S606


def test(args: list[str]) -> None:
    ensure_venv("test")
    ensure_chromium()
    say("ruff")
    run(BIN / "ruff", "check", "member_app", "tests", "scripts", "tasks.py")
    run(BIN / "ruff", "format", "--check", "member_app", "tests", "scripts", "tasks.py")
    say("mypy --strict")
    run(BIN / "mypy")
    say("pytest (unit, HTTP, end-to-end and browser tests)")
    result = subprocess.run([str(PYTHON), "-m", "pytest", *args], cwd=ROOT, check=False)
    sys.exit(result.returncode)


def main() -> None:
    commands = {"demo": demo, "test": test}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        sys.exit(f"usage: python3 tasks.py {{{'|'.join(commands)}}} [args...]")
    try:
        commands[sys.argv[1]](sys.argv[2:])
    except subprocess.CalledProcessError as exc:
        sys.exit(exc.returncode)


if __name__ == "__main__":
    main()
