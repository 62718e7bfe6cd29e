"""docs/perkville-compatibility.md keeps step with the Perkville client.

Everything here is read from the code itself (with `ast`), never from a hand-written list:
every path the app calls or sends, every call's method and path, every key the client sends or
reads, and every error code the app knows must appear in the document's tables. Adding a call,
a field or a code without its row fails here.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "member_app"
CLIENT = APP / "perkville"
SANDBOX = APP / "sandbox"
DOC = ROOT / "docs" / "perkville-compatibility.md"

PATH_PREFIXES = ("/v2/", "/api/")
# How the client's methods call Perkville (perkville/upstream.py): the method, and the position
# of the path among the call's arguments (the first is the Caller).
GET_HELPERS = {"_get", "_get_public", "_get_member", "_every"}
SEND_HELPERS = {"_send", "_request"}
# Functions that read a response field by name: `text_field(data, "name")`.
FIELD_READERS = {"text_field", "_text"}
_CODE = re.compile(r"\bpv_[a-z0-9_]*")
_SPAN = re.compile(r"`([^`]+)`")


# --- the document ---------------------------------------------------------------------------


def table_rows(text: str) -> list[str]:
    """The document's table rows (headers and separators left out)."""
    rows = [line for line in text.splitlines() if line.startswith("|")]
    body = []
    for i, row in enumerate(rows):
        if set(row) <= set("|- "):
            continue
        if i + 1 < len(rows) and set(rows[i + 1]) <= set("|- "):
            continue  # a header: the next line is its separator
        body.append(row)
    return body


def code_spans(rows: list[str]) -> list[str]:
    return [span for row in rows for span in _SPAN.findall(row)]


def has_path(rows: list[str], path: str) -> bool:
    """Whether a row names `path` as a whole path (not as the start of a longer one)."""
    pattern = re.compile(r"(?<![\w/{}.:-])" + re.escape(path) + r"(?![\w/{}.-])")
    return any(pattern.search(row) for row in rows)


def has_word(spans: list[str], word: str) -> bool:
    """Whether a code span holds `word` as a whole word (`status`, not `transaction_status`)."""
    pattern = re.compile(r"(?<![\w-])" + re.escape(word) + r"(?![\w-])")
    return any(pattern.search(span) for span in spans)


def has_call(span: str, call: str) -> bool:
    """Whether a code span is exactly the call (`GET /v2/`), or the call then a space."""
    return span == call or span.startswith(call + " ")


def doc_rows() -> list[str]:
    return table_rows(DOC.read_text(encoding="utf-8"))


# --- the code ---------------------------------------------------------------------------------


def modules(root: Path) -> Iterator[tuple[Path, ast.Module]]:
    """Every module under `root` but the sandbox (it imitates Perkville; it is not the app)."""
    for path in sorted(root.rglob("*.py")):
        if SANDBOX not in path.parents:
            yield path, ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def normalised(node: ast.AST) -> str | None:
    """A string literal, or an f-string with each interpolated value written `{id}`."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        parts = []
        for value in node.values:
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                parts.append(value.value)
            else:
                parts.append("{id}")
        return "".join(parts)
    return None


def as_path(text: str | None) -> str | None:
    """The Perkville path a string names: `/v2/…` or `/api/…`, after a leading interpolated base
    URL (`f"{settings.signin_url}/api/token/"` → `/api/token/`)."""
    if text is None:
        return None
    text = text.removeprefix("{id}")
    return text if text.startswith(PATH_PREFIXES) else None


def strings(tree: ast.AST) -> Iterator[str]:
    """Every string literal and f-string of a module (an f-string's parts only as a whole)."""
    inside = {
        id(part)
        for node in ast.walk(tree)
        if isinstance(node, ast.JoinedStr)
        for part in node.values
    }
    for node in ast.walk(tree):
        if id(node) in inside:
            continue
        text = normalised(node)
        if text is not None:
            yield text


def paths_in_code() -> set[str]:
    return {p for _, tree in modules(APP) for s in strings(tree) if (p := as_path(s)) is not None}


def _assignments(function: ast.AST) -> dict[str, ast.AST]:
    """A function's simple local assignments (`path = f"/v2/…"`), by name."""
    found: dict[str, ast.AST] = {}
    for node in ast.walk(function):
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Name):
                found[target.id] = node.value
    return found


