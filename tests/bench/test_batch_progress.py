"""The batch bench's rate over a stretch of rows, from its progress polls."""

from __future__ import annotations

from bench.batch import _Progress, tenths_measurable


def _progress(samples: list[tuple[float, int]]) -> _Progress:
    return _Progress("completed", None, None, samples)


def test_the_rate_of_a_stretch_is_taken_from_the_polls_that_bracket_it() -> None:
    # 100 rows a second for 10 s, then 50 a second for 10 s.
    samples = [(float(t), 100 * t) for t in range(11)] + [(10.0 + t, 1000 + 50 * t) for t in range(1, 11)]
    progress = _progress(samples)
    assert progress.rate_between(0, 150) == 100.0
    assert progress.rate_between(1300, 1500) == 50.0


def test_a_stretch_between_two_polls_takes_their_rate_and_one_without_a_poll_before_it_none() -> None:
    assert _progress([(0.0, 0), (0.5, 1000)]).rate_between(0, 100) == 1000 / 0.5  # the rows between the polls
    assert _progress([(0.0, 1000)]).rate_between(0, 100) == 0.0


def test_a_stretch_from_the_first_row_starts_at_the_first_poll() -> None:
    # Nothing done for 2 s (every job on its first chunk), then chunks a second apart.
    samples = [(0.0, 0), (1.0, 0), (2.0, 0), (3.0, 400), (4.0, 800)]
    assert _progress(samples).rate_between(0, 800) == 800 / 4.0
    assert _progress(samples).rate_between(400, 800) == 400 / 1.0


def test_a_tenth_is_measured_only_when_it_is_many_times_the_rows_in_flight() -> None:
    in_flight = 2 * 8 * 50  # two workers of eight jobs, chunks of 50 rows
    assert not tenths_measurable(10_000 // 10, in_flight)
    assert tenths_measurable(150_000 // 10, in_flight)
