"""Writes of the regulations app. Keyword-only, `<thing>_<verb>`, the only callers of save().

Each write records a RegulationEvent in the same transaction. Versions are
append-only: loading the same bytes again returns the version they already
are; changed bytes become the next version; nothing stored is ever rewritten.
"""

import math
import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Max, Q
from django.utils.translation import gettext as _

from reglament.accounts.models import Membership, Organisation
from reglament.accounts.selectors import person_role
from reglament.domain.regulation import Problem, RegulationInvalid, load_regulation
from reglament.domain.regulation import Regulation as ParsedRegulation
from reglament.regulations.errors import (
    ContractInvalidError,
    ContractOverlapError,
    RegulationInvalidError,
    ServiceManagerNotIncludedError,
)
from reglament.regulations.models import (
    Contract,
    Regulation,
    RegulationEvent,
    RegulationVersion,
    Tariff,
)
from reglament.regulations.selectors import PERSONAL_MANAGER, tariff_get, tariff_includes_service

# Contract attribute names, as target rules name them: `cash_registers`, `users`.
_ATTRIBUTE_NAME = re.compile(r"^[a-z][a-z0-9]*(?:[_-][a-z0-9]+)*$")
_ATTRIBUTE_TEXT_MAX = 200


# ----------------------------------------------------------------- regulations
def regulation_load(
    *, data: bytes, name: str, actor: User | None = None
) -> tuple[RegulationVersion, bool]:
    """Store a regulation file as a version; `(version, created)`.

    The same bytes as a stored version return that version (`created` False);
    otherwise the file becomes the regulation's next version. A file with any
    problem raises RegulationInvalidError listing every problem, and nothing is
    stored.
    """
    (loaded,) = regulation_load_many(files=[(name, data)], actor=actor)
    return loaded


def regulation_load_many(
    *, files: Sequence[tuple[str, bytes]], actor: User | None = None
) -> list[tuple[RegulationVersion, bool]]:
    """Check every file first, then store each in one transaction: all or nothing.

    `files` are `(name, bytes)` pairs, stored in order (so two changed copies of
    one regulation become two consecutive versions). Any problem in any file
    raises RegulationInvalidError with the problems of all files.
    """
    checked: list[tuple[str, bytes, ParsedRegulation]] = []
    problems: list[Problem] = []
    for name, data in files:
        try:
            checked.append((name, data, load_regulation(data, name=name)))
        except RegulationInvalid as invalid:
            problems.extend(invalid.problems)
    if problems:
        raise RegulationInvalidError(problems)
    with transaction.atomic():
        return [
            _version_store(regulation=regulation, data=data, name=name, actor=actor)
            for name, data, regulation in checked
        ]


def _version_store(
    *, regulation: ParsedRegulation, data: bytes, name: str, actor: User | None
) -> tuple[RegulationVersion, bool]:
    row, _created = Regulation.objects.get_or_create(id=regulation.id)
    # Lock the regulation so concurrent loads number their versions one after another.
    Regulation.objects.select_for_update().filter(pk=row.pk).get()
    existing = RegulationVersion.objects.filter(regulation=row, digest=regulation.digest).first()
    if existing is not None:
        return existing, False
    last: int | None = row.versions.aggregate(last=Max("number"))["last"]
    version = RegulationVersion(
        regulation=row,
        number=(last or 0) + 1,
        digest=regulation.digest,
        text=data.decode("utf-8"),  # the loader has proved it is UTF-8
        source_name=name[-255:],
        title_ru=regulation.title.ru,
        title_en=regulation.title.en,
        loaded_by=actor,
    )
    version.save()
    Tariff.objects.bulk_create(
        Tariff(
            version=version,
            code=tariff.id,
            title_ru=tariff.title.ru,
            title_en=tariff.title.en,
            order=order,
        )
        for order, tariff in enumerate(regulation.tariffs, start=1)
    )
    RegulationEvent(
        kind=RegulationEvent.Kind.VERSION_LOADED,
        regulation=row,
        version=version,
        actor=actor,
        data={"number": version.number, "digest": version.digest, "source_name": name},
    ).save()
    return version, True