def _resolved(node: ast.AST, names: dict[str, ast.AST]) -> str | None:
    if isinstance(node, ast.Name) and node.id in names:
        node = names[node.id]
    return as_path(normalised(node))


def calls_in_code() -> set[str]:
    """Each call the client makes, as `METHOD /path/`: `self._get(caller, "/v2/levels/", …)`,
    `self._send(caller, "POST", "/v2/referrals/", …)`, `self._http.get("/v2/")`."""
    found = set()
    for _, tree in modules(CLIENT):
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            names = _assignments(function)
            for call in ast.walk(function):
                if not isinstance(call, ast.Call) or not isinstance(call.func, ast.Attribute):
                    continue
                attr, args = call.func.attr, call.args
                method, path = None, None
                if attr in GET_HELPERS and len(args) >= 2:
                    method, path = "GET", _resolved(args[1], names)
                elif attr in SEND_HELPERS and len(args) >= 3:
                    verb = normalised(args[1])
                    method, path = verb, _resolved(args[2], names)
                elif (
                    attr == "get"
                    and isinstance(call.func.value, ast.Attribute)
                    and call.func.value.attr == "_http"
                    and args
                ):
                    method, path = "GET", _resolved(args[0], names)
                if method and path:
                    found.add(f"{method} {path}")
    return found


def keys_in_client() -> set[str]:
    """Every key the client sends or reads: dict literal keys (query parameters, bodies,
    headers), `x["key"]`, `x.get("key")` and `text_field(x, "key")`."""
    found: set[str] = set()
    for _, tree in modules(CLIENT):
        for node in ast.walk(tree):
            keys: list[ast.AST] = []
            if isinstance(node, ast.Dict):
                keys = [k for k in node.keys if k is not None]
            elif isinstance(node, ast.Subscript):
                keys = [node.slice]
            elif isinstance(node, ast.Call):
                func = node.func
                if isinstance(func, ast.Attribute) and func.attr == "get" and node.args:
                    keys = [node.args[0]]
                elif isinstance(func, ast.Name) and func.id in FIELD_READERS and len(node.args) > 1:
                    keys = [node.args[1]]
            for key in keys:
                # A path (`"/v2/"`) is checked on its own, with the other paths.
                if (
                    isinstance(key, ast.Constant)
                    and isinstance(key.value, str)
                    and not key.value.startswith("/")
                ):
                    found.add(key.value)
    return found


def codes_in_code() -> set[str]:
    """Every `pv_` error code (or code prefix, ending `_`) written in the app."""
    return {code for _, tree in modules(APP) for s in strings(tree) for code in _CODE.findall(s)}


def refusal_keys_in_pages() -> set[str]:
    """The codes the pages have words for: the keys of each page's `REFUSALS` table."""
    found: set[str] = set()
    for _, tree in modules(APP / "pages"):
        for node in tree.body:
            if (
                isinstance(node, ast.Assign)
                and any(isinstance(t, ast.Name) and t.id == "REFUSALS" for t in node.targets)
                and isinstance(node.value, ast.Dict)
            ):
                found |= {
                    k.value
                    for k in node.value.keys
                    if isinstance(k, ast.Constant) and isinstance(k.value, str)
                }
    return found


# The challenge page's own fallback key, for any code it has no words for: not Perkville's.
CHALLENGE_FALLBACK = "failed"


