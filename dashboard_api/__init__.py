"""The FastAPI service and the Chinese web console. Imported only by the ``ecowatch`` CLI."""

from dashboard_api.app import create_app

__all__ = ["create_app"]
