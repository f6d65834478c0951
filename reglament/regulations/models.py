"""Regulation files as versioned records, their tariffs, and the contracts on them.

A regulation (one vendor's support policy, docs/regulations.md) is stored as
an append-only list of versions: each keeps the file's exact text, so what a
contract promised can always be re-read as it was. Tariffs are rows per
version so contracts can point at them. Written only by
reglament.regulations.services.
"""

import threading
from collections import OrderedDict

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from reglament.accounts.models import Organisation
from reglament.core.models import AppendOnlyModel, BaseModel, EventModel
from reglament.domain.regulation import Regulation as ParsedRegulation
from reglament.domain.regulation import load_regulation

# Parsing a file takes milliseconds; a version's text never changes, so each
# process parses a version once. Keyed by digest (the version's identity).
_PARSED_CACHE_SIZE = 64
_parsed: OrderedDict[str, ParsedRegulation] = OrderedDict()
_parsed_lock = threading.Lock()


class RegulationTextChangedError(RuntimeError):
    """A stored version's text no longer has its digest: the history was tampered with."""


class Regulation(models.Model):
    """One vendor's regulation, named by the id in its file (e.g. `cera`)."""

    # The file's own id: stable by the format's rules, and what users type.
    id = models.SlugField(_("id"), max_length=64, primary_key=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("regulation")
        verbose_name_plural = _("regulations")
        ordering = ("id",)

    def __str__(self) -> str:
        return self.id


class RegulationVersion(AppendOnlyModel):
    """One loaded text of a regulation file: numbered 1, 2, 3…, never changed."""

    regulation = models.ForeignKey(
        Regulation,
        verbose_name=_("regulation"),
        on_delete=models.PROTECT,
        related_name="versions",
    )
    number = models.PositiveIntegerField(_("version"))
    digest = models.CharField(_("SHA-256 of the file"), max_length=64)
    text = models.TextField(_("file text"))
    source_name = models.CharField(_("file name"), max_length=255)
    title_ru = models.CharField(_("title (Russian)"), max_length=300)
    title_en = models.CharField(_("title (English)"), max_length=300, blank=True)
    loaded_at = models.DateTimeField(_("loaded at"), default=timezone.now)
    loaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("loaded by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("regulation version")
        verbose_name_plural = _("regulation versions")
        ordering = ("regulation_id", "number")
        constraints = (
            models.UniqueConstraint(
                fields=("regulation", "number"), name="regulation_version_number_unique"
            ),
            models.UniqueConstraint(
                fields=("regulation", "digest"), name="regulation_version_digest_unique"
            ),
            models.CheckConstraint(condition=Q(number__gte=1), name="regulation_version_from_1"),
        )

    def __str__(self) -> str:
        return f"{self.regulation_id} v{self.number}"

    def parsed(self) -> ParsedRegulation:
        """The domain regulation this version's text describes (parsed once per process)."""
        with _parsed_lock:
            found = _parsed.get(self.digest)
            if found is not None:
                _parsed.move_to_end(self.digest)
                return found
        # Stored only after the loader accepted it, so this cannot fail unless
        # the loader itself became stricter since; then RegulationInvalid says why.
        regulation = load_regulation(self.text.encode("utf-8"), name=self.source_name)
        if regulation.digest != self.digest:  # the stored text is not what was loaded
            raise RegulationTextChangedError(
                f"{self}: the stored text's digest {regulation.digest} is not {self.digest}."
            )
        with _parsed_lock:
            _parsed[self.digest] = regulation
            while len(_parsed) > _PARSED_CACHE_SIZE:
                _parsed.popitem(last=False)
        return regulation


class Tariff(models.Model):
    """A tariff of one regulation version, as rows so contracts can refer to it."""

    version = models.ForeignKey(
        RegulationVersion,
        verbose_name=_("regulation version"),
        on_delete=models.PROTECT,
        related_name="tariffs",
    )
    code = models.SlugField(_("id"), max_length=64)
    title_ru = models.CharField(_("title (Russian)"), max_length=300)
    title_en = models.CharField(_("title (English)"), max_length=300, blank=True)
    order = models.PositiveSmallIntegerField(_("order"))

    class Meta:
        verbose_name = _("tariff")
        verbose_name_plural = _("tariffs")
        ordering = ("version", "order")
        constraints = (
            models.UniqueConstraint(fields=("version", "code"), name="tariff_code_unique"),
        )

    def __str__(self) -> str:
        return f"{self.version}: {self.code}"


class Contract(BaseModel):
    """An organisation's support contract: a tariff of one regulation version, for dates.

    The tariff row belongs to exactly one version, so the contract's version and
    regulation are the tariff's (one pointer, nothing to disagree). A contract
    stays on its version when a newer one is loaded, until it is moved.
    """

    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("organisation"),
        on_delete=models.PROTECT,
        related_name="contracts",
    )
    tariff = models.ForeignKey(
        Tariff, verbose_name=_("tariff"), on_delete=models.PROTECT, related_name="contracts"
    )
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(
        _("valid to"), null=True, blank=True, help_text=_("Inclusive; empty: open-ended.")
    )
    # Facts target rules can depend on, e.g. {"cash_registers": 60} (R1.5).
    attributes = models.JSONField(_("attributes"), default=dict, blank=True)
    service_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("service manager"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="managed_contracts",
    )

    class Meta:
        verbose_name = _("contract")
        verbose_name_plural = _("contracts")
        ordering = ("organisation__name", "valid_from")
        constraints = (
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=F("valid_from")),
                name="contract_valid_to_not_before_valid_from",
            ),
        )

    def __str__(self) -> str:
        return f"{self.organisation}: {self.tariff}"

    @property
    def version(self) -> RegulationVersion:
        return self.tariff.version

    @property
    def regulation_id(self) -> str:
        return self.tariff.version.regulation_id


class RegulationEvent(EventModel):
    """An append-only record of every change to regulations and contracts."""

    class Kind(models.TextChoices):
        VERSION_LOADED = "version_loaded", _("version loaded")
        CONTRACT_CREATED = "contract_created", _("contract created")
        CONTRACT_MOVED = "contract_moved", _("contract moved to another version")
        CONTRACT_UPDATED = "contract_updated", _("contract terms changed")

    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    regulation = models.ForeignKey(
        Regulation, verbose_name=_("regulation"), on_delete=models.PROTECT, related_name="events"
    )
    version = models.ForeignKey(
        RegulationVersion,
        verbose_name=_("regulation version"),
        on_delete=models.PROTECT,
        related_name="events",
    )
    contract = models.ForeignKey(
        Contract,
        verbose_name=_("contract"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="events",
    )

    class Meta:
        verbose_name = _("regulation event")
        verbose_name_plural = _("regulation events")
        ordering = ("-created_at", "-id")

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.version} @ {self.created_at.isoformat()}"
