"""A knowledge base under SET partner (R2.5): partners on Expert and Free, staff, articles."""

from dataclasses import dataclass, field
from datetime import date

from django.contrib.auth.models import User

from reglament.accounts.models import Membership, Organisation
from reglament.accounts.services import token_create
from reglament.accounts.tests.factories import OrganisationFactory, PersonFactory
from reglament.knowledge.models import Article
from reglament.knowledge.services import TextIn, article_create
from reglament.regulations.services import contract_create
from reglament.tickets.tests.factories import shipped_version

Role = Membership.Role
Kind = Organisation.Kind
API = "/api/v1"

# Every reader the permission tests try, by what decides their access.
READERS = (
    "anonymous",
    "no_contract",  # a customer without a contract under set-partner
    "free",  # a SET partner's engineer on «Бесплатный»
    "free_admin",
    "expert",  # a SET partner's engineer on «Экспертный»
    "expert_admin",
    "agent",
    "service_manager",
    "administrator",
)
STAFF = ("agent", "service_manager", "administrator")
EXPERT = ("expert", "expert_admin")


@dataclass
class KnowledgeWorld:
    people: dict[str, User]
    articles: dict[str, Article]
    keys: dict[str, str] = field(default_factory=dict)

    def headers(self, reader: str) -> dict[str, str]:
        if reader == "anonymous":
            return {}
        if reader not in self.keys:
            self.keys[reader] = token_create(user=self.people[reader], name="test")[1]
        return {"Authorization": f"Bearer {self.keys[reader]}"}


def _text(title: str, body: str) -> dict[str, TextIn]:
    return {"ru": TextIn(title=title, body=body)}


def knowledge_world() -> KnowledgeWorld:
    version = shipped_version("set-partner")
    shipped_version("set-retail")
    vendor = OrganisationFactory.create(name="Кристаллы Систем", kind=Kind.VENDOR)
    expert_org = OrganisationFactory.create(name="Партнёр Эксперт", kind=Kind.PARTNER)
    free_org = OrganisationFactory.create(name="Партнёр Бесплатный", kind=Kind.PARTNER)
    loner = OrganisationFactory.create(name="Магазин без договора", kind=Kind.CUSTOMER)
    for organisation, tariff in ((expert_org, "expert"), (free_org, "free")):
        contract_create(
            organisation=organisation, version=version, tariff=tariff, valid_from=date(2024, 1, 1)
        )
    people = {
        "no_contract": PersonFactory.create(username="loner", organisation=loner),
        "free": PersonFactory.create(username="free", organisation=free_org),
        "free_admin": PersonFactory.create(
            username="free-admin", organisation=free_org, role=Role.CUSTOMER_ADMIN
        ),
        "expert": PersonFactory.create(username="expert", organisation=expert_org),
        "expert_admin": PersonFactory.create(
            username="expert-admin", organisation=expert_org, role=Role.CUSTOMER_ADMIN
        ),
        "agent": PersonFactory.create(
            username="agent1", organisation=vendor, role=Role.AGENT, line=1
        ),
        "service_manager": PersonFactory.create(
            username="manager", organisation=vendor, role=Role.SERVICE_MANAGER
        ),
        "administrator": PersonFactory.create(
            username="admin", organisation=vendor, role=Role.ADMINISTRATOR
        ),
    }
    author = people["administrator"]
    published, restricted = Article.State.PUBLISHED, Article.Visibility.RESTRICTED
    articles = {
        "claim": article_create(
            actor=author,
            regulation="set-partner",
            section="claim-desk",
            slug="register-stopped-printing",
            visibility=restricted,
            state=published,
            translations={
                "ru": TextIn(
                    title="Касса перестала печатать чеки",
                    body="Если касса не печатает чек, проверьте **бумагу** и крышку принтера. "
                    "Затем перезапустите кассовую программу.",
                ),
                "en": TextIn(
                    title="The register stopped printing receipts",
                    body="If the register does not print a receipt, check the paper.",
                ),
            },
        ),
        "claim_other": article_create(
            actor=author,
            regulation="set-partner",
            section="claim-desk",
            slug="register-does-not-start",
            visibility=restricted,
            state=published,
            translations=_text(
                "Касса не включается",
                "Касса не включается после обновления: проверьте питание и журнал загрузки.",
            ),
        ),
        "launch": article_create(
            actor=author,
            regulation="set-partner",
            section="launches",
            slug="store-launch",
            visibility=restricted,
            state=published,
            translations=_text(
                "Запуск нового магазина",
                "Порядок запуска: сервер, справочники, обучение персонала.",
            ),
        ),
        "public": article_create(
            actor=author,
            regulation="set-partner",
            slug="how-to-file-a-request",
            visibility=Article.Visibility.PUBLIC,
            state=published,
            translations=_text(
                "Как подать заявку", "Заявку принимают круглосуточно: сайт, телефон, почта."
            ),
        ),
        "internal": article_create(
            actor=author,
            regulation="set-partner",
            section="claim-desk",
            slug="duty-officer-notes",
            visibility=Article.Visibility.INTERNAL,
            state=published,
            translations=_text(
                "Памятка дежурного", "Касса клиента не печатает чек: сначала звоните партнёру."
            ),
        ),
        "draft": article_create(
            actor=author,
            regulation="set-partner",
            section="claim-desk",
            slug="fiscal-drive-draft",
            visibility=restricted,
            translations=_text(
                "Замена фискального накопителя", "Черновик: касса не печатает чек после замены."
            ),
        ),
    }
    return KnowledgeWorld(people=people, articles=articles)
