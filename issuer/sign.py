"""PAdES B-B certifying signatures with a department key parsed once at start-up.

pyHanko's stock ``SimpleSigner`` re-parses (and, for RSA, re-validates) the private
key on every signature, and without ``bytes_reserved`` signs every document twice to
size the signature. ``DepartmentSigner`` keeps the parsed key and reserves a fixed
size, so each document costs one raw signature.
"""

from __future__ import annotations

import asyncio
import threading
from io import BytesIO
from pathlib import Path

from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko.sign.fields import MDPPerm, SigSeedSubFilter
from pyhanko_certvalidator.registry import SimpleCertificateStore

from sanad.errors import SanadError
from sanad.pki import department_key_path, load_pair

SIGNATURE_FIELD = "Signature"
# Room for the CMS blob: an ECDSA signature plus the signer and issuing-CA certificates
# comes to about 2.5 KB; the rest leaves room for more chain without a second pass.
BYTES_RESERVED = 8192

_HASHES: dict[str, hashes.HashAlgorithm] = {
    "sha256": hashes.SHA256(),
    "sha384": hashes.SHA384(),
    "sha512": hashes.SHA512(),
}


def _to_asn1(certificate_pem: bytes) -> asn1_x509.Certificate:
    from cryptography import x509

    der = x509.load_pem_x509_certificate(certificate_pem).public_bytes(serialization.Encoding.DER)
    return asn1_x509.Certificate.load(der)


def certification_metadata() -> signers.PdfSignatureMetadata:
    """PAdES (ETSI.CAdES.detached), certifying, DocMDP: no changes allowed."""
    return signers.PdfSignatureMetadata(
        field_name=SIGNATURE_FIELD,
        subfilter=SigSeedSubFilter.PADES,
        md_algorithm="sha256",
        certify=True,
        docmdp_permissions=MDPPerm.NO_CHANGES,
        reason="Issued by Sanad",
        location="Punjab, India",
    )


class _ParsedKeySigner(signers.Signer):
    """A pyHanko signer holding an already-parsed EC private key."""

    def __init__(
        self,
        private_key: ec.EllipticCurvePrivateKey,
        signing_cert: asn1_x509.Certificate,
        chain: list[asn1_x509.Certificate],
    ) -> None:
        self._private_key = private_key
        super().__init__(
            signing_cert=signing_cert,
            cert_registry=SimpleCertificateStore.from_certs(chain),  # type: ignore[no-untyped-call]
            embed_roots=False,
        )

    async def async_sign_raw(self, data: bytes, digest_algorithm: str, dry_run: bool = False) -> bytes:
        return self._private_key.sign(data, ec.ECDSA(_HASHES[digest_algorithm]))


class DepartmentSigner:
    """Signs documents for one department. Build once; ``sign`` is thread-safe."""

    def __init__(self, code: str, signer: signers.Signer, signing_cert: asn1_x509.Certificate) -> None:
        self.code = code
        self.signing_cert = signing_cert
        self._pdf_signer = signers.PdfSigner(
            certification_metadata(),
            signer=signer,
            new_field_spec=fields.SigFieldSpec(sig_field_name=SIGNATURE_FIELD),
        )

    @classmethod
    def load(cls, keys_dir: Path, code: str) -> DepartmentSigner:
        pair = load_pair(department_key_path(keys_dir, code))
        pem = pair.certificate.public_bytes(serialization.Encoding.PEM)
        signing_cert = _to_asn1(pem)
        chain = [_to_asn1((keys_dir / "issuing-ca.pem").read_bytes())]
        return cls(code, _ParsedKeySigner(pair.private_key, signing_cert, chain), signing_cert)

    def sign(self, pdf: bytes) -> bytes:
        """Return ``pdf`` with a certifying PAdES signature (no changes allowed) appended."""
        writer = IncrementalPdfFileWriter(BytesIO(pdf), strict=False)
        output = BytesIO()
        coro = self._pdf_signer.async_sign_pdf(writer, output=output, bytes_reserved=BYTES_RESERVED)
        asyncio.run(coro)
        return output.getvalue()


class SignerRegistry:
    """Each department's signer, loaded on first use and kept for the process's life."""

    def __init__(self, keys_dir: Path) -> None:
        self.keys_dir = keys_dir
        self._signers: dict[str, DepartmentSigner] = {}
        self._lock = threading.Lock()

    def get(self, code: str) -> DepartmentSigner:
        signer = self._signers.get(code)
        if signer is None:
            with self._lock:
                signer = self._signers.get(code)
                if signer is None:
                    try:
                        signer = DepartmentSigner.load(self.keys_dir, code)
                    except FileNotFoundError as e:
                        raise MissingSigningKey(code) from e
                    self._signers[code] = signer
        return signer


class MissingSigningKey(SanadError):
    """A department has no signing key in the PKI (run ``sanad keys init``)."""

    code = "signing_key_missing"

    def __init__(self, code: str) -> None:
        super().__init__(f"department {code!r} has no signing key; run 'sanad keys init'")
