"""Department signing keys inside a PKCS#11 token (SoftHSM2 in development and CI).

A generation whose key lives in a token has ``pkcs11.json`` beside its certificate:

    {"token_label": "sanad-dev", "key_label": "sanad-REV-1a2b3c4d", "key_id": "5245562d1a2b3c4d"}

``token_label`` names the token (CKA_LABEL of the token); ``key_label`` and ``key_id``
(hex of CKA_ID) name the private key in it; either of the two is enough, ``enroll``
writes both. The module path and the user PIN are not in it: they come from the
settings (``SANAD_PKCS11_MODULE``, ``SANAD_PKCS11_PIN``), so nothing secret is on disk.

Threads. python-pkcs11 (0.10) initialises the module with ``C_Initialize(NULL)``, which
tells it the application will not call it from several threads at once; SoftHSM2 then
switches its own mutexes off, so even *separate* sessions used from two threads race
inside the module. Every call into a module therefore goes through one process-wide
lock per module. A signature costs about 0.07 ms in SoftHSM2 against tens of
milliseconds for the rest of a PAdES signature, so the lock costs nothing measurable;
and with one lock there is no point in more than one session per token.

Logins. A PKCS#11 login belongs to the process, not the session: a second ``C_Login``
fails with "already logged in" without checking the PIN, and closing the logged-in
session logs every other session out. So each process keeps one logged-in session per
token, shared by every ``TokenKeys`` that uses it (reference-counted, closed with the
last one), and a ``TokenKeys`` arriving with a different PIN is refused as the token
would refuse it. Sessions do not survive ``fork``: build ``TokenKeys`` in each worker.
"""

from __future__ import annotations

import glob
import hashlib
import hmac
import os
import secrets
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pkcs11
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from pkcs11 import Attribute, KeyType, MechanismFlag, ObjectClass
from pkcs11.util.ec import encode_ec_public_key, encode_named_curve_parameters
from pyhanko.sign.pkcs11 import PKCS11Signer

from sanad.errors import SanadError
from trust.departments import (
    CertificateRejected,
    Generation,
    add_generation,
    certify_department_key,
    check_department_certificate,
)

SOFTHSM2_MODULE = "/usr/lib/softhsm/libsofthsm2.so"
"""Debian's path of the SoftHSM2 module (package ``libsofthsm2``, pulled in by ``softhsm2``)."""
_OTHER_SOFTHSM2_PATHS = ("/usr/lib/*/softhsm/libsofthsm2.so", "/usr/local/lib/softhsm/libsofthsm2.so")
CURVE = "secp256r1"


class TokenError(SanadError):
    """The PKCS#11 token could not be used: wrong PIN, token or key not found, module missing."""

    code = "signing_token_error"


def default_module_path() -> str | None:
    """SoftHSM2's PKCS#11 module if it is installed, else None."""
    if os.path.exists(SOFTHSM2_MODULE):
        return SOFTHSM2_MODULE
    for pattern in _OTHER_SOFTHSM2_PATHS:
        found = sorted(glob.glob(pattern))
        if found:
            return found[0]
    return None


# --- process-wide state: one lock per module, one logged-in session per token ----------


@dataclass
class _Module:
    lib: Any  # pkcs11.lib (the Cython class is not usable as an annotation at run time)
    lock: threading.RLock


@dataclass
class _Login:
    session: pkcs11.Session
    pin_digest: bytes
    users: int


_state_lock = threading.Lock()
_modules: dict[str, _Module] = {}
_logins: dict[tuple[str, bytes], _Login] = {}


def _module(path: str) -> _Module:
    resolved = os.path.realpath(path)
    with _state_lock:
        module = _modules.get(resolved)
        if module is None:
            if not os.path.exists(resolved):
                raise TokenError(f"PKCS#11 module {path} does not exist (install softhsm2 or set SANAD_PKCS11_MODULE)")
            try:
                lib = pkcs11.lib(resolved)
            except pkcs11.PKCS11Error as e:
                raise TokenError(f"PKCS#11 module {path} could not be loaded: {e!r}") from e
            module = _modules[resolved] = _Module(lib, threading.RLock())
        return module


