"""A PAdES signature container encoded once per signing key, not once per document.

pyHanko builds every CMS ``SignedData`` from asn1crypto objects: the signer's and the
issuing CA's certificates, the ESS signing-certificate attribute, the algorithm
identifiers, all copied and re-encoded for each signature (about two thirds of a B-B
signature's CPU). For one key and our PAdES settings only three things change from one
document to the next: the document digest (messageDigest), the signature value, and at
B-T and up the timestamp token on that signature. ``TemplateSigner`` encodes the rest
once, from what pyHanko itself produces for the key, and splices those three into the
bytes.

It vouches for its own output: before its first use the template's container is built
beside pyHanko's for the same digest and signature value, and must be byte-identical;
otherwise (and for any request outside the settings it was built for) pyHanko's own
``async_sign`` signs. The signed attributes hold no time (PAdES puts the signing time in
the signature dictionary), so they depend on the digest alone; the template checks that
too.
"""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass
from typing import Any

from asn1crypto import algos, cms
from pyhanko.sign import signers
from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes
from pyhanko.sign.timestamps.api import TimeStamper

from trust.der import CONTEXT_0, CONTEXT_1, OCTET_STRING, SEQUENCE, SET, oid, tlv

log = logging.getLogger(__name__)

DIGEST_ALGORITHM = "sha256"
_SIGNATURE_TIMESTAMP_ATTRIBUTE = "1.2.840.113549.1.9.16.2.14"  # RFC 3161, appendix A


@dataclass(frozen=True)
class _Template:
    """The encoded parts of one key's containers, in the order they are written."""

    attributes_before: bytes
    """The signed attributes (DER SET OF) up to the message digest."""
    attributes_after: bytes
    digest_length: int
    signer_info_head: bytes
    """SignerInfo version, signer identifier and digest algorithm."""
    signature_algorithm: bytes
    signed_data_head: bytes
    """SignedData version, digest algorithms, encapsulated content info, certificates."""

    def signed_attributes(self, digest: bytes) -> bytes:
        return self.attributes_before + digest + self.attributes_after

    def container(self, signed_attributes: bytes, signature: bytes, unsigned_attributes: bytes | None) -> bytes:
        # [0] IMPLICIT SignedAttributes: the SET's own encoding, retagged.
        signer_info = (
            self.signer_info_head
            + bytes([CONTEXT_0])
            + signed_attributes[1:]
            + self.signature_algorithm
            + tlv(OCTET_STRING, signature)
        )
        if unsigned_attributes is not None:
            signer_info += bytes([CONTEXT_1]) + unsigned_attributes[1:]
        signed_data = self.signed_data_head + tlv(SET, tlv(SEQUENCE, signer_info))
        return tlv(SEQUENCE, oid("1.2.840.113549.1.7.2") + tlv(CONTEXT_0, tlv(SEQUENCE, signed_data)))


def timestamp_attributes(token: cms.ContentInfo) -> bytes:
    """Unsigned attributes holding one signature timestamp token (DER SET OF)."""
    attribute = tlv(SEQUENCE, oid(_SIGNATURE_TIMESTAMP_ATTRIBUTE) + tlv(SET, token.dump()))
    return tlv(SET, attribute)


