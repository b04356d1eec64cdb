"""``sanad audit verify | export | prove | checkpoint`` from the shell."""

from __future__ import annotations

import base64
import json

import pytest

from audit.merkle import leaf_hash, verify_consistency, verify_inclusion
from tests.audit.conftest import FreshLog
from tests.shell import sanad
from trust.local import free_port


def test_verify_says_intact_then_names_the_edited_entry(cli_env: FreshLog) -> None:
    cli_env.append(5)
    assert sanad("audit", "checkpoint")[0] == 0
    code, output = sanad("audit", "verify")
    assert code == 0, output
    assert "intact: 5 entries (the head counts 5), 1 checkpoints" in output

    cli_env.tamper(
        "UPDATE audit_entries SET entry = REPLACE(entry, :was, :now) WHERE leaf_index = 3", was='"n":3', now='"n":4'
    )
    code, output = sanad("audit", "verify")
    assert code == 1
    assert "edited: entry 3 was edited: its text no longer matches its leaf hash" in output
    assert "NOT INTACT" in output


def test_export_is_verifiable_by_a_third_party(cli_env: FreshLog) -> None:
    cli_env.append(3)
    sanad("audit", "checkpoint")
    cli_env.append(4)
    sanad("audit", "checkpoint")
    cli_env.append(1)  # after the latest checkpoint: exported without a proof
    code, output = sanad("audit", "export")
    assert code == 0, output
    lines = [json.loads(line) for line in output.splitlines()]
    header, *rest = lines
    assert header["type"] == "log"
    assert header["entries"] == 8
    assert header["leaf"] == "SHA-256(0x00 || entry)"
    checkpoints = [line for line in rest if line["type"] == "checkpoint"]
    entries = [line for line in rest if line["type"] == "entry"]
    assert [c["tree_size"] for c in checkpoints] == [3, 7]
    assert [e["index"] for e in entries] == list(range(8))
    # What a third party does with nothing but the export:
    first, latest = checkpoints
    assert verify_consistency(
        3,
        7,
        bytes.fromhex(first["root_hash"]),
        bytes.fromhex(latest["root_hash"]),
        [bytes.fromhex(x) for x in latest["consistency"]["path"]],
    )
    for e in entries[:7]:
        leaf = leaf_hash(e["entry"].encode("utf-8"))
        assert leaf.hex() == e["leaf_hash"]
        path = [bytes.fromhex(x) for x in e["inclusion"]["path"]]
        assert verify_inclusion(e["index"], 7, leaf, path, bytes.fromhex(latest["root_hash"]))
    assert "inclusion" not in entries[7]
    # the signed body names the root, and the token is DER
    payload = json.loads(base64.urlsafe_b64decode(latest["signed"].split(".")[1] + "=="))
    assert payload["root_hash"] == latest["root_hash"]
    assert payload["tree_size"] == 7
    assert base64.b64decode(latest["timestamp_token"])[:1] == b"\x30"


def test_prove_gives_a_verified_inclusion_proof(cli_env: FreshLog) -> None:
    cli_env.append(6)
    sanad("audit", "checkpoint")
    code, output = sanad("audit", "prove", "4")
    assert code == 0, output
    proof = json.loads(output[: output.rindex("}") + 1])
    assert proof["verified"] is True
    assert proof["checkpoint"]["tree_size"] == 6
    assert verify_inclusion(
        4,
        6,
        bytes.fromhex(proof["leaf_hash"]),
        [bytes.fromhex(x) for x in proof["inclusion"]],
        bytes.fromhex(proof["checkpoint"]["root_hash"]),
    )
    assert "verified: entry 4 is in the signed tree of 6 entries" in output


def test_prove_refuses_an_edited_entry_and_names_missing_ones(cli_env: FreshLog) -> None:
    cli_env.append(3)
    sanad("audit", "checkpoint")
    cli_env.append(1)
    cli_env.tamper(
        "UPDATE audit_entries SET entry = REPLACE(entry, :was, :now) WHERE leaf_index = 1", was='"n":1', now='"n":7'
    )
    code, output = sanad("audit", "prove", "1")
    assert code == 1
    assert "NOT VERIFIED: the entry's text does not lead to the checkpoint's root" in output
    code, output = sanad("audit", "prove", "3")
    assert code == 2
    assert "newer than the latest checkpoint" in output
    code, output = sanad("audit", "prove", "99")
    assert code == 2
    assert "the log has no entry 99" in output


def test_checkpoint_without_a_timestamp_authority_makes_none(
    cli_env: FreshLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SANAD_TSA_URL", f"http://127.0.0.1:{free_port()}/tsa")
    cli_env.append(1)
    code, output = sanad("audit", "checkpoint")
    assert code == 1
    assert "no checkpoint was made: could not reach timestamp server" in output
    with cli_env.sessions() as s:
        from audit import repository

        assert repository.latest_checkpoint(s) is None
