"""Issue 20's import items: a bad line is that line's error and good lines land, whatever is wrong
with it (an absurd timestamp, one invalid byte, a list where text belongs, a date far ahead);
``analyze`` survives invalid UTF-8 on stdin; long texts are capped; a killed import keeps its
committed batches and leaves no orphan snapshot files behind."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

from crawlers.imports import ImportOptions, read_file

NOW = dt.datetime(2026, 12, 4, 12, 0, tzinfo=dt.UTC)


def _run(args, data_dir, stdin=None, extra_env=None):
    env = {"ECOWATCH_DATA_DIR": str(data_dir), "PATH": "/usr/bin:/bin", "LC_ALL": "C.UTF-8", **(extra_env or {})}
    return subprocess.run([sys.executable, "-m", "ecowatch.cli", *args], env=env, input=stdin,
                          capture_output=True, timeout=300)


def _line(**kw):
    return json.dumps(kw, ensure_ascii=False)


def test_an_absurd_timestamp_is_that_lines_error_and_the_rest_is_stored(tmp_path):
    path = tmp_path / "posts.jsonl"
    path.write_text("\n".join([_line(url="https://x.test/1", text="石马河发臭", published_at="2026-11-28 09:00"),
                               _line(url="https://x.test/2", text="工地噪音", published_at="99999999999999999999"),
                               _line(url="https://x.test/3", text="寸滩异味", published_at=1764295200),
                               _line(url="https://x.test/4", text="噪音", published_at=10**24)]) + "\n",
                    encoding="utf-8")
    done = _run(["import", str(path)], tmp_path / "data")
    assert done.returncode == 1, done.stderr.decode()
    assert json.loads(done.stdout)["new"] == 2
    # 20 digits raised OSError (errno 75) and 24 digits OverflowError: each escaped and lost the file.
    assert b"posts.jsonl:2: published_at: timestamp 99999999999999999999 is out of range" in done.stderr
    assert b"posts.jsonl:4: published_at: timestamp 1000000000000000000000000 is out of range" in done.stderr
    assert b"Traceback" not in done.stderr


def test_one_invalid_byte_loses_its_line_only_and_nothing_is_stored_garbled(tmp_path):
    path = tmp_path / "posts.jsonl"
    good1 = _line(url="https://x.test/1", text="石马河又黑又臭")
    good3 = _line(url="https://x.test/3", text="观音桥施工")
    path.write_bytes(good1.encode() + b"\n" + _line(url="https://x.test/2", text="x").encode()[:-3] + b"\xff\"}\n"
                     + good3.encode() + b"\n")
    parsed = read_file(path)
    assert [p.text for p in parsed.posts] == ["石马河又黑又臭", "观音桥施工"]
    errors = [(e.line, e.error.split(";")[0]) for e in parsed.errors]
    assert errors == [(2, "not valid UTF-8 (byte 0xff at column 38)")]
    # The fixed file adds exactly the line that was refused.
    data = tmp_path / "data"
    assert _run(["import", str(path)], data).returncode == 1
    path.write_text("\n".join([good1, _line(url="https://x.test/2", text="x"), good3]) + "\n", encoding="utf-8")
    again = json.loads(_run(["import", str(path)], data).stdout)
    assert (again["new"], again["duplicate"], again["errors"]) == (1, 2, 0)


def test_csv_with_one_bad_byte_keeps_its_other_rows(tmp_path):
    path = tmp_path / "export.csv"
    path.write_bytes("url,text\nhttps://x.test/1,石马河发臭\n".encode() + b"https://x.test/2,\xe5\xb7\n"
                     + "https://x.test/3,寸滩异味\n".encode())
    parsed = read_file(path)
    assert [p.text for p in parsed.posts] == ["石马河发臭", "寸滩异味"]
    assert [e.line for e in parsed.errors] == [3]


def test_a_gbk_file_is_read_and_a_big5_file_is_refused_whole(tmp_path):
    gbk = tmp_path / "gbk.csv"
    gbk.write_bytes("url,text\nhttps://x.test/1,观音桥半夜施工好吵\n".encode("gbk"))
    assert [p.text for p in read_file(gbk).posts] == ["观音桥半夜施工好吵"]
    big5 = tmp_path / "big5.csv"
    big5.write_bytes("url,text\nhttps://x.test/1,觀音橋半夜施工好吵，臭味很重\n".encode("big5"))
    done = _run(["import", str(big5)], tmp_path / "data")
    assert done.returncode == 2
    assert "neither UTF-8 nor GB18030/GBK text (it reads as big5)" in done.stderr.decode()
    assert not (tmp_path / "data" / "ecowatch.db").exists()  # refused before the store is opened


def test_a_list_where_text_belongs_and_a_date_far_ahead_are_field_errors(tmp_path):
    path = tmp_path / "posts.jsonl"
    path.write_text("\n".join([_line(text=["石马河发臭"]),
                               _line(text="工地噪音", published_at="2099-01-01 00:00"),
                               _line(text="寸滩异味", published_at="2026-12-04 20:30:00+08:00")]) + "\n",
                    encoding="utf-8")
    parsed = read_file(path, ImportOptions(now=NOW))
    assert [p.text for p in parsed.posts] == ["寸滩异味"]  # 30 minutes ahead: within the tolerance
    (first, second) = parsed.errors
    assert (first.line, first.column) == (1, "text") and "must be text, not a list" in first.error
    assert (second.line, second.column) == (2, "published_at") and "refused as a wrong date" in second.error


def test_texts_are_capped_on_import(tmp_path):
    path = tmp_path / "long.jsonl"
    path.write_text(_line(text="石马河" * 100) + "\n", encoding="utf-8")
    parsed = read_file(path, ImportOptions(now=NOW, max_chars=120))
    assert len(parsed.posts[0].text) == 120 and parsed.truncated == 1


def test_analyze_reads_invalid_utf8_on_stdin_line_by_line(tmp_path):
    stdin = (_line(id=1, text="石马河又黑又臭").encode() + b"\n" + b'{"id": 2, "text": "\xff\xfe"}\n'
             + _line(id=3, text="观音桥半夜施工好吵").encode() + b"\n")
    done = _run(["analyze"], tmp_path / "data", stdin=stdin)
    assert done.returncode == 1 and b"Traceback" not in done.stderr
    out = [json.loads(x) for x in done.stdout.decode().splitlines()]
    assert [o.get("id") for o in out] == [1, None, 3]
    assert out[1]["error"].startswith("line 2: not valid UTF-8") and "relevant" in out[0] and "relevant" in out[2]


def test_analyze_caps_text_and_evidence(tmp_path):
    text = "江北区石马河又黑又臭，观音桥工地半夜施工噪音扰民。" * 2000
    done = _run(["analyze"], tmp_path / "data", stdin=(_line(id=1, text=text) + "\n").encode(),
                extra_env={"ECOWATCH_MAX_POST_CHARS": "500", "ECOWATCH_MAX_EVIDENCE_SPANS": "3"})
    out = json.loads(done.stdout)
    assert out["truncated"] is True and len(out["evidence"]) == 3
    assert all(e["end"] <= 500 for e in out["evidence"])


def test_a_killed_import_keeps_its_batches_and_leaves_no_orphan_snapshots(tmp_path):
    total = 20_000
    path = tmp_path / "big.jsonl"
    path.write_text("".join(_line(url=f"https://x.test/{i}", text=f"第{i}条：石马河发臭") + "\n" for i in range(total)),
                    encoding="utf-8")
    data = tmp_path / "data"
    env = {"ECOWATCH_DATA_DIR": str(data), "PATH": "/usr/bin:/bin", "ECOWATCH_IMPORT_BATCH_SIZE": "200"}
    proc = subprocess.Popen([sys.executable, "-m", "ecowatch.cli", "import", str(path)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    db = data / "ecowatch.db"
    stored = 0
    deadline = time.monotonic() + 240
    while stored < 1000 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
        if db.exists():
            try:
                with sqlite3.connect(db, timeout=1) as conn:
                    stored = conn.execute("SELECT count(*) FROM raw_posts").fetchone()[0]
            except sqlite3.OperationalError:
                pass
    assert proc.poll() is None, "the import ended before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    with sqlite3.connect(db) as conn:
        kept = conn.execute("SELECT count(*) FROM raw_posts").fetchone()[0]
    assert 0 < kept < total  # committed batches survive the kill
    # Files of the batch that never committed are swept at the next start once they are old.
    hour_ago = time.time() - 7200
    for f in (data / "snapshots").rglob("*"):
        if f.is_file():
            os.utime(f, (hour_ago, hour_ago))
    again = subprocess.run([sys.executable, "-m", "ecowatch.cli", "import", str(path)], env=env,
                           capture_output=True, timeout=300, check=True)
    report = json.loads(again.stdout)
    assert (report["new"] + report["duplicate"], report["duplicate"]) == (total, kept)
    files = [f for f in (data / "snapshots").rglob("*") if f.is_file()]
    assert len(files) == total
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM raw_posts").fetchone()[0] == total


def test_a_csv_cell_beyond_csvs_default_limit_is_read_and_cut(tmp_path):
    path = tmp_path / "huge.csv"
    path.write_text("url,text\nhttps://x.test/1,石马河发臭\nhttps://x.test/2," + "臭" * 200_000 + "\n"
                    "https://x.test/3,寸滩异味\n", encoding="utf-8")
    parsed = read_file(path, ImportOptions(now=NOW, max_chars=20_000))
    assert [len(p.text) for p in parsed.posts] == [5, 20_000, 4] and not parsed.errors and parsed.truncated == 1
