"""The service catalogue's `knowledge-base` row decides vendor-wide restricted articles (R1.1).

R1.1 (SET Retail) «Доступ к базе знаний SET» ✓ on every tariff; R2.5 (SET
partner) ✗ on «Бесплатный», ✓ on «Экспертный».
"""

from datetime import date

import pytest
from django.test import Client
from django.urls import reverse

from reglament.accounts.tests.factories import OrganisationFactory, PersonFactory
from reglament.knowledge.models import Article
from reglament.knowledge.services import TextIn, article_create
from reglament.knowledge.tests.factories import API, knowledge_world
from reglament.regulations.services import contract_create
from reglament.tickets.tests.factories import shipped_version

pytestmark = pytest.mark.django_db


def _vendor_wide(regulation: str, slug: str, author) -> Article:
    return article_create(
        actor=author,
        regulation=regulation,
        slug=slug,
        visibility=Article.Visibility.RESTRICTED,
        state=Article.State.PUBLISHED,
        translations={"ru": TextIn(title="Новое в версии 10.4", body="Список изменений.")},
    )


@pytest.mark.parametrize(
    ("reader", "status"),
    [("retail_basic", 200), ("expert", 403), ("free", 403), ("agent", 200)],
)
def test_r1_1_retail_knowledge_base_is_in_every_retail_tariff(reader, status):
    """R1.1: «Доступ к базе знаний SET» ✓ for Basic; a SET partner has no retail contract."""
    # given a vendor-wide restricted article of SET Retail and a customer on its cheapest tariff
    world = knowledge_world()
    shop = OrganisationFactory.create(name="Магазин на Basic")
    contract_create(
        organisation=shop,
        version=shipped_version("set-retail"),
        tariff="basic",
        valid_from=date(2024, 1, 1),
    )
    world.people["retail_basic"] = PersonFactory.create(username="shop", organisation=shop)
    _vendor_wide("set-retail", "release-10-4", world.people["administrator"])
    # when each reader opens it
    response = Client().get(
        f"{API}/knowledge/articles/set-retail/release-10-4", headers=world.headers(reader)
    )
    # then only those whose contract includes the knowledge base read it
    assert response.status_code == status


@pytest.mark.parametrize(("reader", "status"), [("free", 403), ("expert", 200)])
def test_r2_5_vendor_wide_restricted_article_needs_the_knowledge_base_service(reader, status):
    """R2.5 «Доступ к базе знаний SET | ✗ | ✓»: the whole base, not only its sections."""
    world = knowledge_world()
    _vendor_wide("set-partner", "release-notes", world.people["administrator"])
    response = Client().get(
        f"{API}/knowledge/articles/set-partner/release-notes",
        headers={**world.headers(reader), "Accept-Language": "en"},
    )
    assert response.status_code == status
    if status == 403:
        assert response.json()["message"] == (
            "Your tariff «Бесплатный» (set-partner) does not include the knowledge base. "
            "It is included in the tariffs «Экспертный»: ask your service manager to move your "
            "contract to one of them."
        )


def test_a_logged_in_session_reads_like_a_token(client):
    """The web UI's session is a reader too: an Expert partner logged in reads Claim Desk."""
    world = knowledge_world()
    client.force_login(world.people["expert"])
    response = client.get(f"{API}/knowledge/articles/set-partner/register-stopped-printing")
    assert response.status_code == 200
    assert response.json()["html"].startswith("<p>Если касса не печатает чек, проверьте <strong>")


def test_the_admin_lists_articles_and_shows_one_with_its_history(client):
    world = knowledge_world()
    client.force_login(world.people["administrator"])
    article = world.articles["claim"]
    pages = [
        client.get(reverse("admin:knowledge_article_changelist")),
        client.get(reverse("admin:knowledge_article_change", args=[article.pk])),
        client.get(reverse("admin:knowledge_knowledgeevent_changelist")),
        client.get(reverse("admin:knowledge_suggestion_changelist")),
    ]
    assert [page.status_code for page in pages] == [200, 200, 200, 200]
    assert "Касса перестала печатать чеки" in pages[1].content.decode()
