"""The time limits of appeals: how long a citizen has to appeal, and how long an appellate
authority has to decide. Deployment settings, with the Punjab Right to Service Act's
periods as defaults."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class AppealPolicy:
    filing_days: int = 30
    """Calendar days a citizen has to appeal: from the rejection or the due date passing
    (a first appeal), from the dismissal or the first appeal's time limit passing (a second)."""
    decision_working_days: int = 30
    """Working days an appellate authority has to decide, unless the service has its own."""
    decision_working_days_by_service: Mapping[str, int] = field(default_factory=dict)
    """A service's own limit for its appellate authorities, by service code."""
    penalty_max_inr: int = 5000
    """The largest penalty an authority may record on a designated officer, in rupees."""

    def __post_init__(self) -> None:
        if self.filing_days < 1 or self.decision_working_days < 1 or self.penalty_max_inr < 1:
            raise ValueError("appeal periods and the penalty ceiling must be at least 1")
        if any(days < 1 for days in self.decision_working_days_by_service.values()):
            raise ValueError("a service's appeal time limit must be at least 1 working day")

    def decision_days(self, service_code: str) -> int:
        return self.decision_working_days_by_service.get(service_code, self.decision_working_days)
