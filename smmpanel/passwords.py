"""Dashboard passwords, hashed with argon2id; plain text never leaves this module's callers.

One argon2 hash takes 64 MiB and tens of milliseconds of CPU: run on the event loop, a few
signups at once would stall every other request of the process (API calls included). So
hashing and checking run in a small pool of their own threads (argon2 releases the GIL),
at most ``HASHING_THREADS`` at once; more wait their turn there, the loop goes on serving.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 8
MAX_LENGTH = 256
HASHING_THREADS = 2

_hasher = PasswordHasher()
_hashing = ThreadPoolExecutor(max_workers=HASHING_THREADS, thread_name_prefix="argon2")


def _matches(password: str, password_hash: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


async def hash_password(password: str) -> str:
    return await asyncio.get_running_loop().run_in_executor(_hashing, _hasher.hash, password)


async def password_matches(password: str, password_hash: str | None) -> bool:
    if not password_hash:
        return False
    return await asyncio.get_running_loop().run_in_executor(_hashing, _matches, password, password_hash)


def password_problem(password: str) -> str | None:
    """Why a new password is not acceptable, or None."""
    if len(password) < MIN_LENGTH:
        return f"Password must be at least {MIN_LENGTH} characters"
    if len(password) > MAX_LENGTH:
        return f"Password must be at most {MAX_LENGTH} characters"
    return None