# ------------------------------------------------------------------- contracts
@transaction.atomic
def contract_create(
    *,
    organisation: Organisation,
    version: RegulationVersion,
    tariff: str,
    valid_from: date,
    valid_to: date | None = None,
    attributes: Mapping[str, Any] | None = None,
    service_manager: User | None = None,
    actor: User | None = None,
) -> Contract:
    """Put `organisation` on tariff `tariff` of a regulation version from `valid_from`.

    `valid_to` is inclusive (None: open-ended). An organisation has at most one
    contract under a regulation on any day. A service manager may be named
    only when the tariff includes the `personal-manager` service.
    """
    if organisation.kind == Organisation.Kind.VENDOR:
        raise ContractInvalidError(
            _("The vendor itself cannot have a support contract."),
            details={"field": "organisation", "value": organisation.name},
        )
    _dates_check(valid_from=valid_from, valid_to=valid_to)
    checked_attributes = _attributes_check(attributes or {})
    tariff_row = tariff_get(version=version, code=tariff)
    _service_manager_check(tariff=tariff_row, service_manager=service_manager)
    # Lock the organisation: two contracts written at once must see each other.
    Organisation.objects.select_for_update().filter(pk=organisation.pk).get()
    _overlap_check(
        organisation=organisation,
        regulation_id=version.regulation_id,
        valid_from=valid_from,
        valid_to=valid_to,
    )
    contract = Contract(
        organisation=organisation,
        tariff=tariff_row,
        valid_from=valid_from,
        valid_to=valid_to,
        attributes=checked_attributes,
        service_manager=service_manager,
    )
    contract.save()
    RegulationEvent(
        kind=RegulationEvent.Kind.CONTRACT_CREATED,
        regulation_id=version.regulation_id,
        version=version,
        contract=contract,
        actor=actor,
        data={
            "organisation": organisation.name,
            "tariff": tariff,
            "valid_from": valid_from.isoformat(),
            "valid_to": valid_to.isoformat() if valid_to else None,
            "attributes": checked_attributes,
            "service_manager": service_manager.username if service_manager else None,
        },
    ).save()
    return contract


@transaction.atomic
def contract_move_to_version(
    *, contract: Contract, version: RegulationVersion, actor: User | None = None
) -> Contract:
    """Move a contract to another version of its regulation, keeping its tariff id.

    Contracts never move by themselves when a new version is loaded; this is
    the explicit step. The tariff must exist in `version`, and a service
    manager, if the contract has one, must still be included there.
    """
    contract = (
        Contract.objects.select_for_update().select_related("tariff__version").get(pk=contract.pk)
    )
    current = contract.tariff.version
    if version.regulation_id != current.regulation_id:
        raise ContractInvalidError(
            _("A contract under %(current)s cannot move to a version of %(other)s.")
            % {"current": current.regulation_id, "other": version.regulation_id},
            details={
                "field": "version",
                "regulation": current.regulation_id,
                "value": version.regulation_id,
            },
        )
    if version.pk == current.pk:
        return contract
    tariff = tariff_get(version=version, code=contract.tariff.code)
    _service_manager_check(tariff=tariff, service_manager=contract.service_manager)
    contract.tariff = tariff
    contract.save(update_fields=["tariff", "updated_at"])
    RegulationEvent(
        kind=RegulationEvent.Kind.CONTRACT_MOVED,
        regulation_id=version.regulation_id,
        version=version,
        contract=contract,
        actor=actor,
        data={"from": current.number, "to": version.number, "tariff": tariff.code},
    ).save()
    return contract


@transaction.atomic
def contract_update(
    *,
    contract: Contract,
    tariff: str,
    valid_from: date,
    valid_to: date | None = None,
    attributes: Mapping[str, Any] | None = None,
    service_manager: User | None = None,
    actor: User | None = None,
) -> Contract:
    """Change a contract's terms: tariff (within its version), dates, attributes, manager.

    The same checks as contract_create: the tariff exists in the contract's
    version, the dates are in order and do not overlap another contract of the
    organisation under the regulation, a service manager is a service manager
    and the tariff includes one. Moving to another version is
    contract_move_to_version. Records the old and new terms in an event.
    """
    _dates_check(valid_from=valid_from, valid_to=valid_to)
    checked_attributes = _attributes_check(attributes or {})
    contract = (
        # Lock the contract row alone (PostgreSQL refuses FOR UPDATE across the
        # nullable service-manager join); the related rows are only read.
        Contract.objects.select_for_update(of=("self",))
        .select_related("organisation", "tariff__version", "service_manager")
        .get(pk=contract.pk)
    )
    version = contract.tariff.version
    tariff_row = tariff_get(version=version, code=tariff)
    _service_manager_check(tariff=tariff_row, service_manager=service_manager)
    Organisation.objects.select_for_update().filter(pk=contract.organisation_id).get()
    _overlap_check(
        organisation=contract.organisation,
        regulation_id=version.regulation_id,
        valid_from=valid_from,
        valid_to=valid_to,
        besides=contract,
    )
    before = _terms(contract)
    contract.tariff = tariff_row
    contract.valid_from = valid_from
    contract.valid_to = valid_to
    contract.attributes = checked_attributes
    contract.service_manager = service_manager
    after = _terms(contract)
    if after == before:
        return contract
    contract.save(
        update_fields=[
            "tariff",
            "valid_from",
            "valid_to",
            "attributes",
            "service_manager",
            "updated_at",
        ]
    )
    RegulationEvent(
        kind=RegulationEvent.Kind.CONTRACT_UPDATED,
        regulation_id=version.regulation_id,
        version=version,
        contract=contract,
        actor=actor,
        data={
            "organisation": contract.organisation.name,
            "changed": {
                name: {"old": before[name], "new": after[name]}
                for name in after
                if after[name] != before[name]
            },
        },
    ).save()
    return contract


