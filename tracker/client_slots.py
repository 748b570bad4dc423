"""Open connections per client address, so that one address cannot take every slot.

Each worker process counts its own connections (its HTTP protocol takes a slot
when a connection opens and gives it back when it closes), as it counts them
against TRACKER_MAX_CONNECTIONS. A connection from a trusted proxy counts for
the client its current request names, not for the proxy, which may carry
many clients over many connections.
"""

from __future__ import annotations


class ClientSlots:
    """How many connections each address holds, at most `limit` each."""

    def __init__(self, limit: int):
        self.limit = limit
        self._held: dict[str, int] = {}

    def take(self, address: str) -> bool:
        """One more connection for `address`; False (and nothing taken) when it holds `limit`."""
        held = self._held.get(address, 0)
        if held >= self.limit:
            return False
        self._held[address] = held + 1
        return True

    def give_back(self, address: str) -> None:
        held = self._held[address] - 1
        if held:
            self._held[address] = held
        else:
            del self._held[address]

    def held(self, address: str) -> int:
        return self._held.get(address, 0)
