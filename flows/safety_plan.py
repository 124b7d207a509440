"""/safetyplan: a personal safety plan built step by step (Stanley–Brown structure).

Step 5 (professionals and services) always shows the region's emergency number and crisis
lines from the table, so nobody has to type them in or keep them up to date.

The shell loads the stored plan into ``event.data["plan"]`` ({section: text}) on every
event of this flow; the flow asks, and emits ``SavePlanSection`` for each answer.
"""

from __future__ import annotations

from typing import Any, ClassVar

from flows import crisis, questions
from flows.crisis import Numbers
from flows.effects import Choice, SavePlanSection, Say
from flows.engine import FlowModel, chose, move, pressed
from flows.facts import Fact, Need
from flows.roles import Role
from flows.text import N_, Lines, Localised, Msg, Raw

# The plan for the flow that edits it, and for a client's /sos (their own plan comes first).
NEEDS = (
    Need(Fact.PLAN, commands={"safetyplan"}, flow="safetyplan"),
    Need(Fact.PLAN, commands={"sos"}, roles={Role.CLIENT}),
)

SECTIONS = (
    "warning_signs",
    "coping",
    "distractions",
    "helpers",
    "professionals",
    "safe_environment",
    "reasons",
)
TITLES = {
    "warning_signs": N_("plan.title.warning_signs"),
    "coping": N_("plan.title.coping"),
    "distractions": N_("plan.title.distractions"),
    "helpers": N_("plan.title.helpers"),
    "professionals": N_("plan.title.professionals"),
    "safe_environment": N_("plan.title.safe_environment"),
    "reasons": N_("plan.title.reasons"),
}
PROMPTS = {
    "warning_signs": N_("plan.ask.warning_signs"),
    "coping": N_("plan.ask.coping"),
    "distractions": N_("plan.ask.distractions"),
    "helpers": N_("plan.ask.helpers"),
    "professionals": N_("plan.ask.professionals"),
    "safe_environment": N_("plan.ask.safe_environment"),
    "reasons": N_("plan.ask.reasons"),
}
MAX_SECTION = 600


def plan_lines(plan: dict[str, str], numbers: Numbers) -> Lines:
    """The plan as a message: each section's title and the person's words. Step 5 (the
    professionals and services to contact in a crisis) always holds the region's emergency
    number and crisis lines, under whatever the person wrote."""
    parts: list[Msg | Raw | Localised] = [Msg(N_("plan.heading"))]
    for section in SECTIONS:
        parts.append(Msg(TITLES[section]))
        if plan.get(section):
            parts.append(Raw(plan[section]))
        elif section != "professionals":
            parts.append(Msg(N_("plan.empty_section")))
        if section == "professionals":
            parts += crisis.block(numbers).parts
    return Lines(tuple(parts))


class SafetyPlan(FlowModel):
    name = "safetyplan"
    initial = "menu"
    states: ClassVar[list[str]] = ["menu", "walk", "pick", "edit", "done"]
    final = frozenset({"done"})
    transitions: ClassVar[list[dict[str, Any]]] = [
        move("menu", "walk", "is_valid", "chose_walk", before="start_walk"),
        move("menu", "pick", "is_valid", "chose_pick"),
        move("menu", "done", "is_valid", "chose_done"),
        move("walk", "walk", "is_valid", "more_to_walk", before="save_walk"),
        move("walk", "menu", "is_valid", before="save_walk"),
        move("pick", "menu", "wants_back"),
        move("pick", "edit", "is_valid", before="remember"),
        move("edit", "menu", "is_valid", before="save_edit"),
    ]

    @property
    def plan(self) -> dict[str, str]:
        return {str(k): str(v) for k, v in dict(self.event.data.get("plan", {})).items()}

    def on_enter_menu(self) -> None:
        choices = (
            Choice(Msg(N_("plan.walk")), "sp:walk"),
            Choice(Msg(N_("plan.pick")), "sp:pick"),
            Choice(Msg(N_("plan.done")), "sp:done"),
        )
        self.ask(plan_lines(self.plan, self.person.numbers), choices)

    def parse_menu(self) -> str | None:
        return questions.parse_choice(self.event, "sp:", ("walk", "pick", "done"))

    chose_walk = chose("walk")
    chose_pick = chose("pick")
    chose_done = chose("done")

    def on_enter_done(self) -> None:
        self.show_choice(Msg(N_("plan.done")))
        self.emit(Say(Msg(N_("plan.saved")), menu=True))

    # -- step by step -----------------------------------------------------------------

    def start_walk(self) -> None:
        self.ctx["index"] = 0

    @property
    def section(self) -> str:
        return SECTIONS[int(self.ctx.get("index", 0))]

    def on_enter_walk(self) -> None:
        section = self.section
        current = self.plan.get(section)
        choices = [Choice(Msg(N_("plan.keep")), "sp:keep")] if current else []
        choices.append(Choice(Msg(N_("plan.skip")), "sp:skip"))
        text = Lines(
            (Msg(TITLES[section]), Msg(PROMPTS[section]), *((Raw(current),) if current else ()))
        )
        self.ask(text, tuple(choices), 2)

    def _answer(self) -> str | None:
        if self.event.kind == "choice" and self.event.value in ("sp:keep", "sp:skip"):
            return self.event.value
        if self.event.kind == "text":
            text = " ".join(self.event.value.split())
            if text and len(text) <= MAX_SECTION and not text.startswith("/"):
                return text
        return None

    def parse_walk(self) -> str | None:
        return self._answer()

    def more_to_walk(self) -> bool:
        return int(self.ctx.get("index", 0)) + 1 < len(SECTIONS)

    def save_walk(self) -> None:
        if self.value not in ("sp:keep", "sp:skip"):
            self.emit(SavePlanSection(self.section, self.value))
            self.remember_saved(self.section, self.value)
        self.ctx["index"] = int(self.ctx.get("index", 0)) + 1

    # -- one section ------------------------------------------------------------------

    def on_enter_pick(self) -> None:
        choices = tuple(Choice(Msg(TITLES[s]), f"sp:section:{s}") for s in SECTIONS)
        self.ask(Msg(N_("plan.pick.ask")), (*choices, Choice(Msg(N_("plan.back")), "sp:back")))

    wants_back = pressed("sp:back")

    def parse_pick(self) -> str | None:
        return questions.parse_choice(self.event, "sp:section:", SECTIONS)

    def remember(self) -> None:
        self.ctx["editing"] = self.value
        self.show_choice(Msg(TITLES[self.value]))

    def on_enter_edit(self) -> None:
        section = str(self.ctx["editing"])
        self.ask(Lines((Msg(PROMPTS[section]),)), (Choice(Msg(N_("plan.clear")), "sp:clear"),))

    def parse_edit(self) -> str | None:
        if self.event.kind == "choice" and self.event.value == "sp:clear":
            return ""
        return self._answer()

    def save_edit(self) -> None:
        section = str(self.ctx.pop("editing"))
        self.emit(SavePlanSection(section, self.value))
        self.remember_saved(section, self.value)

    def remember_saved(self, section: str, text: str) -> None:
        """Show the plan with this change at once (the shell reloads it next time)."""
        plan = {**self.plan, section: text}
        self.update_data("plan", plan)
