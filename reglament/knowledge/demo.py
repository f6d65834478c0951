"""Demo articles: every knowledge section of the shipped regulations gets a few articles.

`reglament demo load` calls demo_articles_create() after the regulations are
loaded. The articles are the Markdown folders beside this module
(`demo/<regulation>/<section>/`, `_vendor` for vendor-wide articles), imported
through reglament.knowledge.transfer exactly as `reglament kb import` would. It
is idempotent: an article already there with the same text is left as it is.
"""

from pathlib import Path

from django.db import transaction

from reglament.knowledge.transfer import knowledge_import
from reglament.regulations.models import Regulation

DEMO_DIR = Path(__file__).parent / "demo"
VENDOR_WIDE = "_vendor"


@transaction.atomic
def demo_articles_create() -> str:
    """Import the demo folders; one line saying what was created."""
    created = updated = unchanged = 0
    for regulation_dir in sorted(p for p in DEMO_DIR.iterdir() if p.is_dir()):
        if not Regulation.objects.filter(pk=regulation_dir.name).exists():
            continue
        for section_dir in sorted(p for p in regulation_dir.iterdir() if p.is_dir()):
            section = "" if section_dir.name == VENDOR_WIDE else section_dir.name
            report = knowledge_import(
                actor=None, regulation=regulation_dir.name, section=section, directory=section_dir
            )
            created += len(report.created)
            updated += len(report.updated)
            unchanged += len(report.unchanged)
    if created or updated:
        return f"Demo knowledge base: {created} articles created, {updated} changed."
    return f"Demo knowledge base: {unchanged} articles already there; nothing created."
