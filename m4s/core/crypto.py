"""Encryption at rest for sensitive fields (ID-document numbers), with key rotation.

FIELD_ENCRYPTION_KEYS lists Fernet keys newest first: new values are encrypted with the first,
any of them decrypts (`MultiFernet`). To rotate: put a new key in front, restart, run
`m4s rotate-keys` (re-encrypts every column in ENCRYPTED_FIELDS with the newest key), then drop
the old key. A value no configured key can read raises `WrongKeyError` naming the keys'
fingerprints: it never turns into an empty string."""

import hashlib
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


class WrongKeyError(Exception):
    """A stored value was encrypted with a key that is not in FIELD_ENCRYPTION_KEYS."""


def fingerprint(key: str) -> str:
    """A short, non-secret name of a key (manifests, error messages)."""
    return hashlib.sha256(key.encode()).hexdigest()[:12]


def all_keys() -> list[str]:
    return list(getattr(settings, "FIELD_ENCRYPTION_KEYS", None) or [settings.FIELD_ENCRYPTION_KEY])


@cache
def _multi(key_tuple: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(k.encode()) for k in key_tuple])


def _fernet() -> MultiFernet:
    return _multi(tuple(all_keys()))


def encrypt(text: str) -> str:
    return _fernet().encrypt(text.encode()).decode() if text else ""


def decrypt(token: str) -> str:
    if not token:
        return ""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise WrongKeyError(
            "An encrypted field cannot be read with any key in FIELD_ENCRYPTION_KEYS "
            f"(fingerprints {', '.join(fingerprint(k) for k in all_keys())}): the key it was "
            "written with is missing. Restore that key (see the backup manifest's key "
            "fingerprints) in FIELD_ENCRYPTION_KEYS."
        ) from None


def is_current(token: str) -> bool:
    """Encrypted with the newest key (nothing to rotate)."""
    if not token:
        return True
    try:
        Fernet(all_keys()[0].encode()).decrypt(token.encode())
    except InvalidToken:
        return False
    return True


def rotate(token: str) -> str:
    """The same value encrypted with the newest key (WrongKeyError when no key reads it)."""
    if not token:
        return ""
    try:
        return _fernet().rotate(token.encode()).decode()
    except InvalidToken:
        decrypt(token)  # raises WrongKeyError with the message
        raise
