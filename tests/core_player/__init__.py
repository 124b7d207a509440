"""Plays exact transcripts (``tests/exact.py``) against the core, with its facts in memory:
no database, no python-telegram-bot Application, no scheduler; a transcript takes
milliseconds.

Around ``flows.conversation`` this does what the shell does, the in-memory way: the same
``Incoming`` (``bot.telegram.incoming.classify``) and crisis screen, the ``Event`` the
dispatcher builds, the facts the core asks for (``flows.conversation.facts_for``) from
tables in memory, the effects applied to them (each by one applier, as
``bot.applying.Appliers``), and every message rendered by the real ``Renderer`` and
translator and sent through the real ``Outbox`` to the in-memory Bot API, so each line
compared is what the whole bot sends. By feature: ``checkins``, ``family``,
``escalations`` (the desk and the relay), ``crisis``; ``stage`` handles one update.

What needs the rest of the shell (the scheduler and its clocks, role changes, erasure and
export, a blocked chat, the early-warning flags' bookkeeping) is not here: an effect, a fact
or a step this player does not know raises :class:`Unplayable`, never passes silently. Such
a transcript runs on the whole bot (the default; ``runs: core`` in its header moves it here).
"""

from tests.core_player.host import Unplayable
from tests.core_player.stage import CoreStage

__all__ = ["CoreStage", "Unplayable"]
