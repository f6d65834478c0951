import pytest
from django.test import Client
from ninja import NinjaAPI, Schema
from ninja.testing import TestClient

from reglament.core.errors import AppError, ConflictError, install_error_handlers

api = NinjaAPI(urls_namespace="error-shape-test")
install_error_handlers(api)


class TicketIn(Schema):
    priority: int


class TicketLockedError(ConflictError):
    code = "ticket_locked"


@api.post("/locked")
def locked(request) -> None:
    raise TicketLockedError("Ticket is locked.", details={"ticket": 42})


@api.post("/tickets")
def create(request, payload: TicketIn) -> dict[str, int]:
    return {"priority": payload.priority}


@api.get("/crash")
def crash(request) -> None:
    raise RuntimeError("secret internals")


client = TestClient(api)


def test_app_error_renders_code_message_details_with_its_status() -> None:
    # when
    response = client.post("/locked")
    # then
    assert response.status_code == 409
    assert response.json() == {
        "code": "ticket_locked",
        "message": "Ticket is locked.",
        "details": {"ticket": 42},
    }


def test_app_error_without_message_uses_its_default() -> None:
    # given
    error = AppError(details={"field": "x"})
    # then
    assert error.as_body() == {
        "code": "error",
        "message": "The request could not be completed.",
        "details": {"field": "x"},
    }


def test_invalid_input_renders_as_invalid_input_with_field_errors_in_details() -> None:
    # when
    response = client.post("/tickets", json={"priority": "high"})
    # then
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid_input"
    assert body["message"] == "The request is not valid."
    assert [error["loc"] for error in body["details"]["errors"]] == [
        ["body", "payload", "priority"]
    ]


def test_unexpected_exception_renders_internal_error_without_internals(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # when
    response = client.get("/crash")
    # then
    assert response.status_code == 500
    assert response.json() == {
        "code": "internal_error",
        "message": "Internal server error.",
        "details": {},
    }
    assert "secret internals" not in response.content.decode()
    assert "Unhandled error in GET" in caplog.text


@pytest.mark.django_db
def test_unknown_api_path_answers_not_found_in_error_shape(client: Client) -> None:
    # when
    response = client.get("/api/v1/no-such-thing", headers={"accept-language": "en"})
    # then
    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "message": "Not found.", "details": {}}


@pytest.mark.django_db
def test_unknown_page_answers_not_found_as_html(client: Client) -> None:
    # when
    response = client.get("/no-such-page", headers={"accept-language": "en"})
    # then
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()
