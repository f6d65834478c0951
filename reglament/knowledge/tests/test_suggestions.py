"""R5.4 «Customer must read the operator manuals first»: suggestions and deflection."""

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from reglament.knowledge.models import Suggestion
from reglament.knowledge.selectors import deflection_stats
from reglament.knowledge.services import suggestion_create, suggestion_open
from reglament.knowledge.tests.factories import API, knowledge_world
from reglament.tickets.services import ticket_create

pytestmark = pytest.mark.django_db


def _post(url, payload, headers):
    return Client().post(url, json.dumps(payload), content_type="application/json", headers=headers)


def test_r5_4_suggest_offers_the_articles_the_requester_may_read():
    """R5.4: before filing, the Expert partner is offered the matching Claim Desk article."""
    # given an Expert partner about to file a request
    world = knowledge_world()
    # when they ask for suggestions with their subject and description
    response = _post(
        f"{API}/knowledge/suggest",
        {
            "subject": "Не печатает чек",
            "description": "Касса на второй линии",
            "regulation": "set-partner",
        },
        world.headers("expert"),
    )
    # then the article they may read comes first, the internal note never
    assert response.status_code == 200
    body = response.json()
    slugs = [item["article"]["slug"] for item in body["items"]]
    assert slugs == ["register-stopped-printing", "register-does-not-start"]
    suggestion = Suggestion.objects.get(pk=body["suggestion"])
    assert (suggestion.shown, suggestion.subject) == (2, "Не печатает чек")


def test_r5_4_free_partner_is_offered_only_public_articles():
    world = knowledge_world()
    response = _post(
        f"{API}/knowledge/suggest",
        {"subject": "Как подать заявку по телефону"},
        world.headers("free"),
    )
    assert [i["article"]["slug"] for i in response.json()["items"]] == ["how-to-file-a-request"]


def test_suggest_needs_a_login_and_a_subject():
    world = knowledge_world()
    assert _post(f"{API}/knowledge/suggest", {"subject": "чек"}, {}).status_code == 401
    empty = _post(f"{API}/knowledge/suggest", {"subject": " "}, world.headers("expert"))
    assert empty.status_code == 422
    assert empty.json()["code"] == "suggestion_invalid"


def test_r5_4_opening_and_abandoning_are_recorded_and_counted():
    """R5.4: an opened suggestion followed by no request is a deflected request."""
    # given two suggestions shown to the Expert partner
    world = knowledge_world()
    headers = world.headers("expert")
    first = _post(f"{API}/knowledge/suggest", {"subject": "касса не печатает чек"}, headers)
    second = _post(f"{API}/knowledge/suggest", {"subject": "касса не включается"}, headers)
    first_id, second_id = first.json()["suggestion"], second.json()["suggestion"]
    # when the first is opened then abandoned, the second opened then a request filed
    for suggestion, slug in (
        (first_id, "register-stopped-printing"),
        (second_id, "register-does-not-start"),
    ):
        opened = _post(
            f"{API}/knowledge/suggestions/{suggestion}/opened",
            {"regulation": "set-partner", "slug": slug},
            headers,
        )
        assert opened.status_code == 200
        assert opened.json()["opened_at"] is not None
    abandoned = _post(
        f"{API}/knowledge/suggestions/{first_id}/outcome", {"abandoned": True}, headers
    )
    ticket = ticket_create(actor=world.people["expert"], subject="Касса не включается")
    filed = _post(
        f"{API}/knowledge/suggestions/{second_id}/outcome", {"filed": ticket.number}, headers
    )
    assert abandoned.json()["outcome"] == "abandoned"
    assert (filed.json()["outcome"], filed.json()["ticket_number"]) == ("filed", ticket.number)
    # then the figures count one deflection out of two shown
    now = timezone.now()
    stats = deflection_stats(
        regulation=None, since=now - timedelta(hours=1), until=now + timedelta(hours=1)
    )
    assert (stats.shown, stats.opened, stats.filed, stats.abandoned_after_opening, stats.rate) == (
        2, 2, 1, 1, 0.5
    )  # fmt: skip
    # and the outcome cannot be recorded twice
    again = _post(f"{API}/knowledge/suggestions/{first_id}/outcome", {"abandoned": True}, headers)
    assert (again.status_code, again.json()["code"]) == (409, "suggestion_outcome_recorded")


