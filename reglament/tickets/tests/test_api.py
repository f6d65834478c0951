"""The requests API over HTTP: a request's whole life, files, pages, errors, auth, OpenAPI."""

import json
from datetime import datetime
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from django.utils import timezone

from reglament.accounts.models import ApiToken
from reglament.accounts.services import token_create, token_revoke
from reglament.tickets import services
from reglament.tickets.tests.factories import Desk, desk

pytestmark = pytest.mark.django_db

API = "/api/v1"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


class Now:
    """The instant the services and the API believe it is."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.value = timezone.now()
        monkeypatch.setattr(timezone, "now", lambda: self.value)

    def __call__(self, text: str) -> None:
        self.value = at(text)


@pytest.fixture
def now(monkeypatch: pytest.MonkeyPatch) -> Now:
    return Now(monkeypatch)


class Api:
    """A client that sends one person's personal API token."""

    def __init__(self, user: User) -> None:
        self.client = Client()
        self.headers = {"Authorization": f"Bearer {token_create(user=user, name='t')[1]}"}

    def get(self, path: str, **params: Any) -> Any:
        return self.client.get(API + path, params, headers=self.headers)

    def post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        return self.send("POST", path, body or {})

    def patch(self, path: str, body: dict[str, Any]) -> Any:
        return self.send("PATCH", path, body)

    def send(self, method: str, path: str, body: dict[str, Any]) -> Any:
        return self.client.generic(
            method,
            API + path,
            json.dumps(body),
            content_type="application/json",
            headers=self.headers,
        )

    def upload(self, number: str, name: str, content: bytes, content_type: str, **form: Any) -> Any:
        file = SimpleUploadedFile(name, content, content_type=content_type)
        return self.client.post(
            f"{API}/tickets/{number}/attachments", {"file": file, **form}, headers=self.headers
        )


def resolution(clocks: dict[str, Any]) -> dict[str, Any]:
    (clock,) = [c for c in clocks["clocks"] if c["metric"] == "resolution"]
    return clock


def instants(clock: dict[str, Any], *names: str) -> tuple[datetime | None, ...]:
    return tuple(at(clock[name]) if clock[name] else None for name in names)


def spans(items: list[dict[str, str]]) -> list[tuple[datetime, datetime]]:
    return [(at(item["start"]), at(item["end"])) for item in items]