def challenge_codes_in_pages() -> set[str]:
    """The challenge page strips a prefix from Perkville's codes (`code.removeprefix(
    "pv_challenge_")`) and has words for the rest (`PROBLEMS`, and the keys its filter compares
    with): the codes it knows are the prefix plus each of those keys."""
    path = APP / "pages" / "challenges.py"
    tree = ast.parse(path.read_text(encoding="utf-8"))
    problems: set[str] = set()
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "PROBLEMS" for t in node.targets)
            and isinstance(node.value, ast.Dict)
        ):
            problems |= {
                k.value
                for k in node.value.keys
                if isinstance(k, ast.Constant) and isinstance(k.value, str)
            }
    found: set[str] = set()
    for function in ast.walk(tree):
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        prefixes = [
            prefix
            for call in ast.walk(function)
            if isinstance(call, ast.Call)
            and isinstance(call.func, ast.Attribute)
            and call.func.attr == "removeprefix"
            and call.args
            and (prefix := normalised(call.args[0])) is not None
            and prefix.startswith("pv_")
        ]
        # The keys a comprehension's condition picks (`k for k in keys if k == "ineligible"`).
        compared = {
            c.value
            for comp in ast.walk(function)
            if isinstance(comp, ast.comprehension)
            for condition in comp.ifs
            for cmp in ast.walk(condition)
            if isinstance(cmp, ast.Compare)
            for c in cmp.comparators
            if isinstance(c, ast.Constant) and isinstance(c.value, str)
        }
        for prefix in prefixes:
            found |= {prefix + key for key in (problems | compared) - {CHALLENGE_FALLBACK}}
    return found


# --- the checks -------------------------------------------------------------------------------


def test_the_code_is_read_at_all() -> None:
    """Guards the checks below against passing because the parsing found nothing."""
    paths, calls, keys = paths_in_code(), calls_in_code(), keys_in_client()
    assert {"/v2/transactions/", "/v2/user-vouchers/{id}/", "/api/token/"} <= paths
    assert {"POST /v2/transactions/", "GET /v2/users/{id}/", "GET /v2/"} <= calls
    assert len(calls) >= 20, sorted(calls)
    assert {"trans_source_id", "point_balance", "objects", "error_type"} <= keys
    assert "pv_txn_insufficient_points" in codes_in_code()
    assert "pv_challenge_ineligible" in challenge_codes_in_pages()


def test_every_path_the_app_uses_has_a_row() -> None:
    rows = doc_rows()
    missing = sorted(p for p in paths_in_code() if not has_path(rows, p))
    assert not missing, f"paths with no row in {DOC.name}: {missing}"


def test_every_call_has_a_row_with_its_method() -> None:
    rows = doc_rows()
    spans = code_spans(rows)
    missing = sorted(c for c in calls_in_code() if not any(has_call(s, c) for s in spans))
    assert not missing, f"calls with no `METHOD /path/` row in {DOC.name}: {missing}"


def test_every_key_the_client_sends_or_reads_has_a_row() -> None:
    spans = code_spans(doc_rows())
    missing = sorted(k for k in keys_in_client() if not has_word(spans, k))
    assert not missing, f"query, body or response keys with no row in {DOC.name}: {missing}"


def test_every_error_code_has_a_row() -> None:
    spans = code_spans(doc_rows())
    documented = {code for span in spans for code in _CODE.findall(span)}
    known = codes_in_code() | refusal_keys_in_pages() | challenge_codes_in_pages()
    missing = sorted(
        code
        for code in known
        if not (
            any(d.startswith(code) for d in documented)  # a prefix, such as `pv_challenge_`
            if code.endswith("_")
            else has_word(spans, code)
        )
    )
    assert not missing, f"error codes with no row in {DOC.name}: {missing}"


def test_the_document_ends_with_the_assumptions_that_remain() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert "\n## Assumptions that remain\n" in text
    assert text.index("## Assumptions that remain") > text.index("## Error codes")
