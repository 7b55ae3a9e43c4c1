"""Reusable widgets: header, status bar, identifier input, device card."""
