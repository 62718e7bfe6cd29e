"""Encryption for what the session cookie must carry but nobody may read.

Starlette's session cookie is signed (itsdangerous), not encrypted: anyone holding it can read
it. The Perkville token and anything else private therefore go in sealed with Fernet (AES +
HMAC, from `cryptography`), so a copied or logged cookie reveals none of it.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


def derive_key(secret: str, purpose: str) -> bytes:
    """One configured secret, separate keys per purpose (signing, encryption)."""
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose.encode())
    return hkdf.derive(secret.encode())


class Sealer:
    """Seals values for the cookie and opens them again."""

    def __init__(self, secret: str) -> None:
        self._fernet = Fernet(base64.urlsafe_b64encode(derive_key(secret, "member-app token")))

    def __repr__(self) -> str:
        return "Sealer()"

    def seal(self, value: str) -> str:
        return self._fernet.encrypt(value.encode()).decode("ascii")

    def open(self, sealed: object) -> str | None:
        """The sealed text, or None when it was not sealed with this key or was tampered."""
        if not isinstance(sealed, str):
            return None
        try:
            return self._fernet.decrypt(sealed.encode("ascii")).decode()
        except (InvalidToken, UnicodeError):
            return None

    def seal_json(self, value: Any) -> str:
        return self.seal(json.dumps(value, separators=(",", ":")))

    def open_json(self, sealed: object) -> Any:
        """The sealed JSON value, or None."""
        text = self.open(sealed)
        if text is None:
            return None
        try:
            return json.loads(text)
        except ValueError:
            return None
