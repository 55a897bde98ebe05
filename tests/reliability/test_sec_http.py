"""Hostile or careless requests against the real server on loopback get a clear 4xx, never a 500
nor a dropped keep-alive connection."""

from __future__ import annotations

import httpx
import pytest

from core.timeutil import utcnow
from tests.api_seed import seed_users, token_headers
from tests.conftest import TEST_SECRET


@pytest.mark.parametrize("key", ["9999-W52", "9999-12-31", "0001-01-01", "0001-W01", "1969-12-31"])
def test_briefing_key_out_of_range_is_422_on_a_kept_connection(store, api_server, key):
    seed_users(store)
    with httpx.Client(base_url=api_server, headers=token_headers("duty1", TEST_SECRET), timeout=60) as http:
        bad = http.get(f"/api/briefings/{key}", params={"format": "html"})
        assert bad.status_code == 422 and "out of range" in bad.json()["detail"]
        assert bad.headers.get("connection") != "close"
        for edge in ("1970-W01", "9998-W52", "1970-01-01", "9998-12-31"):  # the first and last that are served
            assert http.get(f"/api/briefings/{edge}", params={"format": "html"}).status_code == 200, edge


def test_an_attachment_type_a_header_cannot_carry_is_422_and_an_old_one_is_served_as_a_download(store, api_server):
    """The type of a 信息简报 attachment goes back out in Content-Type, which takes Latin-1 only: the
    fuzzer's "\U000ceafa" was kept and then every download of the file was a 500."""
    seed_users(store)
    brief = {"title": "石马河整治进展", "text": "本月完成清淤",
             "attachments": [{"name": "a.txt", "mime": "\U000ceafa", "content_base64": "eA=="}]}
    with httpx.Client(base_url=api_server, headers=token_headers("unit_a", TEST_SECRET), timeout=60) as http:
        bad = http.post("/api/briefs", json=brief)
        assert bad.status_code == 422 and "mime" in bad.text
        with store.begin() as tx:  # one kept before the body was checked
            brief_id = tx.add_brief(submitter="500105003000", submitter_name="石马河街道", title="t", text="x",
                                    at=utcnow(), by="unit_a", files=[("a.txt", "图片/png; x", b"x")])
            file_id = tx.get_brief(brief_id).files[0][0]
        got = http.get(f"/api/briefs/files/{file_id}")
        assert got.status_code == 200 and got.headers["content-type"] == "application/octet-stream"
        assert got.content == b"x"
        brief["attachments"][0]["mime"] = "image/png"
        assert http.post("/api/briefs", json=brief).status_code == 201
