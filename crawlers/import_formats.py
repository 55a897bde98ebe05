"""The export layouts ``ecowatch import`` recognises by their column names, and how each one's
columns map onto a post.

Each layout is written from the exporting tool's own field list (tests/fixtures/imports/
PROVENANCE.md names the repository and file each list was read from). A file is matched against
the layouts in order, most specific first: a layout matches when every one of its ``signature``
columns is present. A file no layout matches is read with ecowatch's own names and their common
aliases (:data:`GENERIC`); ``--map`` or a mapping file overrides any of it.

Weibo exporters all get the post address ``https://m.weibo.cn/detail/<id>`` (MediaCrawler's own
``note_url``), so one post exported by two tools is stored once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

WEIBO_URL = "https://m.weibo.cn/detail/{}"

# Our field → the columns other collectors use for it, in order of preference (the fallback).
GENERIC_FIELDS: dict[str, tuple[str, ...]] = {
    "url": ("url", "note_url", "aweme_url", "video_url", "link", "链接", "URL", "原文链接", "网址"),
    "title": ("title", "标题"),
    "text": ("text", "content", "desc", "note_content", "内容", "正文"),
    "author": ("author", "nickname", "user_nickname", "user_name", "screen_name", "作者", "发布者"),
    "published_at": ("published_at", "create_date_time", "publish_time", "create_time", "time", "created_at",
                     "发布时间"),
    "source": ("source", "来源", "站点"),
    "reposts": ("reposts", "shared_count", "share_count", "reposts_count", "转发", "转发数"),
    "comments": ("comments", "comments_count", "comment_count", "total_replay_num", "评论", "评论数"),
    "likes": ("likes", "liked_count", "attitudes_count", "digg_count", "点赞", "点赞数"),
    "followers": ("followers", "fans", "followers_count", "粉丝数"),
    # The post this one answers (a comment's or reply's thread), as a URL.
    "reply_to": ("reply_to", "in_reply_to", "parent_url", "thread_url"),
}
FIELDS = tuple(GENERIC_FIELDS)


@dataclass(frozen=True, slots=True)
class ImportFormat:
    """One exporter's layout: which columns say it is this exporter and where each field is."""

    name: str
    signature: tuple[str, ...]
    fields: Mapping[str, tuple[str, ...]]
    source: str | None = None  # the posts' source; None: the row's own "source" field, else the file's name
    url_from: tuple[str, str] | None = None  # (id column, address template) when the export has no URL column
    thread_from: tuple[str, str] | None = None  # (parent post's id column, its address): a comment's reply_to
    keyword_column: str | None = None  # the search keyword, appended to the source (MediaCrawler's source_keyword)
    ignored: tuple[str, ...] = field(default=())  # columns known to mean something else (weibo's "source" = app)

    def matches(self, headers: Iterable[str]) -> bool:
        """Whether every signature column is among ``headers``."""
        return set(self.signature) <= set(headers)

    def column_for(self, name: str, headers: Iterable[str]) -> str | None:
        """The first of this layout's columns for field ``name`` that the file has."""
        present = set(headers)
        return next((c for c in self.fields.get(name, ()) if c in present), None)


def _mc(platform: str, signature: tuple[str, ...], fields: Mapping[str, tuple[str, ...]],
        url_from: tuple[str, str] | None = None, thread_from: tuple[str, str] | None = None) -> ImportFormat:
    return ImportFormat(f"MediaCrawler {platform}", signature, fields, source=f"mediacrawler:{platform.split()[0]}",
                        url_from=url_from, thread_from=thread_from, keyword_column="source_keyword")


_MC_COMMENT = {"text": ("content",), "author": ("nickname",), "published_at": ("create_date_time", "create_time"),
               "likes": ("comment_like_count", "like_count"), "comments": ("sub_comment_count",)}

GENERIC = ImportFormat("ecowatch / generic", (), GENERIC_FIELDS)

