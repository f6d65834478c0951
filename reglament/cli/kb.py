"""`reglament kb …`: the knowledge base from the shell.

    reglament kb import docs/kb/claim-desk --regulation set-partner --section claim-desk \\
        --as admin
    claim-desk: 2 created, 0 changed, 0 unchanged
    reglament kb export --regulation set-partner --section claim-desk --as admin out/
    reglament kb search "касса не печатает чек" --as partner
    1. set-partner/register-stopped-printing  Касса перестала печатать чеки  [claim-desk]
       … Если <mark>касса</mark> не <mark>печатает</mark> <mark>чек</mark> …

A section is a folder of `<slug>.<lang>.md` files with YAML front matter
(reglament.knowledge.transfer, docs/knowledge.md). Every command acts as the
person `--as` names, with exactly their rights (search without `--as` reads as
an anonymous visitor). Exit codes: 0 done; 1 refused (not in the tariff, not
allowed, files with problems: each printed as file:line: message, nothing
imported); 2 a wrong argument.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from reglament.cli.calendar import UsageError
from reglament.cli.ticket import EXIT_CODES, guarded, person

_MARK = re.compile(r"</?mark>")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    kb = subparsers.add_parser(
        "kb",
        help="knowledge base: import or export a section, search",
        description="The knowledge base (R2.5, R5.4): a section as a folder of Markdown "
        "files, and search with Russian morphology. " + EXIT_CODES + ".",
    )
    actions = kb.add_subparsers(title="actions", metavar="ACTION", dest="action")
    actions.required = True
    where = argparse.ArgumentParser(add_help=False)
    where.add_argument("--regulation", required=True, metavar="ID", help="e.g. set-partner")
    where.add_argument(
        "--section",
        default="",
        metavar="ID",
        help="a knowledge section of the regulation, e.g. claim-desk (default: vendor-wide "
        "articles, which belong to no section)",
    )

    do_import = actions.add_parser(
        "import",
        parents=[where],
        help="create or update a section's articles from a folder of Markdown files",
        description="Read every DIR/<slug>.<lang>.md (front matter: title; visibility, state; "
        "optional slug, lang). All files are checked first: any problem is printed as "
        "file:line: message and nothing is imported. Existing articles (same slug) are "
        "updated; each changed text becomes a revision.",
    )
    do_import.add_argument("directory", type=Path, metavar="DIR")
    do_import.add_argument("--as", dest="actor", required=True, metavar="LOGIN", help="staff")
    do_import.set_defaults(handler=guarded("kb import", _import))

    export = actions.add_parser(
        "export",
        parents=[where],
        help="write a section's articles (drafts and internal ones too) as Markdown files",
        description="Write DIR/<slug>.<lang>.md for every article of the section, in the "
        "format 'kb import' reads back.",
    )
    export.add_argument("directory", type=Path, metavar="DIR")
    export.add_argument("--as", dest="actor", required=True, metavar="LOGIN", help="staff")
    export.set_defaults(handler=guarded("kb export", _export))

    search = actions.add_parser(
        "search",
        help="search the articles the person may read",
        description="Ranked full-text search with Russian morphology; only what --as may "
        "read (without --as: public articles only).",
    )
    search.add_argument("query", metavar="QUERY")
    search.add_argument("--as", dest="actor", metavar="LOGIN")
    search.add_argument("--regulation", metavar="ID")
    search.add_argument("--section", metavar="ID")
    search.add_argument("--lang", choices=("ru", "en"), help="search only texts in this language")
    search.add_argument("--limit", type=int, default=10)
    search.add_argument("--json", action="store_true", help="print {query, items: [...]}")
    search.set_defaults(handler=guarded("kb search", _search))


def _import(args: argparse.Namespace) -> None:
    from reglament.core.errors import AppError
    from reglament.knowledge.errors import ImportInvalidError
    from reglament.knowledge.transfer import knowledge_import

    actor = person(args.actor, "--as")
    try:
        report = knowledge_import(
            actor=actor,
            regulation=args.regulation,
            section=args.section,
            directory=args.directory,
        )
    except ImportInvalidError as invalid:
        problems = invalid.details["problems"]
        for problem in problems:
            print(problem, file=sys.stderr)
        count = len(problems)
        raise AppError(
            f"{count} problem{'s' if count != 1 else ''}; nothing was imported."
        ) from None
    print(
        f"{args.section or 'vendor-wide'}: {len(report.created)} created, "
        f"{len(report.updated)} changed, {len(report.unchanged)} unchanged"
    )


def _export(args: argparse.Namespace) -> None:
    from reglament.knowledge.selectors import articles_for_export
    from reglament.knowledge.services import require_staff
    from reglament.knowledge.transfer import knowledge_export

    actor = person(args.actor, "--as")
    require_staff(actor, "export knowledge-base articles")
    articles = articles_for_export(regulation=args.regulation, section=args.section)
    written = knowledge_export(articles=articles, directory=args.directory)
    print(f"{len(articles)} articles, {len(written)} files written to {args.directory}")


def _search(args: argparse.Namespace) -> None:
    from reglament.knowledge.access import reader_for
    from reglament.knowledge.selectors import article_search

    if args.limit < 1:
        raise UsageError(f"--limit {args.limit}: give 1 or more")
    user = person(args.actor, "--as") if args.actor else None
    results = article_search(
        reader=reader_for(user),
        query=args.query,
        regulation=args.regulation,
        section=args.section,
        language=args.lang,
        limit=args.limit,
    )
    if args.json:
        items = [
            {
                "regulation": r.article.regulation_id,
                "section": r.article.section,
                "slug": r.article.slug,
                "language": r.translation.language,
                "title": r.translation.title,
                "rank": r.rank,
                "snippet": r.snippet,
            }
            for r in results
        ]
        print(json.dumps({"query": args.query, "items": items}, ensure_ascii=False, indent=2))
        return
    if not results:
        print("Nothing found.")
    for number, result in enumerate(results, 1):
        article = result.article
        section = f"  [{article.section}]" if article.section else ""
        print(
            f"{number}. {article.regulation_id}/{article.slug}  {result.translation.title}{section}"
        )
        print(f"   {_MARK.sub('', result.snippet)}")
