"""Scrapy extensions of ecowatch's crawls."""
