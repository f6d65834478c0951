"""The committed .mo must say what the committed .po says (`make messages` rebuilds both)."""

import ast
import gettext
from pathlib import Path

from django.conf import settings


def _po_entries(path: Path) -> dict[str, str]:
    """msgid -> msgstr of the translated, non-fuzzy entries of a .po file."""
    entries: dict[str, str] = {}
    field, values, fuzzy = "", {"msgid": "", "msgstr": ""}, False
    for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        if line.startswith("#,") and "fuzzy" in line:
            fuzzy = True
        elif line.startswith(("msgid ", "msgstr ")):
            field, _, literal = line.partition(" ")
            values[field] = ast.literal_eval(literal)
        elif line.startswith('"'):
            values[field] += ast.literal_eval(line)
        elif not line.strip():
            if values["msgid"] and values["msgstr"] and not fuzzy:
                entries[values["msgid"]] = values["msgstr"]
            field, values, fuzzy = "", {"msgid": "", "msgstr": ""}, False
    return entries


def test_compiled_russian_catalog_matches_its_source() -> None:
    # given
    directory = Path(settings.LOCALE_PATHS[0]) / "ru" / "LC_MESSAGES"
    expected = _po_entries(directory / "django.po")
    # when
    with (directory / "django.mo").open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    # then
    assert len(expected) > 10
    assert {msgid: compiled.gettext(msgid) for msgid in expected} == expected
