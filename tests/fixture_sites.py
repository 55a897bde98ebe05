"""Loopback fixture sites in the shapes of the sources ecowatch watches (real HTTP on 127.0.0.1).

One ThreadingHTTPServer answers: a district government site (list pages with paging, article
pages, a GBK section, a robots.txt that forbids /private/), the real saved pages, a message
board's JSON list + detail API, Weibo's m.weibo.cn search JSON, Tieba list pages, and faults
(timeouts, 5xx, truncated bodies, redirect loops, a 20 MB page, invalid XML, wrong charset,
garbage JSON, 403/418). Texts are fictional, shapes are real. Every request is logged in ``hits``.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

PAGES = Path(__file__).parent / "fixtures" / "pages"
FEEDS = Path(__file__).parent / "fixtures" / "feeds"

GOV_ARTICLES = {
    1: ("江北区开展嘉陵江沿岸排污口专项排查", "2026-11-20 09:30",
        "11月19日，区生态环境局联合石马河街道对嘉陵江沿岸排污口开展专项排查，共排查排污口12处。"),
    2: ("观音桥商圈夜间施工噪音扰民问题整改完成", "2026-11-22 16:05",
        "针对市民反映的观音桥商圈夜间施工噪音问题，区住建委督促施工单位调整作业时间并加装隔音屏障。"),
    3: ("寸滩街道黑臭水体治理通过验收", "2026-11-25 10:00",
        "寸滩街道辖区内两处黑臭水体完成治理，水质达到地表水Ⅴ类标准，通过市级验收。"),
    4: ("鱼嘴镇工业园区废气排放在线监测全覆盖", "2026-11-27 14:20",
        "鱼嘴镇工业园区重点排污单位已全部安装废气在线监测设备，数据实时接入区生态环境局平台。"),
}

GBK_ARTICLE = ("郭家沱街道居民反映垃圾站异味", "2026年11月26日 08:15",
               "郭家沱街道某小区居民反映，小区旁垃圾中转站夏秋季节异味明显，希望尽快加装除臭设备。")

BOARD_POSTS = {
    101: {"title": "石马河又黑又臭", "content": "鲜花港社区旁边的石马河又黑又臭，晚上味道很大，希望有关部门管一管。",
          "nickname": "江北居民", "createTime": "2026-11-27 21:14:00",
          "reply": {"content": "您好，区生态环境局已会同石马河街道现场核查，正在组织清淤。",
                    "time": "2026-11-28 10:02:00", "org": "江北区生态环境局"}},
    102: {"title": "工地半夜还在施工", "content": "大石坝街道某工地凌晨两点还在打桩，噪音太大睡不着。",
          "nickname": "失眠的人", "createTime": "2026-11-28 02:40:00", "reply": None},
    103: {"title": "洗车店污水直排", "content": "五里店街道一家洗车店把污水直接排进雨水井，流到河里。",
          "nickname": "热心市民", "createTime": "2026-11-28 08:05:00",
          "reply": {"content": "已转五里店街道办理，执法人员已责令整改。", "time": "2026-11-28 15:30:00",
                    "org": "五里店街道办事处"}},
}

WEIBO_NOW_TEXTS = [  # (mid, text, created_at, user, followers, reposts, comments, likes)
    ("5001", "江北区<a href='/n/x'>#石马河#</a>又开始臭了，住旁边真的受不了", "5分钟前",
     "重庆吃货小王", 1203, 3, 12, 40),
    ("5002", "观音桥这边半夜施工噪音太大了<br/>@江北发布 管管吧", "昨天 12:30", "夜猫子", "1.2万", 25, 88, 301),
    ("5003", "今天早上路过寸滩，空气里一股化工味", "今天 08:00", "路人甲", "3", "转发", 0, 5),
]


def gov_article_html(n: int, title: str, when: str, body: str, charset: str = "utf-8") -> str:
    """An article page in the shape of a Chongqing district government site."""
    return f"""<!DOCTYPE html><html><head><meta charset="{charset}"><title>{title}_江北区人民政府</title></head>
<body><div class="header"><a href="/gov/list.html">首页</a> <a href="/gov/list.html">政务动态</a></div>
<div class="detail"><h1 class="detail-title">{title}</h1>
<div class="detail-info"><span class="time">发布时间：{when}</span>
<span class="source">来源：江北区生态环境局</span></div>
<div class="detail-content"><p>{body}</p><p>下一步，相关部门将持续跟踪，确保问题整改到位。</p></div></div>
<div class="footer">主办：重庆市江北区人民政府办公室</div></body></html>"""


def gov_list_html(numbers: list[int], next_page: str | None, extra_links: str = "") -> str:
    items = "".join(f'<li><a href="/gov/art/{n}.html">{GOV_ARTICLES[n][0]}</a>'
                    f'<span>{GOV_ARTICLES[n][1][:10]}</span></li>' for n in numbers)
    nxt = f'<a class="next" href="{next_page}">下一页</a>' if next_page else ""
    return f"""<html><head><meta charset="utf-8"><title>政务动态</title></head><body>
