"""Links as a real panel holds them, computed from the order's position: no list of ten million strings.

A panel's links share their scheme and host (``https://www.instagram.com/``, ``tiktok.com/@``,
``youtube.com/watch?v=``), so the trigrams of the host are in almost every order; what tells
them apart is the path: usernames (letters, digits, ``.`` and ``_``, a few of them used by many
orders: a popular profile is bought for again and again), post short codes (base64url), video
ids (digits or base64url) and post numbers. One share is the old benchmark's pathological case,
``https://instagram.com/p/bench<order id>``: a long common prefix and then only digits.

The same index always gives the same link (a splitmix64 hash of it), so a benchmark can name
the fragments it searches for (``Links.fragments``) without reading them back from the database.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import overload

_MASK = (1 << 64) - 1
_BASE64URL = string.ascii_letters + string.digits + "-_"
_BASE62 = string.ascii_letters + string.digits
_WORDS = [
    "anna",
    "luna",
    "max",
    "leo",
    "mia",
    "noah",
    "emma",
    "ali",
    "sara",
    "omar",
    "nora",
    "ivan",
    "olga",
    "mert",
    "elif",
    "kaan",
    "deniz",
    "yusuf",
    "ayse",
    "daily",
    "best",
    "real",
    "the",
    "top",
    "official",
    "shop",
    "store",
    "music",
    "beauty",
    "fit",
    "travel",
    "food",
    "style",
    "art",
    "photo",
    "news",
    "kitchen",
    "studio",
    "club",
    "crypto",
    "game",
    "tech",
    "life",
    "home",
    "moda",
    "vlog",
    "fan",
    "tv",
    "media",
    "world",
    "queen",
    "king",
    "baby",
]
ACCOUNTS = 300_000
"""Distinct usernames; the account of a link is drawn so that account a is picked about 1/a as often."""
PATHOLOGICAL = "https://instagram.com/p/bench"


def mix(value: int) -> int:
    """splitmix64: 64 well-mixed bits of ``value``."""
    z = (value + 0x9E3779B97F4A7C15) & _MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
    return z ^ (z >> 31)


def _code(seed: int, length: int, alphabet: str) -> str:
    chars, bits = [], mix(seed)
    for i in range(length):
        if i and i % 10 == 0:
            bits = mix(bits)
        bits, pick = divmod(bits, len(alphabet))
        chars.append(alphabet[pick])
    return "".join(chars)


def _digits(seed: int, length: int) -> str:
    return str(mix(seed) % 10**length).zfill(length)


def username(account: int) -> str:
    """The username of an account (``0 ≤ account < ACCOUNTS``): words, digits, ``.`` or ``_``."""
    bits = mix(account * 7 + 3)
    first, second = _WORDS[bits % len(_WORDS)], _WORDS[(bits >> 8) % len(_WORDS)]
    glue = ("", ".", "_", "")[(bits >> 16) % 4]
    return f"{first}{glue}{second}{account}" if (bits >> 20) % 3 else f"{first}{account}{glue}{second}"


def account_of(value: int) -> int:
    """An account index, account a drawn about 1/a as often (a log-uniform pick over 30 … ACCOUNTS)."""
    fraction = (value % 1_000_003) / 1_000_003
    return int(30 * (ACCOUNTS / 30) ** fraction) - 1


@dataclass(frozen=True)
class Parts:
    """What one link is made of: its host part, the account, and the id of the post or video."""

    link: str
    account: int | None
    code: str | None


def parts(order_id: int) -> Parts:
    """The link of order ``order_id`` and its pieces."""
    bits = mix(order_id)
    kind, user = bits % 100, account_of(bits >> 7)
    name = username(user)
    if kind < 25:
        code = _code(order_id, 11, _BASE64URL)
        return Parts(f"https://www.instagram.com/p/{code}/", None, code)
    if kind < 35:
        host = ("https://www.instagram.com/", "https://instagram.com/", "instagram.com/")[(bits >> 40) % 3]
        return Parts(f"{host}{name}", user, None)
    if kind < 50:
        code = "7" + _digits(order_id, 18)
        return Parts(f"https://www.tiktok.com/@{name}/video/{code}", user, code)
    if kind < 55:
        return Parts(f"https://www.tiktok.com/@{name}", user, None)
    if kind < 67:
        code = _code(order_id, 11, _BASE64URL)
        host = "https://youtu.be/" if kind < 59 else "https://www.youtube.com/watch?v="
        return Parts(f"{host}{code}", None, code)
    if kind < 75:
        code = str(1 + mix(order_id) % 50_000)
        return Parts(f"https://t.me/{name}/{code}", user, code)
    if kind < 81:
        code = "18" + _digits(order_id, 17)
        return Parts(f"https://x.com/{name}/status/{code}", user, code)
    if kind < 85:
        return Parts(f"https://www.facebook.com/{name}", user, None)
    if kind < 90:
        code = _code(order_id, 22, _BASE62)
        return Parts(f"https://open.spotify.com/track/{code}", None, code)
    return Parts(f"{PATHOLOGICAL}{order_id}", None, str(order_id))


class Links(Sequence[str]):
    """The links of orders ``first_id``, ``first_id + 1``, …: ``OrderSpec.links`` for the loader."""

    def __init__(self, first_id: int, count: int) -> None:
        self.first_id, self.count = first_id, count

    def __len__(self) -> int:
        return self.count

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[str]: ...

    def __getitem__(self, index: int | slice) -> str | Sequence[str]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self.count))]
        if not 0 <= index < self.count:
            raise IndexError(index)
        return parts(self.first_id + index).link


def first_with(start: int, wanted: Callable[[Parts], bool]) -> int:
    """The first order id from ``start`` on whose link is ``wanted``."""
    order_id = start
    while not wanted(parts(order_id)):
        order_id += 1
    return order_id
