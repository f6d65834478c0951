"""Who reads which article, on every read path: detail, list, search, sections, files.

R2.5 «Вы получите доступ к следующим разделам базы знаний: Запуски,
Функциональность, Сопровождение, Доступ в Claim Desk» (Expert); «Доступ к базе
знаний SET | ✗ | ✓» (none for Free). Staff read everything; nobody else learns
that a draft or an internal article exists (404); a restricted article of a
section the tariff lacks is a 403 `knowledge_not_in_tariff` saying how to get it.
"""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from reglament.knowledge.tests.factories import API, EXPERT, READERS, STAFF, knowledge_world

pytestmark = pytest.mark.django_db

# The status each reader gets on each article's page.
DETAIL = {
    "claim": {r: 200 if r in (*EXPERT, *STAFF) else 403 for r in READERS},
    "launch": {r: 200 if r in (*EXPERT, *STAFF) else 403 for r in READERS},
    "public": dict.fromkeys(READERS, 200),
    "internal": {r: 200 if r in STAFF else 404 for r in READERS},
    "draft": {r: 200 if r in STAFF else 404 for r in READERS},
}


@pytest.mark.parametrize("reader", READERS)
@pytest.mark.parametrize("article", list(DETAIL))
def test_r2_5_article_page_is_readable_only_by_whom_the_tariff_allows(article, reader):
    """R2.5: each role and tariff on each kind of article (detail endpoint)."""
    # given the SET partner knowledge base
    world = knowledge_world()
    slug = world.articles[article].slug
    # when the reader opens the article
    response = Client().get(
        f"{API}/knowledge/articles/set-partner/{slug}", headers=world.headers(reader)
    )
    # then they get it, a 403 naming the tariff, or a 404 hiding it
    assert response.status_code == DETAIL[article][reader], response.content
    body = response.json()
    if response.status_code == 403:
        assert body["code"] == "knowledge_not_in_tariff"
    if response.status_code == 404:
        assert body["code"] == "article_not_found"


def test_r2_5_free_partner_is_told_the_section_is_not_in_the_tariff_and_how_to_get_it():
    """R2.5 «none for Free»: the 403 names the section, the tariff and the tariffs with it."""
    # given a SET partner on «Бесплатный»
    world = knowledge_world()
    # when they open a Claim Desk article
    response = Client().get(
        f"{API}/knowledge/articles/set-partner/register-stopped-printing",
        headers={**world.headers("free"), "Accept-Language": "en"},
    )
    # then the answer says what is missing and how to get it
    assert response.status_code == 403
    body = response.json()
    assert body["code"] == "knowledge_not_in_tariff"
    assert body["message"] == (
        "Your tariff «Бесплатный» (set-partner) does not include the section «Claim Desk». "
        "It is included in the tariffs «Экспертный»: ask your service manager to move your "
        "contract to one of them."
    )
    assert body["details"] == {
        "regulation": "set-partner",
        "section": "claim-desk",
        "tariff": "free",
        "including": ["expert"],
        "hint": "It is included in the tariffs «Экспертный»: ask your service manager to move "
        "your contract to one of them.",
    }


def test_reader_without_a_contract_is_told_so():
    """R2.5: a customer with no contract under the regulation learns why, not a bare 403."""
    world = knowledge_world()
    response = Client().get(
        f"{API}/knowledge/articles/set-partner/store-launch",
        headers={**world.headers("no_contract"), "Accept-Language": "en"},
    )
    assert response.status_code == 403
    assert response.json()["message"].startswith(
        "You have no contract in force under the regulation set-partner, so the section "
        "«Запуски» is not included for you."
    )


# The articles each reader finds in the list.
LISTED = {
    **dict.fromkeys(("anonymous", "no_contract", "free", "free_admin"), frozenset({"public"})),
    **dict.fromkeys(EXPERT, frozenset({"public", "claim", "claim_other", "launch"})),
    **dict.fromkeys(
        STAFF, frozenset({"public", "claim", "claim_other", "launch", "internal", "draft"})
    ),
}


@pytest.mark.parametrize("reader", READERS)
def test_r2_5_article_list_leaves_out_what_the_reader_may_not_read(reader):
    """R2.5: the list silently filters to what the role and tariff may read."""
    world = knowledge_world()
    response = Client().get(f"{API}/knowledge/articles", headers=world.headers(reader))
    assert response.status_code == 200
    slugs = {item["slug"] for item in response.json()}
    assert slugs == {world.articles[name].slug for name in LISTED[reader]}


# The articles each reader finds searching «касса не печатает чек».
FOUND = {
    **dict.fromkeys(("anonymous", "no_contract", "free", "free_admin"), ()),
    **dict.fromkeys(EXPERT, ("claim", "claim_other")),
    **dict.fromkeys(STAFF, ("claim", "internal", "draft", "claim_other")),
}


