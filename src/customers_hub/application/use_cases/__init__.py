"""One use case per operation of the API: plain async functions ``(deps, actor, command)``."""
