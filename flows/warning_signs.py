"""/warningsigns: the client's own early warning signs (2 to 5 short items), added, edited, removed.

The shell loads the current signs into ``event.data["signs"]`` as ``[[id, text], ...]`` on
every event of this flow, so the list shown is always the stored one.
"""

from __future__ import annotations

from typing import Any, ClassVar

from flows import questions
from flows.commands import parse_number
from flows.effects import Choice, RemoveSign, SaveSign, Say
from flows.engine import FlowModel, chose, move, pressed
from flows.facts import Fact, Need
from flows.text import N_, Lines, Msg, Raw, msg

NEEDS = (Need(Fact.SIGNS, commands={"warningsigns"}, flow="warningsigns"),)

MAX_SIGNS = 5
MIN_SIGNS = 2
MAX_SIGN_LENGTH = 80


class WarningSigns(FlowModel):
    name = "warningsigns"
    initial = "menu"
    states: ClassVar[list[str]] = ["menu", "adding", "pick_edit", "editing", "pick_remove", "done"]
    final = frozenset({"done"})
    transitions: ClassVar[list[dict[str, Any]]] = [
        move("menu", "adding", "is_valid", "chose_add"),
        move("menu", "pick_edit", "is_valid", "chose_edit"),
        move("menu", "pick_remove", "is_valid", "chose_remove"),
        move("menu", "done", "is_valid", "chose_done"),
        move("adding", "menu", "is_valid", before="save_new"),
        move("pick_edit", "editing", "is_valid", before="remember_pick"),
        move("editing", "menu", "is_valid", before="save_edit"),
        move("pick_remove", "menu", "is_valid", before="remove_pick"),
        move(["adding", "pick_edit", "editing", "pick_remove"], "menu", "wants_back"),
    ]

    @property
    def signs(self) -> list[tuple[int, str]]:
        return [(int(i), str(t)) for i, t in self.event.data.get("signs", [])]

    wants_back = pressed("ws:back")

    # -- menu ------------------------------------------------------------------------

    def on_enter_menu(self) -> None:
        signs = self.signs
        if signs:
            listing = Lines(
                (
                    Msg(N_("signs.list")),
                    *(Raw(f"{n}. {text}") for n, (_, text) in enumerate(signs, 1)),
                )
            )
        else:
            listing = Lines((Msg(N_("signs.none")),))
        hint = Msg(N_("signs.hint_add_more")) if len(signs) < MIN_SIGNS else None
        text = Lines((*listing.parts, hint)) if hint else listing
        choices: list[Choice] = []
        if len(signs) < MAX_SIGNS:
            choices.append(Choice(Msg(N_("signs.add")), "ws:add"))
        if signs:
            choices.append(Choice(Msg(N_("signs.edit")), "ws:edit"))
            choices.append(Choice(Msg(N_("signs.remove")), "ws:remove"))
        choices.append(Choice(Msg(N_("signs.done")), "ws:done"))
        self.ask(text, tuple(choices), 2)

    def parse_menu(self) -> str | None:
        return questions.parse_choice(self.event, "ws:", ("add", "edit", "remove", "done"))

    def chose_add(self) -> bool:
        return self.value == "add" and len(self.signs) < MAX_SIGNS

    def chose_edit(self) -> bool:
        return self.value == "edit" and bool(self.signs)

    def chose_remove(self) -> bool:
        return self.value == "remove" and bool(self.signs)

    chose_done = chose("done")

    def on_enter_done(self) -> None:
        self.show_choice(Msg(N_("signs.done")))
        self.emit(Say(Msg(N_("signs.saved")), menu=True))

    # -- adding, editing, removing a sign --------------------------------------------

    def _typed_sign(self) -> str | None:
        if self.event.kind != "text":
            return None
        text = " ".join(self.event.value.split())
        if not text or len(text) > MAX_SIGN_LENGTH or text.startswith("/"):
            return None
        return text

    def _sign_too_long(self) -> None:
        self.ask(msg(N_("signs.too_long"), limit=MAX_SIGN_LENGTH), self._back())

    def _back(self) -> tuple[Choice, ...]:
        return (Choice(Msg(N_("signs.back")), "ws:back"),)

    def _ask_pick(self, pressed: str, question: str) -> None:
        self.show_choice(Msg(pressed))
        self.ask(
            Msg(question),
            (
                *(Choice(Raw(text[:40]), f"ws:pick:{sign_id}") for sign_id, text in self.signs),
                *self._back(),
            ),
            1,
        )

    def _picked(self) -> int | None:
        if self.event.kind != "choice" or not self.event.value.startswith("ws:pick:"):
            return None
        raw = self.event.value.removeprefix("ws:pick:")
        ids = {sign_id for sign_id, _ in self.signs}
        number = parse_number(raw)
        return number if number in ids else None

    # Adding and editing read a typed sign alike; both lists to pick from read a pick alike.
    parse_adding = parse_editing = _typed_sign
    reask_adding = reask_editing = _sign_too_long
    parse_pick_edit = parse_pick_remove = _picked

    def on_enter_adding(self) -> None:
        self.show_choice(Msg(N_("signs.add")))
        self.ask(Msg(N_("signs.add.ask")), self._back())

    def save_new(self) -> None:
        self.emit(SaveSign(None, self.value))
        self.data_changed(added=self.value)

    def on_enter_pick_edit(self) -> None:
        self._ask_pick(N_("signs.edit"), N_("signs.edit.pick"))

    def remember_pick(self) -> None:
        self.ctx["editing"] = self.value
        self.show_choice(Raw(dict(self.signs)[self.value][:40]))

    def on_enter_editing(self) -> None:
        self.ask(Msg(N_("signs.edit.ask")), self._back())

    def save_edit(self) -> None:
        sign_id = int(self.ctx.pop("editing"))
        self.emit(SaveSign(sign_id, self.value))
        self.data_changed(edited=(sign_id, self.value))

    def on_enter_pick_remove(self) -> None:
        self._ask_pick(N_("signs.remove"), N_("signs.remove.pick"))

    def remove_pick(self) -> None:
        self.show_choice(Raw(dict(self.signs)[self.value][:40]))
        self.emit(RemoveSign(self.value))
        self.data_changed(removed=self.value)

    def data_changed(
        self,
        added: str | None = None,
        edited: tuple[int, str] | None = None,
        removed: int | None = None,
    ) -> None:
        """Keep the list shown next in step with what was just saved."""
        signs = self.signs
        if added is not None:
            signs.append((0, added))
        if edited is not None:
            signs = [(i, edited[1] if i == edited[0] else t) for i, t in signs]
        if removed is not None:
            signs = [(i, t) for i, t in signs if i != removed]
        self.update_data("signs", [list(sign) for sign in signs])
