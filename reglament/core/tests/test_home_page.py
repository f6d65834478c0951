from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from reglament import __version__
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
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    # when
    page = client.get("/").content.decode()
    # then
    assert "System status" in page
