"""Names between the domain (snake_case attributes) and the API (camelCase field paths)."""

from __future__ import annotations


def camel_case(snake: str) -> str:
    """``total_deal_value`` → ``totalDealValue`` (the API's field names)."""
    head, *rest = snake.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)
