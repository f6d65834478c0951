"""File names as uploaders give them: kept readable, never a path or a header break."""

import pytest

from reglament.core.files import clean_name


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("Счёт на оплату №15.pdf", "Счёт на оплату №15.pdf"),
        ("Акт «сверки», 2026 + приложение.xlsx", "Акт «сверки», 2026 + приложение.xlsx"),
        ("C:\\Users\\buh\\Desktop\\отчёт.docx", "отчёт.docx"),
        ("../../etc/passwd", "passwd"),
        ('evil"\r\nX-Header: 1.txt', "evil_X-Header_ 1.txt"),
        ("...", "file"),
    ],
)
def test_a_file_name_keeps_what_people_write_and_loses_paths_and_header_breaks(
    given: str, kept: str
) -> None:
    assert clean_name(given) == kept
