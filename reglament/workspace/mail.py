"""The original of a message filed on a request, for staff: headers, the sanitised HTML
in a sandboxed frame (remote images blocked until the agent loads them), the whole
plain text, the files, and the .eml itself.

The HTML is served as a document of its own (`original_body`) under a policy that
allows no script, no style but ours, no form and images only from the message itself
(its inline images, written in as `data:` URLs) or, when the agent asked, from the
web; and it is shown in an `<iframe sandbox>`: even HTML the sanitiser let through by
mistake could run nothing and reach nothing.
"""

from __future__ import annotations

from base64 import b64encode
from typing import cast

from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.csp import CSP
from django.utils.http import content_disposition_header
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.csp import csp_override
from django.views.decorators.http import require_safe

from reglament.domain.mail import images_shown
from reglament.mailbox.selectors import Original, inbound_original
from reglament.tickets.errors import TicketNotFoundError
from reglament.tickets.models import Ticket
from reglament.tickets.selectors import ticket_get
from reglament.workspace.selectors import require_staff

# Inline images are shown only as these types (never SVG, which can script), and only
# up to this size each; the others stay in the list of files.
IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp", "image/bmp"})
MAX_INLINE_IMAGE = 5 * 1024 * 1024
MAX_INLINE_TOTAL = 10 * 1024 * 1024  # characters of data: URLs in one document

_BODY_POLICY: dict[str, list[str]] = {
    "default-src": [CSP.NONE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "base-uri": [CSP.NONE],
    "form-action": [CSP.NONE],
    "frame-ancestors": [CSP.SELF],
    # As sandboxed as the frame that shows it, even when opened on its own.
    "sandbox": ["allow-popups", "allow-popups-to-escape-sandbox"],
}
_BODY_POLICY_IMAGES: dict[str, list[str]] = {
    **_BODY_POLICY,
    "img-src": [CSP.SELF, "data:", "https:", "http:"],
}


def _original(request: HttpRequest, number: str, message: int) -> tuple[Ticket, Original]:
    """The request (staff who may see it only) and its message, else 404."""
    user = cast(User, request.user)  # login_required ran first
    try:
        require_staff(user)  # NotStaffError is a TicketNotFoundError: a 404 to others
        ticket = ticket_get(user=user, number=number)
    except TicketNotFoundError:
        raise Http404 from None
    original = inbound_original(ticket_id=ticket.pk, message_id=message)
    if original is None:
        raise Http404
    return ticket, original


@login_required
@require_safe
def original_page(request: HttpRequest, number: str, message: int) -> HttpResponse:
    ticket, original = _original(request, number, message)
    images = request.GET.get("images") == "1"
    body = "workspace:mail_body_images" if images else "workspace:mail_body"
    return render(
        request,
        "workspace/mail.html",
        {
            "ticket": ticket,
            "original": original,
            "message": original.row,
            "parsed": original.parsed,
            "images": images,
            "body_url": reverse(body, args=[ticket.number, original.row.pk]),
        },
    )


def _body(request: HttpRequest, number: str, message: int, *, remote: bool) -> HttpResponse:
    _ticket, original = _original(request, number, message)
    parsed = original.parsed
    inline = parsed.inline_images

    urls: dict[str, str | None] = {}
    budget = MAX_INLINE_TOTAL

    def cid_url(content_id: str) -> str | None:
        # Written into the document: the sandboxed frame's requests carry no session
        # cookie (its origin is opaque), so a URL of ours would not load. Each image
        # is encoded once, and all of them together, repeats included, stay within
        # MAX_INLINE_TOTAL: a mail showing one image 60,000 times must not make the
        # page gigabytes long.
        nonlocal budget
        if content_id not in urls:
            part = inline.get(content_id)
            urls[content_id] = (
                f"data:{part.content_type.lower()};base64,{b64encode(part.data).decode()}"
                if part is not None
                and part.content_type.lower() in IMAGE_TYPES
                and part.size <= MAX_INLINE_IMAGE
                else None
            )
        url = urls[content_id]
        if url is None or len(url) > budget:
            return None
        budget -= len(url)
        return url

    html = images_shown(parsed.html, remote=remote, cid_url=cid_url) if parsed.html else ""
    return render(
        request,
        "workspace/mail_body.html",
        {"html": html, "text": parsed.text if not parsed.html else "", "subject": parsed.subject},
    )


@login_required
@require_safe
@xframe_options_sameorigin
@csp_override(_BODY_POLICY)
def original_body(request: HttpRequest, number: str, message: int) -> HttpResponse:
    return _body(request, number, message, remote=False)


@login_required
@require_safe
@xframe_options_sameorigin
@csp_override(_BODY_POLICY_IMAGES)
def original_body_images(request: HttpRequest, number: str, message: int) -> HttpResponse:
    return _body(request, number, message, remote=True)


@login_required
@require_safe
def original_eml(request: HttpRequest, number: str, message: int) -> HttpResponse:
    ticket, original = _original(request, number, message)
    response = HttpResponse(original.raw, content_type="message/rfc822")
    name = f"{ticket.number}-{original.row.pk}.eml"
    response["Content-Disposition"] = content_disposition_header(True, name)
    return response
