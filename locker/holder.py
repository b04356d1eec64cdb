"""Who a locker belongs to: the signed-in account and the citizen records tied to it."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from accounts.models import LockerAccount
from issuer import service as issuer_service


@dataclass(frozen=True)
class Holder:
    """The owner of a locker. Every read checks documents against ``citizen_refs``."""

    account_id: str
    mobile: str
    storage_ref: str
    citizen_refs: list[str]
    """Citizen records whose issuer gave this account's mobile number."""


def holder_of(session: Session, account: LockerAccount) -> Holder:
    return Holder(
        account_id=account.id,
        mobile=account.mobile,
        storage_ref=account.storage_ref,
        citizen_refs=issuer_service.citizen_refs_for_mobile(session, account.mobile),
    )
