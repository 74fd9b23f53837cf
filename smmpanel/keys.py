"""API keys: random, URL-safe, stored only as a hash.

A key is 192 random bits in base64url, safe to paste unencoded into a query
string. The database keeps its SHA-256, so a leaked database leaks no key.
"""

import hashlib
import secrets

KEY_BYTES = 24


def new_api_key() -> str:
    return secrets.token_urlsafe(KEY_BYTES)


def hash_api_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
