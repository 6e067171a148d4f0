"""Entrypoints: the HTTP service, the CLI and the composition root."""
