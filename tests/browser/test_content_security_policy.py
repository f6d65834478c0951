"""Pages we did not write (API docs, admin) still work under the strict Content-Security-Policy."""

from collections.abc import Callable
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

pytestmark = pytest.mark.django_db(transaction=True)


def test_api_documentation_and_admin_run_without_policy_violations(
    live_server: LiveServer, page: Page, screenshot: Callable[[Page, str], Path]
) -> None:
    # given: a superuser
    User.objects.create_superuser("root", "root@example.ru", "root-password")
    # when: the interactive API documentation (Swagger UI, served from our static files)
    page.goto(f"{live_server.url}/api/v1/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Reglament")
    screenshot(page, "1-api-docs")
    # and the admin, whose sign-in is ours (so the lockout covers it too)
    page.goto(f"{live_server.url}/admin/")
    expect(page).to_have_url(f"{live_server.url}/sign-in/?next=/admin/")
    page.get_by_label("Эл. почта или логин").fill("ROOT@example.ru")
    page.get_by_label("Пароль").fill("root-password")
    page.get_by_role("button", name="Войти").click()
    expect(page).to_have_url(f"{live_server.url}/admin/")
    expect(page.locator("#site-name")).to_be_visible()
    screenshot(page, "2-admin")
    # then: the page fixture finds no Content-Security-Policy violation in the console
