"""The bulk issuing API's answers."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class BatchRead(BaseModel):
    id: str
    type: str
    status: str = Field(
        description="validating, invalid, queued, running, completed, completed_with_errors, cancelled or failed."
    )
    dry_run: bool
    rows_total: int = Field(description="Rows in the file.")
    rows_done: int = Field(description="Rows issued so far.")
    rows_failed: int = Field(description="Rows that could not be issued (see the results' `error`).")
    rate_per_s: float | None = Field(description="Rows done per second since the batch started.")
    eta_s: int | None = Field(description="Seconds until the last row at that rate; 0 once finished.")
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    error: str | None = None


class BatchErrorRead(BaseModel):
    row: int = Field(description="1-based: the first row after the CSV header, or the first JSON line.")
    field: str = Field(description="The column (CSV) or field path (JSON Lines), or `row` for the row as a whole.")
    message: str


class BatchErrors(BaseModel):
    id: str
    status: str
    errors: list[BatchErrorRead]
