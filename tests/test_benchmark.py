import json
import os
import sqlite3
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from tracker.models import APPROVED_STATUSES, AIModel, FilingType, Status, StatusChange
from tracker.perf import benchmark as bench
from tracker.workflow import ENTRY_STATUSES, TRANSITIONS

ROOT = Path(__file__).resolve().parent.parent
PAGE_LABELS = (
    "overview",
    "models ",
    "models, pending status",
    "models, jurisdiction",
    "models, status+jurisdiction",
    "models, search (rare)",
    "models, search (common)",
    "models, sort -approved_on",
    "models, sort name",
    # The first and the last of 4 pages, in the default order and by name.
    "models, page 1 ",
    "models, page 4 ",
    "models by name, page 1 ",
    "models by name, page 4 ",
    "model detail",
    "applicants ",
    "applicant (",
    "batches ",
    "batch (",
    "backlog",
    "reports",
    "feed",
    "changes feed",
    "api models, approved",
    "api models, jurisdiction",
    "api models, search",
    "api model detail",
    "api changes",
    "api applicants",
)


def run_benchmark(tmp_path, *args):
    """The command in a process of its own, with a development database that must stay unborn."""
    env = {
        **os.environ,
        "SQLITE_PATH": str(tmp_path / "development.sqlite3"),
        "DATABASE_URL": "",
        "DJANGO_DEBUG": "1",
    }
    return subprocess.run(
        [sys.executable, "manage.py", "benchmark", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_benchmark_prints_every_row_of_its_table_and_never_opens_the_development_db(tmp_path):
    result = run_benchmark(
        tmp_path,
        *("--models", "200", "--applicants", "20", "--repeat", "2", "--import-rows", "50"),
        *("--json", str(tmp_path / "results.json")),
    )

    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Data set: 200 models, 20 applicants" in out
    table = out.splitlines()
    for label in PAGE_LABELS:
        assert any(line.startswith(label) for line in table), label
    assert any(line.startswith("export 10%") for line in table)
    assert any(line.startswith("export 100%") for line in table)
    import_line = [line for line in table if line.startswith("import ")][-1]
    # rows, seconds, rows per second, models created: every row of the list was accepted.
    assert import_line.split()[1] == "50" and import_line.split()[-1] == "50"
    # SQLite creates the file on first connection: its absence proves nothing opened it.
    assert not (tmp_path / "development.sqlite3").exists()
    assert "(temporary)" in out
    results = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    assert len(results["pages"]) == len(PAGE_LABELS)
    assert results["exports"][1]["rows"] == 200
    # The export's time against the command-line client's (none without sqlite3), and
    # whether it is within 2×.
    export = results["exports"][1]
    export_line = [line for line in table if line.startswith("export 100%")][-1]
    if export["cli_seconds"] is None:
        target = "n/a"
    else:
        target = "≤ 2×: met" if export["seconds"] <= 2 * export["cli_seconds"] else "≤ 2×: missed"
    assert export_line.endswith(target)
    downloads_line = [line for line in table if line.startswith("build_downloads ")][-1]
    assert downloads_line.split()[1] == "200"
    assert downloads_line.endswith("≤ 30 s: met")
    assert results["downloads"]["models"] == 200
    approved_page, not_modified, walked = results["api"]
    # The page's queries after warm-up: the stamp, the page's ids, its rows (the capped
    # count is kept for the query and the state of the register).
    assert (approved_page["status"], approved_page["queries"]) == ("200", 3)
    assert (not_modified["status"], not_modified["queries"]) == ("304", 1)
    # The walk gave as many records as the CSV export of the same filter has rows.
    assert (walked["status"], walked["note"]) == ("200", "")
    assert walked["rows"] == 138  # the approved models of the seeded 200


def test_the_benchmark_refuses_a_database_that_holds_other_data(tmp_path):
    other = tmp_path / "other.sqlite3"
    with sqlite3.connect(other) as db:
        db.execute("CREATE TABLE precious (id integer)")
    before = other.read_bytes()

    result = run_benchmark(
        tmp_path, "--models", "20", "--applicants", "5", "--database-url", f"sqlite:///{other}"
    )

    assert result.returncode != 0
    assert "holds tables but no benchmark data set" in result.stderr
    assert other.read_bytes() == before


def test_the_benchmark_refuses_the_development_database_by_url(tmp_path):
    development = tmp_path / "development.sqlite3"

    result = run_benchmark(
        tmp_path,
        "--models",
        "20",
        "--applicants",
        "5",
        "--database-url",
        f"sqlite:///{development}",
    )

    assert result.returncode != 0
    assert "development database" in result.stderr
    assert not development.exists()


def test_the_benchmark_reuses_its_own_data_set_and_refuses_another_size(tmp_path):
    url = f"sqlite:///{tmp_path / 'bench.sqlite3'}"
    small = ("--models", "20", "--applicants", "5", "--repeat", "1", "--import-rows", "5")

    first = run_benchmark(tmp_path, *small, "--database-url", url)
    again = run_benchmark(tmp_path, *small, "--database-url", url)
    other = run_benchmark(tmp_path, "--models", "30", "--applicants", "5", "--database-url", url)

    assert first.returncode == 0, first.stderr
    assert "generated in" in first.stdout
    assert again.returncode == 0, again.stderr
    assert "Data set: reused" in again.stdout
    assert other.returncode != 0
    assert "holds a data set of 20 models" in other.stderr


@pytest.mark.parametrize(
    "args",
    [
        ("--models", "0"),
        ("--applicants", "0"),
        ("--models", "5", "--applicants", "10"),
        ("--repeat", "0"),
        ("--clients", "0"),
        ("--compare-seconds", "0"),
    ],
)
def test_the_benchmark_refuses_sizes_that_make_no_sense(args):
    with pytest.raises(CommandError):
        call_command("benchmark", *args)


def test_the_comparison_serves_one_file_with_gunicorn_and_with_datasette(tmp_path):
    pytest.importorskip("datasette")
    results_path = tmp_path / "compare.json"

    result = run_benchmark(
        tmp_path,
        *("--models", "200", "--applicants", "20", "--compare", "--compare-seconds", "1"),
        *("--clients", "2", "--json", str(results_path)),
    )

    assert result.returncode == 0, result.stderr
    results = json.loads(results_path.read_text(encoding="utf-8"))
    ours, theirs = results["compare"]
    assert (ours["server"], theirs["server"]) == ("tracker", "datasette")
    assert ours["command"].startswith("gunicorn, 2 workers, production settings")
    assert theirs["command"].startswith("datasette ") and theirs["command"].endswith(
        "serve -i (immutable)"
    )
    for row in (ours, theirs):
        assert (row["failed"], row["note"]) == (0, "")
        assert row["requests"] > 0 and row["seconds"] >= 1
        assert row["requests_per_second"] == pytest.approx(row["requests"] / row["seconds"])
        assert 0 < row["p50_ms"] <= row["p95_ms"]
    assert results["ratio"] == pytest.approx(
        ours["requests_per_second"] / theirs["requests_per_second"]
    )
    table = result.stdout.splitlines()
    for server, row in (("tracker", ours), ("datasette", theirs)):
        cells = next(line for line in table if line.startswith(server + " ")).split()
        # requests, seconds, req/s, p50, p95, failed: the JSON's numbers, as printed.
        assert int(cells[-6].replace(",", "")) == row["requests"]
        assert float(cells[-4].replace(",", "")) == pytest.approx(
            row["requests_per_second"], abs=0.05
        )
        assert cells[-1] == "0"
    assert f"ratio: {results['ratio']:.1f}× Datasette's requests per second" in result.stdout
    # Only the comparison ran: no page table, no export.
    assert not any(line.startswith("export 100%") for line in table)
    assert not (tmp_path / "development.sqlite3").exists()


def test_percentiles_are_nearest_rank_whatever_the_order_of_the_values():
    values = list(range(20, 0, -1))

    assert bench.percentile(values, 0.95) == 19
    assert bench.percentile(values, 0.5) == 10
    assert bench.percentile([7.0], 0.95) == 7.0


@pytest.fixture
def generated(db):
    return bench.generate(bench.Spec(models=400, applicants=40, seed=3))


def test_generated_histories_follow_the_workflow_and_end_in_the_models_status(generated):
    steps = {}
    for model_id, from_status, to_status, day in StatusChange.objects.order_by(
        "model_id", "happened_on", "pk"
    ).values_list("model_id", "from_status", "to_status", "happened_on"):
        steps.setdefault(model_id, []).append((from_status, to_status, day))
    models = {m.pk: m for m in AIModel.objects.all()}

    assert generated.counts["models"] == len(models) == 400
    for pk, model in models.items():
        history = steps[pk]
        assert 1 <= len(history) <= 5
        assert history[0][0] == "" and history[0][1] in ENTRY_STATUSES
        assert history[-1][1] == model.status
        assert [day for *_, day in history] == sorted(day for *_, day in history)
        for (_, previous, _), (from_status, to_status, _) in zip(
            history, history[1:], strict=False
        ):
            assert from_status == previous
            assert to_status in TRANSITIONS[from_status]
        if model.filing_type == FilingType.REGISTRATION:
            assert Status.NATIONAL_REVIEW not in [to for _, to, _ in history]


def test_generated_approvals_have_a_date_a_unique_number_and_an_approved_upstream(generated):
    approvals = AIModel.objects.filter(status__in=APPROVED_STATUSES)
    numbers = [n for n in AIModel.objects.values_list("filing_number", flat=True) if n]

    assert approvals.exists()
    assert not approvals.filter(approved_on__isnull=True).exists()
    assert not approvals.filter(filing_number="").exists()
    assert len(numbers) == len(set(numbers))
    registrations = AIModel.objects.filter(filing_type=FilingType.REGISTRATION)
    assert registrations.exists()
    assert not registrations.exclude(
        upstream__status=Status.APPROVED, upstream__filing_type=FilingType.FILING
    ).exists()


def test_generated_data_has_realistic_spreads(generated):
    statuses = Counter(AIModel.objects.values_list("status", flat=True))
    slugs = list(AIModel.objects.values_list("slug", flat=True))

    assert statuses[Status.APPROVED] > 400 * 0.5
    assert sum(statuses[s] for s in Status.values if s in bench.PENDING_STATUSES) > 0
    assert len(slugs) == len(set(slugs)) and all(slugs)
    assert AIModel.objects.filter(batch__isnull=False).exists()
    assert AIModel.objects.exclude(name_zh="").exclude(name_en="").exists()


def test_the_measuring_process_refuses_a_database_nobody_checked(tmp_path):
    result = run_benchmark(tmp_path, "--models", "20", "--applicants", "2", "--prepared=new")

    assert result.returncode == 1
    assert "--prepared is for the process the command starts on a checked database." in (
        result.stderr
    )
    assert not (tmp_path / "development.sqlite3").exists()


def test_the_development_database_is_refused_under_another_spelling(tmp_path, monkeypatch):
    development = tmp_path / "development.sqlite3"
    monkeypatch.chdir(tmp_path)
    result = run_benchmark(
        tmp_path, "--database-url", f"sqlite:///{tmp_path}/./sub/../development.sqlite3"
    )

    assert result.returncode == 1
    assert "That is the development database" in result.stderr
    assert not development.exists()
