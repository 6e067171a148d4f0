"""Controllers, one module per resource; each exposes ``ROUTES`` (mounted under ``/api/v1``).

A handler stays thin: parse the request into a command, call one use case, shape the response
with :mod:`customers_hub.entrypoints.http.wire` and
:func:`~customers_hub.entrypoints.http.envelope.ok`.
"""
