"""信息简报 by email: .eml / mbox / Maildir files and a real IMAP server (Dovecot on loopback) become
briefs of the right unit, GBK and RFC 2047 decoded; unknown senders wait in triage and are
assigned by the duty officer; a second run doubles nothing; a bad mail is its own error; IMAP
messages are flagged seen only once kept; the tally counts a mail in the month it was sent."""

from __future__ import annotations

import base64
import datetime as dt
import json
import mailbox
import os
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import httpx
import pytest

from briefing.briefs_service import month_tally
from briefing.mail_import import assign_mail, import_mail
from briefing.mail_parse import parse_mail
from briefing.quota import QuotaError
from core.errors import WorkflowError
from core.jurisdiction import load_jurisdiction
from tests.services.dovecot import Imap, find_dovecot, running_dovecot
from tests.test_cli import run

UNIT_A = "500105003000"  # 石马河街道
UNIT_B = "500105006000"  # 观音桥街道
NOW = dt.datetime(2026, 12, 20, 4, 0, tzinfo=dt.UTC)
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _b64(text: str, charset: str) -> str:
    return base64.b64encode(text.encode(charset)).decode("ascii")


def gbk_mail(subject: str = "【信息简报】观音桥街道：夜间施工噪声专项整治", sender: str = "gyq@jb.gov.cn",
             date: str = "Mon, 30 Nov 2026 16:30:00 +0000", message_id: str = "<gbk-1@jb.gov.cn>") -> bytes:
    """What a Foxmail/政务邮箱 client sends: GB2312-labelled encoded words holding GBK-only
    characters (镕), a base64 GBK body, a GBK-named DOCX attachment, and one .exe that is refused."""
    word = "=?GB2312?B?" + _b64(subject, "gbk") + "?="
    name = "=?GBK?B?" + _b64("噪声整治（朱镕）.docx", "gbk") + "?="
    body = "各位领导：\r\n本街道开展夜间施工噪声专项整治，检查工地12处。\r\n负责人：朱镕\r\n"
    return (f"From: =?GB2312?B?{_b64('观音桥街道办', 'gbk')}?= <{sender}>\r\n"
            f"To: briefs@sthj.jb.gov.cn\r\nSubject: {word}\r\nDate: {date}\r\nMessage-ID: {message_id}\r\n"
            "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n"
            "--b1\r\nContent-Type: text/plain; charset=\"gb2312\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            f"{_b64(body, 'gbk')}\r\n"
            f"--b1\r\nContent-Type: {DOCX}; name=\"{name}\"\r\nContent-Disposition: attachment; filename=\"{name}\"\r\n"
            f"Content-Transfer-Encoding: base64\r\n\r\n{base64.b64encode(b'PK docx bytes').decode()}\r\n"
            "--b1\r\nContent-Type: application/octet-stream; name=\"run.exe\"\r\n"
            "Content-Disposition: attachment; filename=\"run.exe\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            f"{base64.b64encode(b'MZ').decode()}\r\n--b1--\r\n").encode("ascii")


def html_mail(subject: str, sender: str, date: str = "Tue, 01 Dec 2026 02:00:00 +0800",
              message_id: str | None = "<html-1@example.cn>") -> bytes:
    """An HTML-only UTF-8 mail whose markup must not survive."""
    msg = EmailMessage()
    msg["From"] = f"某单位 <{sender}>"
    msg["To"] = "briefs@sthj.jb.gov.cn"
    msg["Subject"] = subject
    msg["Date"] = date
    if message_id:
        msg["Message-ID"] = message_id
    msg.set_content("<html><head><style>p{color:red}</style><script>alert(1)</script></head><body>"
                    "<p>石马河<b>巡河</b>情况&amp;整改</p><img src=x onerror=alert(2)><p>第二段</p></body></html>",
                    subtype="html")
    return msg.as_bytes()


@pytest.fixture
def jurisdiction():
    return load_jurisdiction("jiangbei")


def test_gbk_mail_is_decoded_and_becomes_the_named_units_brief(store, jurisdiction):
    parsed = parse_mail(gbk_mail(), 5 * 1024 * 1024, 5)
    assert parsed.subject == "【信息简报】观音桥街道：夜间施工噪声专项整治"
    assert (parsed.unit_hint, parsed.rest) == ("观音桥街道", "夜间施工噪声专项整治")
    assert parsed.sender_name == "观音桥街道办" and parsed.sender == "gyq@jb.gov.cn"
    assert "负责人：朱镕" in parsed.text and "\r" not in parsed.text
    assert [f.name for f in parsed.files] == ["噪声整治（朱镕）.docx"]
    assert parsed.files[0].data == b"PK docx bytes" and parsed.files[0].mime == DOCX
    assert parsed.skipped and "run.exe" in parsed.skipped[0]

    got = import_mail(store, jurisdiction, gbk_mail(), "a.eml", NOW)
    assert (got.state, got.submitter, got.error) == ("imported", UNIT_B, None)
    assert "run.exe" in (got.note or "")
    with store.read() as tx:
        brief = tx.get_brief(got.brief_id)
    assert brief is not None and brief.title == "夜间施工噪声专项整治" and brief.submitter_name == "观音桥街道"
    assert brief.submitted_by == "邮件 gyq@jb.gov.cn" and [f[1] for f in brief.files] == ["噪声整治（朱镕）.docx"]
    # Sent 16:30 UTC on 30 November = 00:30 on 1 December in Beijing: December's brief.
    assert {r.submitter.code: r.submitted for r in month_tally(store, jurisdiction, "2026-12")}[UNIT_B] == 1
    assert {r.submitter.code: r.submitted for r in month_tally(store, jurisdiction, "2026-11")}[UNIT_B] == 0


def test_html_only_mail_is_kept_as_plain_text(store, jurisdiction):
    parsed = parse_mail(html_mail("转发：Fwd: 【信息简报】石马河街道：巡河", "x@example.cn"), 1024, 5)
    assert parsed.title == "石马河街道：巡河" and parsed.rest == "巡河"
    assert parsed.text == "石马河巡河情况&整改\n\n第二段"
    assert "<" not in parsed.text and "alert" not in parsed.text and "color" not in parsed.text


def test_unknown_sender_waits_in_triage_and_the_officer_assigns_it(store, jurisdiction):
    mail = html_mail("十二月工作动态", "office@qq.example")
    got = import_mail(store, jurisdiction, mail, "b.eml", NOW)
    assert (got.state, got.brief_id) == ("triage", None) and "office@qq.example" in (got.note or "")
    with store.read() as tx:
        assert [m.id for m in tx.list_mails(("triage",))] == [got.mail_id]
    assert {r.submitter.code: r.submitted for r in month_tally(store, jurisdiction, "2026-12")}[UNIT_A] == 0
    with pytest.raises(QuotaError):
        assign_mail(store, jurisdiction, got.mail_id, "不存在的单位", "值班员", NOW)
    brief_id = assign_mail(store, jurisdiction, got.mail_id, "石马河街道", "值班员", NOW, remember=True)
    with store.read() as tx:
        assert tx.list_mails(("triage",)) == []
        assert tx.get_brief(brief_id).submitter == UNIT_A
        assert tx.brief_senders() == {"office@qq.example": UNIT_A}
    with pytest.raises(WorkflowError):  # decided once
        assign_mail(store, jurisdiction, got.mail_id, "石马河街道", "值班员", NOW)
    # The address is remembered: its next mail is 石马河's without triage.
    again = import_mail(store, jurisdiction, html_mail("又一篇", "OFFICE@qq.example", message_id="<n2@x>"), "c", NOW)
    assert (again.state, again.submitter) == ("imported", UNIT_A)
    # A subject naming another unit than the registered address: the officer decides.
    clash = import_mail(store, jurisdiction, html_mail("观音桥街道：代报", "office@qq.example", message_id="<n3@x>"),
                        "d", NOW)
    assert clash.state == "triage" and "观音桥街道" in (clash.note or "")


def test_files_mbox_and_maildir_import_once_and_a_bad_mail_is_its_own_error(tmp_path, settings, jurisdiction):
    eml_dir = tmp_path / "eml"
    eml_dir.mkdir()
    (eml_dir / "1.eml").write_bytes(gbk_mail())
    (eml_dir / "2.eml").write_bytes(b"this is not a mail at all\r\n")
    box = mailbox.mbox(tmp_path / "briefs.mbox")
    box.add(html_mail("【信息简报】石马河街道：巡河", "a@b.cn", message_id="<m1@x>"))
    box.add(gbk_mail())  # the same mail as 1.eml: a duplicate
    box.flush()
    maildir = mailbox.Maildir(tmp_path / "Maildir")
    maildir.add(html_mail("【信息简报】华新街街道：垃圾分类", "c@d.cn", message_id=None))
    maildir.flush()
    paths = [str(eml_dir), str(tmp_path / "briefs.mbox"), str(tmp_path / "Maildir")]
    first = run(["briefs", "import-mail", *paths], settings.data_dir)
    assert first.returncode == 1, first.stderr  # one mail failed
    lines = [json.loads(x) for x in first.stdout.splitlines()]
    assert len(lines) == 5
    assert [line.get("state") for line in lines] == ["imported", None, "imported", None, "imported"]
    assert "From" in lines[1]["error"] and lines[1]["origin"].endswith("2.eml")
    assert lines[3]["duplicate"] is True
    second = run(["briefs", "import-mail", *paths], settings.data_dir)
    assert [json.loads(x).get("duplicate", False) for x in second.stdout.splitlines()] == [True, False, True, True,
                                                                                             True]
    tally = run(["briefs-tally", "--month", "2026-12"], settings.data_dir)
    counts = {json.loads(x)["name"]: json.loads(x)["submitted"] for x in tally.stdout.splitlines()}
    assert (counts["观音桥街道"], counts["石马河街道"], counts["华新街街道"], counts["江北城街道"]) == (1, 1, 1, 0)


@pytest.fixture
def imap() -> Iterator[Imap]:
    if find_dovecot() is None:
        if os.environ.get("CI"):
            pytest.fail("dovecot is not installed: .ci/run must install dovecot-imapd")
        pytest.skip("dovecot-imapd is not installed on this machine (apt-get install dovecot-imapd)")
    with running_dovecot() as server:
        yield server


def _unseen(server: Imap) -> int:
    conn = server.client()
    conn.select("INBOX")
    count = len(conn.search(None, "UNSEEN")[1][0].split())
    conn.logout()
    return count


def test_imap_import_marks_seen_only_what_it_kept(imap, settings, tmp_path, monkeypatch):
    conn = imap.client()
    for raw in (gbk_mail(), b"From: nobody\r\nSubject:\r\n\r\n", html_mail("来信", "who@x.cn")):
        conn.append("INBOX", "", None, raw)
    conn.logout()
    secret = tmp_path / "imap-password"
    secret.write_text(imap.password + "\n", encoding="utf-8")
    secret.chmod(0o644)
    for key, value in {"HOST": imap.host, "PORT": str(imap.port), "USER": imap.user, "TLS": "none",
                       "PASSWORD_FILE": str(secret)}.items():
        monkeypatch.setenv(f"ECOWATCH_BRIEF_IMAP_{key}", value)
    refused = run(["briefs", "import-mail"], settings.data_dir)
    assert refused.returncode == 1 and "chmod 600" in refused.stderr and "Traceback" not in refused.stderr
    assert _unseen(imap) == 3
    secret.chmod(0o600)
    first = run(["briefs", "import-mail"], settings.data_dir)
    lines = [json.loads(x) for x in first.stdout.splitlines()]
    assert first.returncode == 1  # the mail without a sender
    assert [line.get("state") for line in lines] == ["imported", None, "triage"]
    assert lines[0]["origin"].startswith(f"imap://{imap.user}@127.0.0.1/INBOX;UID=")
    assert _unseen(imap) == 1  # the bad one stays unread for someone to look at
    second = run(["briefs", "import-mail"], settings.data_dir)
    assert [json.loads(x).get("error") is not None for x in second.stdout.splitlines()] == [True]
    triage = [json.loads(x) for x in run(["briefs", "triage"], settings.data_dir).stdout.splitlines()]
    assert [(t["sender"], t["state_label"]) for t in triage] == [("who@x.cn", "待分拣")]
    # Died between keeping and flagging: the mail is unseen again, and is found as a duplicate.
    conn = imap.client()
    conn.select("INBOX")
    conn.store("1", "-FLAGS", "(\\Seen)")
    conn.logout()
    third = [json.loads(x) for x in run(["briefs", "import-mail"], settings.data_dir).stdout.splitlines()]
    assert [t.get("duplicate", False) for t in third] == [True, False]
    assert _unseen(imap) == 1
    monkeypatch.setenv("ECOWATCH_BRIEF_IMAP_PASSWORD", "wrong-password")
    wrong = run(["briefs", "import-mail"], settings.data_dir)
    assert wrong.returncode == 1 and "ecowatch:" in wrong.stderr and "Traceback" not in wrong.stderr


def test_assign_from_the_command_line(settings, tmp_path):
    (tmp_path / "x.eml").write_bytes(html_mail("周报", "someone@x.cn"))
    run(["briefs", "import-mail", str(tmp_path / "x.eml")], settings.data_dir)
    mail_id = json.loads(run(["briefs", "triage"], settings.data_dir).stdout)["id"]
    bad = run(["briefs", "assign", str(mail_id), "火星街道"], settings.data_dir)
    assert bad.returncode == 1 and "火星街道" in bad.stderr
    ok = run(["briefs", "assign", str(mail_id), "区城市管理局", "--remember"], settings.data_dir)
    assert ok.returncode == 0, ok.stderr
    senders = [json.loads(x) for x in run(["briefs", "senders"], settings.data_dir).stdout.splitlines()]
    assert {"address": "someone@x.cn", "submitter": "cg", "from": "database"} in senders
    assert run(["briefs", "triage"], settings.data_dir).stdout == ""
    assert Path(settings.data_dir).exists()


def test_triage_over_the_api(store, jurisdiction, api_server):
    from tests.api_seed import login, seed_users

    seed_users(store)
    first = import_mail(store, jurisdiction, html_mail("<b>来信</b>", "x@y.cn", message_id="<a1@y>"), "a", NOW)
    second = import_mail(store, jurisdiction, html_mail("广告", "spam@y.cn", message_id="<a2@y>"), "b", NOW)
    duty, leader, unit = (login(api_server, n) for n in ("duty1", "leader1", "unit_a"))
    listed = httpx.get(api_server + "/api/briefs/mail-triage", headers=leader).json()
    assert [(m["id"], m["subject"], m["state_label"]) for m in listed] == [(first.mail_id, "<b>来信</b>", "待分拣"),
                                                                           (second.mail_id, "广告", "待分拣")]
    assert httpx.get(api_server + "/api/briefs/mail-triage", headers=unit).status_code == 403
    url = f"{api_server}/api/briefs/mail-triage/{first.mail_id}"
    assert httpx.post(url + "/assign", headers=leader, json={"submitter": UNIT_A}).status_code == 403
    assert httpx.post(url + "/assign", headers=duty, json={"submitter": "火星街道"}).status_code == 422
    got = httpx.post(url + "/assign", headers=duty, json={"submitter": UNIT_A})
    assert got.status_code == 200 and got.json()["submitter"] == UNIT_A and got.json()["title"] == "<b>来信</b>"
    assert httpx.post(url + "/assign", headers=duty, json={"submitter": UNIT_A}).status_code == 409
    gone = f"{api_server}/api/briefs/mail-triage/{second.mail_id}/dismiss"
    assert httpx.post(gone, headers=duty).status_code == 204
    assert httpx.get(api_server + "/api/briefs/mail-triage", headers=duty).json() == []
    every = httpx.get(api_server + "/api/briefs/mail-triage?all=true", headers=duty)
    assert [(m["state"], m["decided_by"]) for m in every.json()] == [("assigned", "duty1"), ("dismissed", "duty1")]
    assert every.headers["x-total-count"] == "2"
    # Paged like the other lists: the same mails, a page at a time, the total in the header.
    pages = [httpx.get(api_server + f"/api/briefs/mail-triage?all=true&limit=1&offset={k}", headers=duty)
             for k in (0, 1, 2)]
    assert [p.json() for p in pages] == [every.json()[:1], every.json()[1:], []]
    assert {p.headers["x-total-count"] for p in pages} == {"2"}
    assert httpx.get(api_server + "/api/briefs/mail-triage?limit=0", headers=duty).status_code == 422
    briefs = httpx.get(api_server + "/api/briefs?month=2026-12", headers=unit).json()
    assert [b["title"] for b in briefs] == ["<b>来信</b>"]


def test_the_serve_job_reads_the_mailbox_when_configured(imap, settings, store):
    from core.settings import Settings
    from ecowatch.scheduler import Pipeline, build_scheduler

    conn = imap.client()
    conn.append("INBOX", "", None, gbk_mail())
    conn.logout()
    assert "mail" not in {j.id for j in build_scheduler(Pipeline(settings, store, [])).get_jobs()}
    configured = Settings(data_dir=settings.data_dir, brief_imap_host=imap.host, brief_imap_port=imap.port,
                          brief_imap_user=imap.user, brief_imap_password=imap.password, brief_imap_tls="none")
    pipeline = Pipeline(configured, store, [])
    assert "mail" in {j.id for j in build_scheduler(pipeline).get_jobs()}
    pipeline.mail()
    pipeline.mail()  # nothing unseen any more: nothing doubled
    with store.read() as tx:
        mails = tx.list_mails(("imported",))
    assert [m.sender for m in mails] == ["gyq@jb.gov.cn"] and _unseen(imap) == 0


def test_starttls_and_imaps_check_the_servers_certificate(settings, store):
    from briefing.mail_sources import MailSourceError, import_mailbox
    from core.settings import Settings

    if find_dovecot() is None:
        pytest.skip("dovecot-imapd is not installed on this machine (apt-get install dovecot-imapd)")
    jurisdiction = load_jurisdiction("jiangbei")
    with running_dovecot(tls=True) as server:
        conn = server.client()
        conn.append("INBOX", "", None, gbk_mail())
        conn.append("INBOX", "", None, html_mail("【信息简报】石马河街道：巡河", "a@b.cn"))
        conn.logout()
        common = {"data_dir": settings.data_dir, "brief_imap_host": server.host, "brief_imap_user": server.user,
                  "brief_imap_password": server.password}
        untrusted = Settings(**common, brief_imap_port=server.port, brief_imap_tls="starttls")
        with pytest.raises(MailSourceError, match="certificate"):
            list(import_mailbox(untrusted, store, jurisdiction))
        assert _unseen(server) == 2
        starttls = Settings(**common, brief_imap_port=server.port, brief_imap_tls="starttls",
                            brief_imap_ca_file=server.cert)
        first = list(import_mailbox(starttls, store, jurisdiction))
        assert [o.submitter for o in first] == [UNIT_B, UNIT_A] and _unseen(server) == 0
        conn = server.client()
        conn.select("INBOX")
        conn.store("1:*", "-FLAGS", "(\\Seen)")
        conn.logout()
        imaps = Settings(**common, brief_imap_port=server.ssl_port, brief_imap_tls="ssl",
                         brief_imap_ca_file=server.cert)
        again = list(import_mailbox(imaps, store, jurisdiction))
        assert [o.duplicate for o in again] == [True, True] and _unseen(server) == 0


def test_the_packs_sender_addresses_and_subject_heads(jurisdiction):
    import dataclasses

    from briefing.mail_import import whose

    pack = dataclasses.replace(jurisdiction, briefs={**jurisdiction.briefs, "senders": {
        "JCZ@Example.gov.cn": "区生态环境监测站", "old@example.gov.cn": "已撤并的单位"}})
    mail = parse_mail(html_mail("十二月监测简报", "jcz@example.gov.cn"), 1024, 5)
    assert whose(pack, {}, mail)[0].name == "区生态环境监测站"
    assert whose(pack, {"jcz@example.gov.cn": "cg"}, mail)[0].code == "cg"  # the database's is newer
    stale = parse_mail(html_mail("简报", "old@example.gov.cn"), 1024, 5)
    assert whose(pack, {}, stale) == (None, "发件地址登记的「已撤并的单位」不在报送单位之列")
    # A head that names no submitter stays part of the title; an alias names its unit.
    notice = parse_mail(html_mail("通知：巡河安排", "x@y.cn"), 1024, 5)
    assert whose(pack, {}, notice)[0] is None and notice.title == "通知：巡河安排"
    alias = next((a, u) for u in jurisdiction.units.values() for a in u.aliases)
    named = parse_mail(html_mail(f"[{alias[0]}] 巡河", "x@y.cn"), 1024, 5)
    assert whose(pack, {}, named)[0].code == alias[1].code


def test_import_on_sqlite_and_postgresql_keeps_one_row_per_mail(sql_store, jurisdiction):
    first = import_mail(sql_store, jurisdiction, gbk_mail(), "a.eml", NOW)
    # The same mail relayed again: other Message-ID, same content; then another mail, same Message-ID.
    relayed = import_mail(sql_store, jurisdiction, gbk_mail(message_id="<relay@x>"), "b.eml", NOW)
    reused = import_mail(sql_store, jurisdiction, html_mail("另一封", "x@y.cn", message_id="<gbk-1@jb.gov.cn>"),
                         "c.eml", NOW)
    assert first.state == "imported" and relayed.duplicate and reused.duplicate
    with sql_store.read() as tx:
        (kept, raw), = [tx.get_mail(m.id) for m in tx.list_mails(("imported", "triage"))]
        brief = tx.get_brief(first.brief_id)
    assert raw == gbk_mail() and kept.brief_id == first.brief_id
    assert [f[1] for f in brief.files] == ["噪声整治（朱镕）.docx"]
    assert {r.submitter.code: r.submitted for r in month_tally(sql_store, jurisdiction, "2026-12")}[UNIT_B] == 1


def test_no_subject_goes_to_triage_and_nameless_images_are_kept(store, jurisdiction, tmp_path):
    from briefing.mail_sources import import_files

    msg = EmailMessage()
    msg["From"] = "gyq@jb.gov.cn"
    msg["Date"] = "Tue, 01 Dec 2026 02:00:00 +0000"
    msg.set_content("见图。")
    msg.add_attachment(b"\x89PNG fake", maintype="image", subtype="png", disposition="inline")
    parsed = parse_mail(msg.as_bytes(), 1024, 5)
    assert parsed.title == "（无主题）" and [f.name for f in parsed.files] == ["附件1.png"]
    (tmp_path / "a.eml").write_bytes(msg.as_bytes())
    outcomes = list(import_files([tmp_path / "missing.mbox", tmp_path / "a.eml"], store, jurisdiction))
    assert outcomes[0].origin.endswith("missing.mbox") and "无法读取" in (outcomes[0].error or "")
    assert outcomes[1].state == "triage" and "没有主题" in (outcomes[1].note or "")


def _authenticated(mail: bytes, *results: str) -> bytes:
    """The mail as our receiving server hands it on: its Authentication-Results headers on top."""
    return b"".join(f"Authentication-Results: {r}\r\n".encode() for r in results) + mail


def test_the_servers_verdict_on_the_from_address():
    from briefing.mail_auth import SenderCheck, sender_auth

    ours = "mx.sthj.jb.gov.cn"

    def check(*headers: str, sender: str = "gyq@jb.gov.cn") -> tuple[SenderCheck, str]:
        got = sender_auth(headers, ours, sender)
        return got.check, got.detail

    assert check(f"{ours}; dkim=pass header.d=jb.gov.cn; spf=fail smtp.mailfrom=x.cn; dmarc=fail "
                 "header.from=jb.gov.cn") == (SenderCheck.FAIL, "dmarc=fail")
    assert check(f"{ours} 1; dmarc=pass (p=reject) header.from=jb.gov.cn") == (SenderCheck.PASS, "dmarc=pass")
    # Another server's header (or the forger's own) says nothing: RFC 8601 §5.
    assert check("evil.example; dmarc=pass header.from=jb.gov.cn") == (SenderCheck.NONE, "")
    # DKIM of an aligned (parent) domain passes; a third party's signature does not.
    assert check(f"{ours}; dkim=pass (good signature) header.d=gov.cn header.s=s1")[0] is SenderCheck.PASS
    assert check(f"{ours}; dkim=pass header.d=mailer.example; spf=softfail smtp.mailfrom=a@mailer.example") \
        == (SenderCheck.FAIL, "spf=softfail")
    assert check(f"{ours}; spf=pass smtp.mailfrom=\"bounce@jb.gov.cn\"")[0] is SenderCheck.PASS
    assert check(f"{ours}; none") == (SenderCheck.NONE, "")
    assert check() == (SenderCheck.NONE, "")


def test_with_the_servers_id_a_forged_or_unvouched_sender_waits_in_triage(store, jurisdiction):
    import dataclasses

    ours = "mx.sthj.jb.gov.cn"
    pack = dataclasses.replace(jurisdiction, briefs={**jurisdiction.briefs, "mail_authserv_id": ours,
                                                     "senders": {"jcz@jb.gov.cn": "区生态环境监测站"}})

    def brief_count() -> int:
        return sum(r.submitted for r in month_tally(store, pack, "2026-12"))

    # Forged: our server says DMARC failed; the subject's unit does not make it a brief.
    forged = import_mail(store, pack, _authenticated(
        html_mail("【信息简报】观音桥街道：巡河", "gyq@jb.gov.cn", message_id="<f1@x>"),
        f"{ours}; dmarc=fail header.from=jb.gov.cn"), "f.eml", NOW)
    assert (forged.state, forged.brief_id) == ("triage", None) and "dmarc=fail" in (forged.note or "")
    # A registered address nobody vouched for (a pass written by another server is no voucher).
    unvouched = import_mail(store, pack, _authenticated(
        html_mail("十二月监测简报", "jcz@jb.gov.cn", message_id="<u1@x>"),
        "relay.example; dmarc=pass header.from=jb.gov.cn"), "u.eml", NOW)
    assert unvouched.state == "triage" and "未认证" in (unvouched.note or "")
    assert brief_count() == 0
    # Vouched for: the registered address makes it the station's brief, as without the setting.
    vouched = import_mail(store, pack, _authenticated(
        html_mail("十二月监测简报（二）", "jcz@jb.gov.cn", message_id="<v1@x>"),
        f"{ours}; dkim=pass header.d=jb.gov.cn; dmarc=pass header.from=jb.gov.cn"), "v.eml", NOW)
    assert (vouched.state, vouched.note) == ("imported", None) and brief_count() == 1
    # A subject naming its unit needs no voucher unless the server found the sender forged.
    named = import_mail(store, pack, html_mail("【信息简报】观音桥街道：巡河二", "any@qq.example", message_id="<n1@x>"),
                        "n.eml", NOW)
    assert (named.state, named.submitter) == ("imported", UNIT_B) and brief_count() == 2
