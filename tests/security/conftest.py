"""What the adversarial suite shares: a second, unrelated browser."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from ..helpers import APP_URL, SANDBOX_URL, SignIn


@pytest.fixture
def other_browser(app: Starlette, sandbox: Starlette) -> Iterator[SignIn]:
    """A second member's browser (its own cookie jars on the app and at Perkville)."""
    with (
        TestClient(app, base_url=APP_URL, follow_redirects=False) as client,
        TestClient(sandbox, base_url=SANDBOX_URL, follow_redirects=False) as at_perkville,
    ):
        yield SignIn(client, at_perkville)
