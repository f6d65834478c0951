"""Who is who: organisations (vendor, customers, partners) and the people in them.

A person is Django's auth User plus one Membership: the organisation they
belong to and their role there. Written only by reglament.accounts.services.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from reglament.core.models import BaseModel, EventModel


class Organisation(BaseModel):
    """A company Reglament knows: the vendor giving support, or a customer or partner."""

    class Kind(models.TextChoices):
        VENDOR = "vendor", _("vendor")
        CUSTOMER = "customer", _("customer")
        PARTNER = "partner", _("partner")

    name = models.CharField(_("name"), max_length=200, unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    # R2.1: a partner files requests for its client organisations.
    partner = models.ForeignKey(
        "self",
        verbose_name=_("partner"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="clients",
        limit_choices_to={"kind": Kind.PARTNER},
        help_text=_("The partner that files requests for this customer."),
    )

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        ordering = ("name",)
        constraints = (
            models.CheckConstraint(
                condition=Q(kind__in=["vendor", "customer", "partner"]),
                name="organisation_kind_known",
            ),
            # Only customers are clients of a partner (the partner's own kind is
            # checked by the service: a constraint cannot look at another row).
            models.CheckConstraint(
                condition=Q(partner__isnull=True) | Q(kind="customer"),
                name="organisation_only_customers_have_a_partner",
            ),
        )

    def __str__(self) -> str:
        return self.name


class Membership(BaseModel):
    """A person's place: their organisation and their role in it (one per person)."""

    class Role(models.TextChoices):
        REQUESTER = "requester", _("requester")
        CUSTOMER_ADMIN = "customer_admin", _("customer administrator")
        AGENT = "agent", _("support agent")
        SERVICE_MANAGER = "service_manager", _("service manager")
        ADMINISTRATOR = "administrator", _("administrator")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="membership",
    )
    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("organisation"),
        on_delete=models.PROTECT,
        related_name="memberships",
    )
    role = models.CharField(_("role"), max_length=32, choices=Role.choices)
    # The support line an agent works on (1, 2 or 3); empty for every other role.
    line = models.PositiveSmallIntegerField(_("support line"), null=True, blank=True)
    # The language of the mail and notifications this person receives.
    language = models.CharField(
        _("language"), max_length=8, choices=settings.LANGUAGES, default="ru"
    )

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        ordering = ("organisation__name", "user__username")
        constraints = (
            models.CheckConstraint(
                condition=(Q(role="agent") & Q(line__in=[1, 2, 3]))
                | (~Q(role="agent") & Q(line__isnull=True)),
                name="membership_line_only_for_agents",
            ),
        )

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()}, {self.organisation}"


class ApiToken(models.Model):
    """A personal API token: the key is shown once; only its SHA-256 is stored.

    The public ``prefix`` finds the row; the digest of the whole key proves it.
    Written only by reglament.accounts.services.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="api_tokens",
    )
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(_("prefix"), max_length=16, unique=True)
    digest = models.CharField(_("SHA-256 of the key"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ("user__username", "-created_at")

    def __str__(self) -> str:
        return f"{self.user}: {self.name} ({self.prefix}…)"


class AccountEvent(EventModel):
    """An append-only record of every change to organisations and people."""

    class Kind(models.TextChoices):
        ORGANISATION_CREATED = "organisation_created", _("organisation created")
        PERSON_CREATED = "person_created", _("person created")
        TOKEN_CREATED = "token_created", _("API token created")
        TOKEN_REVOKED = "token_revoked", _("API token revoked")
        LANGUAGE_CHANGED = "language_changed", _("language changed")

    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    organisation = models.ForeignKey(
        Organisation, verbose_name=_("organisation"), on_delete=models.PROTECT, related_name="+"
    )
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("account event")
        verbose_name_plural = _("account events")
        ordering = ("-created_at", "-id")

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.organisation} @ {self.created_at.isoformat()}"


class SignInFailure(models.Model):
    """One failed sign-in, kept in the database so every web process sees the count.

    Too many for one login or from one address within the window locks further
    attempts out (reglament.accounts.services.sign_in). A successful sign-in
    deletes its login's rows; old rows are ignored and pruned.
    """

    login = models.CharField(_("login"), max_length=254, db_index=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True, db_index=True)
    failed_at = models.DateTimeField(_("failed at"), db_index=True)

    class Meta:
        verbose_name = _("failed sign-in")
        verbose_name_plural = _("failed sign-ins")
        ordering = ("-failed_at",)

    def __str__(self) -> str:
        return f"{self.login} from {self.ip} @ {self.failed_at.isoformat()}"
