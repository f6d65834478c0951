"""Writing articles: staff only, Russian required, every edit a revision, safe HTML."""

import json

import pytest
from django.test import Client

from reglament.knowledge.models import Article, ArticleRevision, KnowledgeEvent
from reglament.knowledge.rendering import render_html
from reglament.knowledge.services import TextIn, article_update
from reglament.knowledge.tests.factories import API, READERS, STAFF, knowledge_world

pytestmark = pytest.mark.django_db


def test_markdown_is_rendered_and_scripts_styles_and_handlers_are_removed():
    # given a body mixing Markdown with hostile HTML
    body = (
        "# Чек\n\n**Важно**: <script>alert(1)</script><style>p{}</style>\n\n"
        '<img src="x.png" onerror="alert(2)"> <a href="javascript:alert(3)">ссылка</a>\n\n'
        '[сайт](https://crystals.ru) <p onclick="alert(4)">текст</p>'
    )
    # when it is rendered
    html = render_html(body)
    # then the formatting stays and nothing can run
    assert "<h1>Чек</h1>" in html
    assert "<strong>Важно</strong>" in html
    assert '<a href="https://crystals.ru" rel="noopener noreferrer">сайт</a>' in html
    assert '<img src="x.png">' in html
    for dangerous in ("<script", "alert(1)", "<style", "onerror", "onclick", "javascript:"):
        assert dangerous not in html


def _create(client, headers, **overrides):
    payload = {
        "regulation": "set-partner",
        "slug": "new-article",
        "section": "maintenance",
        "ru": {"title": "Обновление сервера", "body": "Шаги обновления."},
        **overrides,
    }
    return client.post(
        f"{API}/knowledge/articles",
        json.dumps(payload),
        content_type="application/json",
        headers=headers,
    )


@pytest.mark.parametrize("reader", READERS)
def test_only_staff_write_articles(reader):
    world = knowledge_world()
    response = _create(Client(), world.headers(reader))
    expected = 201 if reader in STAFF else 401 if reader == "anonymous" else 403
    assert response.status_code == expected, response.content
    if expected == 403:
        assert response.json()["code"] == "knowledge_permission_denied"


def test_a_new_article_is_a_draft_with_its_first_revision_and_event():
    world = knowledge_world()
    client = Client()
    response = _create(
        client,
        world.headers("agent"),
        en={"title": "Server update", "body": "Update steps."},
        note="первая версия",
    )
    assert response.status_code == 201
    body = response.json()
    assert (body["state"], body["visibility"], body["languages"]) == (
        "draft", "restricted", ["en", "ru"]
    )  # fmt: skip
    assert body["html"] == "<p>Шаги обновления.</p>\n"
    article = Article.objects.get(slug="new-article")
    assert list(article.revisions.values_list("number", "language", "note")) == [
        (1, "ru", "первая версия"),
        (2, "en", "первая версия"),
    ]
    assert list(KnowledgeEvent.objects.filter(article=article).values_list("kind", flat=True)) == [
        "created"
    ]
    # and the Expert partner cannot see the draft until it is published
    expert = world.headers("expert")
    url = f"{API}/knowledge/articles/set-partner/new-article"
    assert client.get(url, headers=expert).status_code == 404
    published = client.post(f"{url}/publish", headers=world.headers("agent"))
    assert published.json()["state"] == "published"
    assert client.get(url, headers=expert).status_code == 200
    client.post(f"{url}/unpublish", headers=world.headers("agent"))
    assert client.get(url, headers=expert).status_code == 404


@pytest.mark.parametrize(
    ("overrides", "code", "field"),
    [
        ({"slug": "Плохой слаг"}, "article_invalid", "slug"),
        ({"section": "recipes"}, "section_not_found", None),
        ({"ru": {"title": " ", "body": "x"}}, "article_invalid", "translations.ru.title"),
        ({"slug": "register-stopped-printing"}, "article_exists", None),
    ],
)
def test_invalid_articles_are_refused_with_the_field_named(overrides, code, field):
    world = knowledge_world()
    response = _create(Client(), world.headers("administrator"), **overrides)
    body = response.json()
    assert body["code"] == code
    assert body["details"].get("field") == field


def test_every_edit_is_a_revision_and_staff_read_the_history():
    # given an article edited twice, once without a change
    world = knowledge_world()
    article = world.articles["claim"]
    agent = world.people["agent"]
    article_update(
        actor=agent,
        article=article,
        translations={"ru": TextIn(title="Касса перестала печатать чеки", body="Новый текст.")},
        note="упростили",
    )
    article_update(
        actor=agent,
        article=article,
        translations={"ru": TextIn(title="Касса перестала печатать чеки", body="Новый текст.")},
    )
    # when staff read the history
    url = f"{API}/knowledge/articles/set-partner/register-stopped-printing/revisions"
    response = Client().get(url, headers=world.headers("service_manager"))
    # then it lists the creation (ru, en) and the one real edit, full copies
    assert [(r["number"], r["language"], r["body"], r["note"]) for r in response.json()] == [
        (1, "ru", ArticleRevision.objects.get(article=article, number=1).body, ""),
        (2, "en", "If the register does not print a receipt, check the paper.\n", ""),
        (3, "ru", "Новый текст.\n", "упростили"),
    ]
    assert response.json()[2]["author"] == "agent1"
    # and an Expert partner, who may read the article, may not read its history
    refused = Client().get(url, headers=world.headers("expert"))
    assert refused.status_code == 403
    assert refused.json()["code"] == "knowledge_permission_denied"


def test_reader_gets_their_language_with_fallback_to_russian():
    world = knowledge_world()
    client = Client()
    base = f"{API}/knowledge/articles/set-partner"
    english = client.get(
        f"{base}/register-stopped-printing?lang=en", headers=world.headers("expert")
    )
    fallback = client.get(f"{base}/store-launch?lang=en", headers=world.headers("expert"))
    assert (english.json()["language"], english.json()["title"]) == (
        "en", "The register stopped printing receipts"
    )  # fmt: skip
    assert (fallback.json()["language"], fallback.json()["title"]) == (
        "ru", "Запуск нового магазина"
    )  # fmt: skip


def test_a_bad_token_is_refused_not_read_as_anonymous():
    knowledge_world()
    response = Client().get(
        f"{API}/knowledge/articles", headers={"Authorization": "Bearer rgl_nope_nope"}
    )
    assert response.status_code == 401
