"""Every page the member app renders, for the accessibility and HTML-validity checks."""

from __future__ import annotations

from member_app.sandbox.seed import MEMBER_EMAIL, PENDING_EMAIL

# Signed out: the landing page in its states, the error pages, and the identify flow's "we
# couldn't recognise you" page (the sandbox's pages are not ours). On a kiosk "/" is the
# attract screen.
SIGNED_OUT_PAGES = [
    "/",
    "/?signed_out=1",  # just signed out
    "/?from=kiosk",  # a member's own phone, from the kiosk's QR code
    "/no-such-page",
    "/offline",
    "/auth/identify/callback",  # an identify callback with no code: not recognised
]

# Inside a gym's app "/" first asks Perkville who the member is (a redirect there), so its
# landing page is seen only after signing out.
WEBVIEW_SIGNED_OUT_PAGES = [p for p in SIGNED_OUT_PAGES if p not in {"/", "/?from=kiosk"}]

# Signed in as Maya, the demo member.
MEMBER_PAGES = [
    "/",
    "/earn",
    "/rewards",
    "/rewards/201/redeem",  # a redeem confirmation
    "/vouchers",
    "/vouchers/52007",  # QR code
    "/vouchers/52005",  # barcode
    "/vouchers/52008",  # a reward link
    "/vouchers/52005/use",  # mark-used confirmation
    "/vouchers/52005?redeemed=1",  # the moment after redeeming
    "/vouchers/52002",  # a used voucher: no code
    "/vouchers/52001",  # an expired voucher: no code
    "/history",
    "/history?offset=20",  # a middle page: Newer and Older
    "/history?offset=100",  # a voided line, struck through
    "/history?offset=400",  # past the oldest line
    "/history?from=2026-13-01",  # a date it can't read: the problem above the filters
    "/more",
    "/profile",
    "/help",
    "/challenges",
    "/challenges/801",
    "/referrals",
    "/rewards/999999/redeem",  # a reward that isn't there
    "/vouchers/999999",  # a voucher that isn't there
    "/challenges/999999",  # a challenge that isn't there
]

# Signed in as the member whose membership is still pending: the join page (the join tests
# take this list alone) ...
PENDING_PAGES = ["/join"]
# ... and the pages that read differently for them: home asks them to join, and rewards can't
# be redeemed yet.
PENDING_ELSEWHERE = ["/", "/rewards"]

# Signed in as Alex, who has no connection to the demo gym: home says so and what to do.
OUTSIDER_EMAIL = "alex@example.com"
OUTSIDER_PAGES = ["/", "/rewards"]

# Everyone who signs in, with the pages to check as them: (who, sign-in email, paths).
SIGNED_IN = [
    ("member", MEMBER_EMAIL, MEMBER_PAGES),
    ("pending", PENDING_EMAIL, PENDING_PAGES + PENDING_ELSEWHERE),
    ("outsider", OUTSIDER_EMAIL, OUTSIDER_PAGES),
]
