"""When Perkville struggles: retry what is safe, stop asking while it is down, show
what the cache had, and never a trace, never a second redeem."""

from __future__ import annotations

import random
import re
import time

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from member_app.perkville.resilience import CircuitBreaker, backoff
from member_app.sandbox.conditions import Conditions

from .forms import parse_form
from .helpers import MAYA_CONNECTION, FakeClock, SignIn, balance, redeem_links, visible_text

DOWN = "We can't reach your rewards right now"


def conditions(sandbox: Starlette) -> Conditions:
    found: Conditions = sandbox.state.conditions
    return found


def fail(sandbox: Starlette, path: str, *kinds: str, methods: list[str] | None = None) -> None:
    """Every call to `path` (a prefix) fails with one of `kinds` from now on."""
    changes: dict[str, object] = {"fault_rate": 1.0, "faults": list(kinds), "fault_paths": [path]}
    if methods:
        changes["fault_methods"] = methods
    conditions(sandbox).update(changes)


def heal(sandbox: Starlette) -> None:
    conditions(sandbox).update({"fault_rate": 0.0})


def test_a_passing_failure_is_retried_and_the_member_never_sees_it(
    sign_in: SignIn, client: TestClient, sandbox: Starlette
) -> None:
    sign_in()
    # A seed whose first draw faults and whose second does not (as Conditions draws them).
    seed = next(s for s in range(1000) if _faults_then_passes(random.Random(s)))  # noqa: S311
    conditions(sandbox).update(
        {"fault_rate": 0.5, "faults": ["503"], "fault_paths": ["/v2/user-vouchers/"], "seed": seed}
    )
    page = client.get("/vouchers")
    assert page.status_code == 200
    assert DOWN not in page.text
    assert conditions(sandbox).faults_injected["503"] == 1


def _faults_then_passes(rng: random.Random) -> bool:
    if rng.random() >= 0.5:
        return False
    rng.choice(("503",))
    return rng.random() >= 0.5


@pytest.mark.parametrize("kind", ["500", "502", "503", "429", "drop"])
def test_a_lasting_failure_is_a_friendly_page_after_three_tries(
    kind: str, sign_in: SignIn, client: TestClient, sandbox: Starlette
) -> None:
    sign_in()
    fail(sandbox, "/v2/user-vouchers/", kind)
    page = client.get("/vouchers")
    assert page.status_code in {502, 503}
    assert DOWN in visible_text(page.text)
    assert "Traceback" not in page.text
    assert sum(conditions(sandbox).faults_injected.values()) == 3


def test_while_perkville_is_down_pages_fail_at_once_then_recover(
    sign_in: SignIn, client: TestClient, sandbox: Starlette, app: Starlette
) -> None:
    sign_in()
    for breaker in app.state.member_app.perkville.breakers.values():
        breaker.cooldown = 0.2
    fail(sandbox, "/v2/", "503")
    client.get("/vouchers")  # three tries
    client.get("/history")  # two more: five in a row open the circuit
    asked = conditions(sandbox).requests
    for path in ("/vouchers", "/history", "/rewards"):
        page = client.get(path)
        assert page.status_code == 503
        assert DOWN in visible_text(page.text)
    assert conditions(sandbox).requests == asked  # nobody waited on a dead Perkville
    heal(sandbox)
    time.sleep(0.25)  # the cooldown: one trial call goes through, and closes the circuit
    assert client.get("/vouchers").status_code == 200
    assert client.get("/history").status_code == 200


def test_a_failing_part_of_home_gets_a_retry_block_and_the_rest_shows(
    sign_in: SignIn, client: TestClient, sandbox: Starlette
) -> None:
    sign_in()
    fail(sandbox, "/v2/user-vouchers/", "503")
    page = client.get("/")
    assert page.status_code == 200
    text = visible_text(page.text)
    assert "1,250 points" in text
    assert "We couldn't load your vouchers just now." in text
    assert 'href="/">Try again' in page.text
    heal(sandbox)
    text = visible_text(client.get("/").text)
    assert "couldn't load" not in text
    assert "ready to use" in text


def test_a_members_last_copy_stands_in_and_says_when_it_is_from(
    sign_in: SignIn, client: TestClient, sandbox: Starlette, clock: FakeClock
) -> None:
    sign_in()
    assert "Free smoothie" in client.get("/vouchers").text
    clock.advance(60)  # the copy is no longer fresh: Perkville is asked again, and fails
    fail(sandbox, "/v2/user-vouchers/", "503")
    page = client.get("/vouchers")
    assert page.status_code == 200
    text = visible_text(page.text)
    assert "Free smoothie" in text
    assert "We can't reach your rewards right now, so this shows what we had at 6:00 PM" in text
    heal(sandbox)
    assert "so this shows what we had" not in client.get("/vouchers").text


def test_a_revoked_token_asks_the_member_to_sign_in_and_come_back(
    sign_in: SignIn, client: TestClient, sandbox_client: TestClient
) -> None:
    sign_in()
    revoked = sandbox_client.post("/_sandbox/revoke", json={"email": "member@example.com"})
    assert revoked.status_code == 200
    page = client.get("/history?offset=20")
    assert page.status_code == 303
    assert page.headers["location"].startswith("/signin?next=%2Fhistory")
    assert "1,250" not in client.get("/").text  # the old session is gone


