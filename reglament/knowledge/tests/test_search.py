"""Full-text search with Russian morphology, ranked, with snippets, on both databases.

R5.4 «Customer must read the operator manuals first»: that only works if an
inflected question finds the article. The same tests run on SQLite (FTS5 with
Snowball stems) and PostgreSQL (`russian` configuration).
"""

import pytest
from django.test import Client

from reglament.domain import search as words
from reglament.knowledge.tests.factories import API, knowledge_world

pytestmark = pytest.mark.django_db


def test_stems_make_inflected_forms_equal():
    # given the words of the question and of the title
    # then their Snowball stems agree, and «не» is a stop word
    assert words.query_terms("касса не печатает чек", "ru") == ["касс", "печата", "чек"]
    assert words.terms("Касса перестала печатать чеки", "ru") == [
        "касс", "переста", "печата", "чек"
    ]  # fmt: skip
    assert words.stem("Ёлка", "ru") == words.stem("елка", "ru")


def test_snippet_marks_matching_words_and_escapes_the_rest():
    snippet = words.snippet("Касса <b>не</b> печатала чеки & молчала", ["касс", "печата"], "ru")
    assert snippet.html == (
        "<mark>Касса</mark> &lt;b&gt;не&lt;/b&gt; <mark>печатала</mark> чеки &amp; молчала"
    )
    assert snippet.matched == 2
    # and line breaks of the text become spaces, final punctuation stays
    assert words.snippet("Чек\n\nне  печатается.", ["чек"], "ru").html == (
        "<mark>Чек</mark> не печатается."
    )


def test_r2_5_expert_partner_finds_a_claim_desk_article_by_an_inflected_query():
    """R2.5 + R5.4: «касса не печатает чек» finds «Касса перестала печатать чеки» first."""
    # given an Expert partner and the Claim Desk articles
    world = knowledge_world()
    # when they search in Russian, with other inflections than the title's
    response = Client().get(
        f"{API}/knowledge/search",
        {"q": "касса не печатает чек", "section": "claim-desk", "regulation": "set-partner"},
        headers=world.headers("expert"),
    )
    # then the article is first, ranked above the one sharing only «касса»
    assert response.status_code == 200
    items = response.json()["items"]
    assert [item["article"]["title"] for item in items] == [
        "Касса перестала печатать чеки",
        "Касса не включается",
    ]
    assert items[0]["rank"] > items[1]["rank"]
    assert items[0]["article"]["section"] == "claim-desk"
    # and the snippet marks the words that matched
    snippet = items[0]["snippet"]
    assert "<mark>касса</mark>" in snippet.lower()
    assert "<mark>печатает</mark>" in snippet
    assert "<mark>чек</mark>" in snippet


def test_english_query_finds_the_english_translation():
    world = knowledge_world()
    response = Client().get(
        f"{API}/knowledge/search",
        {"q": "receipts printing", "lang": "en"},
        headers=world.headers("expert"),
    )
    items = response.json()["items"]
    assert [(i["article"]["slug"], i["article"]["language"]) for i in items] == [
        ("register-stopped-printing", "en")
    ]
    assert "<mark>print</mark>" in items[0]["snippet"]


def test_a_query_of_stop_words_finds_nothing():
    world = knowledge_world()
    response = Client().get(
        f"{API}/knowledge/search", {"q": "не и в"}, headers=world.headers("agent")
    )
    assert response.status_code == 200
    assert response.json()["items"] == []


def test_an_empty_query_is_invalid():
    world = knowledge_world()
    response = Client().get(f"{API}/knowledge/search", {"q": ""}, headers=world.headers("agent"))
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_input"


def test_an_edited_article_is_found_by_its_new_words(settings):
    """The index follows edits: the old words no longer find it, the new ones do."""
    from reglament.knowledge.services import TextIn, article_update

    world = knowledge_world()
    article_update(
        actor=world.people["agent"],
        article=world.articles["launch"],
        translations={"ru": TextIn(title="Запуск магазина", body="Сначала настройте весы.")},
    )
    client = Client()
    old = client.get(
        f"{API}/knowledge/search", {"q": "справочники"}, headers=world.headers("agent")
    )
    new = client.get(f"{API}/knowledge/search", {"q": "весами"}, headers=world.headers("agent"))
    assert old.json()["items"] == []
    assert [i["article"]["slug"] for i in new.json()["items"]] == ["store-launch"]
