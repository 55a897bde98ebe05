"""Scrapy spiders, one per site family; per-site rules are data (``sources.toml``)."""
