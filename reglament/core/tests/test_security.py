"""The browser is told to run only our own scripts and styles, and the templates need no more."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

pytestmark = pytest.mark.django_db


def test_pages_carry_a_strict_content_security_policy(client: Client) -> None:
    # when
    response = client.get("/sign-in/")
    # then
    assert response["Content-Security-Policy"] == (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'"
    )
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_templates_have_no_inline_scripts_handlers_or_styles() -> None:
    # given: what the policy above would refuse to run
    inline = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|\son[a-z]+\s*=|\sstyle\s*=|<style\b", re.I)
    # Letters (templates/<app>/mail/) are read in mail clients, which ignore our CSP and
    # need inline styles; they are never served as pages.
    templates = sorted(
        path
        for path in (Path(settings.BASE_DIR) / "reglament").glob("**/templates/**/*.html")
        if "mail" not in path.relative_to(settings.BASE_DIR).parts[3:-1]
    )
    assert templates
    # when
    found = [
        str(path.relative_to(settings.BASE_DIR))
        for path in templates
        if inline.search(path.read_text(encoding="utf-8"))
    ]
    # then
    assert found == []


def test_every_form_that_posts_carries_a_csrf_token() -> None:
    # given
    templates = sorted((Path(settings.BASE_DIR) / "reglament").glob("**/templates/**/*.html"))
    form = re.compile(r"<form\b[^>]*method=\"post\"[^>]*>(.*?)</form>", re.S | re.I)
    # when
    missing = [
        str(path.relative_to(settings.BASE_DIR))
        for path in templates
        for body in form.findall(path.read_text(encoding="utf-8"))
        if "{% csrf_token %}" not in body
    ]
    # then
    assert missing == []
