"""A section as a folder of Markdown files: `reglament kb import` and `reglament kb export`.

One file per article and language, named `<slug>.<lang>.md` (`<slug>.md` is
Russian). Each starts with YAML front matter between `---` lines:

    ---
    title: Касса перестала печатать чеки     # required
    visibility: restricted                  # public | internal | restricted (default)
    state: published                        # draft (default) | published
    slug: register-stopped-printing         # optional; must match the file name
    lang: ru                                # optional; must match the file name
    ---
    Markdown text…

`visibility` and `state` belong to the article: say them in the Russian file
(an English file may repeat them, but must agree). Every article needs a
Russian file. Every file is checked first; if any has a problem, each problem
is reported as `file:line: message` and nothing is imported.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from django.contrib.auth.models import User
from django.db import transaction
from django.utils.translation import gettext as _

from reglament.knowledge import services
from reglament.knowledge.access import require_section
from reglament.knowledge.errors import ImportInvalidError
from reglament.knowledge.models import Article

KEYS = ("title", "visibility", "state", "slug", "lang")
ARTICLE_KEYS = ("visibility", "state")


@dataclass
class ArticleFiles:
    slug: str
    texts: dict[str, services.TextIn] = field(default_factory=dict)
    settings: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ImportReport:
    created: list[str]
    updated: list[str]
    unchanged: list[str]


def _split(path: Path) -> tuple[str, str] | None:
    name = path.name[: -len(".md")]
    slug, dot, language = name.rpartition(".")
    if not dot:
        return name, "ru"
    return slug, language


def _front_matter(text: str) -> tuple[dict[str, Any], dict[str, int], str, str | None, int]:
    """(keys, line of each key, body, problem, line of the problem)."""
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        return {}, {}, "", _("the file must start with front matter: a line “---”"), 1
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
    except StopIteration:
        return {}, {}, "", _("the front matter is not closed by a line “---”"), 1
    source = "\n".join(lines[1:end])
    try:
        node = yaml.compose(source, Loader=yaml.SafeLoader)
        data = yaml.safe_load(source)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = (mark.line + 2) if mark is not None else 1
        reason = getattr(error, "problem", None) or str(error)
        return (
            {},
            {},
            "",
            _("the front matter is not valid YAML: %(reason)s") % {"reason": reason},
            line,
        )
    if not isinstance(data, dict):
        return {}, {}, "", _("the front matter must be keys and values (title: …)"), 2
    key_lines: dict[str, int] = {}
    if isinstance(node, yaml.MappingNode):
        for key_node, _value in node.value:
            key_lines[str(key_node.value)] = key_node.start_mark.line + 2
    body = "\n".join(lines[end + 1 :]).strip()
    return data, key_lines, body, None, 0


def read_folder(directory: Path) -> tuple[list[ArticleFiles], list[str]]:
    """The articles the folder's `*.md` files describe, and every problem as file:line: …"""
    problems: list[str] = []
    articles: dict[str, ArticleFiles] = {}
    files = sorted(directory.glob("*.md"))
    if not directory.is_dir():
        return [], [f"{directory}: " + _("not a folder")]
    if not files:
        problems.append(f"{directory}: " + _("no *.md files in the folder"))
    for path in files:
        where = str(path)
        slug, language = _split(path) or ("", "")
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            problems.append(f"{where}:1: " + _("cannot read the file: %(e)s") % {"e": error})
            continue
        data, key_lines, body, problem, line = _front_matter(text)
        if problem is not None:
            problems.append(f"{where}:{line}: {problem}")
            continue

        def report(key: str, message: str, where: str = where, key_lines: dict = key_lines) -> None:
            problems.append(f"{where}:{key_lines.get(key, 1)}: {message}")

        for key in data:
            if key not in KEYS:
                report(
                    str(key),
                    _("unknown key “%(key)s”; the keys are: %(keys)s")
                    % {"key": key, "keys": ", ".join(KEYS)},
                )
        if language not in services.LANGUAGE_CODES:
            report("", _("the file name must end in .ru.md or .en.md (or .md for Russian)"))
            continue
        if not services.SLUG.match(slug):
            report(
                "",
                _("“%(slug)s” is not a slug: use lower-case latin letters, digits and hyphens")
                % {"slug": slug},
            )
        if data.get("slug") not in (None, slug):
            report("slug", _("slug “%(s)s” does not match the file name") % {"s": data["slug"]})
        if data.get("lang") not in (None, language):
            report("lang", _("lang “%(l)s” does not match the file name") % {"l": data["lang"]})
        title = str(data.get("title") or "").strip()
        if not title:
            report("title", _("the title is missing: add “title: …” to the front matter"))
        if not body:
            problems.append(f"{where}:{len(text.splitlines()) or 1}: " + _("the text is empty"))
        known = {
            "visibility": list(Article.Visibility.values),
            "state": list(Article.State.values),
        }
        article = articles.setdefault(slug, ArticleFiles(slug=slug))
        for key in ARTICLE_KEYS:
            if key not in data:
                continue
            value = str(data[key])
            if value not in known[key]:
                report(
                    key,
                    _("%(key)s “%(value)s” is not one of: %(known)s")
                    % {"key": key, "value": value, "known": ", ".join(known[key])},
                )
            elif article.settings.setdefault(key, value) != value:
                report(
                    key,
                    _("%(key)s differs between the languages of “%(slug)s”")
                    % {"key": key, "slug": slug},
                )
        article.texts[language] = services.TextIn(title=title, body=body)
    for article in articles.values():
        if "ru" not in article.texts and article.texts:
            problems.append(
                f"{directory / (article.slug + '.ru.md')}:1: "
                + _("the article “%(slug)s” has no Russian file") % {"slug": article.slug}
            )
    return list(articles.values()), problems


