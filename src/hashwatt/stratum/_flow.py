"""Flow control for the pool server, sans-IO: token buckets and ordered reply slots.

Kept apart from the protocol state machine (as uvicorn keeps ``flow_control.py``) so that the
fairness rules can be read, tested and tuned on their own.
"""

from __future__ import annotations

from collections import deque


class TokenBucket:
    """A message budget: ``rate_per_s`` tokens a second, at most ``burst`` saved up.

    Time is an argument (``now_s``, any monotonic clock), so the bucket is a pure object.
    One bucket per connection and one per source address give the two levels of fairness.
    """

    __slots__ = ("burst", "rate_per_s", "tokens", "updated_s")

    def __init__(self, rate_per_s: float, burst: float, *, now_s: float) -> None:
        self.rate_per_s = rate_per_s
        self.burst = burst
        self.tokens = burst
        self.updated_s = now_s

    def _refill(self, now_s: float) -> None:
        if now_s > self.updated_s:
            self.tokens = min(self.burst, self.tokens + (now_s - self.updated_s) * self.rate_per_s)
            self.updated_s = now_s

    def available(self, now_s: float) -> bool:
        """At least one whole token is there to spend."""
        self._refill(now_s)
        return self.tokens >= 1.0

    def spend(self, now_s: float, cost: float = 1.0) -> None:
        """Take ``cost`` tokens; the balance may go negative (a debt paid back before the next turn)."""
        self._refill(now_s)
        self.tokens -= cost

    def wait_s(self, now_s: float) -> float:
        """Seconds until one whole token is available [s]."""
        self._refill(now_s)
        if self.tokens >= 1.0:
            return 0.0
        return (1.0 - self.tokens) / self.rate_per_s if self.rate_per_s > 0 else float("inf")


class ReplyQueue:
    """Replies leave in request order even when a share's answer waits for the share log.

    ``send`` queues bytes behind any reserved slot; ``reserve`` holds a place for an answer
    that comes later (``fill``); ``take`` returns what may be written now.
    """

    __slots__ = ("_ready", "_slots")

    def __init__(self) -> None:
        self._slots: deque[list[bytes | None]] | None = None  # made on first use: 10,000 idle miners
        self._ready: list[bytes] = []

    def send(self, data: bytes) -> None:
        if self._slots:  # (None or empty: nothing waits)
            self._slots.append([data])
        else:
            self._ready.append(data)

    def reserve(self) -> list[bytes | None]:
        slot: list[bytes | None] = [None]
        if self._slots is None:
            self._slots = deque()
        self._slots.append(slot)
        return slot

    def fill(self, slot: list[bytes | None], data: bytes) -> None:
        slot[0] = data
        while self._slots and self._slots[0][0] is not None:
            ready = self._slots.popleft()[0]
            assert ready is not None
            self._ready.append(ready)

    @property
    def waiting(self) -> int:
        """Reserved answers (and the replies queued behind them) not yet releasable."""
        return len(self._slots) if self._slots is not None else 0

    def take(self) -> bytes:
        if not self._ready:
            return b""
        data = b"".join(self._ready)
        self._ready.clear()
        return data