<ul class="list">{items}{extra_links}</ul><div class="page">{nxt}</div></body></html>"""


def weibo_json(page: int, bump: int) -> dict:
    """m.weibo.cn/api/container/getIndex search answer: cards of type 9 and a type-11 group."""
    if page > 2:
        return {"ok": 0, "msg": "", "data": {"cards": []}}
    blogs = []
    for mid, text, created, user, fans, reposts, comments, likes in WEIBO_NOW_TEXTS:
        if (page == 1) != (mid != "5003"):
            continue
        blogs.append({"card_type": 9, "mblog": {
            "id": mid, "mid": mid, "text": text, "created_at": created, "source": "iPhone客户端",
            "reposts_count": reposts if isinstance(reposts, str) else reposts + bump,
            "comments_count": comments + bump, "attitudes_count": likes + bump,
            "user": {"id": int(mid) * 7, "screen_name": user, "followers_count": fans}}})
    cards = [*blogs[:1], {"card_type": 11, "card_group": blogs[1:]}]
    return {"ok": 1, "data": {"cardlistInfo": {"page": page + 1}, "cards": cards}}


class FixtureApp:
    """Routes → handlers; counters and logs the tests read."""

    def __init__(self) -> None:
        self.hits: list[tuple[str, str]] = []  # (path with query, user agent)
        self.weibo_bump = 0
        self.lock = threading.Lock()

    def count(self, prefix: str) -> int:
        """How many requests hit a path starting with ``prefix``."""
        return sum(1 for path, _ in self.hits if path.startswith(prefix))


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:
        return

    @property
    def app(self) -> FixtureApp:
        return self.server.app  # type: ignore[attr-defined]

    def send(self, status: int, body: bytes | str, ctype: str = "text/html; charset=utf-8",
             headers: dict[str, str] | None = None) -> None:
        data = body.encode("utf-8") if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.body = self.rfile.read(length)
        self.do_GET()

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        path, query = unquote(parts.path), parse_qs(parts.query)
        with self.app.lock:
            self.app.hits.append((self.path, self.headers.get("User-Agent", "")))
        for prefix, handler in ROUTES:
            if path == prefix or (prefix.endswith("/") and path.startswith(prefix)):
                handler(self, path, query)
                return
        self.send(404, "not found")


def _robots(h: _Handler, path: str, q: dict) -> None:
    h.send(200, "User-agent: *\nDisallow: /private/\nDisallow: /blocked/\n", "text/plain")


def _gov_list(h: _Handler, path: str, q: dict) -> None:
    if path == "/gov/list.html":
        h.send(200, gov_list_html([1, 2], "list_2.html", '<li><a href="/private/secret.html">内部</a></li>'))
    else:
        h.send(200, gov_list_html([3, 4], None))


def _gov_art(h: _Handler, path: str, q: dict) -> None:
    n = int(Path(path).stem)
    if n not in GOV_ARTICLES:
        h.send(404, "no such article")
        return
    h.send(200, gov_article_html(n, *GOV_ARTICLES[n]))


def _gbk(h: _Handler, path: str, q: dict) -> None:
    if path.endswith("list.html"):
        body = ('<html><head><meta charset="gb2312"></head><body><ul class="list">'
                '<li><a href="/gbk/1.html">郭家沱</a></li></ul></body></html>')
        h.send(200, body.encode("gbk"), "text/html")  # no charset in the header: the meta is all there is
    else:
        h.send(200, gov_article_html(1, *GBK_ARTICLE, charset="gb2312").encode("gbk"), "text/html")


def _wrong_charset(h: _Handler, path: str, q: dict) -> None:
    if path.endswith("list.html"):
        h.send(200, '<ul class="list"><li><a href="/wrongcs/people.html">x</a></li></ul>')
    else:  # UTF-8 bytes whose <meta> and HTTP header both claim GB2312
        h.send(200, (PAGES / "gne_people_1.html").read_bytes(), "text/html; charset=gb2312")


def _real(h: _Handler, path: str, q: dict) -> None:
    name = path.removeprefix("/real/")
    if name == "list.html":
        links = "".join(f'<li><a href="/real/{p.name}">{p.stem}</a></li>' for p in sorted(PAGES.glob("gne_*.html"))
                        if "list" not in p.name)
        h.send(200, f'<html><body><ul class="list">{links}</ul></body></html>')
    elif (PAGES / name).exists():
        h.send(200, (PAGES / name).read_bytes(), "text/html")
    else:
        h.send(404, "no")


def _board_list(h: _Handler, path: str, q: dict) -> None:
    page = int(q.get("page", ["1"])[0])
    ids = sorted(BOARD_POSTS)
    chunk = ids[(page - 1) * 2: page * 2]
    rows = [{"id": i, "title": BOARD_POSTS[i]["title"], "createTime": BOARD_POSTS[i]["createTime"],
             "replyStatus": 1 if BOARD_POSTS[i]["reply"] else 0} for i in chunk]
    h.send(200, json.dumps({"code": 200, "data": {"total": len(ids), "list": rows}}, ensure_ascii=False),
           "application/json; charset=utf-8")


def _board_detail(h: _Handler, path: str, q: dict) -> None:
    post = BOARD_POSTS.get(int(q.get("id", ["0"])[0]))
    if post is None:
        h.send(200, json.dumps({"code": 404, "data": None}), "application/json")
        return
    h.send(200, json.dumps({"code": 200, "data": post}, ensure_ascii=False), "application/json; charset=utf-8")


def _weibo(h: _Handler, path: str, q: dict) -> None:
    page = int(q.get("page", ["1"])[0])
    h.send(200, json.dumps(weibo_json(page, h.app.weibo_bump), ensure_ascii=False), "application/json; charset=utf-8")


def _weibo_login(h: _Handler, path: str, q: dict) -> None:
    h.send(200, json.dumps({"ok": 0, "msg": "请先登录", "url": "https://passport.weibo.cn/signin/login"},
                           ensure_ascii=False), "application/json; charset=utf-8")


def _tieba(h: _Handler, path: str, q: dict) -> None:
    # The real saved list page, its thread list wrapped in an HTML comment as Tieba ships it.
    html = (PAGES / "gne_list_tieba_1.html").read_text(encoding="utf-8")
    start = html.find('<ul id="thread_list"')
    end = html.rfind("</body>")
    if 0 < start < end:
        inner = html[start:end].replace("<!--", "").replace("-->", "")
        wrapped = '<code id="pagelet_html_frs-list/pagelet/thread_list"><!--' + inner + "--></code>"
        html = html[:start] + wrapped + html[end:]
    h.send(200, html if int(q.get("pn", ["0"])[0]) == 0 else "<html><body>无更多</body></html>")


def _fault(h: _Handler, path: str, q: dict) -> None:
    kind = path.split("/")[2]
    if kind == "list":  # a list page linking to one faulty article
        target = path.split("/")[3]
        h.send(200, f'<ul class="list"><li><a href="/fault/{target}/a.html">x</a></li></ul>')
        return
    if kind == "timeout":
        time.sleep(float(q.get("s", ["4"])[0]))
        h.send(200, "late")
    elif kind in ("500", "503"):
        h.send(int(kind), "server error")
    elif kind in ("403", "418"):
        h.send(int(kind), "go away")
    elif kind == "truncated":
        h.send_response(200)
        h.send_header("Content-Type", "text/html; charset=utf-8")
        h.send_header("Content-Length", "100000")
        h.end_headers()
        h.wfile.write(b"<html><body><h1>truncated</h1><p>" + "半截".encode() * 50)
        h.wfile.flush()
        h.close_connection = True
    elif kind == "loop":
        h.send(302, "", headers={"Location": path})
    elif kind == "huge":
        h.send(200, b"<html><body><p>" + b"x" * (20 * 1024 * 1024) + b"</p></body></html>")
    elif kind == "garbage":
        h.send(200, b"\x00\xff{]not json", "application/json")
    elif kind == "hang":
        time.sleep(600)
    else:
        h.send(404, "no such fault")


def _feeds(h: _Handler, path: str, q: dict) -> None:
    name = path.removeprefix("/feeds/")
    if name == "invalid.xml":
        h.send(200, b"<?xml version='1.0'?><rss><channel><item><title>unclosed", "application/rss+xml")
    elif name == "gbk-no-decl.xml":  # GBK bytes, no XML declaration, charset only in the header
        body = (FEEDS.parent / "jiangbei_feed.xml").read_text(encoding="utf-8")
        body = body.split("?>", 1)[1] if body.startswith("<?xml") else body
        h.send(200, body.encode("gbk"), "application/rss+xml; charset=GBK")
    elif (FEEDS / name).exists():
        h.send(200, (FEEDS / name).read_bytes(), "application/rss+xml")
    else:
        h.send(404, "no feed")


ROUTES: list[tuple[str, Callable[[_Handler, str, dict], None]]] = [
    ("/robots.txt", _robots), ("/gov/list.html", _gov_list), ("/gov/list_2.html", _gov_list),
    ("/gov/art/", _gov_art), ("/gbk/", _gbk), ("/wrongcs/", _wrong_charset), ("/real/", _real),
    ("/board/list", _board_list), ("/board/detail", _board_detail), ("/weibo/api", _weibo),
    ("/weibo/login", _weibo_login), ("/tieba/f", _tieba), ("/fault/", _fault), ("/feeds/", _feeds),
    ("/blocked/", _gov_art),
]


@contextmanager
def serve_fixture_sites() -> Iterator[tuple[str, FixtureApp]]:
    """Start the fixture sites on 127.0.0.1; yields (base URL, app)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    app = FixtureApp()
    server.app = app  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", app
    finally:
        server.shutdown()
        server.server_close()
