"""The application's long-lived parts, built once at start-up and passed to handlers."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from issuer.render import CertificateRenderer
from issuer.service import IssuingKit
from issuer.sign import MissingSigningKey, SignerRegistry
from issuer.templates import TemplateSpec, load_templates
from sanad.db import make_engine, make_session_factory
from sanad.departments import list_departments
from sanad.notify import Channel, make_channel
from sanad.pki import trust_anchors_pem
from sanad.settings import Settings
from sanad.storage import MinioStore, ObjectStore, make_store
from verifier.pdf import TrustAnchors

log = logging.getLogger(__name__)


@dataclass
class AppContext:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    store: ObjectStore
    kit: IssuingKit
    trust: TrustAnchors
    trust_pem: bytes
    channel: Channel
    """Where one-time passwords and notices to citizens go."""

    @classmethod
    def build(cls, settings: Settings) -> AppContext:
        templates = load_templates(settings.templates_dir)
        return cls.assemble(
            settings,
            make_engine(settings.database_url),
            make_store(settings),
            templates,
            CertificateRenderer(templates),
        )

    @classmethod
    def assemble(
        cls,
        settings: Settings,
        engine: Engine,
        store: ObjectStore,
        templates: dict[str, TemplateSpec],
        renderer: CertificateRenderer,
    ) -> AppContext:
        """Wire already-built parts together (tests share one renderer across contexts)."""
        kit = IssuingKit(
            templates=templates,
            renderer=renderer,
            signers=SignerRegistry(settings.keys_dir),
            store=store,
            public_base_url=settings.public_base_url,
        )
        trust_pem = trust_anchors_pem(settings.keys_dir)
        return cls(
            settings=settings,
            engine=engine,
            sessions=make_session_factory(engine),
            store=store,
            kit=kit,
            trust=TrustAnchors.from_pem(trust_pem),
            trust_pem=trust_pem,
            channel=make_channel(settings),
        )

    def load_signing_keys(self) -> None:
        """Parse every department's key now, so no request pays for it."""
        with self.sessions() as session:
            codes = [d.code for d in list_departments(session)]
        for code in codes:
            try:
                self.kit.signers.get(code)
            except MissingSigningKey:
                log.warning("department %s has no signing key; run 'sanad keys init'", code)

    def prepare_storage(self) -> None:
        if isinstance(self.store, MinioStore):
            self.store.ensure_bucket()

    def close(self) -> None:
        self.engine.dispose()
