"""Progress bars: fractional counts are shown rounded."""

from __future__ import annotations

from sciml.core.progress import progress_bar


def _render(**options) -> str:
    bar = progress_bar(total=240, desc="ns", unit="sample", **options)
    bar.update(100 / 3)
    text = "" if bar.disable else str(bar)
    bar.close()
    return text


def test_fractional_bar_shows_one_decimal():
    text = _render(fractional=True)
    assert "33.3/240" in text
    assert "33.333" not in text


def test_default_bar_is_tqdm_default():
    assert "33.333" in _render()


def test_disabled_bar_prints_nothing():
    assert _render(enabled=False, fractional=True) == ""
