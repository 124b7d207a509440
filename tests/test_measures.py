"""When a questionnaire may be asked (flows/measures.py): never in quiet hours, within a day
of a crisis, while paused, blocked or talking with a worker; the alliance only about one
worker; and how each is scored."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from flows.effects import RecordMeasure, Say
from flows.escalation import Party
from flows.measures import ALLIANCE, WHO5, MeasureDue, decide, score
from flows.people import PersonView, Rules
from flows.roles import Role

RULES = Rules(quiet_start=time(22, 0), quiet_end=time(8, 0))
ZONE = "Asia/Shanghai"
ANNA = PersonView(1, Role.CLIENT, "en", ZONE, onboarded=True)
LIN = Party(2, Role.PEER_WORKER, "Lin")


@given(
    at=st.datetimes(
        min_value=datetime(2026, 1, 1), max_value=datetime(2028, 1, 1), timezones=st.just(UTC)
    ),
    crisis_hours_ago=st.none() | st.floats(0, 72),
    held=st.booleans(),
    paused=st.booleans(),
    measure=st.sampled_from([WHO5, ALLIANCE]),
    partner=st.booleans(),
)
def test_asked_only_when_nothing_forbids_it_and_always_looked_at_again_later(
    at: datetime,
    crisis_hours_ago: float | None,
    held: bool,
    paused: bool,
    measure: str,
    partner: bool,
) -> None:
    crisis = at - timedelta(hours=crisis_hours_ago) if crisis_hours_ago is not None else None
    person = PersonView(1, Role.CLIENT, "en", ZONE, onboarded=True, paused=paused)
    timed = decide(
        MeasureDue(measure, person, at, crisis, held, False, LIN if partner else None), RULES
    )
    asked = bool(timed.effects)
    local = at.astimezone(ZoneInfo(ZONE)).time()
    forbidden = (
        RULES.is_quiet(local)
        or (crisis is not None and at - crisis < timedelta(days=1))
        or held
        or paused
        or (measure == ALLIANCE and not partner)
    )
    assert asked == (not forbidden)
    assert timed.due > at


def test_a_day_after_a_crisis_it_waits_until_the_day_is_over() -> None:
    now = datetime(2026, 12, 1, 4, tzinfo=UTC)  # noon in Shanghai
    crisis = now - timedelta(hours=3)
    timed = decide(MeasureDue(WHO5, ANNA, now, crisis), RULES)
    assert timed.effects == ()
    assert timed.due == crisis + timedelta(days=1)


def test_in_quiet_hours_it_waits_for_the_morning() -> None:
    now = datetime(2026, 12, 1, 15, tzinfo=UTC)  # 23:00 in Shanghai
    timed = decide(MeasureDue(WHO5, ANNA, now), RULES)
    assert timed.effects == ()
    assert timed.due == datetime(2026, 12, 2, 0, tzinfo=UTC)  # 08:00 in Shanghai


def test_the_alliance_invitation_names_the_worker_and_its_button_carries_them() -> None:
    now = datetime(2026, 12, 1, 4, tzinfo=UTC)
    (say,) = decide(MeasureDue(ALLIANCE, ANNA, now, partner=LIN), RULES).effects
    assert isinstance(say, Say)
    assert "Lin" in repr(say.text)
    assert say.choices[0].value == f"/measure alliance start {LIN.id}"


def test_scores() -> None:
    assert score(WHO5, (5, 5, 5, 5, 5)) == 100
    assert score(WHO5, (4, 3, 1, 2, 4)) == 56
    assert score(ALLIANCE, (5, 5, 5)) == 100
    assert score(ALLIANCE, (1, 1, 1)) == 20
    assert RecordMeasure(WHO5, (1, 2)).worker_id is None
