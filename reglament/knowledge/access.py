"""Who may read which article: the one rule every read path of the knowledge base asks.

- Support staff (the vendor's people, superusers) read everything: drafts,
  internal articles, every section.
- Everyone else, anonymous readers included, reads published articles only:
  every `public` one; never an `internal` one; a `restricted` one when their
  organisation has a contract in force under the article's regulation whose
  tariff the section lists in the regulation's `knowledge_sections` (R2.5) —
  and, when the regulation's service catalogue has a `knowledge-base` service,
  that service is not ✗ for the tariff (R1.1). A restricted vendor-wide article
  (no section) needs only the `knowledge-base` service (or, in a regulation
  without that service, any contract under the regulation).

A reader who may not know an article exists (a draft, an internal article)
gets "not found", worded exactly as for a slug that does not exist; a
restricted one the tariff lacks is a clear 403 `knowledge_not_in_tariff`
naming the section, the tariff and the tariffs that include it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from reglament.accounts.selectors import Profile, person_profile
from reglament.domain.regulation import Regulation as ParsedRegulation
from reglament.domain.regulation import Text
from reglament.knowledge.errors import (
    ArticleNotFoundError,
    KnowledgeNotInTariffError,
    SectionNotFoundError,
)
from reglament.knowledge.models import Article
from reglament.regulations.errors import ContractAmbiguousError
from reglament.regulations.models import Contract
from reglament.regulations.selectors import contract_for_organisation, regulation_get_latest

KNOWLEDGE_SERVICE = "knowledge-base"
ALL_SECTIONS = "*"


@dataclass(frozen=True, slots=True)
class SectionAccess:
    """Whether a reader may read a section's restricted articles, and why not."""

    regulation: str
    section: str  # "" for vendor-wide articles
    title: Text | None
    allowed: bool
    tariff: str | None  # the reader's tariff under the regulation; None: no contract
    tariff_title: Text | None
    including: tuple[str, ...]  # the tariffs that include the section
    including_titles: tuple[Text, ...]


@dataclass
class Reader:
    """A person (or nobody) reading the knowledge base, with their contracts looked up once."""

    user: User | None
    profile: Profile | None
    now: datetime
    _contracts: dict[str, Contract | None] = field(default_factory=dict)
    _regulations: dict[str, ParsedRegulation | None] = field(default_factory=dict)

    def regulation(self, regulation_id: str) -> ParsedRegulation | None:
        """The latest version of the regulation, parsed (looked up once per reader)."""
        if regulation_id not in self._regulations:
            self._regulations[regulation_id] = parsed_regulation(regulation_id)
        return self._regulations[regulation_id]

    @property
    def staff(self) -> bool:
        return self.profile is not None and self.profile.staff

    @property
    def language(self) -> str:
        return self.profile.language if self.profile is not None else "ru"

    def contract(self, regulation_id: str) -> Contract | None:
        """The reader's organisation's contract in force under the regulation, if any."""
        if regulation_id not in self._contracts:
            organisation = self.profile.organisation if self.profile else None
            found: Contract | None = None
            if organisation is not None:
                try:
                    found = contract_for_organisation(
                        organisation, at=self.now, regulation_id=regulation_id
                    )
                except ContractAmbiguousError:  # cannot happen with one regulation named
                    found = None
            self._contracts[regulation_id] = found
        return self._contracts[regulation_id]


def reader_for(user: User | AnonymousUser | None, *, now: datetime | None = None) -> Reader:
    """The reader `user` is (None or an anonymous user: an anonymous reader)."""
    at = now or timezone.now()
    if user is None or not isinstance(user, User) or not user.is_authenticated:
        return Reader(user=None, profile=None, now=at)
    return Reader(user=user, profile=person_profile(user), now=at)


def parsed_regulation(regulation_id: str) -> ParsedRegulation | None:
    version = regulation_get_latest(regulation_id)
    return version.parsed() if version is not None else None


def section_title(regulation: ParsedRegulation | None, section: str) -> Text | None:
    if regulation is None:
        return None
    found = next((s for s in regulation.knowledge_sections if s.id == section), None)
    return found.title if found is not None else None


def require_section(regulation_id: str, section: str) -> ParsedRegulation:
    """The regulation, if `section` is empty or one of its knowledge sections; else 404."""
    regulation = parsed_regulation(regulation_id)
    known = [s.id for s in regulation.knowledge_sections] if regulation else []
    if regulation is None or (section and section not in known):
        raise SectionNotFoundError(
            _(
                "The regulation %(regulation)s has no knowledge section “%(section)s”; "
                "its sections are: %(known)s."
            )
            % {"regulation": regulation_id, "section": section, "known": ", ".join(known) or "—"},
            details={"regulation": regulation_id, "section": section, "known": known},
        )
    return regulation


def _tariff_has_service(regulation: ParsedRegulation, tariff: str) -> bool:
    service = next((s for s in regulation.services if s.id == KNOWLEDGE_SERVICE), None)
    if service is None:
        return True  # the catalogue does not mention it: the sections alone decide
    value = service.tariffs.get(tariff, False)
    return value is True or isinstance(value, Text)