# ------------------------------------------------------------- a whole life
def test_a_cera_request_lives_its_whole_life_through_the_api(now: Now) -> None:
    # given a CERA customer and the vendor's lines
    d = desk("cera", "standard")
    requester, agent1, agent3 = Api(d.requester), Api(d.agent1), Api(d.agent3)

    # when the requester files a defect Monday 12:00, answering the R3.1 questions
    now("2025-03-03T12:00:00+03:00")
    created = requester.post(
        "/tickets",
        {
            "subject": "Камеры не считают посетителей",
            "type": "defect",
            "impact": "main-functions",
            "workaround": "none",
        },
    )
    # then R3.4: a number and the registration time; R3.1: no workaround → critical
    assert created.status_code == 201
    ticket = created.json()
    number = ticket["number"]
    assert number == "CERA-2025-000001"
    assert (ticket["status"], ticket["status_title"]) == (
        "created",
        {"ru": "Создана", "en": "Created"},
    )
    assert (ticket["priority"], ticket["impact"], ticket["workaround"]) == (
        "critical",
        "main-functions",
        "none",
    )
    assert (ticket["channel"], ticket["requester"], ticket["assignee"]) == (
        "api",
        d.requester.username,
        None,
    )
    assert (ticket["regulation"], ticket["tariff"], ticket["contract"]) == (
        "cera",
        "standard",
        d.contract.pk,
    )
    assert ticket["organisation"] == {"id": d.customer.pk, "name": d.customer.name}
    assert at(ticket["registered_at"]) == at("2025-03-03T12:00:00+03:00")
    # R3.6 Critical, line 1–2: 6 working hours → Monday 18:00
    assert at(ticket["next_due_at"]) == at("2025-03-03T18:00:00+03:00")

    # when line 1 takes it at 13:00 and moves it to line 3 at 14:00
    now("2025-03-03T13:00:00+03:00")
    taken = agent1.post(f"/tickets/{number}/transition", {"status": "in-progress"})
    assert (taken.status_code, taken.json()["status"]) == (200, "in-progress")
    now("2025-03-03T14:00:00+03:00")
    escalated = agent1.post(f"/tickets/{number}/escalate", {"line": 3, "reason": "Разработчик"})
    # then R3.6 Critical, line 3: 12 working hours, the 2 h consumed are kept → Tue 15:00
    assert escalated.json()["line"] == 3
    assert at(escalated.json()["next_due_at"]) == at("2025-03-04T15:00:00+03:00")

    # when line 3 asks the customer at 15:00 (R3.5 Clarification)
    now("2025-03-03T15:00:00+03:00")
    asked = agent3.post(
        f"/tickets/{number}/transition", {"status": "clarification", "comment": "Нужны логи"}
    )
    assert asked.json()["status"] == "clarification"
    # then R3.7: at 16:00 the resolution clock stands still at 3 h used, 9 h left
    now("2025-03-03T16:00:00+03:00")
    paused = resolution(requester.get(f"/tickets/{number}/clocks").json())
    assert (paused["state"], paused["consumed_seconds"], paused["remaining_seconds"]) == (
        "paused",
        3 * 3600,
        9 * 3600,
    )
    # (due if the pause ended now: Mon 16–19 + Tue 10–16)
    assert instants(paused, "due_at") == (at("2025-03-04T16:00:00+03:00"),)

    # when the customer answers on Tuesday 11:00
    now("2025-03-04T11:00:00+03:00")
    reply = requester.post(f"/tickets/{number}/comments", {"body": "Логи во вложении"})
    assert reply.status_code == 201
    # then the reply resumed the request: back in progress, 9 h left from Tue 11:00
    resumed = requester.get(f"/tickets/{number}").json()
    assert resumed["status"] == "in-progress"
    assert at(resumed["next_due_at"]) == at("2025-03-05T11:00:00+03:00")

    # when line 3 finishes on Wednesday 10:30, first forgetting the resolution (R3.5)
    now("2025-03-05T10:30:00+03:00")
    refused = agent3.post(f"/tickets/{number}/transition", {"status": "done"})
    assert (refused.status_code, refused.json()["code"]) == (422, "resolution_required")
    done = agent3.post(f"/tickets/{number}/transition", {"status": "done", "resolution": "solved"})
    assert done.status_code == 200
    closed = done.json()
    assert (closed["status"], closed["resolution"], closed["is_open"]) == ("done", "solved", False)
    assert at(closed["closed_at"]) == at("2025-03-05T10:30:00+03:00")
    assert (closed["next_due_at"], closed["breached"]) == (None, False)

    # then the clock is met: 3 h + Tue 11–19 (8 h) + Wed 10–10:30 = 11.5 h of 12 h
    clock = resolution(requester.get(f"/tickets/{number}/clocks").json())
    assert clock["title"] == {"ru": "Время решения", "en": "Resolution time"}
    assert clock["target"] == {
        "text": {"ru": "12 ч", "en": "12 h"},
        "seconds": 12 * 3600,
        "working_days": None,
    }
    assert (clock["state"], clock["calendar"], clock["stopped_by"]) == ("met", "working", "closed")
    assert (clock["consumed_seconds"], clock["remaining_seconds"]) == (41400, 1800)
    assert instants(clock, "started_at", "stopped_at", "due_at", "warn_at") == (
        at("2025-03-03T12:00:00+03:00"),
        at("2025-03-05T10:30:00+03:00"),
        at("2025-03-05T11:00:00+03:00"),
        # 80 % of 12 h = 9 h 36 min: 3 h before the pause, 6 h 36 min from Tue 11:00
        at("2025-03-04T17:36:00+03:00"),
    )
    # the warning instant passed before the request was closed: recorded once, for it
    assert instants(clock, "warned_at", "breached_at") == (at("2025-03-04T17:36:00+03:00"), None)
    assert spans(clock["explain"]["counted"]) == [
        (at("2025-03-03T12:00:00+03:00"), at("2025-03-03T15:00:00+03:00")),
        (at("2025-03-04T11:00:00+03:00"), at("2025-03-04T19:00:00+03:00")),
        (at("2025-03-05T10:00:00+03:00"), at("2025-03-05T10:30:00+03:00")),
    ]
    assert spans(clock["explain"]["pauses"]) == [
        (at("2025-03-03T15:00:00+03:00"), at("2025-03-04T11:00:00+03:00")),
    ]

    # and the history tells the customer every public step, without the internal warning
    history = requester.get(f"/tickets/{number}/events").json()
    assert [(e["kind"], e["actor"]) for e in history] == [
        ("created", d.requester.username),
        ("status_changed", d.agent1.username),
        ("escalated", d.agent1.username),
        ("status_changed", d.agent3.username),
        ("replied", d.requester.username),
        ("status_changed", d.requester.username),
        ("status_changed", d.agent3.username),
    ]
    assert history[3]["data"]["comment"] == "Нужны логи"
    staff_kinds = [e["kind"] for e in agent3.get(f"/tickets/{number}/events").json()]
    assert staff_kinds.count("clock_warning") == 1


