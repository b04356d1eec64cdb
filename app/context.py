"""The application's long-lived parts, built once at start-up and passed to handlers."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import time, timedelta

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from accounts import number_moves
from app.audit_notary import PkiNotary
from app.jobs import job_queue, registry
from audit.dependencies import AuditContext
from digilocker.pushing import on_document_event
from intake.appeal_policy import AppealPolicy
from intake.applications import IntakeKit
from intake.catalogue import load_catalogue
from intake.dependencies import IntakeContext
from intake.holidays import load_calendar
from intake.number_moves import move_applications
from intake.offices import load_offices
from intake.tasks import IntakeWorkContext
from intake.working_days import ClockPolicy, LegalClock
from issuer.batches import BatchRuntime
from issuer.batches_dependencies import BatchesContext
from issuer.dependencies import IssuerContext
from issuer.events import subscribe
from issuer.render import CertificateRenderer
from issuer.service import IssuingKit
from issuer.sign import MissingSigningKey, SignerRegistry, signing_profile, token_signers
from issuer.templates import TemplateSpec, load_templates
from locker.dependencies import LockerContext
from sanad.db import make_engine, make_read_engine, make_read_session_factory, make_session_factory
from sanad.departments import list_departments
from sanad.jobs import JobQueue, Registry
from sanad.notify import Channel, make_channel, make_channels
from sanad.settings import Settings
from sanad.storage import MinioStore, ObjectStore, make_store
from trust.ca import trust_anchors_pem
from trust.revocation import CrlFetcher, OcspFetcher
from verifier.dependencies import VerifierContext
from verifier.lookup_cache import LookupCache
from verifier.pdf import TrustAnchors
from verifier.trust import TrustPublisher

log = logging.getLogger(__name__)


def build_intake(
    settings: Settings,
    templates: dict[str, TemplateSpec],
    store: ObjectStore,
    kit: IssuingKit,
    notice_channels: frozenset[str],
) -> IntakeKit:
    """The catalogue, offices and legal clock, validated now: a broken file stops start-up."""
    hours, minutes = (int(part) for part in settings.office_closing_time.split(":"))
    return IntakeKit(
        catalogue=load_catalogue(settings.catalogue_dir, templates),
        offices=load_offices(settings.catalogue_dir / "offices"),
        clock=LegalClock(
            load_calendar(settings.catalogue_dir / "holidays"), ClockPolicy(closing_time=time(hours, minutes))
        ),
        store=store,
        issuing=kit,
        notice_channels=notice_channels,
        duplicate_window=timedelta(days=settings.duplicate_window_days),
        appeals=AppealPolicy(
            filing_days=settings.appeal_filing_days, decision_working_days=settings.appeal_decision_working_days
        ),
    )


@dataclass
class AppContext:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    read_sessions: sessionmaker[Session]
    read_engine: Engine
    """Where the hottest reads run on the driver directly (``sanad.db.PreparedRead``)."""
    store: ObjectStore
    kit: IssuingKit
    trust: TrustAnchors
    trust_pem: bytes
    channel: Channel
    """Where one-time passwords go (SMS)."""
    channels: dict[str, Channel]
    """Every notice channel the deployment has, by name (sms, whatsapp, email)."""
    intake: IntakeKit
    trust_publisher: TrustPublisher
    """The trust list, JWKS and signed status list the trust routes serve (cached)."""
    registry: Registry
    """Every domain's background tasks and their schedules."""
    jobs: JobQueue
    """Where handlers and tasks hand work to the job engine (or the embedded runner)."""
    audit_notary: PkiNotary
    """Signs and timestamps the audit log's checkpoints, and checks them."""
    lookups: LookupCache
    """The QR target's answers kept in this process (PostgreSQL; started by the server)."""

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
        subscribe(on_document_event)  # issued and revoked documents are pushed to DigiLocker
        number_moves.subscribe("applications", move_applications)  # a locker's new number takes its applications
        tasks = registry()
        jobs = job_queue(settings, tasks)
        kit = IssuingKit(
            templates=templates,
            renderer=renderer,
            signers=SignerRegistry(settings.keys_dir, signing_profile(settings), token_signers(settings)),
            store=store,
            public_base_url=settings.public_base_url,
            long_term_jobs=jobs if settings.long_term_deferred else None,
        )
        trust_pem = trust_anchors_pem(settings.keys_dir)
        channels = make_channels(settings)
        lookups = LookupCache.for_engine(engine, settings.lookup_cache_entries)
        if lookups.listener is not None:  # a cache that can serve (PostgreSQL)
            subscribe(lookups.evict_after_commit)  # whoever changes a document sees it next
        return cls(
            settings=settings,
            engine=engine,
            sessions=make_session_factory(engine),
            read_sessions=make_read_session_factory(engine),
            read_engine=make_read_engine(engine),
            store=store,
            kit=kit,
            trust=TrustAnchors.from_pem(
                trust_pem,
                CrlFetcher(ttl=settings.revocation_cache_seconds),
                ocsp=OcspFetcher(ttl=settings.revocation_cache_seconds),
            ),
            trust_pem=trust_pem,
            channel=make_channel(settings),
            channels=channels,
            intake=build_intake(settings, templates, store, kit, frozenset(channels)),
            trust_publisher=TrustPublisher(
                settings.keys_dir,
                settings.public_base_url,
                status_list_ttl=timedelta(hours=settings.status_list_ttl_hours),
            ),
            registry=tasks,
            jobs=jobs,
            audit_notary=PkiNotary(settings.keys_dir, settings.tsa_url),
            lookups=lookups,
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
        self.lookups.stop()
        self.jobs.close()
        self.engine.dispose()
        self.read_engine.dispose()


def _serves_every_domain(
    context: AppContext,
) -> tuple[
    IssuerContext,
    LockerContext,
    VerifierContext,
    IntakeContext,
    BatchesContext,
    BatchRuntime,
    IntakeWorkContext,
    AuditContext,
]:
    """Never called: mypy checks here that the context gives each domain what it asks for."""
    return context, context, context, context, context, context, context, context
