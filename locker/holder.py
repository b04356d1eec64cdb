"""Who a locker belongs to: the signed-in account, and the number it proved."""

from __future__ import annotations

from dataclasses import dataclass

from accounts.models import LockerAccount

SESSION_ENDED = "the session has expired or was ended; sign in again"


@dataclass(frozen=True)
class Holder:
    """The owner of a locker. Every read checks a document's own number against ``mobile``."""

    account_id: str
    mobile: str
    """The number the account proved with a one-time code: the locker holds the documents
    whose issuing request named it, and no other (docs/holder-binding.md)."""
    storage_ref: str


def holder_of(account: LockerAccount) -> Holder:
    return Holder(account_id=account.id, mobile=account.mobile, storage_ref=account.storage_ref)