def test_staff_change_facts_assign_and_record_the_defect_workflow(now: Now) -> None:
    # given a request filed by phone by an agent on the customer's behalf
    d = desk("cera", "standard")
    agent = Api(d.agent1)
    now("2025-03-03T12:00:00+03:00")
    created = agent.post(
        "/tickets",
        {
            "subject": "Звонок: нет отчёта",
            "requester": d.requester.username,
            "channel": "phone",
            "received_at": "2025-03-03T11:40:00+03:00",
            "assignee": d.agent1.username,
            "priority": "low",
        },
    ).json()
    number = created["number"]
    assert (created["channel"], created["requester"], created["assignee"]) == (
        "phone",
        d.requester.username,
        d.agent1.username,
    )
    # when the agent raises the priority, unassigns, and corrects the arrival time
    now("2025-03-03T12:10:00+03:00")
    changed = agent.patch(
        f"/tickets/{number}",
        {
            "priority": "high",
            "assignee": None,
            "received_at": "2025-03-03T11:30:00+03:00",
            "reason": "Звонок был раньше",
        },
    ).json()
    # then only what was sent changed
    assert (changed["priority"], changed["assignee"], changed["subject"]) == (
        "high",
        None,
        "Звонок: нет отчёта",
    )
    assert at(changed["received_at"]) == at("2025-03-03T11:30:00+03:00")
    # when the defect workflow runs (R1.6): confirmed, development, workaround
    now("2025-03-03T13:00:00+03:00")
    agent.post(f"/tickets/{number}/milestones", {"milestone": "defect_confirmed"})
    developed = agent.post(
        f"/tickets/{number}/development", {"reference": "DEV-7", "fix_promised_on": "2025-03-20"}
    ).json()
    twice = agent.post(f"/tickets/{number}/milestones", {"milestone": "defect_confirmed"})
    # then each step is recorded once, with its instant
    assert at(developed["defect_confirmed_at"]) == at("2025-03-03T13:00:00+03:00")
    assert (developed["development_reference"], developed["fix_promised_on"]) == (
        "DEV-7",
        "2025-03-20",
    )
    assert (twice.status_code, twice.json()["code"]) == (409, "milestone_invalid")
    # when the agent clears the promised date only, then the reference stays
    cleared = agent.post(f"/tickets/{number}/development", {"fix_promised_on": None}).json()
    assert (cleared["development_reference"], cleared["fix_promised_on"]) == ("DEV-7", None)
    # when the agent adds the customer admin as a watcher, then both are listed
    watchers = agent.post(
        f"/tickets/{number}/watchers", {"login": d.customer_admin.username}
    ).json()
    assert watchers == {"number": number, "watchers": [d.customer_admin.username]}


