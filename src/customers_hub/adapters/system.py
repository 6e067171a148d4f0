"""The system clock and the id generator."""

from __future__ import annotations

import re
import secrets
import threading
import time
from datetime import UTC, datetime
from typing import Final

__all__ = ["PrefixedIdGenerator", "SystemClock"]


class SystemClock:
    """The current time from the operating system, timezone-aware UTC."""

    def now(self) -> datetime:
        """The current instant (aware, UTC)."""
        return datetime.now(UTC)


# Crockford's base32 in lower case: the characters sort in the order of their values, so the
# encoded ids sort like the numbers they encode.
_ALPHABET: Final = "0123456789abcdefghjkmnpqrstvwxyz"
_TIME_CHARS: Final = 10  # 50 bits: milliseconds since 1970 until the year 37 000
_RANDOM_CHARS: Final = 10  # 50 random bits
_RANDOM_BITS: Final = 5 * _RANDOM_CHARS
_PREFIX: Final = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,28}")


def _encode(value: int, width: int) -> str:
    chars = []
    for _ in range(width):
        value, digit = divmod(value, 32)
        chars.append(_ALPHABET[digit])
    return "".join(reversed(chars))


class PrefixedIdGenerator:
    """Time-sortable ids ``{prefix}_{20 characters}`` (ULID-like, lower case).

    The first 10 characters encode the millisecond of creation, the last 10 are random; within
    one millisecond the random part is incremented, so ids made by one generator sort in the
    order they were made, and ids of different processes sort by creation time to the
    millisecond. ``cust_01hx…`` fits every id column (50 characters) for prefixes up to 29.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last_ms = -1
        self._last_random = 0

    def new_id(self, prefix: str) -> str:
        """A new id starting with ``prefix`` and an underscore."""
        if not _PREFIX.fullmatch(prefix):
            raise ValueError(f"invalid id prefix {prefix!r}: letters, digits, '_'; 1-29 long")
        with self._lock:
            now_ms = time.time_ns() // 1_000_000
            if now_ms <= self._last_ms:
                # Same (or an earlier, if the clock stepped back) millisecond: stay monotonic.
                now_ms = self._last_ms
                random_part = self._last_random + 1
                if random_part >= 1 << _RANDOM_BITS:  # pragma: no cover - 2**50 ids in 1 ms
                    now_ms += 1
                    random_part = secrets.randbits(_RANDOM_BITS - 1)
            else:
                # Leave headroom below 2**50 so increments within the millisecond never wrap.
                random_part = secrets.randbits(_RANDOM_BITS - 1)
            self._last_ms, self._last_random = now_ms, random_part
        return f"{prefix}_{_encode(now_ms, _TIME_CHARS)}{_encode(random_part, _RANDOM_CHARS)}"
