"""The development PKI: root CA → issuing CA → department signing keys, a TSA, service
keys; its CRL, OCSP and TSA responders; and fetching revocation data for validation.

One module per job: ``paths`` (the keys directory and published URLs), ``keys``
(certificates and PEM files), ``ca``, ``bootstrap`` (``init_pki``), ``tsa_keys``,
``service_keys``, ``departments``, ``revoked`` (revocations.json), ``crl``, ``ocsp``,
``tsa`` (time-stamp responses), ``responder`` (the ``/pki`` routes), ``local`` (serving
them from a command), ``revocation`` (fetching CRLs and OCSP), ``tsa_client``, and
``cli`` (``sanad keys``).
"""
