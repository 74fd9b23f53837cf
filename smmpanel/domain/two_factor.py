"""Two-factor login rules: TOTP codes (RFC 6238, 30-second steps, 6 digits) and recovery codes.

Pure: the caller passes the time and stores what these functions return.
A code is accepted for the step it belongs to, one step either side of now (clock drift);
the caller refuses any step not later than the last one accepted, so a code works once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

import pyotp

STEP_SECONDS = 30
DRIFT_STEPS = 1
RECOVERY_CODES = 10
ISSUER = "smmpanel"


def new_secret() -> str:
    """A 160-bit base32 secret, as authenticator apps expect it."""
    return pyotp.random_base32(32)


def provisioning_uri(secret: str, username: str) -> str:
    """The ``otpauth://`` address a QR code carries to an authenticator app."""
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=ISSUER)


def code_at(secret: str, unix_time: float) -> str:
    return pyotp.TOTP(secret).at(unix_time)


def matching_step(secret: str, code: str, unix_time: float) -> int | None:
    """The step ``code`` belongs to (now or one step either side), or None if it matches none."""
    code = code.strip().replace(" ", "")
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    for drift in range(-DRIFT_STEPS, DRIFT_STEPS + 1):
        moment = unix_time + drift * STEP_SECONDS
        if hmac.compare_digest(totp.at(moment), code):
            return totp.timecode(moment)
    return None


def new_recovery_codes() -> list[str]:
    """Ten codes of 80 random bits each, written ``xxxx-xxxx-xxxx-xxxx`` in lower-case base32."""
    codes = []
    for _ in range(RECOVERY_CODES):
        text = base64.b32encode(secrets.token_bytes(10)).decode().lower()
        codes.append("-".join(text[i : i + 4] for i in range(0, 16, 4)))
    return codes


def recovery_digest(code: str) -> str:
    """What is stored of a recovery code: SHA-256 suffices for 80 random bits (no guessable input)."""
    normal = code.strip().lower().replace("-", "").replace(" ", "")
    return hashlib.sha256(normal.encode()).hexdigest()


def looks_like_totp(code: str) -> bool:
    text = code.strip().replace(" ", "")
    return len(text) == 6 and text.isdigit()
