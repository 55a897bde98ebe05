"""Collection: feed readers, Scrapy spiders and file imports that turn sources into raw posts."""
