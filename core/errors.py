"""Documented exceptions shared by every stage.

Components raise these; orchestrators (the CLI, the scheduler, pipelines) catch them, record them
where a user can see them, and carry on with the rest of the batch.
"""


class EcowatchError(Exception):
    """Base class of every error ecowatch raises on purpose."""


class NotConfigured(EcowatchError):
    """A component is switched off by configuration (e.g. Elasticsearch without ES_URL).

    Raised from ``from_settings``; the caller skips the component and logs why.
    """


class ConfigError(EcowatchError):
    """Configuration or a jurisdiction pack is malformed; the message says which file and field."""


class DropPost(EcowatchError):
    """A pipeline refuses a post (empty, malformed, duplicate); the orchestrator counts it."""


class FetchError(EcowatchError):
    """A source could not be fetched or parsed; recorded against that source."""


class StoreError(EcowatchError):
    """The store refused or failed an operation."""


class WorkflowError(EcowatchError):
    """A workflow action is not allowed in the incident's current state."""


class NotFoundError(EcowatchError):
    """A record named by id does not exist (the API maps this to 404)."""
