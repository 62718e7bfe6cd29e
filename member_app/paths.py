"""Where the templates and static files are, in a checkout and in an installed wheel.

The repository keeps `templates/` and `static/` at its top level; the wheel carries them inside
the package (see `pyproject.toml`, `force-include`). Looking inside the package first means an
installed copy never reaches for a checkout that happens to sit next to it.
"""

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def _find(name: str) -> Path:
    for candidate in (_PACKAGE / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise RuntimeError(f"member_app cannot find its {name}/ folder next to {_PACKAGE}")


TEMPLATES_DIR = _find("templates")
STATIC_DIR = _find("static")
