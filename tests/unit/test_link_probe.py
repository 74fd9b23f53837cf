"""What the link search asks its index for (``smmpanel.db.link_search.probe``).

The probe must be a piece of the part (so that every link containing the part contains it too,
and the exact test after it keeps the answer): its rarest-looking piece, an id, or else the part
without the scheme and host that every order of a panel shares, when enough is left for a
trigram index.
"""

from __future__ import annotations

import pytest

from smmpanel.db.link_search import INDEXED_LENGTH, probe

CASES = [
    # the longest id-like piece: six characters or more, a digit among them
    ("https://www.instagram.com/p/CxYz123AbcD/", "CxYz123AbcD"),
    ("https://www.tiktok.com/@life.mert54/video/7687570340473416839", "7687570340473416839"),
    ("https://www.tiktok.com/@life.mert54", "life.mert54"),
    ("https://youtu.be/k_cwk6RehIV", "k_cwk6RehIV"),
    ("/p/bench5000006", "bench5000006"),
    # else without the scheme and host
    ("HTTPS://WWW.TIKTOK.COM/@who/video/7301", "/@who/video/7301"),
    ("https://youtu.be/k_cwkRehIV", "/k_cwkRehIV"),
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
def test_the_probe_is_an_id_or_the_part_after_its_host(part: str, asked: str) -> None:
    assert probe(part) == asked
    assert asked in part
    assert len(asked) >= INDEXED_LENGTH
