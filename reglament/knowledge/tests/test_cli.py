"""`reglament kb import|export|search`, and the demo articles of `make run`."""

import json

import pytest

from reglament.cli import main
from reglament.knowledge.demo import DEMO_DIR, demo_articles_create
from reglament.knowledge.models import Article
from reglament.knowledge.tests.factories import knowledge_world
from reglament.tickets.tests.factories import shipped_version

pytestmark = pytest.mark.django_db

GOOD = """---
title: Касса зависает при оплате картой
visibility: restricted
state: published
---
Если касса зависает при оплате картой, перезапустите пин-пад.
"""


def test_import_creates_then_updates_with_a_revision_and_export_reads_back(tmp_path, capsys):
    # given a folder with one article in Russian and English
    world = knowledge_world()
    folder = tmp_path / "claim-desk"
    folder.mkdir()
    (folder / "card-payment-hangs.ru.md").write_text(GOOD, encoding="utf-8")
    (folder / "card-payment-hangs.en.md").write_text(
        "---\ntitle: The register hangs on card payment\n---\nRestart the PIN pad.\n",
        encoding="utf-8",
    )
    args = ["kb", "import", str(folder), "--regulation", "set-partner", "--section", "claim-desk"]
    # when an administrator imports it, twice, then changes the text and imports again
    assert main([*args, "--as", "admin"]) == 0
    assert main([*args, "--as", "admin"]) == 0
    (folder / "card-payment-hangs.ru.md").write_text(
        GOOD.replace("пин-пад", "терминал"), encoding="utf-8"
    )
    assert main([*args, "--as", "admin"]) == 0
    # then it was created, left alone, then changed with a new revision
    assert capsys.readouterr().out.splitlines() == [
        "claim-desk: 1 created, 0 changed, 0 unchanged",
        "claim-desk: 0 created, 0 changed, 1 unchanged",
        "claim-desk: 0 created, 1 changed, 0 unchanged",
    ]
    article = Article.objects.get(slug="card-payment-hangs")
    assert (article.section, article.state, article.visibility) == (
        "claim-desk", "published", "restricted"
    )  # fmt: skip
    assert list(article.revisions.values_list("number", "language")) == [
        (1, "ru"), (2, "en"), (3, "ru")
    ]  # fmt: skip
    # and the Expert partner finds it, the Free one does not
    assert main(["kb", "search", "зависает касса", "--as", "expert", "--json"]) == 0
    found = json.loads(capsys.readouterr().out)["items"]
    assert found[0]["slug"] == "card-payment-hangs"
    assert main(["kb", "search", "зависает касса", "--as", "free", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["items"] == []
    # and an export writes files that import back unchanged
    out = tmp_path / "out"
    code = main(
        ["kb", "export", "--regulation", "set-partner", "--section", "claim-desk",
         "--as", "admin", str(out)]
    )  # fmt: skip
    assert code == 0
    assert sorted(p.name for p in out.iterdir()) == sorted(
        f"{a.slug}.{t.language}.md"
        for a in Article.objects.filter(section="claim-desk")
        for t in a.translations.all()
    )
    assert (out / "card-payment-hangs.ru.md").read_text(encoding="utf-8") == (
        "---\ntitle: Касса зависает при оплате картой\nslug: card-payment-hangs\nlang: ru\n"
        "visibility: restricted\nstate: published\n---\n"
        "Если касса зависает при оплате картой, перезапустите терминал.\n"
    )
    capsys.readouterr()
    assert main(["kb", "import", str(out), "--regulation", "set-partner",
                 "--section", "claim-desk", "--as", "admin"]) == 0  # fmt: skip
    assert capsys.readouterr().out == "claim-desk: 0 created, 0 changed, 5 unchanged\n"
    assert world.articles["claim"].revisions.count() == 2


def test_a_bad_folder_reports_file_and_line_and_imports_nothing(tmp_path, capsys):
    knowledge_world()
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "fine.ru.md").write_text(GOOD, encoding="utf-8")
    (folder / "no-title.ru.md").write_text(
        "---\nvisibility: secret\ncolour: red\n---\nТекст.\n", encoding="utf-8"
    )
    (folder / "only-english.en.md").write_text("---\ntitle: Hi\n---\nText.\n", encoding="utf-8")
    (folder / "bare.ru.md").write_text("Нет заголовка.\n", encoding="utf-8")
    code = main(["kb", "import", str(folder), "--regulation", "set-partner",
                 "--section", "claim-desk", "--as", "admin"])  # fmt: skip
    assert code == 1
    err = capsys.readouterr().err.splitlines()
    assert err == [
        f"{folder}/bare.ru.md:1: the file must start with front matter: a line “---”",
        f"{folder}/no-title.ru.md:3: unknown key “colour”; the keys are: "
        "title, visibility, state, slug, lang",
        f"{folder}/no-title.ru.md:1: the title is missing: add “title: …” to the front matter",
        f"{folder}/no-title.ru.md:2: visibility “secret” is not one of: "
        "public, internal, restricted",
        f"{folder}/only-english.ru.md:1: the article “only-english” has no Russian file",
        "reglament kb import: error: 5 problems; nothing was imported.",
    ]
    assert not Article.objects.filter(slug="fine").exists()


@pytest.mark.parametrize(("login", "code"), [("expert", 1), ("nobody", 2)])
def test_only_staff_import(tmp_path, capsys, login, code):
    knowledge_world()
    (tmp_path / "a.ru.md").write_text(GOOD, encoding="utf-8")
    result = main(["kb", "import", str(tmp_path), "--regulation", "set-partner", "--as", login])
    assert result == code
    assert not Article.objects.filter(slug="a").exists()


def test_cli_search_prints_ranked_titles(capsys):
    knowledge_world()
    assert main(["kb", "search", "касса не печатает чек", "--as", "expert"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == (
        "1. set-partner/register-stopped-printing  Касса перестала печатать чеки  [claim-desk]"
    )


def test_cli_search_of_a_section_outside_the_tariff_is_refused(capsys):
    """R2.5: the Free partner gets the same clear answer on the command line."""
    knowledge_world()
    code = main(["kb", "search", "чек", "--as", "free", "--regulation", "set-partner",
                 "--section", "claim-desk"])  # fmt: skip
    assert code == 1
    assert capsys.readouterr().err.startswith(
        "reglament kb search: error: Your tariff «Бесплатный» (set-partner) does not include "
        "the section «Claim Desk»."
    )


def test_demo_has_articles_in_every_section_and_is_idempotent():
    """R2.5: the demo knowledge base fills every SET partner section, public article too."""
    # given the SET partner regulation loaded
    regulation = shipped_version("set-partner").parsed()
    # when the demo articles are created twice
    first = demo_articles_create()
    second = demo_articles_create()
    # then every section has at least two published articles, and nothing doubled
    expected = sum(1 for p in DEMO_DIR.glob("*/*/*.md") if not p.name.endswith(".en.md"))
    assert first == f"Demo knowledge base: {expected} articles created, 0 changed."
    assert second == f"Demo knowledge base: {expected} articles already there; nothing created."
    for section in regulation.knowledge_sections:
        published = Article.objects.filter(
            regulation_id="set-partner", section=section.id, state="published"
        )
        assert published.count() >= 2, section.id
    assert Article.objects.filter(visibility="public", state="published").exists()
    assert Article.objects.get(slug="register-stopped-printing").translations.count() == 2
