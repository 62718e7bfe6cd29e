"""Configuration: read once from the environment, with every problem named at once."""

from __future__ import annotations

import re

import pytest

from member_app import Settings, SettingsError
from member_app.cli import main

from .helpers import GOOD_ENV


def test_a_complete_environment_gives_settings_with_sensible_defaults() -> None:
    settings = Settings.from_env(GOOD_ENV)
    assert settings.business_id == 889
    assert settings.redirect_uri == "https://rewards.example.com/auth/callback"
    assert settings.api_url == "https://api.perkville.com"
    assert settings.signin_url == "https://www.perkville.com"
    assert settings.client_secret is None
    assert settings.cookies_secure is True
    assert settings.session_cookie == "__Host-member"
    assert "USER_REDEEM" in settings.scopes


def test_every_problem_is_named_at_once() -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({"PERKVILLE_BUSINESS_ID": "four", "PERKVILLE_TIMEOUT_SECONDS": "soon"})
    message = str(caught.value)
    assert "MEMBER_APP_SECRET_KEY is required" in message
    assert "PERKVILLE_CLIENT_ID is required" in message
    assert "PERKVILLE_BUSINESS_ID must be a whole number, got 'four'" in message
    assert "PERKVILLE_TIMEOUT_SECONDS must be a number" in message


@pytest.mark.parametrize(
    ("name", "value", "complaint"),
    [
        ("MEMBER_APP_SECRET_KEY", "short", "at least 32 characters"),
        ("PERKVILLE_API_URL", "api.perkville.com", "absolute http(s) URL"),
        ("PERKVILLE_SIGNIN_URL", "https://www.perkville.com/?x=1", "must not carry a query"),
        ("MEMBER_APP_SESSION_IDLE_SECONDS", "9999999999", "must not exceed"),
        ("MEMBER_APP_SECURE_COOKIES", "maybe", "true or false"),
        ("PERKVILLE_BUSINESS_ID", "-3", "positive whole number"),
        ("MEMBER_APP_LOG_LEVEL", "LOUD", "MEMBER_APP_LOG_LEVEL"),
    ],
)
def test_wrong_values_are_refused_with_a_reason(name: str, value: str, complaint: str) -> None:
    with pytest.raises(SettingsError, match=re.escape(complaint)):
        Settings.from_env({**GOOD_ENV, name: value})


def test_plain_http_demo_uses_a_non_secure_cookie_name() -> None:
    settings = Settings.from_env({**GOOD_ENV, "MEMBER_APP_PUBLIC_URL": "http://127.0.0.1:8000"})
    assert settings.cookies_secure is False
    assert settings.session_cookie == "member_session"


def test_serve_without_configuration_exits_with_the_list(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in GOOD_ENV:
        monkeypatch.delenv(name, raising=False)
    assert main(["serve"]) == 2
    err = capsys.readouterr().err
    assert "MEMBER_APP_SECRET_KEY is required" in err
    assert "README.md" in err
