"""The built-book checker finds missing images, broken links and error output."""

from __future__ import annotations

from pathlib import Path

import pytest

from kosovo_study.report.check import check_site


def test_a_clean_site_passes(tmp_path: Path) -> None:
    (tmp_path / "_images").mkdir()
    (tmp_path / "_images" / "map.png").write_bytes(b"png")
    (tmp_path / "a.html").write_text(
        '<h1 id="top">A</h1><img src="_images/map.png"><a href="b.html#x">b</a>', "utf-8"
    )
    (tmp_path / "b.html").write_text('<p id="x">B</p><a href="a.html#top">a</a>', "utf-8")
    assert check_site(tmp_path) == []


def test_problems_are_named(tmp_path: Path) -> None:
    (tmp_path / "a.html").write_text(
        '<img src="_images/gone.png"><a href="missing.html">m</a><a href="b.html#nope">b</a>'
        "<pre>Traceback (most recent call last):</pre>",
        "utf-8",
    )
    (tmp_path / "b.html").write_text("<p>B</p>", "utf-8")
    problems = check_site(tmp_path)
    assert "a.html: image _images/gone.png is missing" in problems
    assert "a.html: link to missing.html has no page" in problems
    assert "a.html: link to b.html#nope has no anchor 'nope'" in problems
    assert "a.html: shows 'Traceback (most recent call last)'" in problems


def test_browser_reports_an_image_that_does_not_load(tmp_path: Path) -> None:
    import shutil

    from kosovo_study.report.build import CHROMIUM_NAMES
    from kosovo_study.report.check import images_that_fail_to_load

    chromium = next((shutil.which(n) for n in CHROMIUM_NAMES if shutil.which(n)), None)
    if chromium is None:
        pytest.skip("headless Chromium is not installed")
    (tmp_path / "ok.png").write_bytes(
        bytes.fromhex(
            "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
            "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
        )
    )
    (tmp_path / "a.html").write_text('<img src="ok.png"><img src="gone.png">', "utf-8")
    failures = images_that_fail_to_load(chromium, tmp_path)
    assert len(failures) == 1
    assert failures[0].startswith("a.html: ")
    assert failures[0].endswith("/gone.png")
    assert not (tmp_path / "_imagecheck.html").exists()
