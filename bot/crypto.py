"""Free text at rest (notes, relayed text, safety plans, warning signs) is encrypted.

Keys come from configuration (``TONGBAN_ENCRYPTION_KEYS``, comma-separated Fernet keys,
newest first). Old keys still decrypt, so a key can be rotated: put the new key first,
keep the old one after it, run ``tongban db rotate-key``, then drop the old key.
"""

from __future__ import annotations

import logging

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

log = logging.getLogger(__name__)
PREFIX = "f1:"


class Cipher:
    """Encrypts with the first key; decrypts with any. Without keys it stores text as is."""

    def __init__(self, keys: list[str]) -> None:
        self._fernet = MultiFernet([Fernet(key.encode()) for key in keys]) if keys else None

    @property
    def enabled(self) -> bool:
        return self._fernet is not None

    def encrypt(self, text: str) -> str:
        if self._fernet is None:
            return text
        return PREFIX + self._fernet.encrypt(text.encode()).decode()

    def decrypt(self, stored: str) -> str:
        if not stored.startswith(PREFIX):
            return stored  # written before encryption was configured
        if self._fernet is None:
            raise InvalidToken("text is encrypted but no TONGBAN_ENCRYPTION_KEYS are configured")
        return self._fernet.decrypt(stored.removeprefix(PREFIX).encode()).decode()

    def rotate(self, stored: str) -> str:
        """Re-encrypt with the newest key (plain text becomes encrypted)."""
        if self._fernet is None:
            return stored
        if not stored.startswith(PREFIX):
            return self.encrypt(stored)
        return PREFIX + self._fernet.rotate(stored.removeprefix(PREFIX).encode()).decode()


def new_key() -> str:
    return Fernet.generate_key().decode()
