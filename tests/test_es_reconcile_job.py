"""The scheduler runs reconcile: a cluster that lost the copy is refilled, and the log says how much."""

from __future__ import annotations

import logging
import uuid

from elasticsearch import Elasticsearch

from core.models import Analysis, Polarity, RawPost
from ecowatch.scheduler import Pipeline, build_scheduler
from storage.es_posts import EsPostIndex


def test_reconcile_job_is_scheduled_and_reports_what_it_refilled(settings, store, es_target, analyzer, caplog):
    url, options = es_target
    with store.begin() as tx:
        tx.add_posts([RawPost(source="s", text=f"石马河污水直排 第{i}条", url=f"http://r/{i}") for i in range(3)])
        for i in range(1, 4):
            tx.save_analysis(i, Analysis(True, "石马河街道", "500105003000", 1.0, ["water"], Polarity.NEG, 0.1),
                             tx.get_post(i).fetched_at)
    pipeline = Pipeline(settings.model_copy(update={"es_url": url}), store, [])
    pipeline._analyzer = analyzer
    pipeline._es = EsPostIndex(Elasticsearch(url, **options), prefix=f"r{uuid.uuid4().hex[:10]}")
    pipeline._es.ensure_template()
    assert build_scheduler(pipeline).get_job("reconcile") is not None
    pipeline.index()
    with caplog.at_level(logging.INFO, logger="ecowatch.scheduler"):
        pipeline.reconcile()  # nothing lost: nothing to say
    assert not [r for r in caplog.records if "reconcile" in r.getMessage()]
    pipeline._es.client.indices.delete(index=pipeline._es.pattern)  # the cluster loses the copy
    with caplog.at_level(logging.INFO, logger="ecowatch.scheduler"):
        pipeline.reconcile()
    said = [r.getMessage() for r in caplog.records if "reconcile" in r.getMessage()]
    assert said == ["elasticsearch reconcile: cluster held 0 of 3 posts sent; 3 re-sent"]
    pipeline._es.refresh()
    assert pipeline._es.count() == 3
