"""Sanad's throughput benchmark: each issuing stage alone, then the HTTP API end to end.

Run ``python -m bench`` (``--quick`` for a short run, ``--backend embedded`` for SQLite
and the filesystem store); results are printed and recorded in ``bench/RESULTS.md``.
"""
