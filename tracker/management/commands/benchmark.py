import json
import time
import warnings
from dataclasses import asdict

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from tracker.perf import benchmark as bench
from tracker.startup import settle


class Command(BaseCommand):
    help = (
        "Measure the public pages, the CSV export and the importer on a synthetic register. "
        "The benchmark never uses the development database: by default it builds a new "
        "SQLite file in a temporary directory and removes it afterwards. With "
        "--database-url it uses that database instead, which must be empty (a missing "
        "SQLite file or PostgreSQL database is created) or hold an earlier run's data set "
        "of the same size and seed, which is then reused as it is; such a database is "
        "kept. Any other database is refused. Prints the numbers; asserts nothing."
    )
    # Checks could open the development database before the benchmark switches away from it.
    requires_system_checks = []

    def add_arguments(self, parser):
        bench.add_spec_arguments(parser, bench.Spec())
        parser.add_argument(
            "--repeat", type=int, default=20, help="requests per page after two warm-up ones"
        )
        parser.add_argument(
            "--import-rows", type=int, default=10_000, help="rows of the published list"
        )
        parser.add_argument(
            "--database-url",
            help="an empty database, or an earlier benchmark's, e.g. "
            "sqlite:////abs/path/bench.sqlite3 or postgres://user@host/tracker_bench",
        )
        parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
        parser.add_argument(
            "--compare",
            action="store_true",
            help="measure only the throughput of gunicorn and of Datasette serving the same "
            "SQLite file (make compare)",
        )
        parser.add_argument(
            "--compare-seconds",
            type=float,
            default=bench.COMPARE_SECONDS,
            help="seconds of load on each server",
        )
        parser.add_argument(
            "--clients", type=int, default=bench.COMPARE_CLIENTS, help="client threads"
        )
        bench.add_prepared_argument(parser)

    def handle(self, *args, **options):
        if options["repeat"] < 1 or options["import_rows"] < 1 or options["clients"] < 1:
            raise CommandError("--repeat, --import-rows and --clients must be at least 1.")
        if not 0 < options["compare_seconds"] <= 600:
            raise CommandError("--compare-seconds must be more than 0 and at most 600.")
        try:
            spec = bench.checked_spec(options)
            if options["prepared"]:
                bench.check_prepared()
                self._measure(spec, options)
            else:
                self._prepare_and_measure(spec, options)
        except bench.BenchError as error:
            raise CommandError(str(error)) from error

    def _prepare_and_measure(self, spec, options):
        """Check the database, then measure in a new process that runs on it alone."""
        database = bench.prepare_database(options["database_url"])
        if options["compare"] and database.settings_dict["ENGINE"] != "django.db.backends.sqlite3":
            raise bench.BenchError("--compare needs a SQLite database: Datasette serves files.")
        try:
            self.stdout.write(f"Benchmark database: {database.description}")
            self.stdout.flush()
            arguments = [
                "benchmark",
                *bench.spec_arguments(spec),
                f"--repeat={options['repeat']}",
                f"--import-rows={options['import_rows']}",
                f"--prepared={'reused' if database.reused else 'new'}",
                *([f"--json={options['json']}"] if options["json"] else []),
                *(["--compare"] if options["compare"] else []),
                f"--compare-seconds={options['compare_seconds']}",
                f"--clients={options['clients']}",
            ]
            status = bench.run_command(database, arguments)
        finally:
            bench.remove_database(database)
        if status:
            raise CommandError("The benchmark failed (see above).")

    def _measure(self, spec, options):
        # Measured as production runs: no query log, no template debugging.
        settings.DEBUG = False
        # WhiteNoise warns when collectstatic has not run; the pages do not need it here.
        warnings.filterwarnings("ignore", message="No directory at", category=UserWarning)
        if "testserver" not in settings.ALLOWED_HOSTS:
            settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
        name = connection.settings_dict["NAME"]
        database = bench.BenchDatabase(
            f"{connection.vendor} {name}",
            settings.DATABASE_URL,
            connection.settings_dict,
            reused=options["prepared"] == "reused",
        )
        results = self._run(spec, database, options)
        if options["json"]:
            with open(options["json"], "w", encoding="utf-8") as handle:
                json.dump(results, handle, ensure_ascii=False, indent=2)

    def _log(self, message):
        self.stderr.write(message)

    def _run(self, spec, database, options):
        generated = self._data_set(spec, database)
        if options["compare"]:
            return self._compare(spec, database, generated, options)
        # The process from here on is as config.wsgi leaves a server's.
        settle()
        self._log("Measuring pages")
        pages = bench.measure_pages(options["repeat"], self._log)
        self._log("Measuring the export")
        exports = bench.measure_export(self._log)
        self._log("Measuring the API")
        api = bench.measure_api(options["repeat"], self._log)
        self._log("Measuring the bulk downloads")
        downloads = bench.measure_downloads(self._log)
        self._log("Measuring the import")
        imported = bench.measure_import(options["import_rows"], spec.seed, log=self._log)
        self.stdout.write("")
        for line in bench.report_lines(pages, exports, imported, options["repeat"]):
            self.stdout.write(line)
        for line in bench.api_report_lines(api):
            self.stdout.write(line)
        for line in bench.downloads_lines(downloads):
            self.stdout.write(line)
        return {
            "database": database.description,
            "spec": asdict(spec),
            "generated": asdict(generated),
            "pages": [asdict(p) for p in pages],
            "exports": [asdict(e) for e in exports],
            "import": asdict(imported),
            "api": [asdict(row) for row in api],
            "downloads": asdict(downloads),
        }

    def _compare(self, spec, database, generated, options):
        self._log("Measuring the throughput beside Datasette")
        rows = bench.measure_compare(
            database, options["compare_seconds"], options["clients"], self._log
        )
        for line in bench.compare_lines(rows, options["clients"]):
            self.stdout.write(line)
        return {
            "database": database.description,
            "spec": asdict(spec),
            "generated": asdict(generated),
            "compare": [
                asdict(row) | {"requests_per_second": row.requests_per_second} for row in rows
            ],
            "ratio": bench.compare_ratio(rows),
        }

    def _data_set(self, spec, database):
        started = time.perf_counter()
        found = bench.dataset_parameters() if database.reused else None
        if found and found != (spec.models, spec.applicants, spec.seed):
            raise CommandError(
                f"The database holds a data set of {found[0]:,} models, {found[1]:,} "
                f"applicants, seed {found[2]}; run with those values or use another database."
            )
        # New migrations (an index, say) apply to a reused data set too.
        bench.migrate()
        if database.reused:
            self.stdout.write(
                f"Data set: reused ({spec.models:,} models, {spec.applicants:,} applicants, "
                f"seed {spec.seed}); migrated in {time.perf_counter() - started:.1f} s"
            )
            return bench.Generated()
        self._log(f"Generating {spec.models:,} models")
        generated = bench.generate(spec, self._log)
        counts = generated.counts
        self.stdout.write(
            f"Data set: {counts['models']:,} models, {counts['applicants']:,} applicants, "
            f"{counts['batches']} batches, {counts['status_changes']:,} status changes "
            f"(seed {spec.seed}); generated in {generated.seconds:.1f} s"
        )
        return generated
