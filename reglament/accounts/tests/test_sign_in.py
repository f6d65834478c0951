"""Signing in: e-mail or login, the lockout after repeated failures, sessions, sign-out."""

from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client
from django.utils import translation

from reglament.accounts.errors import SignInInvalidError, SignInLockedError
from reglament.accounts.models import Membership, SignInFailure
from reglament.accounts.selectors import sign_in_locked_until
from reglament.accounts.services import sign_in
from reglament.accounts.tests.factories import PersonFactory

pytestmark = pytest.mark.django_db

NOON = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def _person(**kwargs) -> User:
    return PersonFactory.create(
        username="ivan", email="Ivan.Petrov@Example.ru", password="right-password", **kwargs
    )


def _fail(login: str, *, times: int, at: datetime, ip: str | None = "10.0.0.1") -> None:
    for _ in range(times):
        with pytest.raises(SignInInvalidError):
            sign_in(login=login, password="wrong", ip=ip, now=at)


def test_email_signs_in_whatever_its_letter_case() -> None:
    # given
    person = _person()
    # when
    user = sign_in(login="  ivan.petrov@EXAMPLE.RU ", password="right-password", ip=None, now=NOON)
    # then
    assert user == person


def test_login_still_signs_in() -> None:
    # given
    person = _person()
    # when / then
    assert sign_in(login="ivan", password="right-password", ip=None, now=NOON) == person


def test_an_email_shared_by_two_accounts_signs_nobody_in() -> None:
    # given
    _person()
    PersonFactory.create(
        username="ivan2", email="ivan.petrov@example.ru", password="right-password"
    )
    # when / then
    with pytest.raises(SignInInvalidError):
        sign_in(login="ivan.petrov@example.ru", password="right-password", ip=None, now=NOON)


def test_an_inactive_person_cannot_sign_in() -> None:
    # given
    person = _person()
    User.objects.filter(pk=person.pk).update(is_active=False)
    # when / then
    with pytest.raises(SignInInvalidError):
        sign_in(login="ivan", password="right-password", ip=None, now=NOON)


def test_each_failure_is_recorded_under_the_login_in_lower_case() -> None:
    # given
    _person()
    # when
    _fail("Ivan.Petrov@Example.RU", times=2, at=NOON)
    # then
    assert list(SignInFailure.objects.values_list("login", "ip", "failed_at")) == [
        ("ivan.petrov@example.ru", "10.0.0.1", NOON),
        ("ivan.petrov@example.ru", "10.0.0.1", NOON),
    ]


def test_five_failures_for_a_login_lock_the_sixth_attempt_out_for_fifteen_minutes() -> None:
    # given: five failures a minute apart, from different addresses
    _person()
    for minute in range(5):
        _fail("ivan", times=1, at=NOON + timedelta(minutes=minute), ip=f"10.0.0.{minute}")
    # when: the right password, a minute after the fifth failure
    with pytest.raises(SignInLockedError) as refused, translation.override("ru"):
        sign_in(
            login="ivan", password="right-password", ip="10.0.0.9", now=NOON + timedelta(minutes=5)
        )
    # then: open again 15 minutes after the first of the five
    assert refused.value.details == {
        "locked_until": (NOON + timedelta(minutes=15)).isoformat(),
        "minutes": 10,
    }
    assert str(refused.value.message) == (
        "Слишком много неудачных попыток входа. Попробуйте снова через 10 минут."
    )
    assert refused.value.status == 429
    # and the refused attempt is not counted
    assert SignInFailure.objects.count() == 5


def test_four_failures_do_not_lock() -> None:
    # given
    person = _person()
    _fail("ivan", times=4, at=NOON)
    # when / then
    assert sign_in(login="ivan", password="right-password", ip="10.0.0.1", now=NOON) == person


def test_five_failures_from_one_address_lock_it_for_every_login() -> None:
    # given: one address tries five different logins
    _person()
    for n in range(5):
        _fail(f"guess{n}", times=1, at=NOON)
    # when / then: even the right password for a real login is refused from there
    with pytest.raises(SignInLockedError):
        sign_in(login="ivan", password="right-password", ip="10.0.0.1", now=NOON)
    # but not from another address
    assert (
        sign_in(login="ivan", password="right-password", ip="10.0.0.2", now=NOON).username == "ivan"
    )


def test_the_lock_opens_when_the_window_has_passed() -> None:
    # given
    person = _person()
    _fail("ivan", times=5, at=NOON)
    window = settings.REGLAMENT_SIGN_IN_FAILURE_WINDOW
    # when / then
    assert sign_in_locked_until(login="ivan", ip=None, now=NOON + window - timedelta(seconds=1))
    assert sign_in_locked_until(login="ivan", ip=None, now=NOON + window) is None
    assert sign_in(login="ivan", password="right-password", ip=None, now=NOON + window) == person


