"""Tests of the journal, the callback listener and the listen command."""