# Most specific first: MediaCrawler's comment files share columns with its post files.
FORMATS: tuple[ImportFormat, ...] = (
    # NanmiCoder/MediaCrawler store/douyin/__init__.py: update_dy_aweme_comment, update_douyin_aweme
    _mc("douyin comments", ("comment_id", "aweme_id"), _MC_COMMENT,
        thread_from=("aweme_id", "https://www.douyin.com/video/{}")),
    _mc("douyin", ("aweme_id", "aweme_url"), {
        "url": ("aweme_url",), "title": ("title",), "text": ("desc",), "author": ("nickname",),
        "published_at": ("create_time",), "likes": ("liked_count",), "comments": ("comment_count",),
        "reposts": ("share_count",)}),
    # store/bilibili/__init__.py and store/kuaishou/__init__.py
    _mc("bilibili comments", ("comment_id", "video_id", "sex"), _MC_COMMENT,
        thread_from=("video_id", "https://www.bilibili.com/video/av{}")),
    _mc("kuaishou comments", ("comment_id", "video_id"), _MC_COMMENT,
        thread_from=("video_id", "https://www.kuaishou.com/short-video/{}")),
    _mc("bilibili", ("video_id", "video_coin_count"), {
        "url": ("video_url",), "title": ("title",), "text": ("desc",), "author": ("nickname",),
        "published_at": ("create_time",), "likes": ("liked_count",), "comments": ("video_comment",),
        "reposts": ("video_share_count",)}),
    _mc("kuaishou", ("video_id", "viewd_count"), {
        "url": ("video_url",), "title": ("title",), "text": ("desc",), "author": ("nickname",),
        "published_at": ("create_time",), "likes": ("liked_count",)}),
    # store/xhs/__init__.py: a note's address carries a per-session token, so comments keep no thread
    _mc("xhs comments", ("comment_id", "note_id", "pictures"), _MC_COMMENT),
    # model/m_baidu_tieba.py (TiebaComment, TiebaNote): a comment names its post's own address
    _mc("tieba comments", ("comment_id", "note_id", "tieba_name"), {
        "text": ("content",), "author": ("user_nickname",), "published_at": ("publish_time",),
        "comments": ("sub_comment_count",), "reply_to": ("note_url",)}),
    # store/weibo/__init__.py: update_weibo_note_comment, update_weibo_note
    _mc("weibo comments", ("comment_id", "note_id", "comment_like_count"), _MC_COMMENT,
        thread_from=("note_id", WEIBO_URL)),
    _mc("tieba", ("note_id", "tieba_name"), {
        "url": ("note_url",), "title": ("title",), "text": ("desc",), "author": ("user_nickname",),
        "published_at": ("publish_time",), "comments": ("total_replay_num",)}),
    # Recognised by columns it has had all along (xsec_token came later), so older exports match too.
    _mc("xhs", ("note_id", "image_list", "tag_list"), {
        "url": ("note_url",), "title": ("title",), "text": ("desc",), "author": ("nickname",),
        "published_at": ("time",), "likes": ("liked_count",), "comments": ("comment_count",),
        "reposts": ("share_count",)}),
    _mc("weibo", ("note_id", "content"), {
        "url": ("note_url",), "text": ("content",), "author": ("nickname",),
        "published_at": ("create_date_time", "create_time"), "likes": ("liked_count",),
        "comments": ("comments_count",), "reposts": ("shared_count",)}, url_from=("note_id", WEIBO_URL)),
    # model/m_zhihu.py ZhihuContent, ZhihuComment: a comment names only its content's id, whose
    # address depends on the content type (an answer's needs the question id), so it keeps no thread
    _mc("zhihu comments", ("comment_id", "content_id"), {
        "text": ("content",), "author": ("user_nickname",), "published_at": ("publish_time",),
        "likes": ("like_count",), "comments": ("sub_comment_count",)}),
    _mc("zhihu", ("content_id", "content_text", "content_url"), {
        "url": ("content_url",), "title": ("title",), "text": ("content_text", "desc"), "author": ("user_nickname",),
        "published_at": ("created_time",), "likes": ("voteup_count",), "comments": ("comment_count",)}),
    # dataabc/weibo-crawler weibo.py get_result_headers (CSV, Chinese headers; 头条文章url since 2020)
    ImportFormat("weibo-crawler CSV", ("bid", "正文", "日期"), {
        "text": ("正文",), "published_at": ("日期", "发布时间"), "author": ("用户昵称", "发布者"),
        "likes": ("点赞数",), "comments": ("评论数",), "reposts": ("转发数",)},
        source="weibo-crawler", url_from=("id", WEIBO_URL)),
    # dataabc/weibo-crawler weibo.py write_json / weibo_to_mysql (English keys; "source" is the app)
    ImportFormat("weibo-crawler JSON", ("bid", "text", "attitudes_count"), {
        "text": ("text",), "published_at": ("created_at",), "author": ("screen_name",),
        "likes": ("attitudes_count",), "comments": ("comments_count",), "reposts": ("reposts_count",)},
        source="weibo-crawler", url_from=("id", WEIBO_URL), ignored=("source",)),
    # dataabc/weibo-search weibo/pipelines.py CsvPipeline
    ImportFormat("weibo-search CSV", ("bid", "微博正文", "发布时间"), {
        "text": ("微博正文",), "published_at": ("发布时间",), "author": ("用户昵称",),
        "likes": ("点赞数",), "comments": ("评论数",), "reposts": ("转发数",)},
        source="weibo-search", url_from=("id", WEIBO_URL)),
    # dataabc/weiboSpider weibo_spider/writer/csv_writer.py (Chinese) and json_writer.py (English keys,
    # under {"user": {"nickname"...}, "weibo": [...]}); the address is the one weiboSpider prints
    # (weibo_spider/weibo.py: https://weibo.cn/comment/<id>)
    ImportFormat("weiboSpider CSV", ("微博id", "微博正文", "发布时间"), {
        "text": ("微博正文",), "published_at": ("发布时间",), "likes": ("点赞数",), "comments": ("评论数",),
        "reposts": ("转发数",)}, source="weiboSpider", url_from=("微博id", "https://weibo.cn/comment/{}")),
    ImportFormat("weiboSpider JSON", ("content", "publish_time", "up_num"), {
        "text": ("content",), "published_at": ("publish_time",), "author": ("nickname",), "likes": ("up_num",),
        "comments": ("comment_num",), "reposts": ("retweet_num",)},
        source="weiboSpider", url_from=("id", "https://weibo.cn/comment/{}")),
    # 12345 / 问政 work-order spreadsheets: the address is the title, so analysis sees where it is
    ImportFormat("12345 work orders", ("工单编号", "诉求内容"), {
        "title": ("诉求地址",), "text": ("诉求内容",), "published_at": ("受理时间",)}, source="12345"),
    # Common 舆情 system exports (标题, 内容/正文, 发布时间, 来源/站点, 链接/URL, 作者, 转发/评论/点赞/阅读)
    ImportFormat("舆情系统导出", ("标题", "发布时间"), {
        "title": ("标题",), "text": ("内容", "正文", "摘要"), "published_at": ("发布时间",),
        "source": ("来源", "站点", "媒体名称"), "url": ("链接", "URL", "url", "原文链接", "网址"),
        "author": ("作者", "发布者"), "reposts": ("转发", "转发数"), "comments": ("评论", "评论数"),
        "likes": ("点赞", "点赞数")}),
)


