"""``sanad trust fetch`` and ``sanad verify --offline``, with the network out of reach."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from fastapi.testclient import TestClient
from typer.testing import CliRunner, Result

from app.cli import app as cli
from app.factory import create_app
from issuer.seal import open_seal, sealed_url
from sanad.cose import sign1
from sanad.digits import encode_digits
from sanad.threaded_server import serve_in_thread
from tests.conftest import REPO, Backend, IssuingDepartment
from tests.verifier.helpers import fetch, issue, qr_text


@pytest.fixture
def server(backend: Backend) -> Iterator[str]:
    if backend.name != "embedded":
        pytest.skip("the command line does not depend on the backend; one run is enough")
    with serve_in_thread(create_app(context=backend.context)) as url:
        yield url


# Runs the CLI with every way of opening a connection replaced by an immediate exit (an
# exception could be caught and retried quietly; this cannot).
NO_NETWORK = """
import os, socket, sys
def refuse(*args, **kwargs):
    sys.stderr.write("network use attempted during offline verification\\n")
    sys.stderr.flush()
    os._exit(97)
socket.socket.connect = refuse
socket.socket.connect_ex = refuse
socket.create_connection = refuse
socket.getaddrinfo = refuse
sys.argv = ["sanad", *sys.argv[1:]]
from app.cli import main
main()
"""


def offline_cli(*args: str) -> subprocess.CompletedProcess[str]:
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("SANAD_")}
    env |= {
        "SANAD_PUBLIC_BASE_URL": f"http://127.0.0.1:{closed}",
        "SANAD_DATABASE_URL": "sqlite:////nonexistent/sanad.db",
        "SANAD_TRUST_CACHE": "/nonexistent/trust",
    }
    return subprocess.run(
        [sys.executable, "-c", NO_NETWORK, *args], capture_output=True, text=True, env=env, cwd=REPO, timeout=120
    )


def test_sanad_verify_offline_needs_no_network(
    server: str, client: TestClient, backend: Backend, dept: IssuingDepartment, tmp_path: Path
) -> None:
    record, pdf = issue(client, dept)
    revoked, revoked_pdf = issue(client, dept)
    client.post(f"/api/v1/documents/{revoked['id']}/revoke", json={"reason": "forged"}, headers=dept.headers)
    (tmp_path / "certificate.pdf").write_bytes(pdf)
    trust_dir = tmp_path / "trust"
    backend.context.trust_publisher.invalidate()

    fetched = CliRunner().invoke(cli, ["trust", "fetch", "--from", server, "--dir", str(trust_dir)])
    assert fetched.exit_code == 0, fetched.output
    assert (trust_dir / "status-list.jwt").exists()

    qr = offline_cli(
        "verify", "--offline", "--trust-dir", str(trust_dir), sealed_url(record["verify_url"], qr_text(pdf))
    )
    assert qr.returncode == 0, qr.stdout + qr.stderr
    assert qr.stdout.startswith("TOTAL_PASSED\n")
    assert f"document: {record['id']}" in qr.stdout
    assert "status list: current until " in qr.stdout

    from_pdf = offline_cli("verify", "--offline", "--trust-dir", str(trust_dir), str(tmp_path / "certificate.pdf"))
    assert from_pdf.returncode == 0, from_pdf.stdout + from_pdf.stderr
    assert from_pdf.stdout.startswith("TOTAL_PASSED\n")

    bad = offline_cli("verify", "--offline", "--trust-dir", str(trust_dir), qr_text(revoked_pdf))
    assert bad.returncode == 1
    assert bad.stdout.startswith("TOTAL_FAILED\n")
    assert "reason: REVOKED" in bad.stdout

    missing = offline_cli("verify", "--offline", qr_text(pdf))  # the default cache is empty
    assert missing.returncode == 2
    assert "sanad trust fetch" in missing.stderr

    # The guard does catch network use: fetching is refused even with the server up.
    guarded = offline_cli("trust", "fetch", "--from", server, "--dir", str(tmp_path / "again"))
    assert guarded.returncode == 97, guarded.stdout + guarded.stderr


def test_sanad_verify_offline_reports_a_stale_list(
    client: TestClient, backend: Backend, dept: IssuingDepartment, tmp_path: Path
) -> None:
    if backend.name != "embedded":
        pytest.skip("the command line does not depend on the backend; one run is enough")
    _, pdf = issue(client, dept)
    bundle = fetch(client, backend)
    bundle.save(tmp_path / "trust")
    with time_machine.travel(datetime.now(UTC) + timedelta(hours=25)):
        result = CliRunner().invoke(cli, ["verify", "--offline", "--trust-dir", str(tmp_path / "trust"), qr_text(pdf)])

    assert result.exit_code == 1
    assert result.output.startswith("INDETERMINATE\n")
    assert "reason: STATUS_LIST_STALE" in result.output
    assert "status list: STALE since " in result.output


def test_sanad_verify_offline_names_a_wrong_key_and_a_cut_seal(
    client: TestClient, backend: Backend, dept: IssuingDepartment, tmp_path: Path
) -> None:
    if backend.name != "embedded":
        pytest.skip("the command line does not depend on the backend; one run is enough")
    record, pdf = issue(client, dept)
    fetch(client, backend).save(tmp_path / "trust")
    url = sealed_url(record["verify_url"], qr_text(pdf))
    signer = backend.context.kit.signers.get(dept.department.code)
    payload = open_seal(qr_text(pdf)).payload
    unknown_key = sealed_url(record["verify_url"], encode_digits(sign1(bytes(8), payload, signer.sign_raw)))

    def verify(text: str) -> Result:
        return CliRunner().invoke(cli, ["verify", "--offline", "--trust-dir", str(tmp_path / "trust"), text])

    cut = verify(url[:-20])
    assert cut.exit_code == 1
    assert cut.output.startswith("TOTAL_FAILED\n")
    assert "reason: SEAL_MALFORMED: seal: " in cut.output
    assert "damaged or incomplete" in cut.output

    wrong_key = verify(unknown_key)
    assert wrong_key.exit_code == 1
    assert wrong_key.output.startswith("INDETERMINATE\n")
    assert "reason: SEAL_UNKNOWN_KEY: seal: key 0000000000000000 is not in the trust list" in wrong_key.output

    assert verify(url).output.startswith("TOTAL_PASSED\n")
