"""ThingSpace API layer: wire models and the async HTTP client. No UI, no tracking."""
