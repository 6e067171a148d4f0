"""Names between the domain (snake_case attributes) and the API (camelCase field paths)."""

from __future__ import annotations

import re


def camel_case(snake: str) -> str:
    """``total_deal_value`` → ``totalDealValue`` (the API's field names)."""
    head, *rest = snake.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def snake_case(camel: str) -> str:
    """``totalDealValue`` → ``total_deal_value``; a dotted path maps segment by segment
    (``preferences.budgetMin`` → ``preferences.budget_min``)."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", camel).lower()
