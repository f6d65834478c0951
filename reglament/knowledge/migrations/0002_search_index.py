"""The full-text index of article translations, one per database (reglament.knowledge.search).

PostgreSQL: a GIN index on the stored `search_vector` column. SQLite: the FTS5
table `knowledge_fts`, whose rowid is the translation's id and whose title and
body are stored already stemmed (Snowball, in Python); diacritics are kept so
«й» stays «й». Other databases get neither (search then finds nothing).
"""

from typing import Any

from django.db import migrations

CREATE_FTS5 = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS knowledge_fts USING fts5("
    "language UNINDEXED, title, body, tokenize = 'unicode61 remove_diacritics 0')"
)
CREATE_GIN = (
    "CREATE INDEX IF NOT EXISTS knowledge_translation_search "
    "ON knowledge_articletranslation USING gin (search_vector)"
)


def create(apps: Any, schema_editor: Any) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute(CREATE_FTS5)
    elif vendor == "postgresql":
        schema_editor.execute(CREATE_GIN)


def drop(apps: Any, schema_editor: Any) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute("DROP TABLE IF EXISTS knowledge_fts")
    elif vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS knowledge_translation_search")


class Migration(migrations.Migration):
    dependencies = [("knowledge", "0001_initial")]

    operations = [migrations.RunPython(create, drop)]
