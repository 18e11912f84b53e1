"""An in-memory fake of the product sync page's repository (the latest run and the latest refresh report)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from ogosync.models import ProductReportHeader, ProductRow, ProductRun, ProductRunStatus


class InMemoryProductRuns:
    def __init__(self) -> None:
        self.runs: dict[str, ProductRun] = {}
        self.reports: dict[str, tuple[ProductReportHeader, list[ProductRow]]] = {}
        self.saves = 0

    def get_product_run(self, integration_id: str) -> ProductRun | None:
        return self.runs.get(integration_id)

    def put_product_run(self, run: ProductRun) -> None:
        self.runs[run.integration_id] = run

    def start_product_run(self, integration_id: str, run_id: str, now: datetime, lock_expires_at: datetime) -> bool:
        run = self.runs.get(integration_id)
        if run is None or run.run_id != run_id or run.status is not ProductRunStatus.QUEUED:
            return False
        update = {"status": ProductRunStatus.RUNNING, "started_at": now, "lock_expires_at": lock_expires_at}
        self.runs[integration_id] = run.model_copy(update=update)
        return True

    def save_product_run(self, run: ProductRun) -> bool:
        current = self.runs.get(run.integration_id)
        if current is None or current.run_id != run.run_id:
            return False
        self.runs[run.integration_id] = run
        self.saves += 1
        return True

    def put_product_report(self, header: ProductReportHeader, rows: Sequence[ProductRow]) -> None:
        self.reports[header.integration_id] = (header, list(rows))

    def product_report(self, integration_id: str) -> tuple[ProductReportHeader, list[ProductRow]] | None:
        return self.reports.get(integration_id)
