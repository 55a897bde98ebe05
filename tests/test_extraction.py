"""Extraction of title, body and date on every real saved page (tests/fixtures/pages/), plus the
real list pages (Tieba, NetEase forum, 163 news) and the GBK page. Pure: no network."""

from __future__ import annotations

import datetime as dt

import pytest
from parsel import Selector

from core.timeutil import SHANGHAI
from crawlers.parsers.article import extract_article
from crawlers.parsers.charset import decode_html
from crawlers.parsers.tieba import parse_thread_list
from crawlers.spiders.site import article_links
from tests.conftest import FIXTURES

PAGES = FIXTURES / "pages"

# Expected values read off each page by hand (its <title>, the date printed by the article, a
# sentence of the body), not from the extractor's output.
ARTICLES = [
    ("gne_cjn_1.html", "外媒眼中的武汉长假", "2020-10-04 20:30", "国庆中秋长假过半"),
    ("gne_gzggw_1.html", "1-10月德清县固定资产投资结构趋稳趋优", "2016-11-22", "全县固定资产投资完成246.79亿元"),
    ("gne_other_1.html", "关于批准财政部发行特别国债购买外汇", "2007-08-20", "第十届全国人民代表大会常务委员会第二"),
    ("gne_people_1.html", "女儿出嫁，郑板桥画了几笔兰花当嫁妆", "2019-06-15 08:18", "父亲的教诲像一盏灯"),
    ("gne_shanxi_1.html", "山西品牌丝路行（南美站）正式启动", "2019-09-18 06:23", "山西品牌丝路行首次登陆巴西"),
    ("gne_sxmu_1.html", "中华人民共和国监察法", "2018-05-17", "推进全面依法治国"),
    ("gne_thepaper_2.html", "广州南沙邮轮母港即将开通", "2019-08-13 14:07", "邮轮"),
    ("gne_xinhuanet_1.html", "法国全国大罢工再次严重影响交通", "2019-12-10 07:57", "首都巴黎交通几乎完全瘫痪"),
    ("gne_zsnews_1.html", "顺德区大良街道党工委委员潘卓辉一行到众创金融街开展调研工作",
     "2019-03-06",
     "佛山顺德区大良街道党工委委员"),
    # The baijiahao page's body really is another story than its title.
    ("gne_baijiahao_1.html", "韩庚将在新西兰大婚", "2019-10-08", "贝辛斯托克"),
    ("gne_sina_1.html", "为何老外却说“了不得”", "2019-11-25 18:57", "因为这里充满了活力"),
    ("gne_wechat_1.html", "三星 Galaxy S20 系列手机正式发布", "2020-02-12", "三星在美国旧金山举行发布会"),
    # A photo gallery: its captions live in a script object, so only title and date are checked.
    ("gne_toutiao_2.html", "最不愁吃肉的国家", "2019-09-08 11:42", None),
]


def _local(text: str) -> dt.datetime:
    fmt = "%Y-%m-%d %H:%M" if " " in text else "%Y-%m-%d"
    return dt.datetime.strptime(text, fmt).replace(tzinfo=SHANGHAI)


@pytest.mark.parametrize("name,title,date,snippet", ARTICLES, ids=[a[0] for a in ARTICLES])
def test_real_article_pages(name, title, date, snippet):
    html = decode_html((PAGES / name).read_bytes())
    article = extract_article(html)
    assert title in article.title
    # No replacement characters of our making (thepaper's page carries some in its own bytes).
    assert (article.title + article.text).count("\ufffd") <= html.count("\ufffd")
    assert article.published_at is not None
    local = article.published_at.astimezone(SHANGHAI)
    expected = _local(date)
    if " " in date:
        assert local.replace(second=0) == expected
    else:
        assert local.date() == expected.date()
    if snippet:
        assert snippet in article.text.replace("\n", "")
        assert len(article.text) > 150


def test_every_real_page_is_covered():
    covered = {a[0] for a in ARTICLES} | {"jb51_homepage_gbk.html", "gne_list_tieba_1.html",
                                          "gne_list_netease_forum_1.html", "gne_list_163_1.html"}
    assert {p.name for p in PAGES.glob("*.html")} == covered


def test_declared_gb2312_but_utf8_page_decodes():
    body = (PAGES / "gne_people_1.html").read_bytes()
    assert b"GB2312" in body[:2000].upper()
    assert "郑板桥" in decode_html(body, "gb2312")  # even when the HTTP header repeats the lie


def test_real_gbk_page_decodes_and_lists_links():
    body = (PAGES / "jb51_homepage_gbk.html").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")
    text = decode_html(body)
    sel = Selector(text=text)
    assert sel.css("title::text").get().startswith("脚本之家")
    assert "\ufffd" not in text
    links = article_links(sel, "http://www.jb51.net/", {"link_pattern": r"/article/\d+\.htm"})
    assert len(links) > 20 and all(u.startswith("http://www.jb51.net/article/") for u in links)


def test_real_tieba_list_page():
    now = dt.datetime(2020, 8, 3, 12, 0, tzinfo=dt.UTC)
    html = (PAGES / "gne_list_tieba_1.html").read_text(encoding="utf-8")
    items = parse_thread_list(html, "https://tieba.baidu.com/f?kw=x", "tieba", now)
    assert len(items) >= 45
    first = next(i for i in items if i["url"].endswith("/p/6854540762"))
    assert first["title"].startswith("独家采访！江苏男子订铁笼自杀")
    assert first["author"] == "关注朋朋"
    assert first["engagement"] == {"comments": 531}
    assert first["published_at"].astimezone(SHANGHAI).date() == dt.date(2020, 8, 1)  # printed "8-1"
    assert all(i["author"] and i["title"] for i in items)


def test_real_list_pages_give_article_links():
    sel = Selector(text=decode_html((PAGES / "gne_list_163_1.html").read_bytes()))
    links = article_links(sel, "https://news.163.com/", {"link_pattern": r"news\.163\.com/\d{2}/\d{4}/"})
    assert len(links) >= 50 and len(set(links)) == len(links)
    forum = Selector(text=decode_html((PAGES / "gne_list_netease_forum_1.html").read_bytes()))
    threads = article_links(forum, "https://n.netease.com/", {"link": "a::attr(href)", "link_pattern": r"thread-\d+"})
    assert len(threads) >= 30


def test_rules_win_over_extraction_and_date_formats_apply():
    html = """<html><body><div class="t">排污口排查</div>
    <div class="c"><p>第一段。</p><p>第二段。</p></div>
    <span class="d">发布于 28/11/2026 09:30</span></body></html>"""
    rules = {"title": "div.t::text", "body": "div.c p::text", "date": "span.d::text",
             "date_formats": ["%d/%m/%Y %H:%M"]}
    article = extract_article(html, None, rules)
    assert article.title == "排污口排查" and article.text == "第一段。\n第二段。"
    assert article.published_at == dt.datetime(2026, 11, 28, 1, 30, tzinfo=dt.UTC)
