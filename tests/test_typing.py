"""The type checker sees every view: a misspelt setting or keyword argument fails it.

Views read the app's state through `state.app_state()`, typed, instead of Starlette's
`request.app.state` (a bag of `Any`). This plants mistakes in a copy of the package and
expects `mypy --strict` to name each one.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import member_app

PACKAGE = Path(member_app.__file__).resolve().parent
PYPROJECT = PACKAGE.parent / "pyproject.toml"

PLANTS = {
    # module: (what is there, the mistake, the word mypy names it by)
    "pages/earn.py": ("state.settings.business_id", "state.settings.busines_id", "busines_id"),
    "pages/vouchers.py": (
        "perkville.voucher(member.caller, voucher_id)",
        "perkville.voucher(member.caller, voucher=voucher_id)",
        '"voucher"',
    ),
    "pages/history.py": ("offset=filters.offset", "ofset=filters.offset", '"ofset"'),
}


def test_a_misspelling_in_a_view_fails_mypy(tmp_path: Path) -> None:
    copy = tmp_path / "member_app"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(PYPROJECT, tmp_path / "pyproject.toml")  # the project's mypy settings
    for module, (right, wrong, _) in PLANTS.items():
        path = copy / module
        text = path.read_text()
        assert right in text, f"{module} no longer has {right!r}: update the plant"
        path.write_text(text.replace(right, wrong, 1))
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(tmp_path / ".mypy")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    errors = [line for line in result.stdout.splitlines() if ": error: " in line]
    for module, (_, _, word) in PLANTS.items():
        assert any(e.startswith(f"member_app/{module}:") and word in e for e in errors), errors
    assert len(errors) == len(PLANTS), errors  # nothing else in the copy fails
