"""Elasticsearch for the tests: a real server when ES_URL is set, else the osmem-server emulator.

The emulator speaks the Elasticsearch/OpenSearch API but not the official client's compatibility
media type, so this test-only node class rewrites ``application/vnd.elasticsearch+json;
compatible-with=N`` to ``application/json``. Production code never uses it.
"""

from __future__ import annotations

from typing import Any

from elastic_transport import Urllib3HttpNode


class CompatRewritingNode(Urllib3HttpNode):
    """Urllib3 node that sends plain ``application/json`` media types (for the emulator only)."""

    def perform_request(self, method: str, target: str, body: bytes | None = None,
                        headers: Any = None, **kwargs: Any) -> Any:
        if headers is not None:
            headers = headers.copy()
            for key in ("accept", "content-type"):
                if key in headers and "compatible-with" in headers[key]:
                    headers[key] = "application/json"
        return super().perform_request(method, target, body=body, headers=headers, **kwargs)