def test_the_requester_closes_their_request_and_cannot_reply_afterwards_r3_8(now: Now) -> None:
    d = desk("cera", "standard")
    requester = Api(d.requester)
    now("2025-03-03T12:00:00+03:00")
    number = requester.post("/tickets", {"subject": "Вопрос"}).json()["number"]
    # when the requester closes it: the answer is no longer needed
    now("2025-03-03T12:30:00+03:00")
    closed = requester.post(f"/tickets/{number}/close", {"comment": "Разобрались"}).json()
    # then R3.8: the final status without a resolution
    assert (closed["status"], closed["is_open"], closed["resolution"]) == ("closed", False, "")
    late = requester.post(f"/tickets/{number}/comments", {"body": "Ещё вопрос"})
    assert (late.status_code, late.json()["code"]) == (409, "ticket_closed")
    again = requester.post(f"/tickets/{number}/close")
    assert (again.status_code, again.json()["code"]) == (409, "ticket_closed")


def test_a_transition_the_regulation_does_not_allow_is_409_with_what_is_allowed() -> None:
    d = desk("cera", "standard")
    agent = Api(d.agent1)
    ticket = services.ticket_create(actor=d.requester, subject="Вопрос")
    services.ticket_transition(ticket=ticket, actor=d.agent1, status="closed")
    response = agent.post(f"/tickets/{ticket.number}/transition", {"status": "in-progress"})
    assert response.status_code == 409
    assert response.json()["code"] == "transition_not_allowed"
    assert response.json()["details"] == {"from": "closed", "to": "in-progress", "allowed": []}


def test_an_unknown_request_is_404_in_the_error_shape() -> None:
    d = desk("cera", "standard")
    response = Api(d.agent1).get("/tickets/CERA-2025-999999")
    assert response.status_code == 404
    assert response.json()["code"] == "ticket_not_found"
    assert response.json()["details"] == {"number": "CERA-2025-999999"}


# ------------------------------------------------------------------ files
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


def _ticket(d: Desk) -> str:
    return services.ticket_create(actor=d.requester, subject="Скриншот ошибки").number


def test_a_raster_image_is_shown_inline_with_its_utf8_name() -> None:
    d = desk("cera", "standard")
    requester = Api(d.requester)
    number = _ticket(d)
    # when the requester attaches a screenshot
    created = requester.upload(number, "снимок экрана.png", PNG, "image/png")
    assert created.status_code == 201
    attachment = created.json()
    assert (attachment["name"], attachment["size"], attachment["public"]) == (
        "снимок экрана.png",
        len(PNG),
        True,
    )
    # then it comes back as a picture, inline
    response = requester.get(f"/tickets/{number}/attachments/{attachment['id']}")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"] == (
        "inline; filename*=UTF-8''%D1%81%D0%BD%D0%B8%D0%BC%D0%BE%D0%BA%20"
        "%D1%8D%D0%BA%D1%80%D0%B0%D0%BD%D0%B0.png"
    )
    assert b"".join(response.streaming_content) == PNG


