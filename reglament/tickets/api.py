"""JSON endpoints for requests; thin: declare schemas, call one service or selector.

Requests are addressed by their number (`/tickets/CERA-2026-000001`). Every
endpoint needs a login (core.auth: a personal token or the web session) and
sees only what the person may see: a request of another organisation is a 404,
exactly as one that does not exist; customers never get internal notes,
internal events or internal files. What a role may *do* is decided by the
services (403 `ticket_permission_denied`), what the regulation allows by the
regulation (409 `transition_not_allowed`, 422 with `details.field`).
"""

import base64
import binascii
import json
import logging
from datetime import date, datetime, timedelta
from typing import Any

from django.contrib.auth.models import User
from django.http import FileResponse, HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, File, Form, Query, Router, Schema, Status, UploadedFile
from pydantic import field_validator

from reglament.accounts.models import Organisation
from reglament.accounts.selectors import person_find
from reglament.core import files
from reglament.core.auth import api_auth, error_responses, request_user
from reglament.core.errors import InvalidInputError
from reglament.core.files import file_response
from reglament.core.schemas import Instant, IntervalOut, TextOut
from reglament.domain.calendar import WorkingDays
from reglament.domain.regulation import Text, format_target
from reglament.domain.sla import ClockState
from reglament.regulations.models import Contract
from reglament.sla.models import Clock
from reglament.sla.selectors import clock_rows, ticket_clocks
from reglament.tickets import selectors, services
from reglament.tickets.errors import (
    TicketInvalidError,
    TicketNotFoundError,
)
from reglament.tickets.models import Attachment, Channel, Comment, Ticket, TicketEvent

logger = logging.getLogger(__name__)

router = Router(tags=["requests"], auth=api_auth)


# ------------------------------------------------------------------- schemas
class OrganisationRefOut(Schema):
    id: int
    name: str


class TicketOut(Schema):
    number: str
    subject: str
    description: str
    status: str
    status_title: TextOut
    resolution: str = Field(description="Empty unless the status is final.")
    is_open: bool
    priority: str
    impact: str = Field(description="R3.1: the impact answer the priority came from, if any.")
    workaround: str
    type: str
    category: str
    service: str = Field(description="The catalogue service asked for; empty when none.")
    line: int
    channel: str
    organisation: OrganisationRefOut
    requester: str = Field(description="The requester's login.")
    assignee: str | None = Field(description="The assignee's login; null when unassigned.")
    contract: int
    tariff: str
    regulation: str
    regulation_version: int
    received_at: datetime
    registered_at: datetime
    closed_at: datetime | None
    defect_confirmed_at: datetime | None
    development_reference: str
    fix_promised_on: date | None
    workaround_provided_at: datetime | None
    service_restored_at: datetime | None
    fix_delivered_at: datetime | None
    out_of_scope: str = Field(description="R1.7: the out-of-scope item; empty when in scope.")
    merged_into: str | None = Field(description="A duplicate: the request it continues in.")
    next_due_at: datetime | None = Field(description="The most urgent running clock's due time.")
    breached: bool
    at_risk: bool


