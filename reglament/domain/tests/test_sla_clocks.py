"""Clocks from the event log: hand-computed cases and a minute-stepping oracle."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from reglament.domain.regulation import Case, load_regulation
from reglament.domain.sla import Event, compute_clocks
from reglament.domain.tests.oracle import MinuteOracle
from reglament.domain.tests.test_regulation_loader import VALID

ACME = load_regulation(VALID, name="acme.yaml")
MSK_OFFICE = MinuteOracle(
    "Europe/Moscow", {d: [(600, 1140)] for d in range(5)}, russian_holidays=True
)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def clocks(case: Case, events: list[Event], now: datetime):
    return {c.metric: c for c in compute_clocks(ACME, case, events, now=now)}


PREMIUM = Case(tariff="premium", priority="medium", type="consultation")
RECEIVED = at("2025-03-04T12:00:00+03:00")  # Tuesday
OPENED = [
    Event(RECEIVED, "received"),
    Event(RECEIVED, "status", "new"),
    Event(RECEIVED, "registered"),  # the resolution clock starts here
]


def test_a_running_clock_counts_business_time_up_to_now():
    state = clocks(PREMIUM, OPENED, now=at("2025-03-04T15:00:00+03:00"))["resolution"]
    assert state.state == "running"
    assert state.consumed == timedelta(hours=3)
    assert state.remaining == timedelta(hours=5)
    # 8 working hours: Tue 12–19 (7 h), Wed 10–11.
    assert state.due == at("2025-03-05T11:00:00+03:00")
    # 80 % = 6 h 24 min: Tue 18:24.
    assert state.warn_at == at("2025-03-04T18:24:00+03:00")


def test_clarification_pauses_only_the_metrics_it_names():
    events = [*OPENED, Event(at("2025-03-04T13:00:00+03:00"), "status", "clarification")]
    now = at("2025-03-04T17:00:00+03:00")
    state = clocks(PREMIUM, events, now=now)
    assert state["resolution"].state == "paused"
    assert state["resolution"].consumed == timedelta(hours=1)
    # Were the pause to end now: 7 h left from Tue 17:00 → Tue 17–19, Wed 10–15.
    assert state["resolution"].due == at("2025-03-05T15:00:00+03:00")
    # Registration (15 min around the clock) is not paused: met at once.
    assert (state["registration"].state, state["registration"].stop) == ("met", RECEIVED)


def test_a_missed_registration_breaches_once_at_its_due_instant():
    events = [Event(RECEIVED, "received"), Event(RECEIVED, "status", "new")]
    state = clocks(PREMIUM, events, now=RECEIVED + timedelta(hours=1))["registration"]
    assert (state.state, state.breached_at) == ("breached", RECEIVED + timedelta(minutes=15))
    assert state.remaining == timedelta(minutes=-45)


def test_a_reply_in_clarification_resumes_and_a_stop_meets_the_target():
    events = [
        *OPENED,
        Event(at("2025-03-04T13:00:00+03:00"), "status", "clarification"),
        Event(at("2025-03-05T10:00:00+03:00"), "status", "new"),  # the customer answered
        Event(at("2025-03-05T16:00:00+03:00"), "resolved"),
    ]
    state = clocks(PREMIUM, events, now=at("2025-03-10T12:00:00+03:00"))["resolution"]
    # Tue 12–13 (1 h), paused until Wed 10:00, then Wed 10–16 (6 h): 7 h of 8.
    assert (state.state, state.consumed) == ("met", timedelta(hours=7))
    assert state.due == at("2025-03-05T17:00:00+03:00")


def test_escalation_swaps_the_target_but_keeps_the_consumed_time():
    critical = Case(tariff="premium", priority="critical", type="consultation")
    now = at("2025-03-04T13:30:00+03:00")
    before = clocks(PREMIUM, OPENED, now=now)["resolution"]
    after = clocks(critical, OPENED, now=now)["resolution"]
    assert before.consumed == after.consumed == timedelta(minutes=90)
    # Critical: 2 h around the clock from 12:00.
    assert (after.state, after.due) == ("running", at("2025-03-04T14:00:00+03:00"))


def test_no_promise_and_not_applicable_clocks_never_breach():
    basic = Case(tariff="basic", priority="critical", type="consultation")
    state = clocks(basic, OPENED, now=at("2025-04-01T12:00:00+03:00"))["resolution"]
    assert state.state == "no_promise"
    assert state.breached_at is None


# --- against a minute-stepping oracle ------------------------------------------------

STATUSES = st.sampled_from(["new", "clarification"])


@st.composite
def histories(draw):
    start = datetime(2024, 12, 20, 7, 0, tzinfo=UTC) + timedelta(
        minutes=draw(st.integers(0, 60 * 24 * 30))
    )
    events = [Event(start, "received"), Event(start, "registered"), Event(start, "status", "new")]
    moment = start
    for _ in range(draw(st.integers(0, 6))):
        moment += timedelta(minutes=draw(st.integers(1, 60 * 30)))
        events.append(Event(moment, "status", draw(STATUSES)))
    if draw(st.booleans()):
        moment += timedelta(minutes=draw(st.integers(1, 60 * 30)))
        events.append(Event(moment, "resolved"))
    now = moment + timedelta(minutes=draw(st.integers(0, 60 * 40)))
    return events, now


def oracle(events, now):
    """Consumed time and the due instant of the 8 h resolution clock, minute by minute.

    A minute counts if the office is open and, before the clock's end (its stop,
    or now), the request is not in Clarification; after the end nothing pauses.
    """
    start = events[0].at
    end = next((e.at for e in events if e.kind == "resolved"), now)
    changes = sorted((e.at, e.status) for e in events if e.kind == "status")
    consumed, counted, due, t = timedelta(0), timedelta(0), None, start
    while t < end or due is None:
        status = [s for when, s in changes if when <= t][-1]
        if MSK_OFFICE.is_working(t) and not (t < end and status == "clarification"):
            counted += timedelta(minutes=1)
            if t < end:
                consumed += timedelta(minutes=1)
        t += timedelta(minutes=1)
        if due is None and counted == timedelta(hours=8):
            due = t
    return consumed, due


@settings(max_examples=60, deadline=None)
@given(history=histories())
def test_consumed_time_matches_a_minute_by_minute_count(history):
    events, now = history
    state = clocks(PREMIUM, events, now=now)["resolution"]
    consumed, due = oracle(events, now)
    assert (state.consumed, state.due) == (consumed, due)
    resolved = next((e.at for e in events if e.kind == "resolved"), None)
    if resolved is not None:
        assert state.state == ("met" if resolved <= due else "breached")


def test_closing_the_request_stops_every_clock_still_running() -> None:
    # given a request whose registration never happened, closed after 10 minutes
    events = [
        Event(RECEIVED, "received"),
        Event(RECEIVED, "status", "new"),
        Event(RECEIVED + timedelta(minutes=10), "closed"),
    ]
    # when looked at a day later
    state = clocks(PREMIUM, events, now=RECEIVED + timedelta(days=1))["registration"]
    # then the 15-minute registration clock stopped at the closure, in time, and stays met
    assert (state.state, state.stop, state.stopped_by) == (
        "met",
        RECEIVED + timedelta(minutes=10),
        "closed",
    )
    assert state.breached_at is None


def test_a_clock_stopped_by_its_own_event_says_so() -> None:
    state = clocks(PREMIUM, OPENED, now=RECEIVED + timedelta(hours=1))["registration"]
    assert (state.state, state.stopped_by) == ("met", "registered")
