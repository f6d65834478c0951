"""JSON endpoints of usage accounting (R4.5); thin: declare schemas, call one service or selector.

Who sees what (docs/usage.md): support staff record and void time and set
allowances, and see everything, notes included. A customer admin sees the
usage report and the allowance balance of their organisation's contracts (a
partner's admin also its clients'), and the counted time of their requests
without notes or authors. A requester sees no time (403 on a request they can
see); a contract or request the person may not see is a 404, as if it did not exist.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema, Status

from reglament.core.auth import AUTH_ERROR_RESPONSES, api_auth, error_responses, request_user
from reglament.core.errors import COMMON_ERROR_RESPONSES
from reglament.core.schemas import Instant
from reglament.tickets.selectors import ticket_get
from reglament.usage import selectors, services
from reglament.usage.exports import number_text, report_csv, report_data, report_xlsx
from reglament.usage.models import Allowance, AllowanceUnit, TimeEntry

router = Router(tags=["usage"], auth=api_auth)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# ------------------------------------------------------------------- schemas
class TimeIn(Schema):
    minutes: int = Field(description="Minutes worked, 1 to 1440.")
    activity: str = Field(description="consultation, diagnosis, remote-work, development or other.")
    billable: bool = Field(True, description="false: recorded, never counted or invoiced.")
    note: str = Field("", description="What was done (staff only; customers never see it).")
    performed_at: Instant | None = Field(
        None, description="When the work was done (default: now); decides the period."
    )


class VoidIn(Schema):
    reason: str


class TimeEntryOut(Schema):
    id: int
    minutes: int
    activity: str
    billable: bool
    performed_at: datetime
    note: str | None = Field(description="Null in a customer's view.")
    author: str | None = Field(description="The agent's login; null in a customer's view.")
    recorded_at: datetime | None = Field(description="Null in a customer's view.")
    voided_at: datetime | None
    voided_by: str | None
    void_reason: str | None


class TimeListOut(Schema):
    number: str
    billable_minutes: int = Field(description="Of the entries not voided.")
    non_billable_minutes: int
    entries: list[TimeEntryOut]


class AllowanceIn(Schema):
    amount: Decimal | None = Field(
        description="Prepaid hours or requests per period; null ends the allowance."
    )
    unit: Literal["hours", "requests"] | None = Field(
        None, description="What the tariff counts; checked against it (default: the tariff's)."
    )
    valid_from: str = Field(description="The first period it applies to, YYYY-MM.")


class AllowanceRowOut(Schema):
    valid_from: str
    unit: str
    amount: str | None
    set_by: str | None
    set_at: datetime


class AllowanceOut(Schema):
    contract: int
    period: str
    unit: str = Field(description="hours or requests: what the tariff counts.")
    amount: str | None = Field(description="The allowance for the period; null: none.")
    valid_from: str | None = Field(description="The period the allowance in force was set from.")
    used: str = Field(description="Counted units of the period (exact decimal).")
    remaining: str | None = Field(description="amount − used; negative once exceeded.")
    exceeded: bool
    history: list[AllowanceRowOut]


class ContractOut(Schema):
    id: int
    organisation: str
    regulation: str
    tariff: str
    usage_unit: str | None = Field(description="hour or request; null: the tariff counts none.")
    increment: str | None = Field(description="Hours per counted step (exact decimal).")
    service_manager: str | None = Field(description="The personal service manager's login.")


class UsageEntryOut(Schema):
    id: int
    performed_at: datetime
    minutes: int
    activity: str
    billable: bool
    author: str | None = Field(None, description="The agent's login; null in a customer's view.")
    note: str | None = Field(None, description="Null in a customer's view.")
    recorded_at: datetime | None = Field(
        None, description="When it was recorded (a late entry shows); null for customers."
    )


class UsageRequestOut(Schema):
    number: str
    subject: str
    status: str
    raw_minutes: int = Field(description="Billable and not, of the entries not voided.")
    billable_minutes: int
    non_billable_minutes: int
    billable_hours_raw: str = Field(description="billable_minutes / 60, exact, not rounded.")
    units: str = Field(description="What is counted: rounded hours, or requests (exact decimal).")
    resolved_at: datetime | None
    counted_resolutions: list[datetime] = Field(
        description="Per request: the resolutions of the month that count (R4.5)."
    )
    entries: list[UsageEntryOut]


class UsageOrganisationOut(Schema):
    id: int
    name: str


class UsageTotalsOut(Schema):
    requests: int
    billable_minutes: int
    non_billable_minutes: int
    units: str


class UsageAllowanceOut(Schema):
    unit: str
    amount: str | None = Field(description="Null: no prepaid allowance this month.")
    valid_from: str | None
    used: str
    remaining: str | None = Field(description="Negative once exceeded.")
    exceeded: bool
    set_at: datetime | None


class UsageReportOut(Schema):
    contract: int
    organisation: UsageOrganisationOut
    regulation: str
    tariff: str
    period: str = Field(description="YYYY-MM")
    timezone: str = Field(description="The regulation's time zone the month is read in.")
    unit: str = Field(description="hour or request")
    increment: str
    requests: list[UsageRequestOut]
    totals: UsageTotalsOut
    allowance: UsageAllowanceOut


class UsageQuery(Schema):
    period: str = Field(description="The month, YYYY-MM, in the regulation's time zone.")
    format: Literal["json", "csv", "xlsx"] = Field("json", description="json, csv or xlsx.")


class PeriodQuery(Schema):
    period: str | None = Field(None, description="YYYY-MM (default: the current month).")


# --------------------------------------------------------------------- time
@router.post(
    "/tickets/{number}/time",
    response={201: TimeEntryOut, **error_responses(400)},
    summary="Record time on a request (staff)",
    description=(
        "Minutes of work, an activity, billable or not, and a note. Written with a "
        "`time_logged` event; crossing the contract's prepaid allowance records "
        "`allowance_exceeded` once per period and mails the customer admins and the "
        "service manager. 422 `usage_invalid` (details.field names the field); 403 "
        "`usage_permission_denied` for customers."
    ),
)
def time_log(request: HttpRequest, number: str, payload: TimeIn) -> Status[TimeEntryOut]:
    actor = request_user(request)
    entry = services.time_log(
        ticket=ticket_get(user=actor, number=number),
        actor=actor,
        minutes=payload.minutes,
        activity=payload.activity,
        billable=payload.billable,
        note=payload.note,
        performed_at=payload.performed_at,
    )
    return Status(201, _entry_out(entry, full=True))


@router.get(
    "/tickets/{number}/time",
    response={200: TimeListOut, **error_responses()},
    summary="The time recorded on a request",
    description=(
        "Staff see every entry, voided ones and notes included; a customer admin the "
        "counted entries without notes or authors; a requester is refused (403)."
    ),
)
def time_list(request: HttpRequest, number: str) -> TimeListOut:
    user = request_user(request)
    listing = selectors.time_entries(user=user, ticket=ticket_get(user=user, number=number))
    counted = [e for e in listing.entries if e.voided_at is None]
    return TimeListOut(
        number=listing.ticket.number,
        billable_minutes=sum(e.minutes for e in counted if e.billable),
        non_billable_minutes=sum(e.minutes for e in counted if not e.billable),
        entries=[_entry_out(e, full=listing.full) for e in listing.entries],
    )


@router.post(
    "/tickets/{number}/time/{entry_id}/void",
    response={200: TimeEntryOut, **error_responses(400, 409)},
    summary="Void a time entry (staff)",
    description=(
        "The entry stops counting and is kept with who voided it, when and why "
        "(`time_voided` event). Enter the right time anew. 409 `time_entry_voided` when "
        "it already is; 404 `time_entry_not_found`."
    ),
)
def time_void(request: HttpRequest, number: str, entry_id: int, payload: VoidIn) -> TimeEntryOut:
    actor = request_user(request)
    entry = services.time_void(
        ticket=ticket_get(user=actor, number=number),
        actor=actor,
        entry_id=entry_id,
        reason=payload.reason,
    )
    return _entry_out(entry, full=True)


# -------------------------------------------------------------------- usage
@router.get(
    "/contracts",
    response={200: list[ContractOut], **AUTH_ERROR_RESPONSES, **COMMON_ERROR_RESPONSES},
    summary="The contracts whose usage you may see",
    description=(
        "Staff see every contract; a customer admin their organisation's (a partner's "
        "admin also its clients'); anyone else none. The ids are what `/contracts/{id}/…` take."
    ),
)
def contract_list(request: HttpRequest) -> list[ContractOut]:
    rows = []
    for contract in selectors.contract_list(user=request_user(request)):
        rule = selectors.contract_usage_rule(contract)
        manager = contract.service_manager
        rows.append(
            ContractOut(
                id=contract.pk,
                organisation=contract.organisation.name,
                regulation=contract.regulation_id,
                tariff=contract.tariff.code,
                usage_unit=rule.unit if rule else None,
                increment=number_text(rule.increment) if rule else None,
                service_manager=manager.get_username() if manager else None,
            )
        )
    return rows


_DOWNLOAD = {
    "responses": {
        200: {
            "description": "The report as JSON, or (format=csv|xlsx) a file to download.",
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                XLSX: {"schema": {"type": "string", "format": "binary"}},
            },
        }
    }
}


@router.get(
    "/contracts/{contract_id}/usage",
    response={200: UsageReportOut, **error_responses(409)},
    summary="A contract's usage in a month, per request, for invoicing",
    description=(
        "Per request: number, subject, raw and billable minutes, counted units (hours "
        "rounded up to the tariff's increment per request per month, or requests "
        "counted on resolution), and the entries behind them; totals; the allowance "
        "and its balance. `format=csv|xlsx` returns a download instead. 409 "
        "`usage_not_accounted` when the tariff counts no usage; 422 `usage_invalid` for a "
        "bad period."
    ),
    openapi_extra=_DOWNLOAD,
)
def usage_report(
    request: HttpRequest, contract_id: int, query: Query[UsageQuery]
) -> HttpResponse | dict[str, Any]:
    return _report(request, contract_id, query.period, query.format)


@router.get(
    "/contracts/{contract_id}/usage.csv",
    response=error_responses(409),
    summary="A contract's usage in a month as CSV",
    openapi_extra={
        "responses": {200: {"description": "CSV", "content": {"text/csv": {"schema": {}}}}}
    },
)
def usage_report_csv(request: HttpRequest, contract_id: int, period: str) -> HttpResponse:
    response = _report(request, contract_id, period, "csv")
    assert isinstance(response, HttpResponse)  # noqa: S101 - csv is always a file
    return response


def _report(
    request: HttpRequest, contract_id: int, period_text: str, fmt: str
) -> HttpResponse | dict[str, Any]:
    user = request_user(request)
    contract = selectors.contract_get(user=user, contract_id=contract_id)
    period = selectors.period_parse(period_text)
    report = selectors.usage_report(user=user, contract=contract, period=period)
    if fmt == "json":
        return report_data(report)
    name = f"usage-{contract.pk}-{period}.{fmt}"
    if fmt == "csv":
        response = HttpResponse(report_csv(report), content_type="text/csv; charset=utf-8")
    else:
        response = HttpResponse(report_xlsx(report), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


# ---------------------------------------------------------------- allowance
@router.get(
    "/contracts/{contract_id}/allowance",
    response={200: AllowanceOut, **error_responses(409)},
    summary="The prepaid allowance of a contract and its balance",
)
def allowance_show(
    request: HttpRequest, contract_id: int, query: Query[PeriodQuery]
) -> AllowanceOut:
    user = request_user(request)
    contract = selectors.contract_get(user=user, contract_id=contract_id)
    period = (
        selectors.period_parse(query.period) if query.period else selectors.period_now(contract)
    )
    return _allowance_out(
        contract.pk, selectors.allowance_balance(contract=contract, period=period)
    )


@router.put(
    "/contracts/{contract_id}/allowance",
    response={200: AllowanceOut, **error_responses(400, 409)},
    summary="Set the prepaid allowance from a period on (staff)",
    description=(
        "Adds a row to the allowance history: from `valid_from` on, `amount` hours or "
        "requests per month (what the tariff counts); null ends it. Earlier rows are kept."
    ),
)
def allowance_set(request: HttpRequest, contract_id: int, payload: AllowanceIn) -> AllowanceOut:
    actor = request_user(request)
    contract = selectors.contract_get(user=actor, contract_id=contract_id)
    valid_from = selectors.period_parse(payload.valid_from, "valid_from")
    _regulation, usage, _calendar = selectors.contract_regulation(contract)
    services.allowance_set(
        contract=contract,
        actor=actor,
        amount=payload.amount,
        unit=payload.unit or selectors.allowance_unit(usage),
        valid_from=valid_from,
    )
    return _allowance_out(
        contract.pk, selectors.allowance_balance(contract=contract, period=valid_from)
    )


# ---------------------------------------------------------------- rendering
def _login(user: Any) -> str | None:
    return user.get_username() if user is not None else None


def _entry_out(entry: TimeEntry, *, full: bool) -> TimeEntryOut:
    return TimeEntryOut(
        id=entry.pk,
        minutes=entry.minutes,
        activity=entry.activity,
        billable=entry.billable,
        performed_at=entry.performed_at,
        note=entry.note if full else None,
        author=_login(entry.author) if full else None,
        recorded_at=entry.created_at if full else None,
        voided_at=entry.voided_at,
        voided_by=_login(entry.voided_by) if full else None,
        void_reason=entry.void_reason if full and entry.voided_at else None,
    )


def _allowance_row(row: Allowance) -> AllowanceRowOut:
    return AllowanceRowOut(
        valid_from=row.valid_from.strftime("%Y-%m"),
        unit=row.unit,
        amount=number_text(row.amount) if row.unit != AllowanceUnit.NONE else None,
        set_by=_login(row.set_by),
        set_at=row.created_at,
    )


def _allowance_out(contract_id: int, balance: selectors.AllowanceBalance) -> AllowanceOut:
    return AllowanceOut(
        contract=contract_id,
        period=str(balance.period),
        unit=balance.unit,
        amount=number_text(balance.balance.allowance),
        valid_from=str(balance.valid_from) if balance.valid_from else None,
        used=number_text(balance.balance.used) or "0",
        remaining=number_text(balance.balance.remaining),
        exceeded=balance.balance.exceeded,
        history=[
            _allowance_row(row) for row in selectors.allowance_history(contract_id=contract_id)
        ],
    )
