"""The open-loop bench's own parsing and formatting: vegeta's JSON report, its targets, the
rates given on the command line and the table recorded in RESULTS.md."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from bench import reads, reads_open
from bench.vegeta import Attack, Report, parse_report, target_line

# `vegeta report -type=json` of an attack on a server that answered some requests 503 and
# let one time out (latencies in nanoseconds).
REPORT = json.dumps(
    {
        "latencies": {
            "total": 9_000_000_000,
            "mean": 4_500_000,
            "50th": 3_200_000,
            "90th": 7_100_000,
            "95th": 9_000_000,
            "99th": 18_750_000,
            "max": 10_000_000_000,
            "min": 900_000,
        },
        "bytes_in": {"total": 1_000, "mean": 0.5},
        "bytes_out": {"total": 0, "mean": 0},
        "duration": 9_999_000_000,
        "wait": 3_000_000,
        "requests": 2_000,
        "rate": 200.01,
        "throughput": 198.5,
        "success": 0.9965,
        "status_codes": {"0": 1, "200": 1_993, "503": 6},
        "errors": ["503 Service Unavailable", 'Get "http://127.0.0.1:1/x": context deadline exceeded'],
    }
)


def test_report_latencies_are_read_in_milliseconds() -> None:
    report = parse_report(REPORT)
    assert report.latency_ms == {"p50": 3.2, "p90": 7.1, "p95": 9.0, "p99": 18.75, "max": 10_000.0, "mean": 4.5}
    assert (report.requests, report.offered_rate, report.throughput, report.success) == (2_000, 200.01, 198.5, 0.9965)
    assert report.status_codes == {"0": 1, "200": 1_993, "503": 6}
    assert report.errors[0] == "503 Service Unavailable"


def test_a_report_with_no_answers_has_empty_tables() -> None:
    # vegeta writes null for the maps and the error list of an attack that got nothing back.
    empty = json.dumps(
        {"latencies": {}, "requests": 0, "rate": 0, "throughput": 0, "success": 0, "status_codes": None, "errors": None}
    )
    report = parse_report(empty)
    assert report.latency_ms["p99"] == 0
    assert (report.status_codes, report.errors) == ({}, [])


def test_the_target_carries_every_header_and_the_body() -> None:
    signed_in = {"Authorization": "Bearer token-1", "Accept-Encoding": "br, gzip"}
    get = json.loads(target_line(Attack("http://127.0.0.1:8000/api/v1/locker/documents?limit=50", signed_in, 250, 10)))
    assert get == {
        "method": "GET",
        "url": "http://127.0.0.1:8000/api/v1/locker/documents?limit=50",
        "header": {"Authorization": ["Bearer token-1"], "Accept-Encoding": ["br, gzip"]},
    }
    post = json.loads(target_line(Attack("http://127.0.0.1:8000/api/v1/verify", {}, 10, 1, body=b"%PDF\r\n")))
    assert post["method"] == "POST"
    assert base64.b64decode(post["body"]) == b"%PDF\r\n"


def test_rates_are_read_from_a_comma_separated_list() -> None:
    assert reads_open.parse_rates("250,500, 1_000") == [250, 500, 1_000]
    assert reads_open.parse_rates("") == []
    with pytest.raises(ValueError, match="positive"):
        reads_open.parse_rates("250,0")


def _measured(rate: int, *, sent: float, p99: float, success: float = 1.0) -> reads_open.OpenMeasured:
    paced = reads_open.Paced("locker listing, limit 50", "/api/v1/locker/documents", {}, rate, "p99 ≤ 20 ms", 20.0)
    outcome = Report(
        requests=rate * 10,
        offered_rate=sent,
        throughput=sent * success,
        success=success,
        latency_ms={"p50": 2.0, "p90": 5.0, "p95": 7.0, "p99": p99, "max": 40.0, "mean": 3.0},
        status_codes={"200": rate * 10},
        errors=[],
    )
    health = Report(rate * 10, sent, sent, 1.0, dict.fromkeys(("p50", "p90", "p95", "p99", "max", "mean"), 1.5), {}, [])
    return reads_open.OpenMeasured(paced, outcome, health)


def test_a_goal_is_met_only_at_the_asked_rate_fast_and_without_failures() -> None:
    assert _measured(500, sent=500.0, p99=19.9).verdict() == "met"
    assert _measured(500, sent=500.0, p99=20.1).verdict() == "missed"
    assert _measured(500, sent=400.0, p99=5.0).verdict() == "missed"  # vegeta could not keep the pace
    assert _measured(500, sent=500.0, p99=5.0, success=0.99).verdict() == "missed"
    qr = reads_open.Paced("QR target", "/v/x", {}, 1_000, "≥ 2,000/s, p99 ≤ 25 ms", 25.0, min_rate=2_000)
    fast = _measured(1_000, sent=1_000.0, p99=5.0)
    assert reads_open.OpenMeasured(qr, fast.outcome, fast.health).verdict() == "not judged (below 2,000/s)"


def test_the_table_has_a_row_per_rate_and_names_what_failed() -> None:
    failed = _measured(1_000, sent=1_000.0, p99=350.0, success=0.5)
    failed.outcome.status_codes.update({"503": 5_000})
    failed.outcome.errors.append("503 Service Unavailable")
    lines = reads_open.render([_measured(250, sent=250.2, p99=8.24), failed], seconds=10)
    rows = [line for line in lines if line.startswith("| locker listing")]
    assert rows[0].split(" | ")[2:] == [
        "250", "250", "250", "100.00%", "2.0", "5.0", "**8.2**", "40.0", "1.5", "0.0", "met |"
    ]  # fmt: skip
    assert "**350.0**" in rows[1]
    assert rows[1].endswith("missed |")
    assert "Unsuccessful answers by status: {'503': 5000}; errors: 503 Service Unavailable." in lines
    assert reads_open.render([], seconds=10) == []


def test_kept_results_are_named_after_the_read_and_the_rate() -> None:
    assert reads_open.slug("QR target /v/{id}, JSON") == "qr-target-v-id-json"
    plan = reads_open.Plan(keep=Path("/tmp/run"))
    assert plan.kept("1-qr-target-v-id-json-2000") == Path("/tmp/run/1-qr-target-v-id-json-2000.bin")
    assert reads_open.Plan().kept("anything") is None


def test_only_the_reads_with_a_latency_goal_are_paced_at_each_of_their_rates() -> None:
    signed_in = {"Authorization": "Bearer t"}
    targets = [
        reads.Target(reads.QR_JSON, "/v/abc", "≥ 2,000/s, p99 ≤ 25 ms"),
        reads.Target("trust list JSON", "/api/v1/trust", "—"),
        reads.Target(reads.LISTING, "/api/v1/locker/documents?limit=50", "p99 ≤ 20 ms", signed_in),
    ]
    paced = reads.paced_reads(targets, qr_rates=[2_000], listing_rates=[250, 500])
    assert [(p.name, p.rate, p.p99_goal_ms, p.min_rate) for p in paced] == [
        (reads.QR_JSON, 2_000, 25.0, 2_000),
        (reads.LISTING, 250, 20.0, 0),
        (reads.LISTING, 500, 20.0, 0),
    ]
    assert paced[1].headers == signed_in  # the listing is sent signed in
    assert reads.paced_reads(targets[1:2], qr_rates=[2_000], listing_rates=[250]) == []