@pytest.mark.parametrize("reader", READERS)
def test_r2_5_search_finds_only_what_the_reader_may_read(reader):
    """R2.5: search filters silently; the best match is first for those who may read it."""
    world = knowledge_world()
    response = Client().get(
        f"{API}/knowledge/search",
        {"q": "касса не печатает чек", "regulation": "set-partner"},
        headers=world.headers(reader),
    )
    assert response.status_code == 200
    slugs = [item["article"]["slug"] for item in response.json()["items"]]
    expected = [world.articles[name].slug for name in FOUND[reader]]
    assert sorted(slugs) == sorted(expected)
    if expected:
        assert slugs[0] == "register-stopped-printing"


@pytest.mark.parametrize(
    ("reader", "status"),
    [("anonymous", 403), ("no_contract", 403), ("free", 403), ("free_admin", 403),
     ("expert", 200), ("expert_admin", 200), ("agent", 200), ("administrator", 200)],
)  # fmt: skip
def test_r2_5_searching_a_section_the_tariff_lacks_is_refused(reader, status):
    """R2.5: naming the Claim Desk section explicitly is a clear 403 for Free partners."""
    world = knowledge_world()
    response = Client().get(
        f"{API}/knowledge/search",
        {"q": "касса не печатает чек", "regulation": "set-partner", "section": "claim-desk"},
        headers=world.headers(reader),
    )
    assert response.status_code == status
    if status == 403:
        assert response.json()["code"] == "knowledge_not_in_tariff"
    else:
        assert response.json()["items"][0]["article"]["slug"] == "register-stopped-printing"


def test_r2_5_listing_a_section_the_tariff_lacks_is_refused():
    world = knowledge_world()
    client = Client()
    free = client.get(
        f"{API}/knowledge/articles",
        {"regulation": "set-partner", "section": "launches"},
        headers=world.headers("free"),
    )
    expert = client.get(
        f"{API}/knowledge/articles",
        {"regulation": "set-partner", "section": "launches"},
        headers=world.headers("expert"),
    )
    assert free.status_code == 403
    assert free.json()["details"]["section"] == "launches"
    assert [item["slug"] for item in expert.json()] == ["store-launch"]


def test_unknown_section_is_a_404_listing_the_known_ones():
    world = knowledge_world()
    response = Client().get(
        f"{API}/knowledge/articles",
        {"regulation": "set-partner", "section": "recipes"},
        headers=world.headers("expert"),
    )
    assert response.status_code == 404
    body = response.json()
    assert body["code"] == "section_not_found"
    assert body["details"]["known"] == [
        "launches", "functionality", "settings", "maintenance", "claim-desk"
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("reader", "accessible"),
    [("anonymous", False), ("free", False), ("expert", True), ("agent", True)],
)
def test_r2_5_sections_say_whether_the_tariff_includes_them(reader, accessible):
    world = knowledge_world()
    response = Client().get(
        f"{API}/knowledge/sections", {"regulation": "set-partner"}, headers=world.headers(reader)
    )
    assert response.status_code == 200
    sections = response.json()
    assert [s["id"] for s in sections] == [
        "launches", "functionality", "settings", "maintenance", "claim-desk"
    ]  # fmt: skip
    assert {s["accessible"] for s in sections} == {accessible}
    claim_desk = sections[-1]
    assert claim_desk["tariffs"] == ["expert"]
    assert claim_desk["title"] == {"ru": "Claim Desk", "en": "Claim Desk"}


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@pytest.mark.parametrize("reader", READERS)
def test_r2_5_an_article_file_follows_the_article_rules(reader, settings, tmp_path):
    """R2.5: a Claim Desk image downloads for Expert and staff only."""
    # given a Claim Desk article with a picture, uploaded by staff through the API
    settings.REGLAMENT_ATTACHMENTS_DIR = tmp_path
    world = knowledge_world()
    base = f"{API}/knowledge/articles/set-partner/register-stopped-printing"
    upload = Client().post(
        f"{base}/attachments",
        {"file": SimpleUploadedFile("printer.png", PNG, content_type="image/png")},
        headers=world.headers("agent"),
    )
    assert upload.status_code == 201, upload.content
    # when the reader downloads it
    response = Client().get(upload.json()["url"], headers=world.headers(reader))
    # then only those who may read the article get it
    expected = 200 if reader in (*EXPERT, *STAFF) else 403
    assert response.status_code == expected
    if expected == 200:
        assert response.getvalue() == PNG
        assert response["Content-Type"] == "image/png"
        assert response["Content-Disposition"] == "inline; filename*=UTF-8''printer.png"