def test_a_successful_sign_in_clears_the_failures_of_the_persons_email_and_login() -> None:
    # given: failures under both ways of naming the person, and someone else's
    _person()
    _fail("ivan", times=2, at=NOON)
    _fail("IVAN.PETROV@example.ru", times=2, at=NOON)
    _fail("somebody", times=1, at=NOON, ip="10.0.0.7")
    # when
    sign_in(login="ivan", password="right-password", ip="10.0.0.1", now=NOON)
    # then
    assert list(SignInFailure.objects.values_list("login", flat=True)) == ["somebody"]


def test_old_failures_are_pruned_when_a_new_one_is_recorded() -> None:
    # given
    _person()
    _fail("ivan", times=3, at=NOON)
    # when
    _fail("ivan", times=1, at=NOON + timedelta(hours=1))
    # then
    assert SignInFailure.objects.count() == 1


# --- the pages ------------------------------------------------------------------


def test_sign_in_page_signs_in_and_goes_to_the_start_page(client: Client) -> None:
    # given
    _person(organisation__name="ООО «Ромашка»")
    # when
    response = client.post(
        "/sign-in/", {"login": "IVAN.PETROV@example.ru", "password": "right-password"}
    )
    # then
    assert response.status_code == 302
    assert response["Location"] == "/"
    page = client.get("/").content.decode()
    assert "ООО «Ромашка»" in page
    assert "заявитель" in page


def test_sign_in_page_follows_a_local_next_but_not_another_site(client: Client) -> None:
    # given
    _person()
    credentials = {"login": "ivan", "password": "right-password"}
    # when
    local = client.post("/sign-in/?next=/api/v1/docs", credentials)
    client.logout()
    foreign = client.post("/sign-in/", {**credentials, "next": "https://evil.example/"})
    # then
    assert local["Location"] == "/api/v1/docs"
    assert foreign["Location"] == "/"


def test_a_wrong_password_is_shown_on_the_form(client: Client) -> None:
    # given
    _person()
    # when
    response = client.post(
        "/sign-in/", {"login": "ivan", "password": "wrong"}, headers={"accept-language": "en"}
    )
    # then
    assert response.status_code == 200
    assert (
        "The e-mail or login and password do not match an active account."
        in response.content.decode()
    )
    assert "_auth_user_id" not in client.session


def test_a_locked_out_sign_in_answers_429_with_when_to_try_again(client: Client) -> None:
    # given
    _person()
    for _ in range(5):
        client.post("/sign-in/", {"login": "ivan", "password": "wrong"})
    # when
    response = client.post(
        "/sign-in/",
        {"login": "ivan", "password": "right-password"},
        headers={"accept-language": "en"},
    )
    # then
    assert response.status_code == 429
    assert (
        "Too many failed attempts to sign in. Try again in 15 minutes." in response.content.decode()
    )


def test_sign_in_form_refuses_a_post_without_csrf_token() -> None:
    # given
    _person()
    client = Client(enforce_csrf_checks=True)
    # when
    response = client.post("/sign-in/", {"login": "ivan", "password": "right-password"})
    # then
    assert response.status_code == 403


def test_sign_out_is_a_post_that_ends_the_session(client: Client) -> None:
    # given
    client.force_login(_person())
    # when
    refused = client.get("/sign-out/")
    response = client.post("/sign-out/")
    # then
    assert refused.status_code == 405
    assert response["Location"] == "/sign-in/"
    assert "_auth_user_id" not in client.session


def test_sessions_end_after_the_configured_idle_time_and_each_request_renews_them() -> None:
    # then: REGLAMENT_SESSION_IDLE_MINUTES (480 by default) becomes the cookie age
    assert settings.REGLAMENT_SESSION_IDLE_MINUTES == 480
    assert settings.SESSION_COOKIE_AGE == 480 * 60
    assert settings.SESSION_SAVE_EVERY_REQUEST is True


def test_start_page_shows_a_staff_members_role_and_line(client: Client) -> None:
    # given
    from reglament.accounts.tests.factories import VendorFactory

    agent = PersonFactory.create(
        role=Membership.Role.AGENT, line=2, organisation=VendorFactory.create()
    )
    client.force_login(agent)
    # when
    page = client.get("/", headers={"accept-language": "en"}).content.decode()
    # then
    assert '<dd id="role">support agent, line 2</dd>' in page
    assert "Your support contracts" not in page


@pytest.mark.parametrize(
    ("behind_proxy", "expected"),
    [(False, "127.0.0.1"), (True, "203.0.113.9")],
)
def test_failures_are_counted_against_the_client_not_the_proxy(
    behind_proxy: bool, expected: str, client: Client, settings
) -> None:
    """Behind our proxy, the last X-Forwarded-For hop is the client; earlier hops are its claims."""
    # given a person, and (or not) a reverse proxy in front of Reglament
    settings.REGLAMENT_BEHIND_PROXY = behind_proxy
    PersonFactory.create(username="ivan")
    # when a wrong password arrives through the proxy, with a forged first hop
    client.post(
        "/sign-in/",
        {"login": "ivan", "password": "wrong"},
        headers={"X-Forwarded-For": "10.9.9.9, 203.0.113.9"},
    )
    # then the failure is recorded against the right address
    assert list(SignInFailure.objects.values_list("ip", flat=True)) == [expected]
