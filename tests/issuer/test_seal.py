"""The compact seal's format (issuer/seal.py): digits, COSE_Sign1, CWT claims, checked
with a COSE implementation other than ours (pycose) in both directions."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import replace

import cbor2
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from pycose.algorithms import Es256
from pycose.headers import KID, Algorithm
from pycose.keys import EC2Key
from pycose.keys.curves import P256
from pycose.messages import Sign1Message

from issuer.seal import (
    MAX_NAME_BYTES,
    NAME,
    NAME_SHORTENED,
    TYPE_CODES,
    SealFormatError,
    decode_claims,
    document_id_in_url,
    encode_claims,
    fit_name,
    key_id_of,
    make_seal,
    open_seal,
    seal_from_text,
    sealed_url,
)
from sanad.cose import CoseError, CoseProblem, parse_sign1
from sanad.digits import decode_digits, encode_digits
from tests.conftest import REPO
from tests.verifier.helpers import example_claims

KEY = ec.generate_private_key(ec.SECP256R1())
KEY_ID = "0123456789abcdef"
CLAIMS = example_claims("REV")


class Signer:
    key_id = KEY_ID

    def sign_raw(self, data: bytes) -> bytes:
        return KEY.sign(data, ec.ECDSA(hashes.SHA256()))


def pycose_key(private: bool = False) -> EC2Key:
    numbers = KEY.private_numbers()
    x, y = (numbers.public_numbers.x.to_bytes(32, "big"), numbers.public_numbers.y.to_bytes(32, "big"))
    if private:
        return EC2Key(crv=P256, x=x, y=y, d=numbers.private_value.to_bytes(32, "big"))
    return EC2Key(crv=P256, x=x, y=y)


def test_pycose_verifies_our_seal() -> None:
    message = Sign1Message.decode(decode_digits(make_seal(Signer(), CLAIMS)))
    message.key = pycose_key()

    assert message.verify_signature()
    assert message.phdr == {Algorithm: Es256, KID: bytes.fromhex(KEY_ID)}
    assert message.uhdr == {}
    assert cbor2.loads(message.payload)[NAME] == bytes([0x0A00 >> 7]) + bytes(
        0x80 | (ord(c) & 0x7F) if ord(c) > 0x7F else ord(c) for c in CLAIMS.holder_name
    )


def test_we_verify_a_seal_pycose_signed() -> None:
    message = Sign1Message(phdr={Algorithm: Es256, KID: bytes.fromhex(KEY_ID)}, payload=encode_claims(CLAIMS))
    message.key = pycose_key(private=True)
    parsed = parse_sign1(message.encode())

    parsed.verify(KEY.public_key())
    assert key_id_of(parsed) == KEY_ID
    assert decode_claims(parsed.payload, "REV") == CLAIMS


def test_a_seal_is_digits_and_small() -> None:
    seal = make_seal(Signer(), CLAIMS)
    parsed = open_seal(seal)
    parsed.verify(KEY.public_key())

    assert seal.isdigit()
    assert len(decode_digits(seal)) < 160  # the JWS seal it replaces was ~400 bytes
    assert decode_claims(parsed.payload, "REV") == CLAIMS
    assert key_id_of(parsed) == KEY_ID


def test_a_changed_digit_or_another_key_does_not_verify() -> None:
    seal = make_seal(Signer(), CLAIMS)
    for position in range(0, len(seal), 7):  # header, claims and signature alike
        digit = str((int(seal[position]) + 1) % 10)
        with pytest.raises(CoseError):
            open_seal(seal[:position] + digit + seal[position + 1 :]).verify(KEY.public_key())
    with pytest.raises(CoseError, match="does not verify"):
        open_seal(seal).verify(ec.generate_private_key(ec.SECP256R1()).public_key())


@pytest.mark.parametrize("cut", [1, 5, 17, 100])
def test_a_truncated_seal_is_refused_as_damaged(cut: int) -> None:
    seal = make_seal(Signer(), CLAIMS)
    with pytest.raises(CoseError) as raised:
        open_seal(seal[:-cut])
    assert raised.value.problem == CoseProblem.MALFORMED
    assert "damaged or incomplete" in raised.value.message


def _message(protected: dict[int, object], unprotected: dict[int, object] | None = None) -> bytes:
    header = cbor2.dumps(protected, canonical=True)
    tagged = cbor2.CBORTag(18, [header, unprotected or {}, encode_claims(CLAIMS), b"\0" * 64])
    return cbor2.dumps(tagged, canonical=True)


def test_only_es256_with_a_kid_in_the_protected_header() -> None:
    kid = bytes.fromhex(KEY_ID)
    cases = {
        CoseProblem.UNSUPPORTED_ALG: [{1: -35, 4: kid}, {4: kid}, {1: -8, 4: kid}],  # ES384, none, EdDSA
        CoseProblem.MALFORMED: [{1: -7}, {1: -7, 4: kid, 2: [4]}, {1: -7, 4: kid, 3: 0}, {1: -7, 4: "text"}],
    }
    for problem, headers in cases.items():
        for header in headers:
            with pytest.raises(CoseError) as raised:
                parse_sign1(_message(header))
            assert raised.value.problem == problem, header
    with pytest.raises(CoseError, match="unprotected"):
        parse_sign1(_message({1: -7, 4: kid}, {4: kid}))
    with pytest.raises(CoseError, match="deterministic"):  # the same message, spelled longer
        parse_sign1(bytes.fromhex("d8") + bytes([18]) + _message({1: -7, 4: kid})[1:])
    with pytest.raises(CoseError, match="tag 18"):
        parse_sign1(cbor2.dumps(cbor2.loads(_message({1: -7, 4: kid})).value))


def test_claims_keep_one_spelling() -> None:
    good = cbor2.loads(encode_claims(CLAIMS))
    respelled = {**good, NAME: CLAIMS.holder_name}  # text where the one-block bytes are the rule
    with pytest.raises(SealFormatError, match="one way"):
        decode_claims(cbor2.dumps(respelled, canonical=True), "REV")
    with pytest.raises(SealFormatError, match="does not know") as newer:
        decode_claims(cbor2.dumps({**good, -99: 1}, canonical=True), "REV")
    assert newer.value.newer
    with pytest.raises(SealFormatError, match="not known") as unknown_type:
        decode_claims(cbor2.dumps({**good, -1: 999}, canonical=True), "REV")
    assert unknown_type.value.newer
    with pytest.raises(SealFormatError, match="not a day"):
        decode_claims(cbor2.dumps({**good, -3: "2026-03-01"}, canonical=True), "REV")
    with pytest.raises(SealFormatError, match="deterministic"):
        decode_claims(cbor2.dumps(good) + b"\0", "REV")


def test_names_one_byte_a_letter_and_shortened_over_the_budget() -> None:
    assert len(cbor2.loads(encode_claims(CLAIMS))[NAME]) == len(CLAIMS.holder_name) + 1
    mixed = replace(CLAIMS, holder_name="ਗੁਰ गुर")  # two blocks: UTF-8 text
    assert cbor2.loads(encode_claims(mixed))[NAME] == mixed.holder_name

    longest = ("ਗੁਰਪ੍ਰੀਤ ਸਿੰਘ " * 10)[:120].strip()
    name, shortened = fit_name(longest)
    assert shortened
    assert longest.startswith(name)
    assert longest[len(name)] == " "  # cut after a whole word
    assert len(name) + 1 <= MAX_NAME_BYTES
    claims = cbor2.loads(encode_claims(replace(CLAIMS, holder_name=longest)))
    assert claims[NAME_SHORTENED] is True
    decoded = decode_claims(encode_claims(replace(CLAIMS, holder_name=longest)), "REV")
    assert (decoded.holder_name, decoded.holder_name_shortened) == (name, True)

    one_word = "ਗੁਰਪ੍ਰੀਤ" * 10  # no space: cut between syllables, never after a virama
    cut, _ = fit_name(one_word)
    assert one_word.startswith(cut)
    assert unicodedata.combining(cut[-1]) != 9  # a virama joins the next letter
    assert not unicodedata.category(one_word[len(cut)]).startswith("M")  # nor a vowel sign cut off


def test_every_shipped_template_has_a_type_code_and_the_page_knows_them() -> None:
    """A type without a code still seals (by name) but makes a larger QR code."""
    shipped = {path.parent.name for path in (REPO / "templates").glob("*/meta.yaml")}
    assert shipped <= set(TYPE_CODES), f"add codes to issuer.seal.TYPE_CODES for {shipped - set(TYPE_CODES)}"
    assert len(set(TYPE_CODES.values())) == len(TYPE_CODES)
    script = (REPO / "verifier" / "static" / "offline" / "verify.js").read_text("utf-8")
    table = re.search(r"const TYPE_NAMES = \{(.*?)\};", script, re.S)
    assert table is not None
    in_page = {int(code): name for code, name in re.findall(r'(\d+): "([a-z-]+)"', table.group(1))}
    assert in_page == {code: name for name, code in TYPE_CODES.items()}


def test_a_type_without_a_code_is_sealed_by_name() -> None:
    claims = replace(CLAIMS, type="new-kind-of-certificate")
    assert decode_claims(encode_claims(claims), "REV") == claims


def test_ids_and_key_ids_must_be_sanads() -> None:
    with pytest.raises(ValueError, match="document id"):
        encode_claims(replace(CLAIMS, document_id="k7q3xz5m2v9n4c8b6w1r0t5y3a"))  # 0, 1, 8, 9: not base32

    class OddKey(Signer):
        key_id = "REV-1"

    with pytest.raises(ValueError, match="hex"):
        make_seal(OddKey(), CLAIMS)


def test_digits_round_trip_and_refuse_what_they_never_write() -> None:
    for size in range(1, 40):
        data = bytes((i * 73 + 255) % 256 for i in range(size))
        assert decode_digits(encode_digits(data)) == data
    assert encode_digits(b"\xff" * 7) == "72057594037927935"
    assert encode_digits(b"\x00\x01") == "00001"
    for bad in ("", "12a45", "٣٣٣"):
        with pytest.raises(ValueError, match="not decimal digits"):
            decode_digits(bad)
    for incomplete in ("1234", "1" * 18, "1" * 16):
        with pytest.raises(ValueError, match="incomplete"):
            decode_digits(incomplete)
    with pytest.raises(ValueError, match="too large"):
        decode_digits("99999")


def test_the_url_is_upper_case_up_to_the_fragment() -> None:
    url = sealed_url("http://127.0.0.1:8000/v/k7q3xz5m2vdn4ccb6wbrat5y3a", "0123")
    assert url == "HTTP://127.0.0.1:8000/V/K7Q3XZ5M2VDN4CCB6WBRAT5Y3A#0123"
    under_a_path = sealed_url("https://gov.example/sanad/v/k7q3xz5m2vdn4ccb6wbrat5y3a", "0123")
    assert under_a_path == "HTTPS://GOV.EXAMPLE/sanad/V/K7Q3XZ5M2VDN4CCB6WBRAT5Y3A#0123"
    with pytest.raises(ValueError, match="not a verification URL"):
        sealed_url("http://127.0.0.1:8000/d/abc", "0123")

    assert seal_from_text(url) == "0123"
    assert seal_from_text(" 0123\n") == "0123"
    assert seal_from_text("http://x/v/abc#aaa.bbb.ccc") == "aaa.bbb.ccc"  # a seal from before
    assert seal_from_text("HTTP://X/V/ABC") is None
    assert seal_from_text("http://x/v/abc#12 34") is None
    assert document_id_in_url(url) == "k7q3xz5m2vdn4ccb6wbrat5y3a"
    assert document_id_in_url("http://x/v/abc#aaa.bbb.ccc") == "abc"
    assert document_id_in_url("0123") is None
