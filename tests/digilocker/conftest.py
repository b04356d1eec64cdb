"""What the DigiLocker tests share beyond the helpers: the DigiLocker stand-in serving over
HTTP with a department connected to it, and the deployment's consent manager key."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from digilocker.consent import configure_key
from sanad.threaded_server import serve_in_thread
from tests.conftest import Backend, IssuingDepartment
from tests.digilocker.helpers import Partner, register
from tests.digilocker.standin import CONSENT_MANAGER, ConsentManagerStandIn, DigiLockerStandIn


@pytest.fixture
def consent_manager(backend: Backend) -> ConsentManagerStandIn:
    """The stand-in consent manager, its key configured as the deployment's."""
    with backend.context.sessions() as s:
        configure_key(s, CONSENT_MANAGER.public_pem(), "test", datetime.now(UTC))
        s.commit()
    return CONSENT_MANAGER


@pytest.fixture
def standin() -> Iterator[tuple[DigiLockerStandIn, str]]:
    """The DigiLocker stand-in and its address."""
    fake = DigiLockerStandIn(client_id="", client_secret="")
    with serve_in_thread(fake.app()) as url:
        yield fake, url


def connect(backend: Backend, dept: IssuingDepartment, standin: tuple[DigiLockerStandIn, str]) -> Partner:
    """Register ``dept`` with the stand-in as its partner API, sharing its push credentials."""
    fake, url = standin
    partner = register(backend, dept.department, partner_url=url)
    fake.client_id, fake.client_secret = partner.client_id, partner.client_secret
    return partner


@pytest.fixture
def connected(
    backend: Backend, dept: IssuingDepartment, standin: tuple[DigiLockerStandIn, str]
) -> tuple[DigiLockerStandIn, Partner]:
    """The department registered with the stand-in as its partner API."""
    return standin[0], connect(backend, dept, standin)