def _pin_digest(pin: str) -> bytes:
    return hashlib.sha256(pin.encode("utf-8")).digest()


# --- signing ------------------------------------------------------------------------------


class TokenSigner(PKCS11Signer):
    """pyHanko's PKCS#11 signer, serialising every call into the module with its lock.

    EC keys sign with the raw ``CKM_ECDSA`` mechanism over a digest computed here (SoftHSM2
    offers no ``CKM_ECDSA_SHA256``; every token offers ``CKM_ECDSA``); pyHanko turns the
    token's r||s into a DER ``ECDSA-Sig-Value``, which ``async_sign_raw`` returns.

    The signature is made inside the coroutine, not in an executor as pyHanko does:
    Sanad drives every signature with its own ``asyncio.run`` in a worker thread, and a
    thread hand-off per signature cost 1 ms against 0.07 ms for SoftHSM2's signature.
    """

    def __init__(
        self,
        session: pkcs11.Session,
        lock: threading.RLock,
        *,
        key_label: str | None,
        key_id: bytes | None,
        signing_cert: asn1_x509.Certificate,
        chain: list[asn1_x509.Certificate],
    ) -> None:
        super().__init__(
            session,
            signing_cert=signing_cert,
            ca_chain=chain,
            key_label=key_label,
            key_id=key_id,
            embed_roots=False,
            use_raw_mechanism=True,
        )
        self._lock = lock
        # Find the key now, under the lock: pyHanko would otherwise look it up lazily,
        # from whichever thread and event loop signs first.
        with lock:
            self._load_objects()  # type: ignore[no-untyped-call]

    async def async_sign_raw(self, data: bytes, digest_algorithm: str, dry_run: bool = False) -> bytes:
        if dry_run:
            placeholder: bytes = await super().async_sign_raw(data, digest_algorithm, dry_run=True)
            return placeholder
        return self._sign_blocking(data, digest_algorithm)

    def _sign_blocking(self, data: bytes, digest_algorithm: str) -> bytes:
        spec = self._select_pkcs11_signing_params(digest_algorithm, sign_kwargs=self.sign_kwargs(data))
        if spec.pre_sign_transform is not None:
            data = spec.pre_sign_transform(data)
        key = self._key_handle
        assert key is not None  # loaded in __init__
        with self._lock:
            signature: bytes = key.sign(data, **spec.sign_kwargs)
        if spec.post_sign_transform is not None:
            signature = spec.post_sign_transform(signature)
        return signature


