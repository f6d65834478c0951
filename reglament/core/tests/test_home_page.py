from datetime import timedelta

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from reglament import __version__
from reglament.accounts.models import AccountEvent, Membership
from reglament.accounts.tests.factories import PersonFactory
from reglament.core.tests.factories import WorkerHeartbeatFactory

pytestmark = pytest.mark.django_db


def test_home_page_is_in_russian_by_default(client: Client) -> None:
    # given: a browser that states no language preference
    # when
    response = client.get("/")
    # then
    page = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="ru">' in page
    assert "Состояние системы" in page
    assert "База данных" in page
    assert "ещё не запускался" in page
    assert __version__ in page


def test_home_page_is_in_english_when_the_browser_asks_for_it(client: Client) -> None:
    # when
    response = client.get("/", headers={"accept-language": "en-US,en;q=0.9"})
    # then
    page = response.content.decode()
    assert '<html lang="en">' in page
    assert "System status" in page
    assert "Состояние системы" not in page


def test_home_page_shows_a_running_worker(client: Client) -> None:
    # given
    WorkerHeartbeatFactory.create(last_seen=timezone.now() - timedelta(seconds=1))
    # when
    page = client.get("/", headers={"accept-language": "en"}).content.decode()
    # then
    assert '<span class="ok">running</span>' in page


def test_language_switch_remembers_english(client: Client) -> None:
    # given: the visitor picks English in the switcher
    client.post("/language/", {"language": "en", "next": "/"})
    # when
    page = client.get("/").content.decode()
    # then
    assert "System status" in page


def test_a_signed_in_person_s_language_choice_becomes_the_language_of_their_mail(
    client: Client,
) -> None:
    # given: a requester whose mail is in Russian
    person = PersonFactory.create(language="ru")
    client.force_login(person)
    # when: they switch the pages to English
    response = client.post("/language/", {"language": "en", "next": "/requests/"})
    # then: pages in English, and their membership (mail language) follows, recorded
    assert response.status_code == 302
    assert response["Location"] == "/requests/"
    assert Membership.objects.get(user=person).language == "en"
    event = AccountEvent.objects.get(kind="language_changed", person=person)
    assert event.data == {"from": "ru", "to": "en"}
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"


def test_an_unknown_language_changes_nothing(client: Client) -> None:
    # given
    person = PersonFactory.create(language="ru")
    client.force_login(person)
    # when
    client.post("/language/", {"language": "de", "next": "/"})
    # then
    assert Membership.objects.get(user=person).language == "ru"
    assert not AccountEvent.objects.filter(kind="language_changed").exists()
