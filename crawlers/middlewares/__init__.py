"""Scrapy downloader middlewares: incremental crawling and retries with backoff."""
