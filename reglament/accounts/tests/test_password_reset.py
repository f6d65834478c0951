"""Resetting a forgotten password by e-mail, in the person's own language."""

import re

import pytest
from django.core import mail
from django.test import Client, override_settings

from reglament.accounts.models import Membership
from reglament.accounts.tests.factories import PersonFactory

pytestmark = pytest.mark.django_db


def _link(body: str) -> str:
    (link,) = re.findall(r"https://desk\.example\.ru(/password-reset/\S+/)", body)
    return link


@override_settings(REGLAMENT_BASE_URL="https://desk.example.ru")
def test_reset_mail_is_in_the_persons_language_and_links_to_the_configured_site(
    client: Client,
) -> None:
    # given: a person who reads English, asking from a Russian page, by a foreign Host
    person = PersonFactory.create(
        username="ivan", email="ivan@example.ru", first_name="Ivan", language="en"
    )
    # when
    response = client.post(
        "/password-reset/", {"email": "ivan@example.ru"}, headers={"host": "localhost"}
    )
    # then
    assert response["Location"] == "/password-reset/sent/"
    (message,) = mail.outbox
    assert message.to == [person.email]
    assert message.subject == "Reglament: choose a new password"
    assert message.body.startswith("Hello, Ivan.\n")
    assert "Your login is ivan; you can also sign in with this e-mail address." in message.body
    assert "localhost" not in message.body
    assert _link(str(message.body)).startswith("/password-reset/")


def test_reset_mail_is_in_russian_for_a_russian_reader(client: Client) -> None:
    # given
    PersonFactory.create(username="olga", email="olga@example.ru", first_name="Ольга")
    # when
    client.post("/password-reset/", {"email": "olga@example.ru"}, headers={"accept-language": "en"})
    # then
    (message,) = mail.outbox
    assert message.subject == "Reglament: задайте новый пароль"
    assert message.body.startswith("Здравствуйте, Ольга.\n")


def test_an_unknown_address_gets_the_same_answer_and_no_mail(client: Client) -> None:
    # when
    response = client.post("/password-reset/", {"email": "nobody@example.ru"})
    # then
    assert response["Location"] == "/password-reset/sent/"
    assert mail.outbox == []


@override_settings(REGLAMENT_BASE_URL="https://desk.example.ru")
def test_the_link_sets_a_new_password_once(client: Client) -> None:
    # given
    PersonFactory.create(username="ivan", email="ivan@example.ru", role=Membership.Role.REQUESTER)
    client.post("/password-reset/", {"email": "ivan@example.ru"})
    link = _link(str(mail.outbox[0].body))
    # when: the link redirects to its token-less form, which takes the new password
    form = client.get(link, follow=True)
    done = client.post(
        form.redirect_chain[-1][0],
        {"new_password1": "a-new-long-passphrase", "new_password2": "a-new-long-passphrase"},
    )
    # then
    assert done["Location"] == "/password-reset/done/"
    assert (
        client.post(
            "/sign-in/", {"login": "ivan@example.ru", "password": "a-new-long-passphrase"}
        ).status_code
        == 302
    )
    client.logout()
    used_again = client.get(link, follow=True).content.decode()
    assert "Ссылка больше не действует" in used_again