class TemplateSigner(signers.Signer):
    """Signs with ``inner``'s key; builds PAdES containers from a per-key template."""

    def __init__(self, inner: signers.Signer) -> None:
        super().__init__(
            prefer_pss=inner.prefer_pss,
            embed_roots=inner.embed_roots,
            signature_mechanism=inner.signature_mechanism,
            signing_cert=inner.signing_cert,
            cert_registry=inner.cert_registry,
            attribute_certs=inner.attribute_certs,
        )
        self.inner = inner
        self._template: _Template | None = None
        self._unusable = False

    async def async_sign_raw(self, data: bytes, digest_algorithm: str, dry_run: bool = False) -> bytes:
        signature: bytes = await self.inner.async_sign_raw(data, digest_algorithm, dry_run)
        return signature

    async def async_sign(
        self,
        data_digest: bytes,
        digest_algorithm: str,
        dry_run: bool = False,
        use_pades: bool = False,
        timestamper: TimeStamper | None = None,
        signed_attr_settings: PdfCMSSignedAttributes | None = None,
        is_pdf_sig: bool = True,
        encap_content_info: Any = None,
    ) -> cms.ContentInfo:
        template = None
        if (
            use_pades
            and is_pdf_sig
            and not dry_run
            and encap_content_info is None
            and digest_algorithm.lower() == DIGEST_ALGORITHM
            and _plain(signed_attr_settings)
            and self.signed_attr_prov_spec is None
            and self.unsigned_attr_prov_spec is None
        ):
            template = await self._usable_template()
        if template is None or len(data_digest) != template.digest_length:
            result: cms.ContentInfo = await super().async_sign(
                data_digest,
                digest_algorithm,
                dry_run=dry_run,
                use_pades=use_pades,
                timestamper=timestamper,
                signed_attr_settings=signed_attr_settings,
                is_pdf_sig=is_pdf_sig,
                encap_content_info=encap_content_info,
            )
            return result
        signed_attributes = template.signed_attributes(data_digest)
        signature = await self.async_sign_raw(signed_attributes, DIGEST_ALGORITHM)
        unsigned = None
        if timestamper is not None:
            token = await timestamper.async_timestamp(hashlib.sha256(signature).digest(), DIGEST_ALGORITHM)
            unsigned = timestamp_attributes(token)
        return cms.ContentInfo.load(template.container(signed_attributes, signature, unsigned))

    async def _usable_template(self) -> _Template | None:
        # Unlocked: each signature runs in an event loop of its own, and two threads
        # building the template at once only do the same work twice.
        if self._template is None and not self._unusable:
            template = await self._checked_template()
            self._unusable = template is None
            self._template = template
        return self._template

    async def _checked_template(self) -> _Template | None:
        """The template, if its container for a sample digest is byte for byte the one
        pyHanko builds with the same signature value."""
        template = await self._template_from_pyhanko()
        if template is None:
            return None
        sample = os.urandom(template.digest_length)
        reference: cms.ContentInfo = await super().async_sign(sample, DIGEST_ALGORITHM, use_pades=True)
        signer_info = reference["content"]["signer_infos"][0]
        signature = signer_info["signature"].native
        ours = template.container(template.signed_attributes(sample), signature, None)
        if ours != reference.dump():
            log.warning("the CMS template for %s differs from pyHanko's container: not used", self._subject())
            return None
        return template

    async def _template_from_pyhanko(self) -> _Template | None:
        placeholder = os.urandom(hashlib.sha256().digest_size)
        attributes: cms.CMSAttributes = await self.signed_attrs(
            placeholder, DIGEST_ALGORITHM, attr_settings=PdfCMSSignedAttributes(), use_pades=True
        )
        encoded = attributes.dump()
        again: cms.CMSAttributes = await self.signed_attrs(
            placeholder, DIGEST_ALGORITHM, attr_settings=PdfCMSSignedAttributes(), use_pades=True
        )
        if encoded.count(placeholder) != 1 or again.dump() != encoded:
            log.warning("the signed attributes for %s vary beyond the digest: no CMS template", self._subject())
            return None
        before, after = encoded.split(placeholder)
        certificate = self.signing_cert
        assert certificate is not None
        signer_info_head = (
            cms.CMSVersion("v1").dump()  # SignerInfo v1: the signer named by issuer and serial number
            + cms.SignerIdentifier(
                name="issuer_and_serial_number",
                value=cms.IssuerAndSerialNumber(
                    {"issuer": certificate.issuer, "serial_number": certificate.serial_number}
                ),
            ).dump()
            + algos.DigestAlgorithm({"algorithm": DIGEST_ALGORITHM}).dump()
        )
        signed_data_head = (
            cms.CMSVersion("v1").dump()
            + tlv(SET, algos.DigestAlgorithm({"algorithm": DIGEST_ALGORITHM}).dump())
            + tlv(SEQUENCE, oid("1.2.840.113549.1.7.1"))  # encapsulated content: id-data, detached
            + tlv(CONTEXT_0, b"".join(sorted(self._embedded_certificates())))
        )
        return _Template(
            attributes_before=before,
            attributes_after=after,
            digest_length=len(placeholder),
            signer_info_head=signer_info_head,
            signature_algorithm=self.get_signature_mechanism_for_digest(DIGEST_ALGORITHM).dump(),
            signed_data_head=signed_data_head,
        )

    def _embedded_certificates(self) -> set[bytes]:
        """The certificates pyHanko embeds: the registry's (roots only if asked) and the signer's."""
        certificates = {
            certificate.dump()
            for certificate in self.cert_registry or ()
            if self.embed_roots or certificate.self_signed == "no"
        }
        assert self.signing_cert is not None
        certificates.add(self.signing_cert.dump())
        return certificates

    def _subject(self) -> str:
        return self.signing_cert.subject.human_friendly if self.signing_cert is not None else "?"


def _plain(settings: PdfCMSSignedAttributes | None) -> bool:
    """Settings that add no signed attribute beyond the template's (PAdES ignores the
    signing time: it belongs in the signature dictionary)."""
    return settings is None or (settings.cades_signed_attrs is None and settings.adobe_revinfo_attr is None)
