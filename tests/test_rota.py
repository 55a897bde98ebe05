"""The duty rota (值班排班): an office's 值班表 in CSV and XLSX, line-by-line errors with nothing
half-imported, the holiday calendar's 调休 days, time zones, who is on duty, gaps, overrides."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest

from alerts.duty import DutyError, duty_board, import_rota, override
from alerts.rota import RotaPolicy, gaps, page_threshold
from core.duty import ShiftKind, Tier
from core.models import Grade, State
from core.passwords import hash_password
from core.timeutil import SHANGHAI
from storage.sql import SqlStore, open_store
from tests.api_seed import add_incident
from tests.test_cli import run

EXAMPLE = Path(__file__).parent.parent / "deploy" / "config" / "rota.example.csv"
POLICY = RotaPolicy()
HEADER = "日期,班次,值班员,电话,备班,备班电话,带班领导,领导电话,备注\n"
OFFICERS = ("张伟", "李娜", "王强", "刘洋")
LEADERS = ("陈建国", "赵敏")
NOW = dt.datetime(2026, 10, 1, 9, 0, tzinfo=SHANGHAI)


def bj(text: str) -> dt.datetime:
    """A Beijing time, aware."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def add_people(store: SqlStore) -> None:
    """The example rota's people as console users (duty officers and leaders), plus a unit user."""
    digest = hash_password("password-123")
    with store.begin() as tx:
        for name in OFFICERS:
            tx.add_user(name, "duty", None, digest, NOW)
        for name in LEADERS:
            tx.add_user(name, "leader", None, digest, NOW)
        tx.add_user("石马河街道", "unit", "500105001", digest, NOW)


