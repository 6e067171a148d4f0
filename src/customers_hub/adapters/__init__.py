"""Adapters: SQL, cache, events, storage and auth implementations of the application ports."""
