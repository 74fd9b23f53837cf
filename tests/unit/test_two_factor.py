"""TOTP steps and recovery codes: which code belongs to which 30-second step, and what is stored."""

from __future__ import annotations

import pyotp

from smmpanel.domain import two_factor as rules

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
NOW = 1_800_000_015.0  # 15 s into step 60,000,000


def test_a_code_matches_its_own_step_and_one_either_side_only() -> None:
    totp = pyotp.TOTP(SECRET)
    step = int(NOW) // 30
    for drift in (-1, 0, 1):
        assert rules.matching_step(SECRET, totp.at(NOW + 30 * drift), NOW) == step + drift
    for drift in (-2, 2):
        assert rules.matching_step(SECRET, totp.at(NOW + 30 * drift), NOW) is None
    assert rules.matching_step(SECRET, " " + totp.at(NOW)[:3] + " " + totp.at(NOW)[3:], NOW) == step
    assert rules.matching_step(SECRET, "12345", NOW) is None and rules.matching_step(SECRET, "abcdef", NOW) is None


def test_recovery_codes_are_random_and_stored_as_digests_of_their_letters() -> None:
    codes = rules.new_recovery_codes()
    assert len(codes) == 10 and len(set(codes)) == 10
    assert all(len(code) == 19 and code.count("-") == 3 for code in codes)
    first = codes[0]
    assert rules.recovery_digest(first) == rules.recovery_digest(first.upper().replace("-", " "))
    assert len(rules.recovery_digest(first)) == 64 and first.replace("-", "") not in rules.recovery_digest(first)
    assert not rules.looks_like_totp(first) and rules.looks_like_totp("123 456")
    assert rules.provisioning_uri(SECRET, "boss").startswith("otpauth://totp/smmpanel:boss?secret=" + SECRET)