def test_a_redeem_whose_answer_was_lost_is_replayed_and_spends_once(
    sign_in: SignIn, client: TestClient, sandbox: Starlette, sandbox_client: TestClient
) -> None:
    """Perkville carried the redeem out, then the connection dropped before the answer came
    back. The app sends the same trans_source_id again: a duplicate, never a second spend."""
    sign_in()
    link = redeem_links(client.get("/rewards").text)[0]
    form = parse_form(client.get(link).text)
    before = balance(sandbox)
    fail(sandbox, "/v2/transactions/", "lost", methods=["POST"])
    conditions(sandbox).update({"fault_rate": 0.5, "seed": _lost_once_seed()})
    answer = client.post(link, data=form.fields)
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/vouchers/")
    heal(sandbox)
    cost = before - balance(sandbox)
    assert cost > 0
    ledger = sandbox_client.get("/_sandbox/ledger").json()
    assert ledger["all_consistent"] is True
    assert ledger["duplicates"] == 0
    maya = next(u for u in ledger["users"] if u["connection_id"] == MAYA_CONNECTION)
    assert maya["balance"] == before - cost
    assert "Redeemed!" in visible_text(client.get(answer.headers["location"]).text)


def _lost_once_seed() -> int:
    """A seed under which the first redeem POST is lost and the replay goes through."""

    def lost_then_ok(rng: random.Random) -> bool:
        if rng.random() >= 0.5:
            return False
        rng.choice(("lost",))
        return rng.random() >= 0.5

    return next(s for s in range(1000) if lost_then_ok(random.Random(s)))  # noqa: S311


def test_other_actions_are_not_replayed(
    sign_in: SignIn, client: TestClient, sandbox: Starlette
) -> None:
    """A referral sent twice would email the friend twice: one try, then an honest page."""
    sign_in()
    form = parse_form(client.get("/referrals").text)
    fail(sandbox, "/v2/referrals/", "503", methods=["POST"])
    answer = client.post(
        "/referrals", data={**form.fields, "email": "friend@example.org", "first_name": "Sam"}
    )
    assert answer.status_code in {200, 502, 503}
    assert "Traceback" not in answer.text
    assert conditions(sandbox).faults_injected["503"] == 1


# --- the parts ----------------------------------------------------------------------------


def test_backoff_grows_with_jitter_and_respects_retry_after() -> None:
    rng = random.Random(1)  # noqa: S311 - jitter, not secrets
    first = [backoff(1, None, rng) for _ in range(200)]
    second = [backoff(2, None, rng) for _ in range(200)]
    assert all(d is not None and 0 <= d <= 0.1 for d in first)
    assert all(d is not None and 0 <= d <= 0.2 for d in second)
    assert len({round(d or 0, 4) for d in first}) > 100  # spread out, not in lockstep
    assert backoff(3, None, rng) is None  # two retries, then stop
    assert backoff(1, 0.5, rng) == 0.5
    assert backoff(1, 30.0, rng) is None  # "come back in 30 s": not while a member waits


def test_the_breaker_opens_lets_one_trial_through_and_closes() -> None:
    now = [0.0]
    breaker = CircuitBreaker(threshold=3, cooldown=10, clock=lambda: now[0])
    for _ in range(3):
        breaker.before_call()
        breaker.failed()
    assert breaker.state == "open"
    with pytest.raises(Exception, match="not asking again"):
        breaker.before_call()
    now[0] = 10.5
    breaker.before_call()  # the one trial
    with pytest.raises(Exception, match="not asking again"):
        breaker.before_call()  # everyone else still waits for it
    breaker.failed()
    assert breaker.state == "open"
    now[0] = 21.0
    breaker.before_call()
    breaker.succeeded()
    assert breaker.state == "closed"


def test_marking_used_whose_answer_was_lost_still_says_done(
    sign_in: SignIn, client: TestClient, sandbox: Starlette
) -> None:
    """The PATCH went through but its answer was lost; the replay is refused as "not UNUSED",
    which the app recognises as done rather than showing the member an error."""
    sign_in()
    listing = client.get("/vouchers").text
    target = next(
        v
        for v in dict.fromkeys(re.findall(r'href="(/vouchers/\d+)"', listing))
        if "Mark as used" in client.get(v).text
    )
    fields = parse_form(client.get(f"{target}/use").text).fields
    fail(sandbox, "/v2/user-vouchers/", "lost", methods=["PATCH"])
    conditions(sandbox).update({"fault_rate": 0.5, "seed": _lost_once_seed()})
    answer = client.post(f"{target}/use", data=fields)
    heal(sandbox)
    assert answer.status_code == 303
    assert answer.headers["location"] == f"{target}?used=1"
    voucher = sandbox.state.store.vouchers[int(target.rsplit("/", 1)[1])]
    assert voucher.status == "USED"