def section_access(reader: Reader, *, regulation_id: str, section: str) -> SectionAccess:
    """May the reader read restricted articles of `section` ("" for vendor-wide ones)?"""
    latest = reader.regulation(regulation_id)
    contract = reader.contract(regulation_id) if not reader.staff else None
    # The contract's own version decides what it promised; the latest names sections.
    regulation = contract.version.parsed() if contract is not None else latest
    tariff = contract.tariff.code if contract is not None else None
    if regulation is None:
        return SectionAccess(regulation_id, section, None, reader.staff, tariff, None, (), ())
    tariffs = {t.id: t for t in regulation.tariffs}
    with_service = tuple(t.id for t in regulation.tariffs if _tariff_has_service(regulation, t.id))
    if section:
        found = next((s for s in regulation.knowledge_sections if s.id == section), None)
        listed = found.tariffs if found is not None else ()
        including = tuple(t for t in listed if t in with_service)
    else:
        including = with_service
    allowed = reader.staff or (tariff is not None and tariff in including)
    return SectionAccess(
        regulation=regulation_id,
        section=section,
        title=section_title(regulation, section) or section_title(latest, section),
        allowed=allowed,
        tariff=tariff,
        tariff_title=tariffs[tariff].title if tariff in tariffs else None,
        including=including,
        including_titles=tuple(tariffs[t].title for t in including if t in tariffs),
    )


def not_in_tariff(access: SectionAccess, *, language: str) -> KnowledgeNotInTariffError:
    """The 403 for a section the reader's tariff does not include, saying how to get it."""

    def text(value: Text | None, fallback: str) -> str:
        if value is None:
            return fallback
        return (value.en or value.ru) if language == "en" else value.ru

    section = (
        _("the section «%(section)s»") % {"section": text(access.title, access.section)}
        if access.section
        else _("the knowledge base")
    )
    including = ", ".join(
        f"«{text(title, code)}»"
        for title, code in zip(access.including_titles, access.including, strict=False)
    )
    if access.tariff is None:
        message = _(
            "You have no contract in force under the regulation %(regulation)s, so "
            "%(section)s is not included for you."
        ) % {"regulation": access.regulation, "section": section}
    else:
        message = _("Your tariff «%(tariff)s» (%(regulation)s) does not include %(section)s.") % {
            "tariff": text(access.tariff_title, access.tariff),
            "regulation": access.regulation,
            "section": section,
        }
    hint = (
        _(
            "It is included in the tariffs %(tariffs)s: ask your service manager to move your "
            "contract to one of them."
        )
        % {"tariffs": including}
        if including
        else _("No tariff of this regulation includes it.")
    )
    return KnowledgeNotInTariffError(
        f"{message} {hint}",
        details={
            "regulation": access.regulation,
            "section": access.section,
            "tariff": access.tariff,
            "including": list(access.including),
            "hint": hint,
        },
    )


def visible_filter(reader: Reader, *, regulation_ids: list[str]) -> Q:
    """The articles of `regulation_ids` the reader may list, as a query condition."""
    if reader.staff:
        return Q(regulation_id__in=regulation_ids)
    allowed = Q(visibility=Article.Visibility.PUBLIC)
    if reader.profile is not None and reader.profile.organisation is not None:
        for regulation_id in regulation_ids:
            sections = readable_sections(reader, regulation_id=regulation_id)
            if sections:
                allowed |= Q(
                    visibility=Article.Visibility.RESTRICTED,
                    regulation_id=regulation_id,
                    section__in=sections,
                )
    return Q(regulation_id__in=regulation_ids, state=Article.State.PUBLISHED) & allowed


def readable_sections(reader: Reader, *, regulation_id: str) -> list[str]:
    """The sections ("" for vendor-wide) whose restricted articles the reader may read."""
    regulation = reader.regulation(regulation_id)
    ids = [""] + ([s.id for s in regulation.knowledge_sections] if regulation else [])
    return [
        section
        for section in ids
        if section_access(reader, regulation_id=regulation_id, section=section).allowed
    ]


def article_hidden() -> ArticleNotFoundError:
    """The 404 a non-staff reader gets for an article that is missing or that they may not know of.

    Both are the same answer, byte for byte (the default message, no details):
    another wording, or the slug echoed back, would tell a draft or an internal
    article from a slug that does not exist.
    """
    return ArticleNotFoundError()


def article_check(reader: Reader, article: Article) -> None:
    """Raise unless the reader may read `article`: 404 for what they may not know of."""
    if reader.staff:
        return
    if (
        article.state != Article.State.PUBLISHED
        or article.visibility == Article.Visibility.INTERNAL
    ):
        raise article_hidden()
    if article.visibility == Article.Visibility.PUBLIC:
        return
    access = section_access(reader, regulation_id=article.regulation_id, section=article.section)
    if not access.allowed:
        raise not_in_tariff(access, language=reader.language)