class TokenKeys:
    """The PKCS#11 module and logged-in token sessions of this process. Build once per
    process (after any fork); ``signer`` may be called, and its signers used, from any
    thread. ``close`` when done."""

    def __init__(self, module_path: str, pin: str) -> None:
        if not pin:
            raise TokenError("no PKCS#11 user PIN given (set SANAD_PKCS11_PIN)")
        self.module_path = module_path
        self._module = _module(module_path)
        self._pin_digest = _pin_digest(pin)
        self._pin = pin
        self._sessions: dict[str, tuple[tuple[str, bytes], _Login]] = {}
        self._closed = False

    @property
    def lock(self) -> threading.RLock:
        """Held around every call into the module."""
        return self._module.lock

    def session(self, token_label: str) -> pkcs11.Session:
        """The logged-in session on ``token_label`` (opened on first use). Use it only
        while holding ``lock``."""
        with self._module.lock:
            if self._closed:
                raise TokenError("these token keys are closed")
            known = self._sessions.get(token_label)
            if known is not None:
                return known[1].session
            token = self._token(token_label)
            login_key = (os.path.realpath(self.module_path), bytes(token.serial))
            login = _logins.get(login_key)
            if login is None:
                login = _Login(self._login(token), self._pin_digest, 0)
                _logins[login_key] = login
            elif not hmac.compare_digest(login.pin_digest, self._pin_digest):
                # The token would not check it (this process is already logged in), so we do.
                raise TokenError(f"PKCS#11 login to token {token_label!r} failed: incorrect PIN")
            login.users += 1
            self._sessions[token_label] = (login_key, login)
            return login.session

    def _token(self, token_label: str) -> pkcs11.Token:
        try:
            token: pkcs11.Token = self._module.lib.get_token(token_label=token_label)
        except pkcs11.NoSuchToken as e:
            labels = sorted(t.label for t in self._module.lib.get_tokens())
            raise TokenError(
                f"no PKCS#11 token labelled {token_label!r} in {self.module_path} (tokens: {labels})"
            ) from e
        except pkcs11.MultipleTokensReturned as e:
            raise TokenError(f"more than one PKCS#11 token is labelled {token_label!r}") from e
        return token

    def _login(self, token: pkcs11.Token) -> pkcs11.Session:
        try:
            session: pkcs11.Session = token.open(rw=True, user_pin=self._pin)
        except pkcs11.PinIncorrect as e:
            raise TokenError(f"PKCS#11 login to token {token.label!r} failed: incorrect PIN") from e
        except pkcs11.PinLocked as e:
            raise TokenError(f"PKCS#11 token {token.label!r}: the user PIN is locked") from e
        except pkcs11.UserPinNotInitialized as e:
            raise TokenError(f"PKCS#11 token {token.label!r} has no user PIN yet (initialise it)") from e
        except pkcs11.UserAlreadyLoggedIn as e:
            raise TokenError(f"PKCS#11 token {token.label!r} is already logged in by this process outside Sanad") from e
        except pkcs11.PKCS11Error as e:
            raise TokenError(f"PKCS#11 login to token {token.label!r} failed: {e!r}") from e
        return session

    def signer(
        self, config: dict[str, Any], signing_cert: asn1_x509.Certificate, chain: list[asn1_x509.Certificate]
    ) -> TokenSigner:
        """A pyHanko signer for the key ``config`` (a generation's ``pkcs11.json``) names.

        Checks that the key is there and belongs to ``signing_cert`` (one test signature)."""
        token_label, key_label, key_id = _parse_config(config)
        session = self.session(token_label)
        try:
            signer = TokenSigner(
                session, self.lock, key_label=key_label, key_id=key_id, signing_cert=signing_cert, chain=chain
            )
        except pkcs11.PKCS11Error as e:  # what pyHanko raises for no such key, or more than one
            raise TokenError(f"token {token_label!r}: {e}") from e
        key_name = key_label or (key_id.hex() if key_id else "")
        _check_key_matches(signer, signing_cert, f"{token_label}/{key_name}")
        return signer

    def generate_signing_key(self, token_label: str, *, key_label: str, key_id: bytes) -> ec.EllipticCurvePublicKey:
        """Generate an EC P-256 key pair in the token: the private key sensitive, never
        extractable, signing only. Returns the public key."""
        session = self.session(token_label)
        with self.lock:
            parameters = session.create_domain_parameters(
                KeyType.EC, {Attribute.EC_PARAMS: encode_named_curve_parameters(CURVE)}, local=True
            )
            public, _private = parameters.generate_keypair(
                store=True,
                id=key_id,
                label=key_label,
                capabilities=MechanismFlag.SIGN | MechanismFlag.VERIFY,
                public_template={Attribute.PRIVATE: False},
                private_template={
                    Attribute.PRIVATE: True,
                    Attribute.SENSITIVE: True,
                    Attribute.EXTRACTABLE: False,
                    Attribute.DERIVE: False,
                },
            )
            der = encode_ec_public_key(public)
        key = serialization.load_der_public_key(der)
        assert isinstance(key, ec.EllipticCurvePublicKey)
        return key

    def destroy_key(self, token_label: str, *, key_id: bytes) -> None:
        """Delete the key pair ``key_id`` from the token (undoing a failed enrolment)."""
        session = self.session(token_label)
        with self.lock:
            for object_class in (ObjectClass.PRIVATE_KEY, ObjectClass.PUBLIC_KEY):
                for found in list(session.get_objects({Attribute.CLASS: object_class, Attribute.ID: key_id})):
                    found.destroy()

    def close(self) -> None:
        """Release this object's sessions; the last user of a token's login logs out."""
        with self._module.lock:
            if self._closed:
                return
            self._closed = True
            for login_key, login in self._sessions.values():
                login.users -= 1
                if login.users == 0:
                    del _logins[login_key]
                    login.session.close()
            self._sessions.clear()

    def __enter__(self) -> TokenKeys:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _parse_config(config: dict[str, Any]) -> tuple[str, str | None, bytes | None]:
    token_label = config.get("token_label")
    key_label = config.get("key_label")
    key_id_hex = config.get("key_id")
    if not isinstance(token_label, str) or not token_label:
        raise TokenError(f"pkcs11.json names no token_label: {config!r}")
    if key_label is not None and not isinstance(key_label, str):
        raise TokenError(f"pkcs11.json: key_label must be a string: {config!r}")
    try:
        key_id = bytes.fromhex(key_id_hex) if key_id_hex is not None else None
    except (TypeError, ValueError) as e:
        raise TokenError(f"pkcs11.json: key_id must be hex: {config!r}") from e
    if key_label is None and key_id is None:
        raise TokenError(f"pkcs11.json names neither key_label nor key_id: {config!r}")
    return token_label, key_label, key_id