def test_a_non_image_file_is_a_download_that_is_never_sniffed(settings, tmp_path):
    settings.REGLAMENT_ATTACHMENTS_DIR = tmp_path
    world = knowledge_world()
    base = f"{API}/knowledge/articles/set-partner/how-to-file-a-request"
    upload = Client().post(
        f"{base}/attachments",
        {"file": SimpleUploadedFile("page.html", b"<script>alert(1)</script>", "text/html")},
        headers=world.headers("administrator"),
    )
    response = Client().get(upload.json()["url"])
    assert response.status_code == 200
    # served as what it is, but only ever saved, never shown or run (reglament.core.files)
    assert response["Content-Type"] == "text/html"
    assert response["Content-Disposition"] == "attachment; filename*=UTF-8''page.html"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "sandbox"


@pytest.mark.parametrize("reader", ["expert", "expert_admin", "free"])
def test_customers_may_not_upload_files(reader, settings, tmp_path):
    settings.REGLAMENT_ATTACHMENTS_DIR = tmp_path
    world = knowledge_world()
    response = Client().post(
        f"{API}/knowledge/articles/set-partner/how-to-file-a-request/attachments",
        {"file": SimpleUploadedFile("a.png", PNG, content_type="image/png")},
        headers=world.headers(reader),
    )
    assert response.status_code == 403
    assert response.json()["code"] == "knowledge_permission_denied"


def test_an_image_of_the_article_is_shown_from_its_download_url(settings, tmp_path):
    """`![…](attachment:NAME)` in Markdown points at the file's download endpoint."""
    from reglament.knowledge.services import TextIn, article_attachment_add, article_update

    settings.REGLAMENT_ATTACHMENTS_DIR = tmp_path
    world = knowledge_world()
    article = world.articles["claim"]
    admin = world.people["administrator"]
    attachment = article_attachment_add(
        actor=admin, article=article, name="printer.png", content=PNG
    )
    article_update(
        actor=admin,
        article=article,
        translations={
            "ru": TextIn(
                title="Касса перестала печатать чеки", body="![Принтер](attachment:printer.png)"
            )
        },
    )
    response = Client().get(
        f"{API}/knowledge/articles/set-partner/register-stopped-printing",
        headers=world.headers("expert"),
    )
    url = (
        f"{API}/knowledge/articles/set-partner/register-stopped-printing"
        f"/attachments/{attachment.pk}"
    )
    assert response.json()["html"] == f'<p><img src="{url}" alt="Принтер"></p>\n'


def test_an_unknown_regulation_is_a_404():
    world = knowledge_world()
    response = Client().get(
        f"{API}/knowledge/search",
        {"q": "чек", "regulation": "nope"},
        headers=world.headers("expert"),
    )
    assert response.status_code == 404
    assert response.json()["code"] == "regulation_not_found"


def test_a_draft_an_internal_article_and_a_missing_slug_answer_byte_identical_404s(
    settings, tmp_path
):
    """Nobody but staff learns that a draft or an internal article exists, not even by wording."""
    from reglament.knowledge.services import article_attachment_add

    # given a draft and an internal article, each with a file
    settings.REGLAMENT_ATTACHMENTS_DIR = tmp_path
    world = knowledge_world()
    admin = world.people["administrator"]
    files = {
        name: article_attachment_add(
            actor=admin, article=world.articles[name], name="printer.png", content=PNG
        ).pk
        for name in ("draft", "internal")
    }
    base = f"{API}/knowledge/articles/set-partner"
    urls = [
        f"{base}/{world.articles['draft'].slug}",
        f"{base}/{world.articles['internal'].slug}",
        f"{base}/no-such-article",
        f"{base}/{world.articles['draft'].slug}/attachments/{files['draft']}",
        f"{base}/{world.articles['internal'].slug}/attachments/{files['internal']}",
        f"{base}/no-such-article/attachments/{files['draft']}",
    ]
    # when a partner (either tariff) and an anonymous reader ask for each
    responses = [
        Client().get(url, headers=world.headers(reader))
        for reader in ("anonymous", "free", "expert")
        for url in urls
    ]
    # then every answer is the same 404, byte for byte
    assert {r.status_code for r in responses} == {404}
    assert {r.content for r in responses} == {responses[0].content}
    assert responses[0].json() == {
        "code": "article_not_found",
        "message": "Такой статьи нет, или у вас нет к ней доступа.",
        "details": {},
    }


def test_staff_are_told_precisely_which_article_is_missing():
    world = knowledge_world()
    response = Client().get(
        f"{API}/knowledge/articles/set-partner/no-such-article",
        headers={**world.headers("agent"), "Accept-Language": "en"},
    )
    assert response.status_code == 404
    assert response.json() == {
        "code": "article_not_found",
        "message": "There is no article “no-such-article” under the regulation set-partner.",
        "details": {"regulation": "set-partner", "slug": "no-such-article"},
    }


