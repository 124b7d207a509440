"""Who someone is to the program: the roles, and which of them are staff."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    CLIENT = "client"
    FAMILY = "family"
    PEER_WORKER = "peer_worker"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"

    @property
    def has_alias(self) -> bool:
        """Staff are known to clients by an alias they choose."""
        return self in STAFF


# Peer workers and supervisors: they hold chats, and are not sent the crisis reply.
STAFF = frozenset({Role.PEER_WORKER, Role.SUPERVISOR})
