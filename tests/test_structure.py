"""The house stays in order: rooms by concern, no import circles, no huge modules, and the
README's map of the tree matches the tree."""

from __future__ import annotations

import ast
from pathlib import Path

import member_app

PACKAGE = Path(member_app.__file__).resolve().parent
README = PACKAGE.parent / "README.md"
MAX_LINES = 500
MAX_TOP_LEVEL_MODULES = 15


def _modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


MODULES = _modules()


def _imports(name: str, path: Path) -> set[str]:
    """Every member_app module `name` imports, at the top or inside a function alike."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            # `from . import x` imports the module x when there is one, else a name of base.
            for alias in node.names:
                module = f"{base}.{alias.name}"
                found.add(module if module in MODULES else base)
    return {m for m in found if m in MODULES and m != name}


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def _cycle() -> list[str] | None:
    done: set[str] = set()

    def visit(node: str, trail: list[str]) -> list[str] | None:
        if node in trail:
            return [*trail[trail.index(node) :], node]
        if node in done:
            return None
        for nxt in sorted(GRAPH[node]):
            # A package's __init__ importing its own modules is how packages export names.
            if (
                node != "member_app"
                and nxt.startswith(node + ".")
                and MODULES[node].name == "__init__.py"
            ):
                continue
            found = visit(nxt, [*trail, node])
            if found:
                return found
        done.add(node)
        return None

    for start in sorted(GRAPH):
        found = visit(start, [])
        if found:
            return found
    return None


def test_no_module_imports_itself_back_through_others() -> None:
    assert _cycle() is None


def test_no_imports_hide_inside_functions() -> None:
    hidden = []
    for name, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                inner = [n for n in ast.walk(node) if isinstance(n, ast.Import | ast.ImportFrom)]
                hidden += [f"{name}:{n.lineno}" for n in inner]
    assert hidden == []


def test_no_module_is_over_500_lines() -> None:
    long = {
        name: count
        for name, path in MODULES.items()
        if (count := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert long == {}


def test_few_modules_sit_directly_in_the_package() -> None:
    top = [p for p in PACKAGE.glob("*.py") if p.name != "__init__.py"]
    assert len(top) <= MAX_TOP_LEVEL_MODULES, sorted(p.name for p in top)


def test_the_sandbox_imports_nothing_of_the_app_but_paths_and_languages() -> None:
    reaches = {
        f"{name} → {target}"
        for name, targets in GRAPH.items()
        if name.startswith("member_app.sandbox")
        for target in targets
        if not target.startswith("member_app.sandbox")
        and target not in {"member_app.paths", "member_app.i18n"}
    }
    assert reaches == set()


def test_the_web_layer_never_reaches_up_into_pages_or_sign_in() -> None:
    upward = {
        f"{name} → {target}"
        for name, targets in GRAPH.items()
        if name.startswith(("member_app.web", "member_app.perkville", "member_app.state"))
        for target in targets
        if target.startswith(("member_app.pages", "member_app.signin"))
    }
    assert upward == set()


def test_the_readme_map_names_every_room_and_top_level_module() -> None:
    text = README.read_text()
    start = text.index("## How it fits together")
    section = text[start : text.index("\n## ", start + 1)]
    rooms = [p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()]
    modules = [p.name for p in PACKAGE.glob("*.py") if p.name != "__init__.py"]
    missing = [name for name in [*(f"{r}/" for r in rooms), *modules] if name not in section]
    assert missing == []
    for room in ("pages", "web", "signin", "perkville"):
        names = [p.stem for p in (PACKAGE / room).glob("*.py") if p.name != "__init__.py"]
        assert [n for n in names if n not in section] == [], room
