"""JSON endpoints for paid work (R4.6, R4.1); thin: declare schemas, call one service.

An estimate is addressed by its request's number and its own number within
the request (`/tickets/KRZ-2026-000001/estimates/1`). Whoever may see the
request sees its estimates (a request of another organisation is a 404).
Staff propose and withdraw; the customer people the regulation's
`paid_work.approved_by` names approve or decline (403
`estimate_permission_denied` for anyone else). There is no way to change an
estimate: a different offer is the open one withdrawn and a new one proposed.
"""

from datetime import date, datetime
from decimal import Decimal

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status

from reglament.core.auth import api_auth, error_responses, request_user
from reglament.paidwork import selectors, services
from reglament.paidwork.models import Estimate
from reglament.tickets.selectors import ticket_get

router = Router(tags=["paid work"], auth=api_auth)


class EstimateIn(Schema):
    scope: str = Field(description="The work the estimate is for.")
    hours: Decimal = Field(description="Estimated hours, more than 0, to 0.01 h.")
    rate: Decimal = Field(description="The rate per hour, to 0.01.")
    currency: str = Field("RUB", description="ISO 4217 code.")
    valid_until: date = Field(description="The last day the customer may approve it.")
    reason: str = Field(
        Estimate.Reason.AFTER_TARGET.value,
        description="`after_target` (the tariff's paid_work.after metric ran out, R4.6) or "
        "`service_not_included` (a service the tariff excludes, R4.1).",
    )


class DecisionIn(Schema):
    reason: str = Field("", description="Why; kept with the estimate and its event.")


class EstimateOut(Schema):
    number: int
    ticket: str
    reason: str
    scope: str
    hours: Decimal
    rate: Decimal
    currency: str
    total: Decimal = Field(description="hours × rate, to 0.01.")
    valid_until: date
    state: str = Field(
        description="proposed, approved, declined, withdrawn, or expired (a proposal past "
        "its valid_until)."
    )
    proposed_by: str
    proposed_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    decision_reason: str


class EstimateListOut(Schema):
    ticket: str
    items: list[EstimateOut]


def _out(estimate: Estimate) -> EstimateOut:
    return EstimateOut(
        number=estimate.number,
        ticket=estimate.ticket.number,
        reason=estimate.reason,
        scope=estimate.scope,
        hours=estimate.hours,
        rate=estimate.rate,
        currency=estimate.currency,
        total=estimate.total,
        valid_until=estimate.valid_until,
        state=estimate.state_on(selectors.today_for(estimate.ticket)),
        proposed_by=estimate.proposed_by.get_username(),
        proposed_at=estimate.proposed_at,
        decided_by=estimate.decided_by.get_username() if estimate.decided_by else None,
        decided_at=estimate.decided_at,
        decision_reason=estimate.decision_reason,
    )


@router.get(
    "/tickets/{number}/estimates",
    response={200: EstimateListOut, **error_responses()},
    summary="Estimates of paid work on a request",
)
def estimate_list(request: HttpRequest, number: str) -> EstimateListOut:
    actor = request_user(request)
    ticket = ticket_get(user=actor, number=number)
    return EstimateListOut(
        ticket=ticket.number,
        items=[_out(e) for e in selectors.estimate_list(user=actor, ticket=ticket)],
    )


@router.post(
    "/tickets/{number}/estimates",
    response={201: EstimateOut, **error_responses(400, 409)},
    summary="Propose paid work (staff, R4.6)",
    description=(
        "The request moves to the regulation's paid-work status, whose pauses stop the "
        "clocks, until the customer decides. 409 `paid_work_not_allowed` (details.reason: "
        "`target_not_reached`, `tariff_has_no_paid_work`, `no_target`, `service_included`, "
        "`no_service`, `open_estimate`), 409 `ticket_closed`, 422 `estimate_invalid` "
        "(details.field), 403 for customers."
    ),
)
def estimate_propose(request: HttpRequest, number: str, payload: EstimateIn) -> Status[EstimateOut]:
    actor = request_user(request)
    estimate = services.estimate_propose(
        ticket=ticket_get(user=actor, number=number),
        actor=actor,
        scope=payload.scope,
        hours=payload.hours,
        rate=payload.rate,
        currency=payload.currency,
        valid_until=payload.valid_until,
        reason=payload.reason,
    )
    return Status(201, _out(estimate))


@router.post(
    "/tickets/{number}/estimates/{estimate}/approve",
    response={200: EstimateOut, **error_responses(400, 409)},
    summary="Approve the cost (the customer, R4.6)",
    description=(
        "Work goes on: the request returns to work (under the paid-work clock if the "
        "regulation has one). 403 unless the regulation's `approved_by` names the caller; "
        "409 `estimate_not_open` when decided, withdrawn or expired."
    ),
)
def estimate_approve(request: HttpRequest, number: str, estimate: int) -> EstimateOut:
    actor = request_user(request)
    ticket = ticket_get(user=actor, number=number)
    found = selectors.estimate_get(user=actor, ticket=ticket, number=estimate)
    return _out(services.estimate_approve(estimate=found, actor=actor))


@router.post(
    "/tickets/{number}/estimates/{estimate}/decline",
    response={200: EstimateOut, **error_responses(400, 409)},
    summary="Decline the cost (the customer, R4.6)",
    description=(
        "The regulation's `paid_work.on_decline` applies: back to consultation, or a status "
        "(e.g. closed with a resolution). 403 and 409 as for approval."
    ),
)
def estimate_decline(
    request: HttpRequest, number: str, estimate: int, payload: DecisionIn | None = None
) -> EstimateOut:
    actor = request_user(request)
    ticket = ticket_get(user=actor, number=number)
    found = selectors.estimate_get(user=actor, ticket=ticket, number=estimate)
    reason = payload.reason if payload is not None else ""
    return _out(services.estimate_decline(estimate=found, actor=actor, reason=reason))


@router.post(
    "/tickets/{number}/estimates/{estimate}/withdraw",
    response={200: EstimateOut, **error_responses(400, 409)},
    summary="Withdraw an open estimate (staff)",
    description="The request returns to work; to change an offer, withdraw it and propose anew.",
)
def estimate_withdraw(
    request: HttpRequest, number: str, estimate: int, payload: DecisionIn | None = None
) -> EstimateOut:
    actor = request_user(request)
    ticket = ticket_get(user=actor, number=number)
    found = selectors.estimate_get(user=actor, ticket=ticket, number=estimate)
    reason = payload.reason if payload is not None else ""
    return _out(services.estimate_withdraw(estimate=found, actor=actor, reason=reason))