@transaction.atomic
def knowledge_import(
    *, actor: User | None, regulation: str, section: str, directory: Path
) -> ImportReport:
    """Create or update the folder's articles in one section; all or nothing."""
    services.require_staff(actor, _("import knowledge-base articles"))
    require_section(regulation, section)
    articles, problems = read_folder(directory)
    if problems:
        raise ImportInvalidError(details={"problems": problems})
    created: list[str] = []
    updated: list[str] = []
    unchanged: list[str] = []
    note = _("imported from %(folder)s") % {"folder": directory.name}
    for item in articles:
        visibility = item.settings.get("visibility", Article.Visibility.RESTRICTED)
        state = item.settings.get("state", Article.State.DRAFT)
        existing = Article.objects.filter(regulation_id=regulation, slug=item.slug).first()
        if existing is None:
            services.article_create(
                actor=actor,
                regulation=regulation,
                section=section,
                slug=item.slug,
                visibility=visibility,
                state=state,
                translations=item.texts,
                note=note,
            )
            created.append(item.slug)
            continue
        events = existing.events.count()
        article = services.article_update(
            actor=actor,
            article=existing,
            translations=item.texts,
            section=section,
            visibility=visibility,
            note=note,
        )
        if state == Article.State.PUBLISHED:
            services.article_publish(actor=actor, article=article)
        else:
            services.article_unpublish(actor=actor, article=article)
        (updated if existing.events.count() != events else unchanged).append(item.slug)
    return ImportReport(created=created, updated=updated, unchanged=unchanged)


def knowledge_export(*, articles: list[Article], directory: Path) -> list[Path]:
    """Write each article as `<slug>.<lang>.md` files that `knowledge_import` reads back."""
    directory.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for article in articles:
        for translation in sorted(article.translations.all(), key=lambda t: t.language):
            front: dict[str, str] = {
                "title": translation.title,
                "slug": article.slug,
                "lang": translation.language,
            }
            if translation.language == "ru":
                front |= {"visibility": article.visibility, "state": article.state}
            header = yaml.safe_dump(front, allow_unicode=True, sort_keys=False)
            path = directory / f"{article.slug}.{translation.language}.md"
            path.write_text(f"---\n{header}---\n{translation.body}", encoding="utf-8")
            written.append(path)
    return written
