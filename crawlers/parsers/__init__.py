"""Pure parsers: a fetched page or API body (plus ``now``) → post items; no I/O, no Scrapy."""
