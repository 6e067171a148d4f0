"""``customers-hub export`` on the embedded SQLite: the demo organization to CSV and XLSX, with
filters, as one employee, to stdout; bad options named with exit status 2."""

from __future__ import annotations

import csv
import io
import json
import logging
from pathlib import Path

import pytest
from openpyxl import load_workbook

from customers_hub.application.use_cases.export import AUDIT_LOGGER, EXPORT_FIELDS
from customers_hub.entrypoints import cli


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('cli-export') / 'hub.db'}"
    assert cli.main(["demo-data", "--customers", "12", "--database-url", url]) == 0
    return url


def rows_of(path: Path) -> list[dict[str, str]]:
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


def test_the_whole_organization_to_csv(
    demo_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    target = tmp_path / "all.csv"
    with caplog.at_level(logging.INFO, logger=AUDIT_LOGGER):
        code = cli.main(
            ["export", "--org", "org_demo", "--database-url", demo_url, "--output", str(target)]
        )
    assert code == 0
    rows = rows_of(target)
    assert len(rows) == 12
    assert list(rows[0]) == list(EXPORT_FIELDS)
    err = capsys.readouterr().err
    assert f"exported 12 customers to {target}" in err
    [line] = [r.getMessage() for r in caplog.records if r.name == AUDIT_LOGGER]
    audit = json.loads(line)
    assert audit["rows"] == 12
    assert audit["userId"] == "customers-hub-cli"


def test_filters_columns_and_an_employees_scope(demo_url: str, tmp_path: Path) -> None:
    everything = rows_of_export(demo_url, tmp_path / "a.csv")
    agents = (r["assignedEmployeeId"] for r in everything)
    employee = next(a for a in agents if a.startswith("demo-agent"))  # an agent: own scope
    agent = rows_of_export(
        demo_url, tmp_path / "b.csv", "--user-id", employee, "--fields", "name,stage"
    )
    assert len(agent) == sum(1 for r in everything if r["assignedEmployeeId"] == employee)
    assert list(agent[0]) == ["id", "name", "stage"]
    stage = everything[0]["stage"]
    staged = rows_of_export(demo_url, tmp_path / "c.csv", "--stage", stage)
    assert {r["stage"] for r in staged} == {stage}
    assert len(staged) == sum(1 for r in everything if r["stage"] == stage)


def rows_of_export(url: str, target: Path, *options: str) -> list[dict[str, str]]:
    args = ["export", "--org", "org_demo", "--database-url", url, "--output", str(target)]
    assert cli.main([*args, *options]) == 0
    return rows_of(target)


def test_xlsx_with_arabic_headers(demo_url: str, tmp_path: Path) -> None:
    target = tmp_path / "all.xlsx"
    code = cli.main(
        [
            "export",
            "--org",
            "org_demo",
            "--database-url",
            demo_url,
            "--format",
            "xlsx",
            "--header-language",
            "ar",
            "--output",
            str(target),
        ]
    )
    assert code == 0
    sheet = load_workbook(target).active
    assert sheet is not None
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][:2] == ("المعرف", "الاسم")
    assert len(values) == 13


def test_csv_to_stdout(demo_url: str, capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    code = cli.main(
        [
            "export",
            "--org",
            "org_demo",
            "--database-url",
            demo_url,
            "--output",
            "-",
            "--fields",
            "name",
        ]
    )
    assert code == 0
    out = capsysbinary.readouterr().out
    assert out.startswith(b"\xef\xbb\xbfid,name\r\n")
    assert out.count(b"\r\n") == 13


def test_bad_options_are_named(demo_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(
        [
            "export",
            "--org",
            "org_demo",
            "--database-url",
            demo_url,
            "--lead-score-min",
            "500",
            "--created-from",
            "yesterday",
            "--fields",
            "secret",
        ]
    )
    assert code == 2
    err = capsys.readouterr().err
    for field in ("leadScoreMin", "createdFrom", "fields"):
        assert f"customers-hub: {field}: " in err
    assert (
        cli.main(["export", "--org", "org_demo", "--database-url", demo_url, "--user-id", "nobody"])
        == 2
    )
    with pytest.raises(SystemExit):
        cli.main(["export", "--org", "org_demo", "--stage", "won"])
