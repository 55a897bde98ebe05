"""The duty job: one pass of paging (:mod:`alerts.paging`) then hand-overs (:mod:`alerts.handover`),
as the scheduler runs it every minute and ``ecowatch rota run --now`` runs it once.

Both work from stored times and the rota, so a pass for a given ``now`` is repeatable and the
first pass after downtime acts for the shift on duty then, once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

from alerts.config import AlertsConfig
from alerts.handover import HandoverReport, run_handovers
from alerts.paging import Linker, PagingReport, run_paging
from storage.sql import SqlStore


def run_duty(store: SqlStore, config: AlertsConfig, channels: Collection[str], now: dt.datetime,
             link: Linker | None = None) -> tuple[PagingReport, HandoverReport]:
    """Page, climb, then write and chase hand-overs, each in its own transaction."""
    paging = run_paging(store, config, channels, now, link)
    with store.begin() as tx:
        handovers = run_handovers(tx, config, channels, now)
    return paging, handovers