@pytest.mark.parametrize("endpoint", ["articles", "search"])
@pytest.mark.parametrize(
    ("reader", "status"),
    [("anonymous", 403), ("no_contract", 403), ("free", 403), ("free_admin", 403),
     ("expert", 200), ("expert_admin", 200), ("agent", 200), ("administrator", 200)],
)  # fmt: skip
def test_r2_5_a_section_named_without_its_regulation_is_checked_in_the_one_that_has_it(
    endpoint, reader, status
):
    """R2.5 «none for Free»: `section=claim-desk` alone is found under set-partner and refused."""
    # given the SET partner knowledge base (only set-partner has a «claim-desk» section)
    world = knowledge_world()
    # when the reader names the section but no regulation
    response = Client().get(
        f"{API}/knowledge/{endpoint}",
        {"q": "касса не печатает чек", "section": "claim-desk"},
        headers=world.headers(reader),
    )
    # then the section's regulation decides, as if it had been named
    assert response.status_code == status, response.content
    body = response.json()
    if status == 403:
        assert body["code"] == "knowledge_not_in_tariff"
        assert body["details"]["regulation"] == "set-partner"
        assert body["details"]["section"] == "claim-desk"
    else:
        items = body if endpoint == "articles" else [i["article"] for i in body["items"]]
        assert {i["section"] for i in items} == {"claim-desk"}
        assert "register-stopped-printing" in {i["slug"] for i in items}


def test_a_section_no_regulation_has_is_a_404_naming_the_regulations_to_pass():
    world = knowledge_world()
    response = Client().get(
        f"{API}/knowledge/articles",
        {"section": "recipes"},
        headers={**world.headers("expert"), "Accept-Language": "en"},
    )
    assert response.status_code == 404
    assert response.json() == {
        "code": "section_not_found",
        "message": "No regulation has a knowledge section “recipes”. Pass `regulation` with "
        "one of its sections: set-partner (launches, functionality, settings, maintenance, "
        "claim-desk).",
        "details": {
            "section": "recipes",
            "regulations": {
                "set-partner": [
                    "launches", "functionality", "settings", "maintenance", "claim-desk"
                ]
            },
        },
    }  # fmt: skip


def test_a_section_several_regulations_have_needs_the_regulation():
    from reglament.regulations.services import regulation_load
    from reglament.tickets.tests.factories import REGULATIONS_DIR

    # given a second regulation with the same knowledge sections as set-partner
    world = knowledge_world()
    text = (REGULATIONS_DIR / "set-partner.yaml").read_text(encoding="utf-8")
    copy = text.replace("\nid: set-partner\n", "\nid: set-partner-copy\n", 1)
    regulation_load(data=copy.encode(), name="set-partner-copy.yaml")
    # when a reader names the section alone
    response = Client().get(
        f"{API}/knowledge/search",
        {"q": "касса", "section": "claim-desk"},
        headers={**world.headers("expert"), "Accept-Language": "en"},
    )
    # then they are asked which regulation they mean
    assert response.status_code == 422
    assert response.json() == {
        "code": "section_ambiguous",
        "message": "The regulations set-partner, set-partner-copy each have a knowledge "
        "section “claim-desk”; pass `regulation` to say which.",
        "details": {"section": "claim-desk", "regulations": ["set-partner", "set-partner-copy"]},
    }


def test_every_file_of_an_article_is_never_sniffed_and_only_non_images_are_sandboxed(
    settings, tmp_path
):
    # given an image and an HTML file on a public article, and no site-wide nosniff
    # (SecurityMiddleware adds it only while SECURE_CONTENT_TYPE_NOSNIFF is on: the
    # endpoint must not depend on that setting)
    settings.REGLAMENT_ATTACHMENTS_DIR = tmp_path
    settings.SECURE_CONTENT_TYPE_NOSNIFF = False
    world = knowledge_world()
    base = f"{API}/knowledge/articles/set-partner/how-to-file-a-request"
    urls = {
        name: Client()
        .post(
            f"{base}/attachments",
            {"file": SimpleUploadedFile(name, content, content_type=kind)},
            headers=world.headers("administrator"),
        )
        .json()["url"]
        for name, content, kind in (
            ("printer.png", PNG, "image/png"),
            ("page.html", b"<script>alert(1)</script>", "text/html"),
        )
    }
    # when each is downloaded
    image, page = Client().get(urls["printer.png"]), Client().get(urls["page.html"])
    # then neither may be sniffed into something else; only the download is sandboxed
    assert (image.status_code, page.status_code) == (200, 200)
    assert image["X-Content-Type-Options"] == "nosniff"
    # (the site-wide policy of SECURE_CSP applies, but no sandbox)
    assert "sandbox" not in image.get("Content-Security-Policy", "")
    assert page["X-Content-Type-Options"] == "nosniff"
    assert page["Content-Security-Policy"] == "sandbox"