def recognise(headers: Iterable[str]) -> ImportFormat:
    """The first known layout whose signature columns are all in ``headers``, else :data:`GENERIC`."""
    present = list(headers)
    return next((f for f in FORMATS if f.matches(present)), GENERIC)


def with_mapping(base: ImportFormat, mapping: Mapping[str, str]) -> ImportFormat:
    """``base`` with the fields named in ``mapping`` (our field → the file's column) read from those
    columns instead; ValueError naming an unknown field."""
    unknown = sorted(set(mapping) - set(FIELDS))
    if unknown:
        raise ValueError(f"unknown field(s) in the mapping: {', '.join(unknown)} (fields: {', '.join(FIELDS)})")
    fields = {**base.fields, **{k: (v,) for k, v in mapping.items()}}
    return ImportFormat(f"{base.name} + mapping", (), fields, source=base.source, url_from=base.url_from,
                        thread_from=base.thread_from, keyword_column=base.keyword_column, ignored=base.ignored)


def parse_map_option(text: str) -> dict[str, str]:
    """``text=内容,published_at=发布时间`` → {"text": "内容", ...}; ValueError when malformed."""
    out: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, sep, column = part.partition("=")
        if not sep or not name.strip() or not column.strip():
            raise ValueError(f"--map wants field=column pairs separated by commas, not {part!r}")
        out[name.strip()] = column.strip()
    return out


def read_mapping_file(text: str) -> dict[str, str]:
    """A TOML mapping file: a ``[columns]`` table (or top-level keys) of field = "column"."""
    import tomllib

    data = tomllib.loads(text)
    table = data.get("columns", data)
    if not isinstance(table, dict) or not all(isinstance(v, str) for v in table.values()):
        raise ValueError('a mapping file holds field = "column" pairs, optionally under [columns]')
    return dict(table)