class TicketListOut(Schema):
    items: list[TicketOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null: end.")


class TicketQuery(Schema):
    status: str | None = None
    priority: str | None = None
    line: int | None = Field(None, ge=1, le=3)
    organisation: int | None = Field(None, description="Organisation id.")
    assignee: str | None = Field(None, description="A login, or `none` for unassigned.")
    open: bool | None = None
    breached: bool | None = None
    at_risk: bool | None = None
    cursor: str | None = Field(None, description="`next_cursor` of the previous page.")
    limit: int = Field(50, ge=1, le=200)


class TicketIn(Schema):
    subject: str
    description: str = ""
    organisation: int | None = Field(
        None, description="Organisation id; a partner files for one of its clients (R2.1)."
    )
    regulation: str | None = Field(
        None, description="Regulation id, when the organisation has contracts under several."
    )
    type: str = Field("", description="Request type id, e.g. `defect` (R3.3).")
    category: str = ""
    priority: str | None = Field(None, description="critical, high, medium or low.")
    impact: str | None = Field(None, description="R3.1: with `workaround`, instead of priority.")
    workaround: str | None = None
    line: int = Field(1, ge=1, le=3)
    channel: str = Field(Channel.API.value, description="How the request arrived.")
    received_at: Instant | None = Field(
        None, description="When it arrived, if before now (e.g. a call registered later)."
    )
    requester: str | None = Field(
        None, description="Login of the customer's person; staff filing on their behalf."
    )
    assignee: str | None = Field(None, description="Login of the agent to assign (staff only).")
    service: str = Field(
        "", description="A service id of the regulation's catalogue (R4.1, R1.1), if one."
    )
    accept_paid_work: bool = Field(
        False,
        description="For a service the tariff excludes: file it as paid work, to be done "
        "after an estimate is approved (docs/paid-work.md).",
    )


_NOT_NULL = ("priority", "impact", "workaround", "category", "type", "subject", "contract")


class TicketPatchIn(Schema):
    """Only the fields sent are changed; `assignee: null` unassigns."""

    priority: str | None = None
    impact: str | None = None
    workaround: str | None = None
    category: str | None = None
    type: str | None = None
    subject: str | None = None
    assignee: str | None = Field(None, description="A login; null unassigns.")
    contract: int | None = Field(None, description="Move the request to this contract (id).")
    received_at: Instant | None = Field(
        None, description="Corrected arrival time; needs a `reason`."
    )
    reason: str = ""

    @field_validator(*_NOT_NULL, "received_at", mode="before")
    @classmethod
    def _may_be_left_out_but_not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("leave the field out instead of sending null")
        return value


class TransitionIn(Schema):
    status: str
    resolution: str = Field("", description="Required by final statuses that need one (R3.5).")
    comment: str = ""


class CloseIn(Schema):
    comment: str = ""


class EscalateIn(Schema):
    line: int = Field(ge=1, le=3)
    reason: str


class MilestoneIn(Schema):
    milestone: str = Field(
        description="defect_confirmed, workaround_provided, service_restored or fix_delivered."
    )
    note: str = ""


class DevelopmentIn(Schema):
    """R1.6: only the fields sent are changed; `fix_promised_on: null` clears the date."""

    reference: str | None = None
    fix_promised_on: date | None = None

    @field_validator("reference", mode="before")
    @classmethod
    def _reference_not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("leave the field out instead of sending null")
        return value


class OutOfScopeIn(Schema):
    item: str = Field(description="An out-of-scope item of the regulation (R1.7); '' clears.")
    reason: str = ""


class WatchIn(Schema):
    login: str
    watch: bool = True


class WatchersOut(Schema):
    number: str
    watchers: list[str]


class CommentIn(Schema):
    body: str
    public: bool = Field(True, description="false: an internal note (staff only).")


class CommentOut(Schema):
    id: int
    author: str
    public: bool
    body: str
    channel: str
    created_at: datetime


class EventOut(Schema):
    id: int
    kind: str
    title: str = Field(description="What happened, in the request's language.")
    at: datetime
    actor: str | None = Field(description="Login of who did it; null for the system.")
    public: bool
    data: dict[str, Any]


class AttachmentOut(Schema):
    id: int
    name: str
    content_type: str
    size: int
    sha256: str
    public: bool
    uploaded_by: str
    created_at: datetime


class TargetOut(Schema):
    text: TextOut
    seconds: int | None = Field(description="The target in business seconds, if in hours.")
    working_days: int | None = Field(description="The target in working days, if in days.")


class ExplainOut(Schema):
    counted: list[IntervalOut] = Field(description="The business time counted so far.")
    pauses: list[IntervalOut] = Field(description="Periods the clock stood still (R3.7).")
    provisional: bool = Field(description="Whether the due time relies on unknown holidays.")


class ClockOut(Schema):
    metric: str
    title: TextOut
    state: str
    target: TargetOut | None = Field(description="Null when the metric does not apply.")
    calendar: str | None
    started_at: datetime | None
    stopped_at: datetime | None
    stopped_by: str | None
    due_at: datetime | None
    warn_at: datetime | None
    consumed_seconds: int
    remaining_seconds: int | None = Field(description="Negative once breached.")
    warned_at: datetime | None = Field(description="The warning recorded, for its instant.")
    breached_at: datetime | None = Field(description="The breach recorded, for its instant.")
    explain: ExplainOut | None


class ClocksOut(Schema):
    number: str
    regulation: str
    regulation_version: int
    clocks: list[ClockOut]


# --------------------------------------------------------------- requests
@router.post(
    "/tickets",
    response={201: TicketOut, **error_responses(400, 409)},
    summary="File a request",
    description=(
        "Registers a request with its number and time (R3.4). A customer files for their "
        "organisation, a partner also for its clients (`organisation`, R2.1); staff file on "
        "a customer's behalf (`requester`). The priority is given, or derived from `impact` "
        "and `workaround` (R3.1). 422 `ticket_invalid` (details.field names the field), "
        "`no_contract`, `contract_ambiguous`; 403 when a customer files for someone else or "
        "backdates `received_at` (staff only). A `service` the contract's tariff excludes "
        "(R4.1, R1.1) is 409 `service_not_included` unless `accept_paid_work` is true "
        "(docs/paid-work.md); an unknown `service` is 422 `service_unknown` listing the "
        "catalogue's ids."
    ),
)
def ticket_create(request: HttpRequest, payload: TicketIn) -> Status[TicketOut]:
    actor = request_user(request)
    ticket = services.ticket_create(
        actor=actor,
        subject=payload.subject,
        description=payload.description,
        requester=_person(payload.requester, "requester"),
        organisation=_organisation(payload.organisation),
        regulation=payload.regulation,
        channel=payload.channel,
        type=payload.type,
        category=payload.category,
        priority=payload.priority,
        impact=payload.impact,
        workaround=payload.workaround,
        line=payload.line,
        received_at=payload.received_at,
        assignee=_person(payload.assignee, "assignee"),
        service=payload.service,
        accept_paid_work=payload.accept_paid_work,
    )
    return Status(201, _ticket_out(ticket))


@router.get(
    "/tickets",
    response={200: TicketListOut, **error_responses()},
    summary="Requests, most urgent first",
    description=(
        "The requests the caller may see, ordered by the next due instant (requests with "
        "nothing due last), with cursor pagination."
    ),
)
def ticket_list(request: HttpRequest, query: Query[TicketQuery]) -> TicketListOut:
    tickets = selectors.ticket_list(
        user=request_user(request),
        filters=selectors.TicketFilter(
            status=query.status,
            priority=query.priority,
            line=query.line,
            organisation=query.organisation,
            assignee=query.assignee,
            is_open=query.open,
            breached=query.breached,
            at_risk=query.at_risk,
        ),
        after=_cursor_decode(query.cursor) if query.cursor is not None else None,
        limit=query.limit + 1,  # one more says whether there is a next page
    )
    page = tickets[: query.limit]
    more = len(tickets) > query.limit
    return TicketListOut(
        items=[_ticket_out(ticket) for ticket in page],
        next_cursor=_cursor_encode(page[-1]) if more else None,
    )


@router.get(
    "/tickets/{number}",
    response={200: TicketOut, **error_responses()},
    summary="One request",
)
def ticket_detail(request: HttpRequest, number: str) -> TicketOut:
    return _ticket_out(selectors.ticket_get(user=request_user(request), number=number))


@router.patch(
    "/tickets/{number}",
    response={200: TicketOut, **error_responses(400, 409)},
    summary="Change a request's facts (staff)",
    description=(
        "Only the fields sent change; the clocks are re-computed from the history. A "
        "corrected `received_at` needs a `reason`."
    ),
)
def ticket_update(request: HttpRequest, number: str, payload: TicketPatchIn) -> TicketOut:
    actor = request_user(request)
    ticket = selectors.ticket_get(user=actor, number=number)
    sent = payload.model_fields_set
    changes: dict[str, Any] = {
        name: getattr(payload, name)
        for name in ("priority", "impact", "workaround", "category", "type", "subject")
        if name in sent
    }
    if "received_at" in sent:
        changes["received_at"] = payload.received_at
    if "assignee" in sent:
        changes["assignee"] = _person(payload.assignee, "assignee")
    if payload.contract is not None:  # sent: null is refused by the schema
        changes["contract"] = _contract(payload.contract)
    ticket = services.ticket_update(ticket=ticket, actor=actor, reason=payload.reason, **changes)
    return _ticket_out(ticket)


@router.post(
    "/tickets/{number}/transition",
    response={200: TicketOut, **error_responses(400, 409)},
    summary="Change the status (staff)",
    description=(
        "Moves the request along the regulation's statuses (R3.5). 409 "
        "`transition_not_allowed` lists the allowed statuses; 422 `resolution_required`."
    ),
)
def ticket_transition(request: HttpRequest, number: str, payload: TransitionIn) -> TicketOut:
    actor = request_user(request)
    ticket = services.ticket_transition(
        ticket=selectors.ticket_get(user=actor, number=number),
        actor=actor,
        status=payload.status,
        resolution=payload.resolution,
        comment=payload.comment,
    )
    return _ticket_out(ticket)


@router.post(
    "/tickets/{number}/close",
    response={200: TicketOut, **error_responses(400, 409)},
    summary="Close one's own request (customers, R3.8)",
    description="The requester or their customer admin closes a request no longer needed.",
)
def ticket_close(request: HttpRequest, number: str, payload: CloseIn | None = None) -> TicketOut:
    actor = request_user(request)
    ticket = services.ticket_close_by_requester(
        ticket=selectors.ticket_get(user=actor, number=number),
        actor=actor,
        comment=payload.comment if payload is not None else "",
    )
    return _ticket_out(ticket)


@router.post(
    "/tickets/{number}/escalate",
    response={200: TicketOut, **error_responses(400, 409)},
    summary="Move to another support line (staff, R3.6)",
    description="New targets for the line; the business time already consumed is kept.",
)
def ticket_escalate(request: HttpRequest, number: str, payload: EscalateIn) -> TicketOut:
    actor = request_user(request)
    ticket = services.ticket_escalate(
        ticket=selectors.ticket_get(user=actor, number=number),
        actor=actor,
        line=payload.line,
        reason=payload.reason,
    )
    return _ticket_out(ticket)


@router.post(
    "/tickets/{number}/milestones",
    response={200: TicketOut, **error_responses(400, 409)},
    summary="Record a workflow step (staff, R1.6)",
    description="409 `milestone_invalid` when already recorded or the defect is not confirmed.",
)
def ticket_milestone(request: HttpRequest, number: str, payload: MilestoneIn) -> TicketOut:
    actor = request_user(request)
    ticket = services.ticket_mark(
        ticket=selectors.ticket_get(user=actor, number=number),
        actor=actor,
        milestone=payload.milestone,
        note=payload.note,
    )
    return _ticket_out(ticket)


@router.post(
    "/tickets/{number}/development",
    response={200: TicketOut, **error_responses(400, 409)},
    summary="Development reference and promised fix date (staff, R1.6)",
)
def ticket_development(request: HttpRequest, number: str, payload: DevelopmentIn) -> TicketOut:
    actor = request_user(request)
    sent = payload.model_fields_set
    changes: dict[str, Any] = {
        name: getattr(payload, name) for name in ("reference", "fix_promised_on") if name in sent
    }
    ticket = services.ticket_record_development(
        ticket=selectors.ticket_get(user=actor, number=number), actor=actor, **changes
    )
    return _ticket_out(ticket)


@router.post(
    "/tickets/{number}/out-of-scope",
    response={200: TicketOut, **error_responses(400)},
    summary="Classify as out of scope, or clear it (staff, R1.7)",
)
def ticket_out_of_scope(request: HttpRequest, number: str, payload: OutOfScopeIn) -> TicketOut:
    actor = request_user(request)
    ticket = services.ticket_set_out_of_scope(
        ticket=selectors.ticket_get(user=actor, number=number),
        actor=actor,
        item=payload.item,
        reason=payload.reason,
    )
    return _ticket_out(ticket)


@router.post(
    "/tickets/{number}/watchers",
    response={200: WatchersOut, **error_responses(400)},
    summary="Add or remove a watcher",
    description=(
        "Anyone who sees the request may watch it themselves; staff and customer admins "
        "also add or remove others of the request's organisation."
    ),
)
def ticket_watch(request: HttpRequest, number: str, payload: WatchIn) -> WatchersOut:
    actor = request_user(request)
    ticket = services.ticket_watch(
        ticket=selectors.ticket_get(user=actor, number=number),
        actor=actor,
        watcher=_required_person(payload.login, "login"),
        watch=payload.watch,
    )
    return WatchersOut(
        number=ticket.number,
        watchers=[user.get_username() for user in ticket.watchers.order_by("username")],
    )


# ------------------------------------------------------------ conversation
@router.get(
    "/tickets/{number}/comments",
    response={200: list[CommentOut], **error_responses()},
    summary="The conversation (customers see no internal notes)",
)
def comment_list(request: HttpRequest, number: str) -> list[CommentOut]:
    user = request_user(request)
    ticket = selectors.ticket_get(user=user, number=number)
    return [
        _comment_out(comment) for comment in selectors.ticket_comments(user=user, ticket=ticket)
    ]


@router.post(
    "/tickets/{number}/comments",
    response={201: CommentOut, **error_responses(400, 409)},
    summary="Reply, or write an internal note (staff)",
    description=(
        "A customer's reply while the request waits for them resumes its clocks (R3.7). "
        "409 `ticket_closed` when a customer replies to a closed request."
    ),
)
def comment_create(request: HttpRequest, number: str, payload: CommentIn) -> Status[CommentOut]:
    author = request_user(request)
    comment = services.ticket_reply(
        ticket=selectors.ticket_get(user=author, number=number),
        author=author,
        body=payload.body,
        public=payload.public,
        channel=Channel.API,
    )
    return Status(201, _comment_out(comment))


@router.get(
    "/tickets/{number}/events",
    response={200: list[EventOut], **error_responses()},
    summary="The history: who did what, when (customers see public events)",
)
def event_list(request: HttpRequest, number: str) -> list[EventOut]:
    user = request_user(request)
    ticket = selectors.ticket_get(user=user, number=number)
    return [_event_out(event) for event in selectors.ticket_events(user=user, ticket=ticket)]


# ---------------------------------------------------------------- files
@router.post(
    "/tickets/{number}/attachments",
    response={201: AttachmentOut, **error_responses(413)},
    summary="Attach a file (multipart)",
    description=(
        "`file` is the file; `public=false` attaches an internal file (staff only). 413 "
        "`attachment_too_large` above the size limit; 422 `attachment_invalid` when empty."
    ),
)
def attachment_create(
    request: HttpRequest,
    number: str,
    file: File[UploadedFile],
    public: Form[bool] = True,
) -> Status[AttachmentOut]:
    uploader = request_user(request)
    ticket = selectors.ticket_get(user=uploader, number=number)
    if file.size is not None:  # refused before it is read into memory
        files.check_size(file.size)
    attachment = services.attachment_add(
        ticket=ticket,
        uploader=uploader,
        name=file.name or "",
        content=file.read(),
        content_type=file.content_type or "",
        public=public,
    )
    return Status(201, _attachment_out(attachment))


@router.get(
    "/tickets/{number}/attachments",
    response={200: list[AttachmentOut], **error_responses()},
    summary="The request's files (customers see no internal files)",
)
def attachment_list(request: HttpRequest, number: str) -> list[AttachmentOut]:
    user = request_user(request)
    ticket = selectors.ticket_get(user=user, number=number)
    return [
        _attachment_out(attachment)
        for attachment in selectors.ticket_attachments(user=user, ticket=ticket)
    ]


@router.get(
    "/tickets/{number}/attachments/{attachment_id}",
    response=error_responses(),
    summary="Download a file",
    description=(
        "The file's bytes. PNG, JPEG, GIF and WebP images are shown inline; everything "
        "else (SVG included) is a download with `X-Content-Type-Options: nosniff`."
    ),
    openapi_extra={
        "responses": {
            200: {
                "description": "The file, as the type it was uploaded with.",
                # Any type: the one the uploader claimed, if well-formed, else octet-stream.
                "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    },
)
def attachment_download(request: HttpRequest, number: str, attachment_id: int) -> FileResponse:
    user = request_user(request)
    ticket = selectors.ticket_get(user=user, number=number)
    attachment = selectors.attachment_get(user=user, ticket=ticket, attachment_id=attachment_id)
    path = services.attachment_path(attachment)
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        logger.error("Attachment %s of %s is missing at %s", attachment.pk, ticket.number, path)
        raise TicketNotFoundError(
            details={"number": ticket.number, "attachment": attachment.pk}
        ) from None
    return file_response(handle, name=attachment.name, claimed_type=attachment.content_type)


# ------------------------------------------------------------------ clocks
@router.get(
    "/tickets/{number}/clocks",
    response={200: ClocksOut, **error_responses()},
    summary="Every SLA clock of the request, explained",
    description=(
        "Each metric of the regulation computed now from the request's history: its "
        "target, calendar, start, stop, due and warning instants, business time consumed "
        "and remaining, the warning and breach recorded, and the counted intervals and "
        "pauses that explain the figures."
    ),
)
def clock_list(request: HttpRequest, number: str) -> ClocksOut:
    ticket = selectors.ticket_get(user=request_user(request), number=number)
    regulation, states = ticket_clocks(ticket)
    rows = clock_rows(ticket)
    return ClocksOut(
        number=ticket.number,
        regulation=ticket.version.regulation_id,
        regulation_version=ticket.version.number,
        clocks=[
            _clock_out(state, regulation.metric(state.metric).title, rows.get(state.metric))
            for state in states
        ],
    )


# ---------------------------------------------------------------- references
def _person(login: str | None, field: str) -> User | None:
    return None if login is None else _required_person(login, field)


def _required_person(login: str, field: str) -> User:
    person = person_find(username=login)
    if person is None:
        raise TicketInvalidError(
            _("There is no person with the login “%(login)s”.") % {"login": login},
            details={"field": field, "value": login},
        )
    return person


def _organisation(organisation_id: int | None) -> Organisation | None:
    if organisation_id is None:
        return None
    organisation = Organisation.objects.filter(pk=organisation_id).first()
    if organisation is None:
        raise TicketInvalidError(
            _("There is no organisation %(id)d.") % {"id": organisation_id},
            details={"field": "organisation", "value": organisation_id},
        )
    return organisation


def _contract(contract_id: int) -> Contract:
    contract = Contract.objects.select_related("tariff__version").filter(pk=contract_id).first()
    if contract is None:
        raise TicketInvalidError(
            _("There is no contract %(id)d.") % {"id": contract_id},
            details={"field": "contract", "value": contract_id},
        )
    return contract


def _cursor_encode(ticket: Ticket) -> str:
    due = ticket.next_due_at.isoformat() if ticket.next_due_at is not None else None
    raw = json.dumps([due, ticket.pk], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _cursor_decode(cursor: str) -> tuple[datetime | None, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        due, pk = json.loads(raw)
        if not isinstance(pk, int) or isinstance(pk, bool):
            raise ValueError(pk)
        instant = datetime.fromisoformat(due) if due is not None else None
        if instant is not None and instant.tzinfo is None:
            raise ValueError(due)
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError):
        raise InvalidInputError(
            _("The cursor is not one this API gave out; start again without it."),
            details={"field": "cursor", "value": cursor},
        ) from None
    return instant, pk


# ---------------------------------------------------------------- rendering
def _text(text: Text) -> TextOut:
    return TextOut(ru=text.ru, en=text.get("en"))


def _login(user: User | None) -> str | None:
    return user.get_username() if user is not None else None


def _ticket_out(ticket: Ticket) -> TicketOut:
    status = ticket.version.parsed().status(ticket.status)
    return TicketOut(
        number=ticket.number,
        subject=ticket.subject,
        description=ticket.description,
        status=ticket.status,
        status_title=_text(status.title),
        resolution=ticket.resolution,
        is_open=ticket.is_open,
        priority=ticket.priority,
        impact=ticket.impact,
        workaround=ticket.workaround,
        type=ticket.type,
        category=ticket.category,
        service=ticket.service,
        line=ticket.line,
        channel=ticket.channel,
        organisation=OrganisationRefOut(id=ticket.organisation.pk, name=ticket.organisation.name),
        requester=ticket.requester.get_username(),
        assignee=_login(ticket.assignee),
        contract=ticket.contract_id,
        tariff=ticket.contract.tariff.code,
        regulation=ticket.version.regulation_id,
        regulation_version=ticket.version.number,
        received_at=ticket.received_at,
        registered_at=ticket.registered_at,
        closed_at=ticket.closed_at,
        defect_confirmed_at=ticket.defect_confirmed_at,
        development_reference=ticket.development_reference,
        fix_promised_on=ticket.fix_promised_on,
        workaround_provided_at=ticket.workaround_provided_at,
        service_restored_at=ticket.service_restored_at,
        fix_delivered_at=ticket.fix_delivered_at,
        out_of_scope=ticket.out_of_scope,
        merged_into=ticket.merged_into.number if ticket.merged_into is not None else None,
        next_due_at=ticket.next_due_at,
        breached=ticket.breached,
        at_risk=ticket.at_risk,
    )


def _comment_out(comment: Comment) -> CommentOut:
    return CommentOut(
        id=comment.pk,
        author=comment.author.get_username(),
        public=comment.public,
        body=comment.body,
        channel=comment.channel,
        created_at=comment.created_at,
    )


def _event_out(event: TicketEvent) -> EventOut:
    return EventOut(
        id=event.pk,
        kind=event.kind,
        title=str(event.get_kind_display()),
        at=event.created_at,
        actor=_login(event.actor),
        public=event.public,
        data=event.data,
    )


def _attachment_out(attachment: Attachment) -> AttachmentOut:
    return AttachmentOut(
        id=attachment.pk,
        name=attachment.name,
        content_type=attachment.content_type,
        size=attachment.size,
        sha256=attachment.sha256,
        public=attachment.public,
        uploaded_by=attachment.uploaded_by.get_username(),
        created_at=attachment.created_at,
    )


def _seconds(value: timedelta | None) -> int | None:
    return None if value is None else int(value.total_seconds())


def _clock_out(state: ClockState, title: Text, row: Clock | None) -> ClockOut:
    target = None
    if state.target is not None:
        duration = state.target.duration
        target = TargetOut(
            text=TextOut(ru=format_target(duration, "ru"), en=format_target(duration, "en")),
            seconds=_seconds(duration) if isinstance(duration, timedelta) else None,
            working_days=duration.count if isinstance(duration, WorkingDays) else None,
        )
    explanation = state.explanation
    return ClockOut(
        metric=state.metric,
        title=_text(title),
        state=state.state,
        target=target,
        calendar=state.target.calendar if state.target is not None else None,
        started_at=state.start,
        stopped_at=state.stop,
        stopped_by=state.stopped_by,
        due_at=state.due,
        warn_at=state.warn_at,
        consumed_seconds=int(state.consumed.total_seconds()),
        remaining_seconds=_seconds(state.remaining),
        warned_at=row.warned_at if row is not None else None,
        breached_at=row.breached_at if row is not None else None,
        explain=(
            ExplainOut(
                counted=[IntervalOut(start=i.start, end=i.end) for i in explanation.counted],
                pauses=[IntervalOut(start=start, end=end) for start, end in state.pauses],
                provisional=explanation.provisional,
            )
            if explanation is not None
            else None
        ),
    )
