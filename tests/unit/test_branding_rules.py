"""The rules for what an operator may store as the panel's look: by the bytes, never by a claim."""

from __future__ import annotations

import pytest

from smmpanel.domain import branding
from smmpanel.errors import Refused


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"\x89PNG\r\n\x1a\n....", "image/png"),
        (b"\xff\xd8\xff\xe0....", "image/jpeg"),
        (b"RIFF\x10\x00\x00\x00WEBPVP8 ", "image/webp"),
        (b"\x00\x00\x01\x00\x01\x00", "image/x-icon"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", None),
        (b"<?xml version='1.0'?><svg/>", None),
        (b"<!doctype html><script>", None),
        (b"GIF89a....", None),
        (b"RIFF\x10\x00\x00\x00WAVEfmt ", None),
        (b"", None),
    ],
)
def test_an_image_is_known_by_its_first_bytes(head: bytes, expected: str | None) -> None:
    assert branding.image_type(head) == expected


def test_an_image_over_the_limit_or_empty_is_refused() -> None:
    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 100
    assert branding.checked_image(png, "Logo", len(png)) == "image/png"
    with pytest.raises(Refused, match=r"^Logo is too large \(at most 0 KB\)$"):
        branding.checked_image(png, "Logo", len(png) - 1)
    with pytest.raises(Refused, match=r"^Logo: choose a file to upload$"):
        branding.checked_image(b"", "Logo", 10)


@pytest.mark.parametrize("text", ["#12345", "#1234567", "red", "#12345g", "#fff", "#123456;}", " #12345 "])
def test_a_colour_is_six_hex_digits_or_refused(text: str) -> None:
    with pytest.raises(Refused, match=r"^Primary colour: write a colour as #rrggbb"):
        branding.checked_colour(text, "Primary colour")


def test_a_colour_is_kept_in_lower_case() -> None:
    assert branding.checked_colour(" #0F766E ", "Primary colour") == "#0f766e"


@pytest.mark.parametrize("name", ["Mars/Olympus", "../../etc/passwd", "/etc/localtime", "", "europe/berlin"])
def test_an_unknown_time_zone_is_refused(name: str) -> None:
    with pytest.raises(Refused, match=r"^Unknown time zone"):
        branding.checked_time_zone(name)


def test_known_time_zones_pass() -> None:
    assert branding.checked_time_zone(" Europe/Berlin ") == "Europe/Berlin"
    assert branding.checked_time_zone("UTC") == "UTC"


def test_a_name_is_one_line_and_bounded() -> None:
    assert branding.checked_name("  Boost \n Hub ") == "Boost Hub"
    with pytest.raises(Refused):
        branding.checked_name("   ")
    with pytest.raises(Refused):
        branding.checked_name("x" * (branding.NAME_MAX + 1))


def test_paragraphs_split_on_blank_lines() -> None:
    assert branding.paragraphs("One\nline two\n\n  \nThree\n") == ["One\nline two", "Three"]
