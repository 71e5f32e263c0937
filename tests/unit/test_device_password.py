"""HJ 212 device passwords: stored sealed, compared in constant time, never matching when unset."""

from __future__ import annotations

from domain.projects.rules import device_password_matches, seal_device_password


def test_a_sealed_password_matches_only_itself() -> None:
    sealed = seal_device_password("s3cret-77", salt="a1b2c3")
    assert "s3cret-77" not in sealed and sealed.startswith("a1b2c3$")
    assert device_password_matches(sealed, "s3cret-77")
    assert not device_password_matches(sealed, "123456")
    assert not device_password_matches(sealed, "s3cret-7")


def test_the_same_password_seals_differently_per_salt_and_unset_never_matches() -> None:
    assert seal_device_password("123456", salt="aa") != seal_device_password("123456", salt="bb")
    assert not device_password_matches("", "")
    assert not device_password_matches("$", "")