def test_r5_4_a_silent_suggestion_counts_as_abandoned_after_a_day():
    # given a suggestion opened and then never followed by an outcome
    world = knowledge_world()
    expert = world.people["expert"]
    shown_at = timezone.now() - timedelta(hours=30)
    suggestion, _results = suggestion_create(
        user=expert, subject="касса не печатает чек", now=shown_at
    )
    suggestion_open(
        user=expert, suggestion=suggestion, article=world.articles["claim"], now=shown_at
    )
    window = {"since": shown_at - timedelta(hours=1), "until": timezone.now()}
    # then it is not abandoned 23 hours after it was shown, and is after 24
    early = deflection_stats(regulation=None, **window, now=shown_at + timedelta(hours=23))
    late = deflection_stats(regulation=None, **window, now=shown_at + timedelta(hours=25))
    assert (early.abandoned_after_opening, late.abandoned_after_opening) == (0, 1)


def test_someone_elses_suggestion_is_not_found():
    world = knowledge_world()
    mine = _post(f"{API}/knowledge/suggest", {"subject": "чек"}, world.headers("expert"))
    response = _post(
        f"{API}/knowledge/suggestions/{mine.json()['suggestion']}/outcome",
        {"abandoned": True},
        world.headers("expert_admin"),
    )
    assert response.status_code == 404
    assert response.json()["code"] == "suggestion_not_found"


def test_opening_an_article_that_was_not_suggested_is_refused():
    world = knowledge_world()
    headers = world.headers("expert")
    suggestion = _post(f"{API}/knowledge/suggest", {"subject": "касса не печатает чек"}, headers)
    response = _post(
        f"{API}/knowledge/suggestions/{suggestion.json()['suggestion']}/opened",
        {"regulation": "set-partner", "slug": "store-launch"},
        headers,
    )
    assert response.status_code == 422
    assert response.json()["details"]["field"] == "article"


@pytest.mark.parametrize(("reader", "status"), [("expert", 403), ("manager", 200)])
def test_deflection_figures_are_for_staff(reader, status):
    world = knowledge_world()
    people = {"expert": "expert", "manager": "service_manager"}
    response = Client().get(
        f"{API}/knowledge/deflection",
        {"since": "2026-01-01T00:00:00+03:00", "until": "2027-01-01T00:00:00+03:00"},
        headers=world.headers(people[reader]),
    )
    assert response.status_code == status
    if status == 200:
        assert response.json() == {
            "shown": 0, "opened": 0, "filed": 0, "abandoned_after_opening": 0, "rate": 0.0
        }  # fmt: skip


def test_the_filed_request_must_be_one_the_person_may_see():
    world = knowledge_world()
    headers = world.headers("expert")
    suggestion = _post(f"{API}/knowledge/suggest", {"subject": "чек"}, headers)
    response = _post(
        f"{API}/knowledge/suggestions/{suggestion.json()['suggestion']}/outcome",
        {"filed": "SETP-2026-999999"},
        headers,
    )
    assert response.status_code == 404
    assert response.json()["code"] == "ticket_not_found"
    assert Suggestion.objects.get().outcome == ""


def test_recording_an_outcome_twice_is_a_conflict_not_an_invalid_request():
    """The second outcome is a clash with the state already recorded: 409, its own code."""
    # given a suggestion whose outcome is recorded
    world = knowledge_world()
    headers = {**world.headers("expert"), "Accept-Language": "en"}
    shown = _post(f"{API}/knowledge/suggest", {"subject": "касса не печатает чек"}, headers)
    url = f"{API}/knowledge/suggestions/{shown.json()['suggestion']}/outcome"
    assert _post(url, {"abandoned": True}, headers).status_code == 200
    # when it is recorded again
    again = _post(url, {"abandoned": True}, headers)
    # then the answer is a conflict naming the outcome already there
    assert again.status_code == 409
    assert again.json() == {
        "code": "suggestion_outcome_recorded",
        "message": "The outcome of this suggestion is already recorded: request abandoned.",
        "details": {"outcome": "abandoned"},
    }
    # and the API's schema declares it
    schema = Client().get(f"{API}/openapi.json").json()
    operation = schema["paths"][f"{API}/knowledge/suggestions/{{suggestion_id}}/outcome"]["post"]
    assert "409" in operation["responses"]


@pytest.mark.parametrize(
    "since",
    ["2026-11-01T00:00:00", "1304-10-12T15:14:09-04:47:00", "0001-01-01T00:00:00+03:00"],
)
def test_deflection_refuses_an_instant_without_a_real_offset(since, client):
    """Found by Schemathesis: naive, impossible-offset or out-of-range instants are a 422."""
    world = knowledge_world()
    client.force_login(world.people["service_manager"])
    response = client.get(
        f"{API}/knowledge/deflection",
        {"since": since, "until": "2026-12-01T00:00:00+03:00"},
    )
    assert response.status_code == 422, response.content