def test_svg_and_other_files_are_downloads_that_a_browser_never_runs() -> None:
    d = desk("cera", "standard")
    requester = Api(d.requester)
    number = _ticket(d)
    svg = requester.upload(number, "схема.svg", SVG, "image/svg+xml").json()
    # an HTML page claiming to be a PNG is recognised by its bytes, not by its claim
    fake = requester.upload(number, "photo.png", b"<html><script>x()</script>", "image/png").json()

    svg_response = requester.get(f"/tickets/{number}/attachments/{svg['id']}")
    assert svg_response["Content-Type"] == "image/svg+xml"
    assert svg_response["Content-Disposition"] == (
        "attachment; filename*=UTF-8''%D1%81%D1%85%D0%B5%D0%BC%D0%B0.svg"
    )
    assert svg_response["X-Content-Type-Options"] == "nosniff"
    assert svg_response["Content-Security-Policy"] == "sandbox"

    fake_response = requester.get(f"/tickets/{number}/attachments/{fake['id']}")
    assert fake_response["Content-Disposition"] == "attachment; filename*=UTF-8''photo.png"
    assert fake_response["X-Content-Type-Options"] == "nosniff"


@override_settings(REGLAMENT_ATTACHMENT_MAX_BYTES=10)
def test_a_file_over_the_limit_is_413_and_an_empty_one_422() -> None:
    # given a limit of 10 bytes
    d = desk("cera", "standard")
    requester = Api(d.requester)
    number = _ticket(d)
    # when 11 bytes are sent
    large = requester.upload(number, "big.log", b"x" * 11, "text/plain")
    # then
    assert large.status_code == 413
    assert large.json()["code"] == "attachment_too_large"
    assert large.json()["details"] == {"size": 11, "limit": 10}
    empty = requester.upload(number, "empty.log", b"", "text/plain")
    assert (empty.status_code, empty.json()["code"]) == (422, "attachment_invalid")
    assert requester.get(f"/tickets/{number}/attachments").json() == []


def test_an_internal_file_is_listed_and_served_to_staff_only() -> None:
    d = desk("cera", "standard")
    agent, requester = Api(d.agent1), Api(d.requester)
    number = _ticket(d)
    internal = agent.upload(number, "dump.txt", b"internal", "text/plain", public="false").json()
    assert internal["public"] is False
    assert [a["name"] for a in agent.get(f"/tickets/{number}/attachments").json()] == ["dump.txt"]
    assert requester.get(f"/tickets/{number}/attachments").json() == []
    hidden = requester.get(f"/tickets/{number}/attachments/{internal['id']}")
    assert (hidden.status_code, hidden.json()["code"]) == (404, "ticket_not_found")


# ------------------------------------------------------------------ pages
def test_cursor_pages_walk_the_queue_by_next_due_instant(now: Now) -> None:
    # given four open requests of different priorities and one already closed
    d = desk("cera", "standard")
    now("2025-03-03T12:00:00+03:00")
    numbers: dict[str, list[str]] = {}
    for priority in ("low", "critical", "medium", "high", "critical"):
        ticket = services.ticket_create(actor=d.requester, subject=priority, priority=priority)
        numbers.setdefault(priority, []).append(ticket.number)
    closed = numbers["critical"][1]
    services.ticket_close_by_requester(
        ticket=services.Ticket.objects.get(number=closed), actor=d.requester
    )
    agent = Api(d.agent1)
    # when the agent walks the list two at a time
    pages, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = agent.get("/tickets", **params).json()
        pages.append([item["number"] for item in page["items"]])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    # then R3.6 lines 1–2: critical 6 h, high 15 h, medium 30 h, low 75 h; nothing due last
    assert pages == [
        [numbers["critical"][0], numbers["high"][0]],
        [numbers["medium"][0], numbers["low"][0]],
        [closed],
    ]
    # and the filters narrow the same order
    critical = agent.get("/tickets", priority="critical").json()["items"]
    assert [item["number"] for item in critical] == [numbers["critical"][0], closed]
    done = agent.get("/tickets", open="false").json()["items"]
    assert [item["number"] for item in done] == [closed]
    unassigned = agent.get("/tickets", assignee="none", limit=200).json()
    assert (len(unassigned["items"]), unassigned["next_cursor"]) == (5, None)


