"""What the link search asks its index for (``smmpanel.db.link_search.probe``).

The probe must be a piece of the part (so that every link containing the part contains it too,
and the exact test after it keeps the answer) and leave out the scheme and host that every
order of a panel shares, when enough is left for a trigram index.
"""

from __future__ import annotations

import pytest

from smmpanel.db.link_search import INDEXED_LENGTH, probe

CASES = [
    ("https://www.instagram.com/p/CxYz123AbcD/", "/p/CxYz123AbcD/"),
    ("HTTPS://WWW.TIKTOK.COM/@who/video/7301", "/@who/video/7301"),
    ("https://youtu.be/k_cwk6RehIV", "/k_cwk6RehIV"),
    ("www.youtube.com/watch?v=zz9", "/watch?v=zz9"),
    ("tiktok.com/@bob", "/@bob"),
    ("le.example/r?u=https://x.com/a", "/r?u=https://x.com/a"),
    ("https://t.me/", "https://t.me/"),  # nothing left after the host: the part itself
    ("tiktok.com/@", "tiktok.com/@"),
    ("https://t.me", "https://t.me"),
    ("instagram.com", "instagram.com"),
    ("nora_ali31", "nora_ali31"),
    ("ample/r?u=", "ample/r?u="),  # starts inside a host: no host to leave out
    ("bench4999901", "bench4999901"),
    ("a b.com/xyz", "a b.com/xyz"),
]


@pytest.mark.parametrize(("part", "asked"), CASES)
def test_the_probe_leaves_out_a_leading_scheme_and_host(part: str, asked: str) -> None:
    assert probe(part) == asked
    assert asked in part
    assert len(asked) >= INDEXED_LENGTH
