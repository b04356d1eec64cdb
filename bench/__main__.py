"""``python -m bench``: stages alone, then the real server end to end; records RESULTS.md.

``python -m bench locker [...]`` measures the citizen locker instead (see bench/locker.py);
``python -m bench intake [...]`` applications, approvals and pendency (see bench/intake.py);
``python -m bench reads [...]`` verification, trust, locker reads under wrk (bench/reads.py);
``python -m bench levels [...]`` the cost of each PAdES level per document (bench/levels.py);
``python -m bench long-term [...]`` one issue's latency, long-term revision in line or deferred (bench/long_term.py);
``python -m bench batch [...]`` bulk issuing on the job engine with 1 and 2 workers (bench/batch.py);
``python -m bench batch-overhead [...]`` the batch path's own cost per row, stand-in signing (bench/batch_overhead.py);
``python -m bench render [...]`` one certificate's render, and issuing in process (bench/render.py)."""

from __future__ import annotations

import argparse
import os
import signal
import sys
from types import FrameType

from bench import cpu
from bench.backends import BACKENDS, deploy
from bench.load import EndToEnd, Issuer, run_end_to_end
from bench.machine import describe_machine
from bench.report import RESULTS, Run, now, record, render_run
from bench.server import Server
from bench.stages import Budget, example_request, measure_stages

FULL = Budget(rounds=5, seconds=2.0, min_ops=5, warmup=3)
QUICK = Budget(rounds=3, seconds=0.5, min_ops=3, warmup=2)


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="short rounds and 60 requests a round")
    parser.add_argument("--backend", choices=BACKENDS, default="postgres-minio")
    parser.add_argument("--workers", type=int, default=2, help="server worker processes (default 2)")
    parser.add_argument("--concurrency", type=int, default=8, help="concurrent HTTP clients (default 8)")
    parser.add_argument("--requests", type=int, help="requests per end-to-end round (300, quick: 60)")
    parser.add_argument("--rounds", type=int, default=3, help="end-to-end rounds (default 3)")
    parser.add_argument("--no-record", action="store_true", help=f"print only; leave {RESULTS.name} alone")
    return parser.parse_args(argv)


def _stop_on_sigterm() -> None:
    # Turn SIGTERM into an exception so the server, database and bucket are cleaned up.
    def handler(signum: int, _: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, handler)


def main(argv: list[str] | None = None) -> int:
    if (sys.argv[1:] if argv is None else argv)[:1] == ["locker"]:
        from bench import locker  # its own options and its own section of RESULTS.md

        return locker.main((sys.argv[1:] if argv is None else argv)[1:])
    if (sys.argv[1:] if argv is None else argv)[:1] == ["intake"]:
        from bench import intake  # its own options and its own section of RESULTS.md

        return intake.main((sys.argv[1:] if argv is None else argv)[1:])
    if (sys.argv[1:] if argv is None else argv)[:1] == ["render"]:
        from bench import render  # one certificate's render, and issuing in process

        return render.main((sys.argv[1:] if argv is None else argv)[1:])
    if (sys.argv[1:] if argv is None else argv)[:1] == ["batch"]:
        from bench import batch  # bulk issuing on the job engine, 1 and 2 workers

        return batch.main((sys.argv[1:] if argv is None else argv)[1:])
    if (sys.argv[1:] if argv is None else argv)[:1] == ["batch-overhead"]:
        from bench import batch_overhead  # the batch path's own cost per row, without render and sign

        return batch_overhead.main((sys.argv[1:] if argv is None else argv)[1:])
    if (sys.argv[1:] if argv is None else argv)[:1] == ["reads"]:
        from bench import reads  # the public reads and the locker's under wrk, beside /health

        return reads.main((sys.argv[1:] if argv is None else argv)[1:])
    if (sys.argv[1:] if argv is None else argv)[:1] == ["long-term"]:
        from bench import long_term  # one issue's latency and the rate, long-term revision in line or deferred

        return long_term.main((sys.argv[1:] if argv is None else argv)[1:])
    if (sys.argv[1:] if argv is None else argv)[:1] == ["levels"]:
        from bench import levels  # PAdES B-B / B-T / B-LT / B-LTA per document

        return levels.main((sys.argv[1:] if argv is None else argv)[1:])
    args = _parse(argv)
    _stop_on_sigterm()
    requests = args.requests or (60 if args.quick else 300)
    warmup = 2 * args.concurrency
    started = now()
    load_before = os.getloadavg()
    command = "python -m bench" + "".join(f" {a}" for a in (argv if argv is not None else sys.argv[1:]))
    with deploy(args.backend) as deployment:
        neighbours = cpu.OtherLoad(deployment.service_pids)
        stages = measure_stages(deployment, QUICK if args.quick else FULL)
        stages_load = neighbours.finish()
        print(f"bench: end to end, {args.rounds} × {requests} requests ...", flush=True)
        e2e: EndToEnd
        with Server(deployment, workers=args.workers) as server:
            issuer = Issuer(server.base_url, deployment.api_key, example_request(), args.concurrency)
            neighbours = cpu.OtherLoad({"sanad server": server.pid, **deployment.service_pids})
            e2e = run_end_to_end(
                issuer,
                rounds=args.rounds,
                requests=requests,
                warmup=warmup,
                cpu_roots={"sanad server": server.pid, **deployment.service_pids},
                workers=server.worker_pids(),
            )
            e2e_load = neighbours.finish()
    run = Run(
        mode="quick" if args.quick else "full",
        backend=args.backend,
        command=command,
        machine=describe_machine(),
        stages=stages,
        end_to_end=e2e,
        workers=args.workers,
        concurrency=args.concurrency,
        rounds=args.rounds,
        requests=requests,
        warmup=warmup,
        started=started,
        load=(load_before, os.getloadavg()),
        other_load=(stages_load, e2e_load),
    )
    markdown = render_run(run)
    print(markdown)
    if not args.no_record:
        record(markdown)
        print(f"bench: recorded in {RESULTS}")
    return 1 if e2e.errors else 0


if __name__ == "__main__":
    sys.exit(main())