def test_a_cursor_the_api_did_not_give_and_a_limit_out_of_range_are_422() -> None:
    d = desk("cera", "standard")
    agent = Api(d.agent1)
    bad = agent.get("/tickets", cursor="not-a-cursor")
    assert (bad.status_code, bad.json()["code"]) == (422, "invalid_input")
    assert bad.json()["details"] == {"field": "cursor", "value": "not-a-cursor"}
    for limit in (0, 201):
        response = agent.get("/tickets", limit=limit)
        assert response.status_code == 422
        assert [e["loc"] for e in response.json()["details"]["errors"]] == [["query", "limit"]]


# ------------------------------------------------------------- validation
def test_invalid_input_is_422_naming_the_field() -> None:
    d = desk("cera", "standard")
    requester, agent = Api(d.requester), Api(d.agent1)
    # a value the regulation does not know: the service names the field and the choices
    unknown = requester.post("/tickets", {"subject": "X", "priority": "urgent"})
    assert unknown.status_code == 422
    assert unknown.json()["code"] == "ticket_invalid"
    assert unknown.json()["details"] == {
        "field": "priority",
        "value": "urgent",
        "known": ["critical", "high", "medium", "low"],
    }
    # malformed input: the schema names each field
    malformed = requester.post("/tickets", {"line": 4, "received_at": "2025-03-03T12:00:00"})
    assert malformed.status_code == 422
    assert malformed.json()["code"] == "invalid_input"
    assert sorted(tuple(e["loc"]) for e in malformed.json()["details"]["errors"]) == [
        ("body", "payload", "line"),
        ("body", "payload", "received_at"),
        ("body", "payload", "subject"),
    ]
    # a PATCH may leave a field out, but not send it as null
    number = services.ticket_create(actor=d.requester, subject="Y").number
    null = agent.patch(f"/tickets/{number}", {"priority": None})
    assert null.status_code == 422
    assert [e["loc"] for e in null.json()["details"]["errors"]] == [["body", "payload", "priority"]]
    nobody = agent.patch(f"/tickets/{number}", {"assignee": "ghost"})
    assert (nobody.status_code, nobody.json()["details"]) == (
        422,
        {"field": "assignee", "value": "ghost"},
    )
    no_contract = agent.patch(f"/tickets/{number}", {"contract": 999999})
    assert (no_contract.status_code, no_contract.json()["details"]) == (
        422,
        {"field": "contract", "value": 999999},
    )


# ------------------------------------------------------------------- auth
def test_nobody_authenticated_is_401_with_a_challenge() -> None:
    response = Client().get(f"{API}/tickets", headers={"Accept-Language": "en"})
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="reglament"'
    assert response.json() == {
        "code": "not_authenticated",
        "message": "Log in, or send a personal API token as “Authorization: Bearer rgl_…”.",
        "details": {"schemes": ["bearer", "session"]},
    }


def test_a_revoked_an_expired_or_an_unknown_token_is_401(now: Now) -> None:
    d = desk("cera", "standard")
    revoked, revoked_key = token_create(user=d.requester, name="old laptop")
    token_revoke(token=revoked)
    expiring, expiring_key = token_create(
        user=d.requester, name="trial", expires_at=at("2999-01-01T00:00:00+00:00")
    )
    ApiToken.objects.filter(pk=expiring.pk).update(expires_at=at("2025-01-01T00:00:00+00:00"))
    now("2025-01-01T00:00:00+00:00")
    for key in (revoked_key, expiring_key, "rgl_00000000_unknown"):
        response = Client().get(
            f"{API}/tickets", headers={"Authorization": f"Bearer {key}", "Accept-Language": "en"}
        )
        assert response.status_code == 401
        assert response.json() == {
            "code": "not_authenticated",
            "message": "The API token is unknown, revoked or expired.",
            "details": {"scheme": "bearer"},
        }
    # a second before expiry the same key worked
    now("2024-12-31T23:59:59+00:00")
    response = Client().get(f"{API}/tickets", headers={"Authorization": f"Bearer {expiring_key}"})
    assert response.status_code == 200


