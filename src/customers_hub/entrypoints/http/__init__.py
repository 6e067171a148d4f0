"""The HTTP service (Litestar): build it with :func:`customers_hub.entrypoints.http.app.create_app`."""
