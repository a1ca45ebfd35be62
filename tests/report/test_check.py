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


def test_text_defects_are_found(tmp_path: Path) -> None:
    from kosovo_study.report.check import text_defects

    (tmp_path / "a.html").write_text(
        "<main><p>None of these designs is causal.</p><td>nan</td></main>", "utf-8"
    )
    (tmp_path / "b.html").write_text("<main><p>{'unemployment': 1.3}</p></main>", "utf-8")
    (tmp_path / "c.html").write_text("<main><p>value: None</p></main>", "utf-8")
    (tmp_path / "d.html").write_text(
        "<main><p>Nothing wrong; Nancy, financial.</p></main>", "utf-8"
    )
    # a string glued as Markdown and shown with glue:text prints its repr, no address
    (tmp_path / "e.html").write_text(
        "<main><p>with &lt;IPython.core.display.Markdown object&gt; clusters</p></main>", "utf-8"
    )
    problems = text_defects(tmp_path)
    assert [p.split(":")[0] for p in problems] == ["a.html", "b.html", "c.html", "e.html"]


def test_unparsed_restructuredtext_is_found_on_every_page(tmp_path: Path) -> None:
    from kosovo_study.report.check import text_defects

    # autodoc output read as Markdown prints its directives and roles as text
    (tmp_path / "api.html").write_text(
        "<main><p>.. py:module:: kosovo_study.report.figures</p></main>", "utf-8"
    )
    (tmp_path / "b.html").write_text("<main><p>see :func:`x.y`</p></main>", "utf-8")
    (tmp_path / "c.html").write_text(
        "<main><p>Fine... really.</p><pre>.. code:: shown as code</pre></main>", "utf-8"
    )
    problems = text_defects(tmp_path)
    assert [p.split(":")[0] for p in problems] == ["api.html", "b.html"]


def test_malformed_external_urls_are_found(tmp_path: Path) -> None:
    from kosovo_study.report.check import malformed_external_urls

    (tmp_path / "a.html").write_text(
        '<a href="https://ok.org/a_b">ok</a><a href="https://x.org/foreign\\_fighters">b</a>'
        '<a href="https:///nohost">c</a>',
        "utf-8",
    )
    problems = malformed_external_urls(tmp_path)
    assert len(problems) == 2
    assert all(p.startswith("a.html: ") for p in problems)


@pytest.mark.slow
def test_browser_check_finds_overflow_errors_and_accessibility(tmp_path: Path) -> None:
    import shutil

    from kosovo_study.report.build import CHROMIUM_NAMES
    from kosovo_study.report.check import browser_check

    chromium = next((shutil.which(n) for n in CHROMIUM_NAMES if shutil.which(n)), None)
    if chromium is None:
        pytest.skip(
            "headless Chromium is not installed (Debian/Ubuntu: apt-get install chromium); "
            "the browser checks of the book need it"
        )
    site = tmp_path / "site"
    site.mkdir()
    head = '<!doctype html><html lang="en"><head><title>t</title></head><body><main>'
    (site / "good.html").write_text(
        head + '<h1>Fine</h1><div style="overflow-x:auto" tabindex="0" role="region" '
        'aria-label="t"><div style="width:2000px">wide but boxed</div></div></main></body></html>',
        "utf-8",
    )
    (site / "bad.html").write_text(
        head + '<h1>Bad</h1><div style="width:2000px">too wide</div><img src="gone.png">'
        "<script>console.error('boom')</script></main></body></html>",
        "utf-8",
    )
    # fine in light mode, unreadable in dark: the footer defect of issue 21 (1.48:1)
    (site / "dark.html").write_text(
        head.replace(
            "</head>",
            "<style>@media (prefers-color-scheme: dark) {body {background: #121212}"
            " p {color: #333}}</style></head>",
        )
        + "<h1>Footer</h1><p>Version and commit</p></main></body></html>",
        "utf-8",
    )
    artifacts = tmp_path / "shots"
    problems = browser_check(chromium, site, artifacts, widths=(1280, 390))
    assert not [p for p in problems if p.startswith("good.html")]
    dark = [p for p in problems if p.startswith("dark.html")]
    assert dark
    assert all("dark: accessibility (serious) color-contrast" in p for p in dark)
    assert {p.split(" @")[1].split(":")[0] for p in dark} == {"1280px dark", "390px dark"}
    bad = " ".join(p for p in problems if p.startswith("bad.html"))
    assert "console error: boom" in bad
    assert "scrolls sideways" in bad
    assert "image did not load" in bad
    assert "accessibility (critical) image-alt" in bad
    assert sorted(p.name for p in artifacts.iterdir()) == sorted(
        f"{page}-{width}-{scheme}.png"
        for page in ("bad", "dark", "good")
        for width in (1280, 390)
        for scheme in ("light", "dark")
    )