def test_the_web_session_works_and_needs_the_csrf_token_for_changes() -> None:
    # given a requester logged in to the web UI, in a browser that checks CSRF
    d = desk("cera", "standard")
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(d.requester)
    # when reading, then no CSRF token is needed
    assert browser.get(f"{API}/tickets").status_code == 200
    # when filing without the CSRF token, then 403
    body = json.dumps({"subject": "Из браузера"})
    refused = browser.post(f"{API}/tickets", body, content_type="application/json")
    assert (refused.status_code, refused.json()["code"]) == (403, "csrf_failed")
    # when filing with the cookie's token in the X-CSRFToken header, then it is filed
    secret = "a" * 32
    browser.cookies["csrftoken"] = secret
    filed = browser.post(
        f"{API}/tickets", body, content_type="application/json", headers={"X-CSRFToken": secret}
    )
    assert filed.status_code == 201
    assert filed.json()["requester"] == d.requester.username
    # and a token needs no CSRF token even in such a browser
    key = token_create(user=d.requester, name="script")[1]
    scripted = Client(enforce_csrf_checks=True).post(
        f"{API}/tickets",
        body,
        content_type="application/json",
        headers={"Authorization": f"Bearer {key}"},
    )
    assert scripted.status_code == 201


def test_an_anonymous_change_is_401_not_a_csrf_complaint() -> None:
    response = Client(enforce_csrf_checks=True).post(
        f"{API}/tickets", json.dumps({"subject": "X"}), content_type="application/json"
    )
    assert (response.status_code, response.json()["code"]) == (401, "not_authenticated")


def test_public_endpoints_stay_public() -> None:
    client = Client()
    assert client.get(f"{API}/regulations").status_code == 200
    assert client.get(f"{API}/openapi.json").status_code == 200


# ---------------------------------------------------------------- OpenAPI
def test_openapi_declares_every_error_of_every_request_operation() -> None:
    # when the OpenAPI document is built
    response = Client().get(f"{API}/openapi.json")
    assert response.status_code == 200
    document = response.json()
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}
    operations = {
        (method, path): operation
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
        if "requests" in operation["tags"]
    }
    # then every request operation needs a login and declares 401 and 422 as ErrorOut
    assert len(operations) == 18
    for (method, path), operation in operations.items():
        for status in ("401", "403", "404", "422"):
            assert operation["responses"][status]["content"] == error, (method, path, status)
        assert operation["security"] == [{"ApiTokenAuth": []}, {"SessionAuth": []}]
    assert "413" in operations[("post", f"{API}/tickets/{{number}}/attachments")]["responses"]
    assert "409" in operations[("post", f"{API}/tickets/{{number}}/transition")]["responses"]
    assert document["components"]["schemas"]["ErrorOut"]["required"] == [
        "code",
        "message",
        "details",
    ]
    # and the public operations need none
    assert "security" not in document["paths"][f"{API}/sla/simulate"]["post"]


def test_a_merged_duplicate_names_the_request_it_continues_in() -> None:
    # given two requests about one outage, the second merged into the first by an agent
    d = desk("cera", "standard")
    first = services.ticket_create(actor=d.requester, subject="Всё упало", priority="critical")
    duplicate = services.ticket_create(actor=d.customer_admin, subject="Всё упало (ещё раз)")
    services.ticket_merge(ticket=duplicate, into=first, actor=d.agent1)
    # when the duplicate's requester looks at it
    seen = Api(d.customer_admin).get(f"/tickets/{duplicate.number}").json()
    # then it is closed and points at the request that continues
    assert (seen["is_open"], seen["merged_into"]) == (False, first.number)
    assert Api(d.customer_admin).get(f"/tickets/{first.number}").json()["merged_into"] is None
