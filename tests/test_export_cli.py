"""``ecowatch export`` run as a user runs it (a real subprocess): the same rows as the API's
export with the same filters, a bad filter is one clear line, too many rows is refused."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys

from openpyxl import load_workbook

from briefing.exports import INCIDENT_COLUMNS, POST_COLUMNS
from core.models import Grade, State
from tests.api_seed import UNIT_A, UNIT_B, add_incident


def _run(settings, *args, **env):
    environ = dict(os.environ, ECOWATCH_DATA_DIR=str(settings.data_dir), **env)
    return subprocess.run([sys.executable, "-m", "ecowatch.cli", "export", *args], env=environ, capture_output=True,
                          text=True, timeout=120, check=False)


def test_export_incidents_and_posts_from_the_command_line(store, settings, tmp_path):
    a = add_incident(store, title="@石马河又黑又臭", text="石马河又黑又臭，河水黑臭", unit_code=UNIT_A,
                     unit="石马河街道", grade=Grade.ORANGE)
    b = add_incident(store, title="观音桥噪声扰民", text="观音桥夜间施工噪声，河道黑臭", unit_code=UNIT_B,
                     unit="观音桥街道", topic="noise", state=State.SIGNED)
    out = tmp_path / "事件.csv"
    proc = _run(settings, "incidents", "--out", str(out), "--grade", "orange", "--grade", "blue", "--state", "assigned")
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert rows[0] == [c.header for c in INCIDENT_COLUMNS] and [r[0] for r in rows[1:]] == [str(a)]
    assert rows[1][1] == "'@石马河又黑又臭"  # inert
    xlsx = tmp_path / "帖子.xlsx"
    proc = _run(settings, "posts", "--q", "黑臭", "--format", "xlsx", "--out", str(xlsx), "--sort", "newest")
    assert proc.returncode == 0, proc.stderr
    sheet = [list(r) for r in load_workbook(xlsx).active.iter_rows(values_only=True)]
    assert sheet[0] == [c.header for c in POST_COLUMNS] and [r[1] for r in sheet[1:]] == [b, a]


def test_export_refuses_bad_filters_and_too_many_rows(store, settings, tmp_path):
    for n in range(3):
        add_incident(store, title=f"石马河{n}", text="石马河黑臭", unit_code=UNIT_A, unit="石马河街道")
    out = tmp_path / "x.csv"
    bad = _run(settings, "incidents", "--out", str(out), "--state", "open")
    assert bad.returncode == 2 and "open: not one of new" in bad.stderr and "Traceback" not in bad.stderr
    assert _run(settings, "incidents", "--out", str(out), "--since", "yesterday").returncode == 2
    assert not out.exists()
    big = _run(settings, "incidents", "--out", str(out), ECOWATCH_EXPORT_MAX_ROWS="2")
    assert big.returncode == 1 and "3 incidents match" in big.stderr and not out.exists()
    assert _run(settings, "incidents", "--out", str(out), ECOWATCH_EXPORT_MAX_ROWS="3").returncode == 0
