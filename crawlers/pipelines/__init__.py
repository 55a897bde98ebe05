"""Scrapy item pipelines: validate and store raw posts."""
