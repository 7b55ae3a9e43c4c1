"""Fixtures of the desk's stories: both journal backends, as the tracking tests have them."""

from tests.tracking.journal_backends import (  # noqa: F401  (fixtures: both journal backends)
    journal_location,
    postgres_server,
    postgres_url,
)