def write(tmp_path: Path, body: str, name: str = "rota.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_text(HEADER + body, encoding=encoding)
    return path


def test_the_example_rota_imports_and_follows_the_holiday_calendar(store, tmp_path):
    add_people(store)
    parsed, replaced = import_rota(store, EXAMPLE, POLICY, "admin", NOW)
    assert parsed.errors == [] and parsed.warnings == [] and replaced == 0
    with store.read() as tx:
        shifts = tx.shifts_between(bj("2026-10-05T00:00"), bj("2026-10-19T08:30"))
        # 02:10 on Saturday 10-10 (a 调休 make-up working day): still Friday's night officer;
        # from 08:30 that Saturday has a day desk, as a working day does.
        make_up = duty_board(tx, POLICY, bj("2026-10-10T02:10"))
        make_up_day = duty_board(tx, POLICY, bj("2026-10-10T09:00"))
        plain = duty_board(tx, POLICY, bj("2026-10-17T02:10"))
        plain_day = duty_board(tx, POLICY, bj("2026-10-17T09:00"))
        log = tx.duty_log_between(NOW - dt.timedelta(days=1), dt.datetime.now(dt.UTC) + dt.timedelta(days=1))
    assert len(shifts) == 22
    assert make_up.current and make_up.current.kind is ShiftKind.NIGHT and make_up.current.primary.name == "王强"
    assert make_up.current.duty_date == dt.date(2026, 10, 9) and make_up.current.backup.name == "刘洋"
    assert make_up.current.ends_at == bj("2026-10-10T08:30")
    assert make_up_day.current.kind is ShiftKind.DAY and make_up_day.current.primary.name == "刘洋"
    assert plain.current.kind is ShiftKind.NIGHT and plain.current.primary.name == "刘洋"
    assert plain_day.current.kind is ShiftKind.FULL and plain_day.current.ends_at == bj("2026-10-18T08:30")
    assert [entry["kind"] for entry in log] == ["import"] and log[0]["detail"]["shifts"] == 22
    # Re-importing replaces the days the file covers: nothing doubled.
    _, again = import_rota(store, EXAMPLE, POLICY, "admin", NOW)
    with store.read() as tx:
        assert again == 22 and len(tx.shifts_between(bj("2026-10-05T00:00"), bj("2026-10-19T08:30"))) == 22


def test_bad_lines_each_get_an_error_and_nothing_is_imported(store, tmp_path):
    add_people(store)
    path = write(tmp_path, "\n".join([
        "2026-10-12,白班,张伟,13800000001,李娜,13800000002,陈建国,13900000001,",  # good
        "2026-10-12,夜班,无名氏,13800000001,,,陈建国,,",  # unknown person
        "2026-10-13,白班,李娜,1380000,,,陈建国,,",  # bad phone
        "2026-10-13,夜班,石马河街道,13800000002,,,陈建国,,",  # a unit user is no duty officer
        "2026-10-11,白班,王强,13800000003,,,赵敏,,",  # Sunday 10-11 is a rest day: 全天 only
        "2026-10-14,早班,王强,13800000003,,,赵敏,,",  # no such shift
        "2026-10-32,白班,王强,13800000003,,,赵敏,,",  # no such date
        "2026-10-14,白班,王强,13800000003,,,赵敏,,",
        "2026-10-14,白班,刘洋,13800000004,,,赵敏,,",  # the same desk twice: overlap
        "2026-10-15,白班,刘洋,,,,,,",  # no phone, no leader
    ]) + "\n")
    parsed, _ = import_rota(store, path, POLICY, "admin", NOW)
    text = "\n".join(parsed.errors)
    for expected in ("line 3: 值班员 '无名氏' is not an active console user",
                     "line 4: 电话 '1380000' is not a mobile",
                     "line 5: 值班员 '石马河街道' is a unit user",
                     "line 6: 2026-10-11 is a rest day or holiday under the holiday calendar: its shifts are 全天",
                     "line 7: 班次 '早班' is not one of 白班, 夜班, 全天",
                     "line 8: 日期 '2026-10-32' is not a date",
                     "line 10: 2026-10-14 白班",
                     "overlaps line 9",
                     "line 11: 电话 is empty", "line 11: 带班领导 is empty"):
        assert expected in text, (expected, text)
    assert "line 2" not in text
    with store.read() as tx:
        assert tx.shifts_between(bj("2026-10-01T00:00"), bj("2026-11-01T00:00")) == []
        assert tx.duty_log_between(NOW - dt.timedelta(days=1), dt.datetime.now(dt.UTC) + dt.timedelta(days=1)) == []


def test_xlsx_gbk_csv_foreign_time_zones_and_an_unknown_year(store, tmp_path):
    from openpyxl import Workbook

    add_people(store)
    book = Workbook()
    sheet = book.active
    sheet.title = "值班表"
    sheet.append(["江北区生态环境局 2026年10月值班表"])  # a title line above the header is usual
    sheet.append(["日期", "班次", "值班员", "电话", "带班领导", "开始", "结束"])
    sheet.append([dt.datetime(2026, 10, 12), "白班", "张伟", 13800000001.0, "陈建国", None, None])
    # A shift written in UTC: 09:30Z is 17:30 in Beijing; read as Beijing time, and warned about.
    sheet.append(["2026-10-12", "夜班", "李娜", "+86 138-0000-0002", "赵敏", "2026-10-12T09:30:00Z", "08:30"])
    book.save(tmp_path / "rota.xlsx")
    parsed, _ = import_rota(store, tmp_path / "rota.xlsx", POLICY, "admin", NOW)
    assert parsed.errors == []
    assert parsed.warnings == ["line 4: 开始 given in UTC+0000, read as 北京时间 10-12 17:30"]
    with store.read() as tx:
        night = duty_board(tx, POLICY, bj("2026-10-13T02:00")).current
    assert night and night.primary.name == "李娜" and night.primary.phone == "13800000002"
    assert night.starts_at == bj("2026-10-12T17:30") and night.ends_at == bj("2026-10-13T08:30")
    # An office's Excel saves CSV in GBK; a year the calendar does not know is warned, weekdays assumed.
    gbk = write(tmp_path, "2031-03-03,白班,王强,13800000003,,,赵敏,,\n2031-03-08,全天,刘洋,13800000004,,,赵敏,,\n",
                "gbk.csv", "gb18030")
    parsed, _ = import_rota(store, gbk, POLICY, "admin", NOW)
    assert parsed.errors == [] and len(parsed.shifts) == 2
    assert parsed.warnings[0].startswith("the holiday calendar does not know 2031 yet")


def test_a_shift_overlapping_a_kept_day_is_refused_whole(store, tmp_path):
    add_people(store)
    import_rota(store, EXAMPLE, POLICY, "admin", NOW)
    # A 10-19 day shift starting 07:00 would overlap 10-18's 全天 (until 08:30), which the file keeps.
    path = tmp_path / "rota.csv"
    path.write_text("日期,班次,值班员,电话,带班领导,开始\n2026-10-19,白班,张伟,13800000001,陈建国,07:00\n"
                    "2026-10-20,白班,王强,13800000003,赵敏,\n", encoding="utf-8")
    parsed, _ = import_rota(store, path, POLICY, "admin", NOW)
    assert len(parsed.errors) == 1 and "overlaps the stored 2026-10-18 全天" in parsed.errors[0]
    with store.read() as tx:
        assert tx.shifts_between(bj("2026-10-19T12:00"), bj("2026-10-21T00:00")) == []


def test_day_and_night_page_thresholds():
    assert page_threshold(bj("2026-10-10T02:10"), POLICY) is Grade.ORANGE
    assert page_threshold(bj("2026-10-10T10:00"), POLICY) is Grade.YELLOW
    assert page_threshold(bj("2026-10-10T17:30"), POLICY) is Grade.ORANGE


def test_gaps_are_the_stretches_nobody_covers(store):
    add_people(store)
    import_rota(store, EXAMPLE, POLICY, "admin", NOW)
    with store.read() as tx:
        shifts = tx.shifts_between(bj("2026-10-01T00:00"), bj("2026-10-25T00:00"))
        board = duty_board(tx, POLICY, bj("2026-10-15T09:00"))  # 7 days ahead: the rota ends 10-19 08:30
    assert gaps(shifts, bj("2026-10-06T00:00"), bj("2026-10-18T00:00")) == []
    assert board.gaps == [(bj("2026-10-19T08:30"), bj("2026-10-22T09:00"))]
    assert gaps(shifts, bj("2026-10-04T20:00"), bj("2026-10-05T10:00")) == [(bj("2026-10-04T20:00"),
                                                                            bj("2026-10-05T08:30"))]


def test_override_records_who_approved_it(store):
    add_people(store)
    import_rota(store, EXAMPLE, POLICY, "admin", NOW)
    with store.read() as tx:
        night = duty_board(tx, POLICY, bj("2026-10-10T02:10")).current
    with store.begin() as tx:
        changed = override(tx, night.id, Tier.PRIMARY, "张伟", "13800000001", approved_by="陈建国", reason="代班",
                           actor="admin", now=NOW)
    assert changed.primary.name == "张伟" and changed.backup.name == "刘洋"
    for bad in ({"name": "石马河街道"}, {"name": "无名氏"}, {"phone": "12"}, {"approved_by": " "}):
        args = {"name": "李娜", "phone": None, "approved_by": "陈建国"} | bad
        with pytest.raises(DutyError), store.begin() as tx:
            override(tx, night.id, Tier.PRIMARY, args["name"], args["phone"], approved_by=args["approved_by"],
                     reason="", actor="admin", now=NOW)
    with store.read() as tx:
        assert tx.get_shift(night.id).primary.name == "张伟"
        entries = [e for e in tx.duty_log_between(NOW, dt.datetime.now(dt.UTC) + dt.timedelta(days=1))
                   if e["kind"] == "override"]
    assert len(entries) == 1
    assert {k: entries[0]["detail"][k] for k in ("from", "to", "approved_by")} == {"from": "王强", "to": "张伟",
                                                                                  "approved_by": "陈建国"}


def test_rota_from_the_command_line(tmp_path):
    data = tmp_path / "data"
    store = open_store(f"sqlite:///{data / 'ecowatch.db'}")
    add_people(store)
    store.dispose()
    bad = write(tmp_path, "2026-10-12,白班,无名氏,13800000001,,,陈建国,,\n")
    proc = run(["rota", "import", str(bad)], data)
    assert proc.returncode == 1 and "error: line 2: 值班员 '无名氏'" in proc.stderr
    assert json.loads(proc.stdout)["stored"] == 0
    unreadable = run(["rota", "import", str(tmp_path / "missing.csv")], data)
    assert unreadable.returncode == 1 and "Traceback" not in unreadable.stderr
    csv_copy = shutil.copy(EXAMPLE, tmp_path / "rota.csv")
    done = run(["rota", "import", str(csv_copy)], data)
    assert done.returncode == 0 and json.loads(done.stdout)["stored"] == 22
    now = json.loads(run(["rota", "now", "--now", "2026-10-10T02:10:00+08:00"], data).stdout)
    assert now["on_duty"]["primary"] == {"name": "王强", "phone": "13800000003"}
    assert now["on_duty"]["shift_label"] == "夜班" and now["on_duty"]["ends_at"] == "2026-10-10T08:30:00+08:00"
    assert now["next"]["shift_label"] == "白班" and now["next"]["primary"]["name"] == "刘洋"
    day = [json.loads(line) for line in run(["rota", "show", "--date", "2026-10-17"], data).stdout.splitlines()]
    assert [(s["date"], s["shift_label"]) for s in day] == [("2026-10-16", "夜班"), ("2026-10-17", "全天")]
    out = tmp_path / "back.xlsx"
    assert json.loads(run(["rota", "export", str(out), "--month", "2026-10"], data).stdout)["shifts"] == 22
    assert json.loads(run(["rota", "import", str(out), "--dry-run"], data).stdout)["shifts"] == 22
    # One pass of the duty job at 02:10 pages the night officer; they take it; the log says so.
    store = open_store(f"sqlite:///{data / 'ecowatch.db'}")
    add_incident(store, title="河面死鱼", text="石马河 死鱼", unit_code=None, unit=None, state=State.NEW,
                 grade=Grade.ORANGE, opened_at=bj("2026-10-10T02:10"))
    store.dispose()
    passed = json.loads(run(["rota", "run", "--now", "2026-10-10T02:10:00+08:00"], data).stdout)
    assert passed["pages_opened"] == 1 and passed["paged"] == 1 and passed["messages"] == 1  # the feed
    unit = run(["rota", "ack", "1", "--actor", "石马河街道"], data)  # a unit user may not
    assert unit.returncode == 1 and "角色 'unit' 不能确认接警" in unit.stderr and "Traceback" not in unit.stderr
    nobody = run(["rota", "ack", "1", "--actor", "值班员"], data)  # the CLI's default desk name: no console user
    assert nobody.returncode == 1 and "not a console user" in nobody.stderr
    assert json.loads(run(["rota", "ack", "1", "--actor", "王强"], data).stdout)["acknowledged_by"] == "王强"
    again = run(["rota", "ack", "1", "--actor", "王强"], data)
    assert again.returncode == 1 and "not waiting" in again.stderr
    log = json.loads(run(["rota", "log", "--month", "2026-10", "--out", str(tmp_path / "log.docx")], data).stdout)
    assert log["shifts"] == 22 and (tmp_path / "log.docx").read_bytes()[:2] == b"PK"


def test_the_daily_report_warns_of_rota_gaps_days_ahead(store):
    """Issue 15 item 5: a shift with nobody on the rota shows in the daily duty report days ahead
    (the pack's gap_warn_days, as on the console and in the hand-over note), in DOCX and HTML."""
    from briefing.period import daily
    from briefing.service import build_briefing, render
    from core.jurisdiction import load_jurisdiction
    from tests.test_briefing import docx_tables

    jurisdiction = load_jurisdiction("jiangbei")
    # No rota kept: nothing to warn of (a bureau without a rota is not told daily its desk is empty).
    assert build_briefing(store, jurisdiction, daily("2026-10-15"), bj("2026-10-15T08:00")).rota_gaps == []
    add_people(store)
    import_rota(store, EXAMPLE, POLICY, "admin", NOW)
    # The report of 10-15 is handed over at 07:30; the rota ends 10-19 08:30: a gap 7 days ahead.
    report = build_briefing(store, jurisdiction, daily("2026-10-15"), bj("2026-10-15T08:00"))
    assert report.rota_gaps == [(bj("2026-10-19T08:30"), bj("2026-10-22T07:30"))]
    assert docx_tables(render(report, "docx"))["值班表空档"] == [["起", "止", "时长（小时）"],
                                                             ["10-19 08:30", "10-22 07:30", "71"]]
    html = render(report, "html").decode("utf-8")
    assert "值班表空档：以下 1 个时段无人值班" in html and "10-19 08:30" in html
    # Well inside the rota, the report has nothing to warn of.
    assert build_briefing(store, jurisdiction, daily("2026-10-08"), bj("2026-10-08T08:00")).rota_gaps == []
    # The weekly briefing is no hand-over: no such section.
    from briefing.period import iso_week
    assert "值班表空档" not in render(build_briefing(store, jurisdiction, iso_week("2026-W42"),
                                                   bj("2026-10-19T08:00")), "html").decode("utf-8")


def test_exported_rota_is_inert_in_excel_and_imports_again_unchanged(store, tmp_path):
    from openpyxl import load_workbook

    from alerts.rota_file import rota_rows, write_rota

    add_people(store)
    hostile = "=cmd|' /C calc'!A0"  # once ran a program when Excel opened the file
    path = write(tmp_path, f"2026-10-12,白班,张伟,+86 138-0000-0001,,,陈建国,,{hostile}\n"
                           "2026-10-13,白班,李娜,13800000002,,,赵敏,,-夜间加强巡查\n")
    parsed, _ = import_rota(store, path, POLICY, "admin", NOW)
    assert parsed.errors == []
    with store.read() as tx:
        shifts = [s for s in tx.shifts_between(bj("2026-10-12T00:00"), bj("2026-10-14T00:00"))]
    table = rota_rows(shifts, POLICY)
    write_rota(tmp_path / "out.csv", table)
    write_rota(tmp_path / "out.xlsx", table)
    text = (tmp_path / "out.csv").read_text(encoding="utf-8-sig")
    assert "'=cmd" in text and "'-夜间加强巡查" in text and "\n=" not in text and ",=" not in text
    sheet = load_workbook(tmp_path / "out.xlsx")["值班表"]
    notes = [row[-1] for row in sheet.iter_rows(min_row=2)]
    assert [c.value for c in notes] == ["'" + hostile, "'-夜间加强巡查"] and all(c.data_type == "s" for c in notes)
    for name in ("out.csv", "out.xlsx"):  # read back: the guard is taken off, the shifts are the same
        again, _ = import_rota(store, tmp_path / name, POLICY, "admin", NOW, dry_run=True)
        assert again.errors == [] and [s.note for s in again.shifts] == [hostile, "-夜间加强巡查"]
