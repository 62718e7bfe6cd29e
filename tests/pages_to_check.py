"""Every page the member app renders, for the accessibility and HTML-validity checks."""

from __future__ import annotations

# Signed out: the landing page and an error page (the sandbox's pages are not ours).
SIGNED_OUT_PAGES = ["/", "/no-such-page", "/offline"]

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
    "/history?offset=400",  # past the oldest line
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

# Signed in as the member whose membership is still pending.
PENDING_PAGES = ["/join"]
