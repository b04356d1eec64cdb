"""How a signature runs: its blocking calls (the timestamp request) go to one shared pool
of threads (a forked process gets its own) rather than a thread started and joined for each
signature, and a seal's signature with a key in memory needs no event loop at all."""

from __future__ import annotations

import asyncio
import os
import signal
import threading
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from issuer import sign
from issuer.sign import DepartmentSigner
from tests.conftest import PKI_EPOCH
from trust.departments import ensure_department_key

DEPARTMENT = "RUN"


def _thread_name() -> str:
    return threading.current_thread().name


def test_blocking_calls_run_on_the_shared_pool_which_outlives_each_signature() -> None:
    names = {sign._run(asyncio.to_thread(_thread_name)) for _ in range(5)}

    assert all(name.startswith("sanad-sign") for name in names), names
    # Closing each signature's event loop left the shared pool working.
    assert sign._BLOCKING_CALLS.submit(_thread_name).result(timeout=10).startswith("sanad-sign")


def test_a_seal_signature_with_a_key_in_memory_needs_no_event_loop(
    keys_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ensure_department_key(keys_dir, DEPARTMENT, "Department of Runs", now=PKI_EPOCH)
    signer = DepartmentSigner.load(keys_dir, DEPARTMENT)

    def no_loop(coroutine: object) -> object:
        raise AssertionError("an event loop was started")

    monkeypatch.setattr(sign, "_run", no_loop)
    signature = signer.sign_raw(b"claims")

    public_key = signer.certificate.public_key()
    assert isinstance(public_key, ec.EllipticCurvePublicKey)
    public_key.verify(signature, b"claims", ec.ECDSA(hashes.SHA256()))  # raises if it does not verify


def test_a_forked_child_signs_with_a_pool_of_its_own() -> None:
    sign._run(asyncio.to_thread(_thread_name))  # the parent's pool has an idle thread now
    child = os.fork()
    if child == 0:  # the child: exit 0 if its blocking call ran, 1 (after 10 s) if not
        signal.alarm(10)
        try:
            ran = sign._run(asyncio.to_thread(_thread_name)).startswith("sanad-sign")
        finally:
            os._exit(0 if ran else 1)
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0