def _check_key_matches(signer: TokenSigner, signing_cert: asn1_x509.Certificate, where: str) -> None:
    probe = secrets.token_bytes(32)
    signature = signer._sign_blocking(probe, "sha256")
    public_key = serialization.load_der_public_key(signing_cert.public_key.dump())
    if not isinstance(public_key, ec.EllipticCurvePublicKey):
        raise TokenError(f"the certificate for {where} does not hold an EC key")
    try:
        public_key.verify(signature, probe, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature as e:
        raise TokenError(f"the key {where} does not match its certificate") from e


# --- enrolment ----------------------------------------------------------------------------


def enroll(
    keys_dir: Path,
    code: str,
    name: str,
    *,
    module_path: str,
    pin: str,
    token_label: str,
    now: datetime | None = None,
) -> Generation:
    """Give department ``code`` a new signing key generated inside the token and make it
    the active generation: the dev issuing CA certifies the token's public key and the
    generation records where the key is (``pkcs11.json``). No private key touches disk."""
    suffix = secrets.token_hex(4)
    key_label = f"sanad-{code}-{suffix}"
    key_id = f"{code}-".encode() + bytes.fromhex(suffix)
    with TokenKeys(module_path, pin) as keys:
        public_key = keys.generate_signing_key(token_label, key_label=key_label, key_id=key_id)
        try:
            certificate = certify_department_key(keys_dir, code, name, public_key, now=now)
            config = {"token_label": token_label, "key_label": key_label, "key_id": key_id.hex()}
            return add_generation(keys_dir, code, certificate, pkcs11=config)
        except BaseException:
            keys.destroy_key(token_label, key_id=key_id)
            raise


def register(
    keys_dir: Path,
    code: str,
    certificate: x509.Certificate,
    *,
    module_path: str,
    pin: str,
    token_label: str,
    key_label: str | None = None,
    key_id: bytes | None = None,
    now: datetime | None = None,
) -> Generation:
    """Make a key already in the token (e.g. generated there for the state's CA to
    certify) and its certificate a department's active generation. The certificate is
    checked like an imported one, and the token key must sign for it."""
    if key_label is None and key_id is None:
        raise TokenError("name the token key by its label or its id")
    config: dict[str, Any] = {"token_label": token_label}
    if key_label is not None:
        config["key_label"] = key_label
    if key_id is not None:
        config["key_id"] = key_id.hex()
    public_key = certificate.public_key()
    if not isinstance(public_key, ec.EllipticCurvePublicKey):
        raise TokenError("only EC keys are supported")
    try:
        check_department_certificate(keys_dir, certificate, public_key, now=now)
    except CertificateRejected as e:
        raise TokenError(str(e)) from e
    asn1_certificate = asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))
    with TokenKeys(module_path, pin) as keys:
        keys.signer(config, asn1_certificate, [])  # one test signature: the key is there and is this one
    return add_generation(keys_dir, code, certificate, pkcs11=config)
