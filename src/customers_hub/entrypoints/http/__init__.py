"""The HTTP service (Litestar).

Build it with :func:`customers_hub.entrypoints.http.app.create_app`.
"""
