"""`member-app admin-token`: the password grant against the sandbox, in-process and over HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from member_app import cli
from member_app.admin_token import (
    DEFAULT_ADMIN_SCOPES,
    AdminToken,
    AdminTokenError,
    request_admin_token,
)
from member_app.serving import ServerThread, bind

from .helpers import SANDBOX_URL
from .sandbox_helpers import (
    ADMIN_CLIENT_ID,
    ADMIN_CLIENT_SECRET,
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    bearer,
)


def _grant(
    http: TestClient, *, password: str = ADMIN_PASSWORD, secret: str = ADMIN_CLIENT_SECRET
) -> AdminToken:
    return request_admin_token(
        http,
        SANDBOX_URL,
        client_id=ADMIN_CLIENT_ID,
        client_secret=secret,
        username=ADMIN_EMAIL,
        password=password,
    )


def test_the_token_works_and_carries_the_identify_scope(sandbox_client: TestClient) -> None:
    token = _grant(sandbox_client)
    assert set(token.scopes) == set(DEFAULT_ADMIN_SCOPES)
    response = sandbox_client.get("/v2/scopes/", headers=bearer(token.access_token))
    assert response.status_code == 200
    granted = {o["scope"] for o in response.json()}  # a bare list (reference, Scope)
    assert "ADMIN_IDENTIFY_USER" in granted


def test_a_wrong_password_is_explained(sandbox_client: TestClient) -> None:
    with pytest.raises(AdminTokenError, match="username or password is wrong"):
        _grant(sandbox_client, password="nope")


def test_a_wrong_client_secret_is_explained(sandbox_client: TestClient) -> None:
    with pytest.raises(AdminTokenError, match="client id or secret is wrong"):
        _grant(sandbox_client, secret="nope")


# --- the command, against a sandbox served on loopback ------------------------------------------


@pytest.fixture
def sandbox_url(sandbox: Starlette) -> Iterator[str]:
    with ServerThread(sandbox, bind("127.0.0.1", 0)) as server:
        yield server.url


@pytest.fixture
def prompts(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """getpass answers the staff password; the prompts it was asked with are recorded."""
    asked: list[str] = []

    def fake_getpass(prompt: str = "Password: ") -> str:
        asked.append(prompt)
        return ADMIN_PASSWORD

    monkeypatch.setattr("getpass.getpass", fake_getpass)
    monkeypatch.setenv("PERKVILLE_ADMIN_CLIENT_ID", ADMIN_CLIENT_ID)
    monkeypatch.setenv("PERKVILLE_ADMIN_CLIENT_SECRET", ADMIN_CLIENT_SECRET)
    return asked


def test_the_command_prompts_for_the_password_and_prints_the_token(
    sandbox: Starlette,
    sandbox_url: str,
    prompts: list[str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("PERKVILLE_SIGNIN_URL", sandbox_url)
    assert cli.main(["admin-token", "--username", ADMIN_EMAIL]) == 0
    out, err = capsys.readouterr()
    token = out.strip()
    stored = sandbox.state.store.tokens[token]
    assert stored.client_id == ADMIN_CLIENT_ID
    assert stored.scopes == frozenset(DEFAULT_ADMIN_SCOPES)
    assert "PERKVILLE_ADMIN_TOKEN" in err
    # Only the password was asked for (the secret came from the environment), never echoed.
    assert prompts == [f"Perkville password for {ADMIN_EMAIL}: "]
    assert ADMIN_PASSWORD not in out + err


def test_the_command_exits_2_on_a_refused_grant(
    sandbox_url: str,
    prompts: list[str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("PERKVILLE_ADMIN_CLIENT_SECRET", "wrong")
    argv = ["admin-token", "--username", ADMIN_EMAIL, "--signin-url", sandbox_url]
    assert cli.main(argv) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert "client id or secret is wrong" in err


def test_the_command_exits_2_when_perkville_cannot_be_reached(
    prompts: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    sock = bind("127.0.0.1", 0)
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now
    monkeypatch.setenv("PERKVILLE_SIGNIN_URL", f"http://127.0.0.1:{port}")
    assert cli.main(["admin-token", "--username", ADMIN_EMAIL]) == 2
    assert "Could not reach" in capsys.readouterr().err
