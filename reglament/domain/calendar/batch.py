"""Vectorised deadlines and elapsed times for many tickets at once (NumPy).

Same semantics as :meth:`WorkCalendar.add` and :meth:`WorkCalendar.between`
without pauses; instants are UTC ``datetime64[us]`` (or int64 microseconds since
the epoch), durations ``timedelta64[us]`` (or int64 microseconds).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from reglament.domain.errors import CalendarError

if TYPE_CHECKING:
    from reglament.domain.calendar.engine import WorkCalendar, _Table


def add_many(
    calendar: WorkCalendar, starts: npt.NDArray[Any], durations: npt.NDArray[Any]
) -> npt.NDArray[np.datetime64]:
    s = _instants(starts, "starts")
    d = _microseconds(durations, "durations")
    if s.shape != d.shape:
        raise CalendarError(
            f"starts has shape {s.shape} but durations has {d.shape}.",
            hint="Give one duration per start.",
        )
    if (d < 0).any():
        raise CalendarError("Some durations are negative.", hint="Give durations ≥ 0.")
    if s.size == 0:
        return s.astype("datetime64[us]")
    tb = _cover(calendar, int(s.min()), int(s.max()))
    while True:
        starts_a, ends_a, cum_a, cum_end_a = _arrays(calendar, tb)
        target = _business(starts_a, ends_a, cum_a, s) + d
        i = np.searchsorted(cum_end_a, target, side="left")
        if (i < len(cum_end_a)).all():
            break
        tb = calendar._grow(tb)
    due = starts_a[np.minimum(i, len(starts_a) - 1)] + target - cum_a[np.minimum(i, len(cum_a) - 1)]
    return np.where(d == 0, s, due).astype("datetime64[us]")


def between_many(
    calendar: WorkCalendar, starts: npt.NDArray[Any], ends: npt.NDArray[Any]
) -> npt.NDArray[np.timedelta64]:
    a = _instants(starts, "starts")
    b = _instants(ends, "ends")
    if a.shape != b.shape:
        raise CalendarError(
            f"starts has shape {a.shape} but ends has {b.shape}.", hint="Give one end per start."
        )
    if (b < a).any():
        raise CalendarError("Some spans end before they start.", hint="Swap those instants.")
    if a.size == 0:
        return np.zeros(0, dtype="timedelta64[us]")
    tb = _cover(calendar, int(a.min()), int(b.max()))
    starts_a, ends_a, cum_a, _ = _arrays(calendar, tb)
    total = _business(starts_a, ends_a, cum_a, b) - _business(starts_a, ends_a, cum_a, a)
    return total.astype("timedelta64[us]")


def _business(
    starts: npt.NDArray[np.int64],
    ends: npt.NDArray[np.int64],
    cum: npt.NDArray[np.int64],
    t: npt.NDArray[np.int64],
) -> npt.NDArray[np.int64]:
    i = np.searchsorted(starts, t, side="right") - 1
    inside = i >= 0
    j = np.maximum(i, 0)
    value = cum[j] + np.minimum(t, ends[j]) - starts[j]
    return np.where(inside, value, 0)


def _cover(calendar: WorkCalendar, low: int, high: int) -> _Table:
    tb = calendar._covering(low)
    if high >= tb.hi:
        tb = calendar._covering(high)
    return tb


def _arrays(calendar: WorkCalendar, tb: _Table) -> tuple[npt.NDArray[np.int64], ...]:
    cached = calendar._arrays
    if cached is not None and cached[0] is tb:
        return cached[1:]
    arrays = tuple(np.asarray(x, dtype=np.int64) for x in (tb.starts, tb.ends, tb.cum, tb.cum_end))
    if not len(arrays[0]):
        raise CalendarError("The calendar has no working time in the years asked about.")
    calendar._arrays = (tb, *arrays)
    return arrays


def _instants(values: npt.NDArray[Any], name: str) -> npt.NDArray[np.int64]:
    return _as_int64(values, name, kind="M", unit="datetime64[us]", what="datetime64 (UTC)")


def _microseconds(values: npt.NDArray[Any], name: str) -> npt.NDArray[np.int64]:
    return _as_int64(values, name, kind="m", unit="timedelta64[us]", what="timedelta64")


def _as_int64(
    values: npt.NDArray[Any], name: str, *, kind: str, unit: str, what: str
) -> npt.NDArray[np.int64]:
    """Microseconds as int64 from ``unit`` arrays or from int64 microseconds."""
    array = np.asarray(values)
    if array.dtype.kind == kind:
        return array.astype(unit).astype(np.int64)
    if array.dtype.kind in "iu":
        return array.astype(np.int64)
    raise CalendarError(
        f"{name} must be {what} or int64 microseconds, got {array.dtype}.",
        hint=f"Convert with numpy.asarray(values, dtype='{unit}').",
    )
