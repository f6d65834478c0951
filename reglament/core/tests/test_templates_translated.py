"""Every word a person reads in a template goes through {% translate %} or {% blocktranslate %}."""

import re
from pathlib import Path

from django.conf import settings

# Words that are the same in every language: the product's name and a time zone.
ALLOWED = {"Reglament", "UTC"}

ALL_TEMPLATES = sorted(
    path
    for pattern in ("*.html", "*.txt")
    for path in (Path(settings.BASE_DIR) / "reglament").glob(f"**/templates/**/{pattern}")
)
# Letters are written whole in each language, in a folder named after it
# (reglament/mailbox/templates/mailbox/mail/<language>/): those are translations
# already. Every other template goes through gettext.
LANGUAGE_FOLDERS = {code for code, _name in settings.LANGUAGES}
TEMPLATES = [path for path in ALL_TEMPLATES if path.parent.name not in LANGUAGE_FOLDERS]

_REMOVE = [
    re.compile(r"{%\s*comment\s*%}.*?{%\s*endcomment\s*%}", re.S),
    re.compile(r"{#.*?#}", re.S),
    re.compile(r"{%\s*blocktrans(?:late)?\b.*?{%\s*endblocktrans(?:late)?\s*%}", re.S),
    re.compile(r"{%.*?%}", re.S),  # translate and every other tag
    re.compile(r"{{.*?}}", re.S),  # variables: text from the data, not the template
    re.compile(r"<(script|style)\b.*?</\1>", re.S | re.I),
    re.compile(r"<!--.*?-->", re.S),
    re.compile(r"<!doctype[^>]*>", re.I),
    re.compile(r"&[#\w]+;"),
]
# Attributes people read (or hear, from a screen reader); the rest are markup.
_VISIBLE_ATTRIBUTES = re.compile(
    r"""\b(?:alt|title|placeholder|aria-label|aria-description)\s*=\s*(["'])(.*?)\1""", re.S | re.I
)
_TAG = re.compile(r"<[^>]*>", re.S)
_WORD = re.compile(r"[^\W\d_]+")


def untranslated_words(source: str) -> list[str]:
    """The words of `source` a reader would see that no translation tag covers."""
    for pattern in _REMOVE:
        source = pattern.sub(" ", source)
    attributes = " ".join(match[1] for match in _VISIBLE_ATTRIBUTES.findall(source))
    text = _TAG.sub(" ", source) + " " + attributes
    return [word for word in _WORD.findall(text) if word not in ALLOWED]


def test_the_check_finds_plain_text_and_visible_attributes() -> None:
    # given
    source = (
        '{% load i18n %}<p title="Hint">{% translate "Fine" %} Oops</p>'
        '<img alt="{% translate "ok" %}" src="x.png" class="wide">'
        "{# a comment #}{% blocktranslate %}Hello {{ name }}{% endblocktranslate %} {{ user }}"
    )
    # when / then
    assert untranslated_words(source) == ["Oops", "Hint"]


def test_every_template_marks_its_text_for_translation() -> None:
    # given
    assert len(TEMPLATES) > 10
    # when
    found = {
        str(path.relative_to(settings.BASE_DIR)): words
        for path in TEMPLATES
        if (words := untranslated_words(path.read_text(encoding="utf-8")))
    }
    # then
    assert found == {}


def test_every_letter_written_per_language_exists_in_every_language() -> None:
    # given: the templates kept in per-language folders
    folders: dict[Path, set[str]] = {}
    for path in ALL_TEMPLATES:
        if path.parent.name in LANGUAGE_FOLDERS:
            folders.setdefault(path.parent.parent, set()).add(
                str(path.relative_to(path.parent.parent))
            )
    assert folders, "no per-language templates found"
    # when / then: each folder has the same letters in Russian and in English
    for root, files in folders.items():
        for language in LANGUAGE_FOLDERS:
            names = {name.split("/", 1)[1] for name in files if name.startswith(f"{language}/")}
            others = {name.split("/", 1)[1] for name in files}
            assert names == others, f"{root}/{language} lacks {sorted(others - names)}"
