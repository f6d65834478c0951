"""`reglament regulation load` and `reglament demo load`, through main()."""

import json
from pathlib import Path

import pytest

from reglament.accounts.models import AccountEvent, Membership, Organisation
from reglament.cli import main
from reglament.regulations.models import Contract, RegulationEvent, RegulationVersion
from reglament.regulations.tests.factories import ACME, ACME_V2
from reglament.sla.models import Clock
from reglament.tickets.models import Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def acme_file(tmp_path: Path) -> Path:
    path = tmp_path / "acme.yaml"
    path.write_text(ACME, encoding="utf-8")
    return path


def test_regulation_load_prints_new_then_unchanged_then_the_next_version(
    acme_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # when
    first = main(["regulation", "load", str(acme_file)])
    again = main(["regulation", "load", str(acme_file)])
    acme_file.write_text(ACME_V2, encoding="utf-8")
    changed = main(["regulation", "load", str(acme_file)])
    # then
    assert (first, again, changed) == (0, 0, 0)
    assert capsys.readouterr().out.splitlines() == [
        "acme: version 1 (new)",
        "acme: version 1 (unchanged)",
        "acme: version 2 (new)",
    ]
    assert list(RegulationVersion.objects.values_list("number", flat=True)) == [1, 2]


def test_regulation_load_with_an_invalid_file_prints_every_problem_and_stores_nothing(
    acme_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # given: a good file, a file with two problems, and a file that is not there
    broken = tmp_path / "broken.yaml"
    text = ACME.replace("id: acme", "id: broken").replace("stops: registered", "stops: registred")
    broken.write_text(text.replace("target: 8h", "target: 8 hours"), encoding="utf-8")
    missing = tmp_path / "missing.yaml"
    lines = broken.read_text(encoding="utf-8").splitlines()
    # when
    code = main(["regulation", "load", str(acme_file), str(broken), str(missing)])
    # then
    assert code == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.splitlines() == [
        f"{broken}:{lines.index('    stops: registred') + 1}: metrics[0].stops: "
        "Unknown event 'registred'. Did you mean 'registered'?",
        f"{broken}:{lines.index('      - {tariff: premium, target: 8 hours}') + 1}: "
        "metrics[1].targets[1].target: '8 hours' is not a duration. Write it with a unit: "
        "30m, 4h, 1.5h, 3wd (working days), or none for no promise.",
        f"{missing}:0: Cannot read the file: No such file or directory.",
        "3 problems; nothing was stored.",
    ]
    assert not RegulationVersion.objects.exists()


def test_regulation_load_stores_nothing_when_only_the_second_file_is_invalid(
    acme_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # given
    broken = tmp_path / "broken.yaml"
    broken.write_text(ACME.replace("number_prefix: ACME", "number_prefix: A"), encoding="utf-8")
    # when
    code = main(["regulation", "load", str(acme_file), str(broken)])
    # then
    assert code == 1
    assert capsys.readouterr().err.splitlines()[-1] == "1 problem; nothing was stored."
    assert not RegulationVersion.objects.exists()


def _counts() -> dict[str, int]:
    return {
        "versions": RegulationVersion.objects.count(),
        "organisations": Organisation.objects.count(),
        "people": Membership.objects.count(),
        "contracts": Contract.objects.count(),
        "requests": Ticket.objects.count(),
        "events": RegulationEvent.objects.count() + AccountEvent.objects.count(),
    }


def test_demo_load_loads_the_shipped_regulations_and_a_person_for_every_role(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # when
    code = main(["demo", "load"])
    # then
    assert code == 0
    out = capsys.readouterr().out
    shipped = sorted(p.stem for p in (Path(__file__).parents[3] / "regulations").glob("*.yaml"))
    assert sorted(line.split(":")[0] for line in out.splitlines() if "(new)" in line) == shipped
    assert "Demo logins (password for all: reglament-demo):" in out
    # one event per version, organisation, person and contract
    assert _counts() == {
        "versions": 5,
        "organisations": 12,
        "people": 16,
        "contracts": 9,
        "requests": 8,
        "events": 5 + 12 + 16 + 9,
    }
    assert set(Membership.objects.values_list("role", flat=True)) == set(Membership.Role.values)
    agents = Membership.objects.filter(role="agent").order_by("line")
    assert list(agents.values_list("line", flat=True)) == [1, 2, 3]
    partner = Organisation.objects.get(name="Интегратор «Партнёр-Софт»")
    assert partner.clients.count() == 2
    retail_chain = Contract.objects.get(organisation__name="Сеть супермаркетов «Колос»")
    assert (retail_chain.regulation_id, retail_chain.tariff.code) == ("set-retail", "standard")
    assert retail_chain.attributes == {"cash_registers": 60}
    shop = Contract.objects.get(organisation__name="Магазин «Уголок»")
    assert shop.tariff.code == "basic"
    managed = Contract.objects.get(service_manager__isnull=False)
    assert (managed.tariff.code, managed.service_manager.username) == ("premium", "manager")  # type: ignore[union-attr]
    # a demo request per customer, running under its regulation, one waiting for the customer
    assert "Demo requests: 8 created." in out
    assert Ticket.objects.count() == 8
    cera = Ticket.objects.get(organisation__name="ООО «Видеоаналитика Ритейл»")
    assert cera.number.startswith("CERA-")
    assert cera.status == "clarification"
    assert Clock.objects.get(ticket=cera, metric="resolution").state == "paused"
    for_client = Ticket.objects.get(requester__username="partner")
    assert for_client.organisation.name == "Аптека «Здоровье»"  # R2.1


def test_demo_load_twice_changes_nothing_the_second_time(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # given
    assert main(["demo", "load"]) == 0
    before = _counts()
    capsys.readouterr()
    # when
    code = main(["demo", "load"])
    # then
    assert code == 0
    assert _counts() == before
    out = capsys.readouterr().out
    assert "(new)" not in out
    assert "Demo data: already complete; nothing created." in out
    assert "Demo requests: already there; nothing created." in out
    assert "Demo usage: already there; nothing created." in out


def test_demo_load_logins_work_with_the_printed_password() -> None:
    # given
    main(["demo", "load"])
    # when
    admin = Membership.objects.get(user__username="admin").user
    # then
    assert admin.check_password("reglament-demo")
    assert (admin.is_staff, admin.is_superuser) == (True, True)


def test_run_takes_demo_to_load_the_demo_before_starting() -> None:
    # given
    from reglament.cli import build_parser

    # when
    args = build_parser().parse_args(["run", "--demo"])
    # then
    assert (args.demo, args.no_migrate) == (True, False)


def test_show_and_simulate_name_a_loaded_regulation_and_its_versions(
    acme_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # given two versions of acme, the second with a new title
    main(["regulation", "load", str(acme_file)])
    acme_file.write_text(ACME_V2, encoding="utf-8")
    main(["regulation", "load", str(acme_file)])
    capsys.readouterr()
    # when
    latest = main(["regulation", "show", "acme", "--lang", "en"])
    latest_out = capsys.readouterr().out
    first = main(["regulation", "show", "acme", "--version", "1", "--lang", "en"])
    first_out = capsys.readouterr().out
    simulated = main(
        ["sla", "simulate", "--regulation", "acme", "--tariff", "premium", "--priority", "low",
         "--received", "2025-03-04T12:00:00+03:00", "--lang", "en"]
    )  # fmt: skip
    simulated_out = capsys.readouterr().out
    missing = main(["regulation", "show", "nope"])
    # then
    assert (latest, first, simulated) == (0, 0, 0)
    assert latest_out.startswith("Acme 2\n")
    assert first_out.startswith("Acme\n")
    # 8 working hours from Tue 12:00: Tue 12–19, Wed 10–11.
    assert "Resolution: 8 h [working] → 2025-03-05T11:00:00+03:00" in simulated_out
    assert missing == 2
    assert "No regulation 'nope' is loaded" in capsys.readouterr().err


def test_demo_partners_on_expert_and_free_see_the_knowledge_base_their_tariffs_sell() -> None:
    """R2.5, issue 5's "done when": the demo logins show the tariff gate of the knowledge base.

    `partner` (Expert) finds the Claim Desk article by an inflected Russian query;
    `partner-free` (Free) is told the section is not in its tariff.
    """
    from django.contrib.auth.models import User
    from django.test import Client

    # given the demo of `make run`
    assert main(["demo", "load"]) == 0
    expert, free = Client(), Client()
    expert.force_login(User.objects.get(username="partner"))
    free.force_login(User.objects.get(username="partner-free"))
    search = "/api/v1/knowledge/search?q=касса не печатает чек&regulation=set-partner"
    # when each searches the Claim Desk section
    found = expert.get(f"{search}&section=claim-desk")
    refused = free.get(f"{search}&section=claim-desk")
    # then
    assert found.status_code == 200, found.content
    assert found.json()["items"][0]["article"]["title"] == "Касса перестала печатать чеки"
    assert refused.status_code == 403
    assert refused.json()["code"] == "knowledge_not_in_tariff"
    # and without naming a section, the Free partner's search finds nothing restricted
    assert free.get(search).json()["items"] == []


def test_demo_reliable_contract_has_an_allowance_and_counted_time(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """R4.5: the demo's Reliable contract shows a report: 50 min → 1 h of 10 h prepaid."""
    # given the demo of `make run`
    assert main(["demo", "load"]) == 0
    contract = Contract.objects.get(organisation__name="ИП Смирнова (бухгалтерия)")
    capsys.readouterr()
    # when the manager reads the allowance of the current month
    code = main(["usage", "allowance", "show", "--contract", str(contract.pk), "--json"])
    # then
    assert code == 0
    state = json.loads(capsys.readouterr().out)
    assert (state["amount"], state["used"], state["remaining"]) == ("10", "1", "9")
    # and the Start customer can file the request paid work is shown on (R4.6)
    start = Contract.objects.get(organisation__name="ООО «Старт-Учёт»")
    assert (start.regulation_id, start.tariff.code) == ("krizhik", "start")
    assert Ticket.objects.filter(contract=start).count() == 1
