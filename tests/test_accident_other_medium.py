"""One accident told in two media is one incident, whichever side tells the accident: a chemical
plant's fire is open as air (black smoke, an explosion told), and its firefighting water running
black into the ditch tells no accident of its own. The water post looked only at water incidents
while the rule (``alerts.grouping.Accidents.links``) would have joined it to the fire's (bench/burst.py's
viral fire ended as two incidents, air and water). Real SQLite store, the real analyser and rule."""

# ruff: noqa: F811  (pytest fixtures imported from the tests that define them, used as arguments)
from __future__ import annotations

import datetime as dt

from tests.test_briefing import add, config, incident_of, jurisdiction, local  # noqa: F401  (fixtures)

T0 = local(2026, 12, 3, 14)
FIRE = "鱼嘴镇那家化工厂着火了，消防车来了好多辆在救火，黑烟冲天，刺鼻的味道飘到我们小区"
WATER = "鱼嘴化工厂救火的水黑黢黢的，顺着沟沟往江里头流，会不会污染长江哦"
TAP = "鱼嘴镇我们小区的自来水这几天发黄，烧开了还有沉淀，物业说不晓得"


def test_the_fires_water_joins_the_fires_incident(store, analyzer, config):
    fire = add(store, analyzer, config, FIRE, T0, "居民甲", "https://weibo.example/fire1")
    water = add(store, analyzer, config, WATER, T0 + dt.timedelta(minutes=40), "居民乙",
                "https://weibo.example/fire2")
    opened = incident_of(store, fire)
    assert opened.topic == "air"
    with store.read() as tx:
        analysed = tx.get_analysis(water)
    assert analysed is not None and analysed.topic == "water"  # the water post is of another medium
    assert incident_of(store, water).id == opened.id


def test_a_water_complaint_of_the_unit_sharing_no_event_word_stays_apart(store, analyzer, config):
    fire = add(store, analyzer, config, FIRE, T0, "居民甲", "https://weibo.example/fire1")
    tap = add(store, analyzer, config, TAP, T0 + dt.timedelta(minutes=40), "居民丙", "https://weibo.example/tap1")
    assert incident_of(store, tap).id != incident_of(store, fire).id
