"""What a classified update means to the core: the text the crisis screen reads, and the
``Event`` (or, for a forged or stale button, the short answer that takes its place)."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime

from bot.telegram.callbacks import ForgedButton
from bot.telegram.incoming import Incoming
from bot.telegram.render import AnswerButton, Outgoing, Reader, Renderer
from flows.people import Event
from flows.risk import Assessment
from flows.text import N_, Msg

log = logging.getLogger(__name__)


def screened_text(incoming: Incoming) -> str | None:
    """Every free-text message is assessed; commands' own words are not (invite codes)."""
    if incoming.kind in ("text", "edited", "media") and incoming.text:
        return incoming.text
    if incoming.kind == "command" and incoming.command != "start" and incoming.argument:
        return incoming.argument
    return None


def event_for(
    incoming: Incoming,
    renderer: Renderer,
    reader: Reader,
    step: int,
    mid_flow: bool,
    now: datetime,
) -> Event | list[Outgoing]:
    """``step`` is the number the person's current buttons carry; ``mid_flow`` whether a
    flow is waiting for an answer (an older button there is shown where they are now)."""
    if incoming.kind == "callback":
        assert incoming.callback_query_id is not None
        try:
            data = renderer.signer.verify(incoming.user_id, incoming.callback_data)
        except ForgedButton:
            log.info("refused a button with invalid data")
            text = renderer.text(reader, Msg(N_("input.forged_button")))
            return [AnswerButton(incoming.callback_query_id, text)]
        if data.kind == "command":
            name, _, argument = data.value.partition(" ")
            return Event("command", name, argument, now=now, via_button=True)
        if data.step == step:
            return Event("choice", data.value, now=now)
        if mid_flow:
            # An older question's button (or the reply to the last tap was lost in a
            # restart). Say so, and show where they are now.
            return Event("stale", data.value, now=now)
        closed = data.value.startswith("ci:")
        stale = N_("checkin.closed_button") if closed else N_("input.stale_button")
        return [AnswerButton(incoming.callback_query_id, renderer.text(reader, Msg(stale)))]
    mine = incoming.message_id
    if incoming.kind == "command":
        return Event("command", incoming.command, incoming.argument, now=now, message_id=mine)
    if incoming.kind == "text":
        command = renderer.menu_command(reader.locale, incoming.text)
        if command is not None:
            return Event("command", command, now=now, message_id=mine)
        return Event("text", incoming.text, now=now, message_id=mine)
    return Event(incoming.kind, incoming.text, now=now, message_id=mine)


def with_risk(event: Event, risk: Assessment) -> Event:
    """The event as the flows see it once its text was screened: the level found, whether
    it was about someone else, whether it was softened (a denial, the past)."""
    return replace(
        event,
        risk=risk.level.value,
        risk_about_others="third_party" in risk.categories,
        risk_softened=risk.softened,
    )
