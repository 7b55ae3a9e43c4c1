"""The Textual front end. Only this package imports Textual; the core never imports it."""