def _terms(contract: Contract) -> dict[str, Any]:
    return {
        "tariff": contract.tariff.code,
        "valid_from": contract.valid_from.isoformat(),
        "valid_to": contract.valid_to.isoformat() if contract.valid_to else None,
        "attributes": dict(contract.attributes),
        "service_manager": (
            contract.service_manager.get_username() if contract.service_manager else None
        ),
    }


def _dates_check(*, valid_from: date, valid_to: date | None) -> None:
    for field, value in (("valid_from", valid_from), ("valid_to", valid_to)):
        # A datetime is a date too; a contract's days must not depend on a time zone.
        if isinstance(value, datetime) or (value is not None and not isinstance(value, date)):
            raise ContractInvalidError(
                _("%(field)s must be a date.") % {"field": field},
                details={"field": field, "value": str(value)},
            )
    if valid_to is not None and valid_to < valid_from:
        raise ContractInvalidError(
            _("The contract ends (%(to)s) before it starts (%(from)s).")
            % {"to": valid_to.isoformat(), "from": valid_from.isoformat()},
            details={
                "field": "valid_to",
                "valid_from": valid_from.isoformat(),
                "valid_to": valid_to.isoformat(),
            },
        )


def _attributes_check(attributes: Mapping[str, Any]) -> dict[str, Any]:
    """Attribute names are ids; values are numbers, texts or yes/no (never nested)."""
    errors: list[dict[str, Any]] = []
    for name, value in attributes.items():
        if not isinstance(name, str) or not _ATTRIBUTE_NAME.match(name):
            errors.append(
                {
                    "field": f"attributes.{name}",
                    "message": _("An attribute name is lower-case words joined by _ or -."),
                }
            )
        elif isinstance(value, bool | int):
            continue
        elif isinstance(value, float):
            if not math.isfinite(value):
                errors.append(
                    {"field": f"attributes.{name}", "message": _("A number must be finite.")}
                )
        elif isinstance(value, str):
            if len(value) > _ATTRIBUTE_TEXT_MAX:
                errors.append(
                    {
                        "field": f"attributes.{name}",
                        "message": _("A text is at most %(count)d characters.")
                        % {"count": _ATTRIBUTE_TEXT_MAX},
                    }
                )
        else:
            errors.append(
                {
                    "field": f"attributes.{name}",
                    "message": _("A value is a number, a text, true or false."),
                }
            )
    if errors:
        raise ContractInvalidError(
            _("The contract's attributes are not valid."), details={"errors": errors}
        )
    return dict(attributes)


def _service_manager_check(*, tariff: Tariff, service_manager: User | None) -> None:
    if service_manager is None:
        return
    if person_role(service_manager) != Membership.Role.SERVICE_MANAGER:
        raise ContractInvalidError(
            _("%(person)s is not a service manager.") % {"person": service_manager.username},
            details={"field": "service_manager", "value": service_manager.username},
        )
    if not tariff_includes_service(tariff, PERSONAL_MANAGER):
        version = tariff.version
        raise ServiceManagerNotIncludedError(
            _(
                "The tariff %(tariff)s of %(regulation)s version %(number)d does not include "
                "the personal-manager service, so the contract cannot name a service manager."
            )
            % {
                "tariff": tariff.code,
                "regulation": version.regulation_id,
                "number": version.number,
            },
            details={
                "field": "service_manager",
                "tariff": tariff.code,
                "regulation": version.regulation_id,
                "version": version.number,
                "service": PERSONAL_MANAGER,
            },
        )


def _overlap_check(
    *,
    organisation: Organisation,
    regulation_id: str,
    valid_from: date,
    valid_to: date | None,
    besides: Contract | None = None,
) -> None:
    clashing = Contract.objects.filter(
        organisation=organisation, tariff__version__regulation_id=regulation_id
    ).filter(Q(valid_to__isnull=True) | Q(valid_to__gte=valid_from))
    if besides is not None:  # a contract being changed does not clash with itself
        clashing = clashing.exclude(pk=besides.pk)
    if valid_to is not None:
        clashing = clashing.filter(valid_from__lte=valid_to)
    clash = clashing.select_related("tariff__version").order_by("valid_from").first()
    if clash is not None:
        raise ContractOverlapError(
            _(
                "%(organisation)s already has a contract under %(regulation)s "
                "from %(from)s to %(to)s."
            )
            % {
                "organisation": organisation.name,
                "regulation": regulation_id,
                "from": clash.valid_from.isoformat(),
                "to": clash.valid_to.isoformat() if clash.valid_to else "…",
            },
            details={
                "contract": clash.pk,
                "regulation": regulation_id,
                "valid_from": clash.valid_from.isoformat(),
                "valid_to": clash.valid_to.isoformat() if clash.valid_to else None,
            },
        )
