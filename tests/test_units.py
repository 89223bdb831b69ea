"""Sizes and durations, written the way the user's file manager and clock would."""

from __future__ import annotations

import pytest

from mediafind import units


@pytest.mark.parametrize(
    ("n_bytes", "text"),
    [
        (0, "0 bytes"),
        (1, "1 byte"),
        (999, "999 bytes"),
        (1000, "1.0 kB"),
        (1500, "1.5 kB"),
        (2 * 1024 * 1024, "2.1 MB"),
        (605_234_567, "605.2 MB"),
        (999_960, "1.0 MB"),  # not "1,000.0 kB"
        (4_700_000_000, "4.7 GB"),
        (12_345_000_000_000, "12.3 TB"),
        (5_000_000_000_000_000, "5,000.0 TB"),
    ],
)
def test_sizes_count_in_thousands_like_the_file_manager(n_bytes: int, text: str) -> None:
    assert units.size(n_bytes) == text


def test_a_rate_is_a_size_per_second() -> None:
    assert units.rate(2_500_000) == "2.5 MB/s"
    assert units.rate(512.4) == "512 bytes/s"


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0.2, "1 s"),
        (45, "45 s"),
        (59.4, "59 s"),
        (59.7, "1 min"),
        (90, "2 min"),
        (12 * 60 + 10, "12 min"),
        (59 * 60 + 40, "1 h 00 min"),
        (3600 + 5 * 60, "1 h 05 min"),
        (26 * 3600, "26 h 00 min"),
    ],
)
def test_durations_read_as_people_say_them(seconds: float, text: str) -> None:
    assert units.duration(seconds) == text
