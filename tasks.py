#!/usr/bin/env python3
"""The two commands of the README, each doing its own set-up on a machine with only Python.

    python3 tasks.py demo   # venv + install, then `member-app demo` (extra args pass through)
    python3 tasks.py test   # venv + install + Chromium, then ruff, mypy and the whole pytest suite
    python3 tasks.py bench  # venv + install, then bench/speed.py (extra args pass through)
    python3 tasks.py bench-faults  # venv + install, then bench/faults.py (load with faults)
    python3 tasks.py i18n   # extract the messages, update every language's catalog, compile
    python3 tasks.py i18n add pt_BR  # the same, starting a catalog for a new language

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


def apt_install(package: str, what: str, why: str) -> None:
    """Install one Debian package (with sudo when not root), or stop with what to do."""
    apt = shutil.which("apt-get")
    if apt is None:
        sys.exit(f"{why} need {what}; install it and run again.")
    prefix: list[str] = []
    if os.geteuid() != 0:
        sudo = shutil.which("sudo")
        if sudo is None:
            sys.exit(f"Installing {what} needs root: run `apt-get install {package}` as root.")
        prefix = [sudo]
    say(f"installing Debian's {package} for the {why.lower()}")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    run(*prefix, apt, "update", "-qq", env=env)
    run(*prefix, apt, "install", "-y", "-qq", "--no-install-recommends", package, env=env)


def ensure_chromium() -> None:
    """Browser tests drive Debian's Chromium (no browser download at test time)."""
    if not CHROMIUM.exists():
        apt_install("chromium", "Chromium at /usr/bin/chromium", "Browser tests")


def ensure_java() -> None:
    """The HTML validity test runs the Nu HTML checker (vnu.jar), a Java program."""
    if shutil.which("java") is None:
        apt_install("default-jre-headless", "Java (a `java` on PATH)", "HTML validity tests")


def ensure_redis() -> None:
    """The shared-cache and replica tests start their own redis-server (none is left running)."""
    if shutil.which("redis-server") is None:
        apt_install("redis-server", "Redis (`redis-server` on PATH)", "Replica and cache tests")


def demo(args: list[str]) -> None:
    ensure_venv(None)
    os.execv(BIN / "member-app", [str(BIN / "member-app"), "demo", *args])  # noqa: S606


def test(args: list[str]) -> None:
    ensure_venv("test")
    ensure_chromium()
    ensure_java()
    ensure_redis()
    say("ruff")
    run(BIN / "ruff", "check", "member_app", "tests", "scripts", "bench", "tasks.py")
    run(BIN / "ruff", "format", "--check", "member_app", "tests", "scripts", "bench", "tasks.py")
    say("mypy --strict")
    run(BIN / "mypy")
    say("pytest (unit, HTTP, end-to-end and browser tests), two workers")
    # Two workers (pytest-xdist), one test module each at a time, so a module's servers and
    # browser stay in one process: about 8.5 minutes on a 2-core machine instead of 11.
    # Options given on the command line come after, so `-n 0` runs everything in one.
    workers = ["-n", "2", "--dist", "loadfile"]
    result = subprocess.run([str(PYTHON), "-m", "pytest", *workers, *args], cwd=ROOT, check=False)
    sys.exit(result.returncode)


def bench(args: list[str]) -> None:
    """The speed benchmark (bench/README.md): sandbox and app as processes, about 3 minutes."""
    ensure_venv(None)
    speed = ROOT / "bench" / "speed.py"
    os.execv(PYTHON, [str(PYTHON), str(speed), *args])  # noqa: S606


def bench_faults(args: list[str]) -> None:
    """Load with faults (bench/README.md): 100 members while Perkville fails, about 1.5 min."""
    ensure_venv(None)
    faults = ROOT / "bench" / "faults.py"
    os.execv(PYTHON, [str(PYTHON), str(faults), *args])  # noqa: S606


def i18n(args: list[str]) -> None:
    """The translation catalogs (README, "Languages"): every message in the code and the
    templates into member_app/locales/messages.pot, then each language's messages.po brought
    up to date (new messages empty, never guessed), then compiled to the messages.mo the app
    loads. `add <code>` first starts a catalog for a new language."""
    ensure_venv(None)
    pybabel = BIN / "pybabel"
    locales = ROOT / "member_app" / "locales"
    template = locales / "messages.pot"
    say("extracting messages")
    run(
        pybabel,
        "extract",
        "-F",
        "babel.cfg",
        "-o",
        template,
        "--add-location=file",
        "--sort-by-file",
        "--project=member-app",
        "--no-wrap",
        "member_app",
        "templates",
    )
    if args[:1] == ["add"] and len(args) == 2:
        say(f"starting a catalog for {args[1]}")
        run(pybabel, "init", "-i", template, "-d", locales, "-l", args[1], "--no-wrap")
    elif args:
        sys.exit("usage: python3 tasks.py i18n [add <language code>]")
    say("updating catalogs")
    run(
        pybabel,
        "update",
        "-i",
        template,
        "-d",
        locales,
        "--no-fuzzy-matching",
        "--no-wrap",
        "--ignore-obsolete",
        "--update-header-comment",
    )
    say("compiling catalogs")
    run(pybabel, "compile", "-d", locales, "--statistics")


def main() -> None:
    commands = {
        "demo": demo,
        "test": test,
        "bench": bench,
        "bench-faults": bench_faults,
        "i18n": i18n,
    }
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        sys.exit(f"usage: python3 tasks.py {{{'|'.join(commands)}}} [args...]")
    try:
        commands[sys.argv[1]](sys.argv[2:])
    except subprocess.CalledProcessError as exc:
        sys.exit(exc.returncode)


if __name__ == "__main__":
    main()
