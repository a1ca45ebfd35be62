"""Skips that speak: every skip is traced to an external need, and CI's list is parsed."""

from __future__ import annotations

import pytest

from .conftest import NEEDS, OTHER, classify_skip, expected_skips


@pytest.mark.parametrize(
    ("reason", "need"),
    [
        ("KOSOVO_STUDY_MIRROR is not set: no local mirror of the raw files", "mirror"),
        ("shared/data/qda is absent", "qda"),
        ("headless Chromium is not installed", "chromium"),
        ("jupyter-book (docs dependency group) is not installed", "docs"),
        ("could not import 'xmlschema': No module named 'xmlschema'", "other"),
        ("no release tag in this clone", "other"),
    ],
)
def test_every_skip_reason_is_traced_to_what_it_needs(reason: str, need: str) -> None:
    assert classify_skip(reason).name == need


def test_every_need_says_how_to_provide_it() -> None:
    for need in NEEDS:
        assert len(need.how) > 20, need.name
    assert "defect" in OTHER.how


def test_the_expected_skips_list_is_explicit() -> None:
    assert expected_skips(None) is None  # unset: a local run may skip, and says why
    assert expected_skips("") is None
    assert expected_skips("none") == set()  # CI with the mirror: nothing may skip
    assert expected_skips("mirror, qda") == {"mirror", "qda"}  # a hosted runner
    with pytest.raises(pytest.UsageError, match="unknown need"):
        expected_skips("mirrors")
