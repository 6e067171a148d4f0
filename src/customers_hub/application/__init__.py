"""Use cases and ports (typing.Protocol); imports only the domain."""
