"""Path traversal on the static files: nothing outside static/ is ever served."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from ..helpers import raw_get

TRAVERSALS = [
    "/static/../member_app/app.py",
    "/static/../../pyproject.toml",
    "/static/%2e%2e/pyproject.toml",
    "/static/%2E%2E/member_app/app.py",
    "/static/..%2f..%2fpyproject.toml",
    "/static/..%2fpyproject.toml",
    "/static/..%5c..%5cpyproject.toml",
    "/static/..%5cpyproject.toml",
    "/static/..\\..\\pyproject.toml",
    "/static/%252e%252e/pyproject.toml",
    "/static/....//pyproject.toml",
    "/static//etc/passwd",
    "/static/%2fetc%2fpasswd",
    "/static/..%00/pyproject.toml",
    "/static/app.css%00.py",
    "/static/../templates/base.html",
]
# What leaking a file of the checkout (or the host) would put in the body.
SECRETS = (b"[project]", b"def create_app", b"root:", b"{% block", b"import ")


@pytest.mark.parametrize("path", TRAVERSALS)
def test_traversal_is_a_404_never_a_file(client: TestClient, path: str) -> None:
    response = raw_get(client, path.encode())
    assert response.status_code == 404, path
    for secret in SECRETS:
        assert secret not in response.body, path


def test_the_static_files_themselves_are_served(client: TestClient) -> None:
    # The attacks above would pass against a mount that serves nothing at all.
    response = raw_get(client, b"/static/app.css")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/css")
    assert response.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize("path", ["/icons/..%2f..%2fpyproject.png", "/icons/%2e%2e.png"])
def test_generated_icons_take_no_paths(client: TestClient, path: str) -> None:
    response = raw_get(client, path.encode())
    assert response.status_code == 404
    assert b"[project]" not in response.body
