import subprocess
import sys

import pytest

from reglament.cli import build_parser, main

COMMANDS = ["run", "web", "worker", "migrate", "check", "manage"]


def test_help_lists_every_command_with_a_one_line_description(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # when
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    # then
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    listed = {line.split()[0]: line for line in out.splitlines() if line.startswith("    ")}
    for command in COMMANDS:
        assert command in listed, command
        assert len(listed[command].split()) > 2, f"{command} has no description"


def test_every_command_has_a_handler() -> None:
    # given
    parser = build_parser()
    # when
    handlers = {
        command: parser.parse_args([command] if command != "manage" else [command, "help"]).handler
        for command in COMMANDS
    }
    # then
    assert all(callable(handler) for handler in handlers.values())


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "the following arguments are required: COMMAND"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
        (["web", "--port", "http"], "'http' is not a port number"),
        (["run", "--port", "70000"], "70000 is not between 1 and 65535"),
        (["web", "--processes", "0"], "0 is not 1 or more"),
        (["web", "--processes", "two"], "'two' is not a whole number"),
        (["migrate", "--verbose-ish"], "unrecognized arguments: --verbose-ish"),
    ],
)
def test_bad_arguments_exit_2_with_a_clear_message(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # when
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    # then
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_help_starts_without_importing_django() -> None:
    # given: a fresh interpreter
    code = (
        "import sys\n"
        "from reglament.cli import main\n"
        "try:\n"
        "    main(['--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "loaded = 'django' in sys.modules\n"
        "print('django loaded' if loaded else 'django not loaded', file=sys.stderr)\n"
    )
    # when
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    # then
    assert result.stderr.strip() == "django not loaded"


@pytest.mark.django_db
def test_check_passes_on_the_test_configuration() -> None:
    # when / then
    assert main(["check"]) == 0
