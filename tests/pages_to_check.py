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
    "/history",
    "/more",
    "/challenges",
    "/challenges/801",
    "/referrals",
    "/rewards/999999/redeem",  # a reward that isn't there
    "/vouchers/999999",  # a voucher that isn't there
    "/challenges/999999",  # a challenge that isn't there
]

# Signed in as the member whose membership is still pending.
PENDING_PAGES = ["/join"]
