import tempfile

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from tracker.limits import parse_rate
from tracker.perf import benchmark as bench
from tracker.perf import soak


class Command(BaseCommand):
    help = (
        "Serve a synthetic register with gunicorn on 127.0.0.1 and fetch its public pages "
        "from several clients for a bounded time, while a published list is imported and "
        "reviewers apply transitions on the same database; then check that no page failed, "
        "the server never reported “database is locked”, every history step written is "
        "present and each model's status is its last step. Uses a new SQLite file in a "
        "temporary directory (or, with --database-url, an empty database of your choice), "
        "never the development database. With --scenario flood, --exporters clients ask "
        "for the whole register as CSV at once while --clients others browse, with the "
        "per-client limits on; every browsing request must succeed within the p95 target, "
        "every export be whole or refused with 429, and no worker's memory grow. Exits "
        "with status 1 on failure."
    )
    # Checks could open the development database before the soak switches away from it.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument(
            "--scenario",
            choices=["writes", "flood"],
            default="writes",
            help="load while the register is written (default), or flood it with exports",
        )
        parser.add_argument("--seconds", type=float, default=60, help="how long to load")
        parser.add_argument(
            "--clients", type=int, default=8, help="client threads (flood: readers)"
        )
        parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
        parser.add_argument("--port", type=int, default=0, help="port (default: a free one)")
        parser.add_argument(
            "--import-rows", type=int, default=5_000, help="rows of the imported list"
        )
        parser.add_argument("--transitions", type=int, default=600, help="transitions to try")
        parser.add_argument("--reviewers", type=int, default=2, help="reviewer threads")
        parser.add_argument(
            "--exporters",
            type=int,
            default=soak.FloodPlan().exporters,
            help="flood: clients asking for the whole export",
        )
        parser.add_argument(
            "--export-rate",
            default=soak.FloodPlan().export_rate,
            help="flood: exports per client, as TRACKER_EXPORT_RATE (count/period)",
        )
        parser.add_argument(
            "--p95-target",
            type=float,
            default=soak.FloodPlan().p95_target * 1000,
            help="flood: browsing's 95th percentile must stay under this many ms",
        )
        bench.add_spec_arguments(parser, soak.Plan().spec)
        parser.add_argument(
            "--database-url",
            help="an empty database to use instead of a temporary SQLite file; it keeps "
            "the soak's data afterwards",
        )
        bench.add_prepared_argument(parser)

    def handle(self, *args, **options):
        try:
            plan = self._plan(options)
            if options["prepared"]:
                bench.check_prepared()
                outcome = self._soak(plan)
            else:
                return self._prepare_and_soak(plan, options)
        except (bench.BenchError, soak.SoakError) as error:
            raise CommandError(str(error)) from error
        if isinstance(plan, soak.FloodPlan):
            lines, passed = soak.flood_report_lines(outcome), outcome.passed
        else:
            lines, passed = soak.report_lines(outcome), outcome.findings.passed
        for line in lines:
            self.stdout.write(line)
        if not passed:
            raise CommandError("The soak failed.")

    def _prepare_and_soak(self, plan, options):
        """Check the database, then soak in a new process that runs on it alone."""
        database = bench.prepare_database(options["database_url"])
        try:
            if database.reused:
                raise CommandError("The soak writes to its database: give an empty one.")
            self.stdout.write(f"Soak database: {database.description}")
            self.stdout.flush()
            arguments = [
                "soak",
                *bench.spec_arguments(plan.spec),
                *(
                    f"--{name.replace('_', '-')}={options[name]}"
                    for name in (
                        "scenario",
                        "seconds",
                        "clients",
                        "workers",
                        "port",
                        "import_rows",
                        "transitions",
                        "reviewers",
                        "exporters",
                        "export_rate",
                        "p95_target",
                    )
                ),
                "--prepared=new",
            ]
            status = bench.run_command(database, arguments)
        finally:
            bench.remove_database(database)
        if status:
            raise CommandError("The soak failed (see above).")

    def _soak(self, plan):
        # Measured as production runs: no query log in the writer threads.
        settings.DEBUG = False
        database = bench.BenchDatabase(
            f"{connection.vendor} {connection.settings_dict['NAME']}",
            settings.DATABASE_URL,
            connection.settings_dict,
        )
        run = soak.flood if isinstance(plan, soak.FloodPlan) else soak.run
        with tempfile.TemporaryDirectory(prefix="tracker-soak-") as workdir:
            return run(plan, database, workdir, self._log)

    def _plan(self, options):
        for name in ("clients", "workers", "import_rows", "transitions", "reviewers", "exporters"):
            if options[name] < 1:
                raise CommandError(f"--{name.replace('_', '-')} must be at least 1.")
        if options["p95_target"] <= 0:
            raise CommandError("--p95-target must be more than 0.")
        if options["seconds"] <= 0 or options["seconds"] > 3600:
            raise CommandError("--seconds must be more than 0 and at most 3600.")
        if not 0 <= options["port"] <= 65535:
            raise CommandError("--port must be between 0 and 65535.")
        if options["scenario"] == "flood":
            return self._flood_plan(options)
        return soak.Plan(
            seconds=options["seconds"],
            clients=options["clients"],
            workers=options["workers"],
            port=options["port"],
            import_rows=options["import_rows"],
            transitions=options["transitions"],
            reviewers=options["reviewers"],
            spec=bench.checked_spec(options),
        )

    def _flood_plan(self, options):
        try:
            count, _period = parse_rate(options["export_rate"])
        except (ValueError, KeyError):
            count = 0
        if count < 1:
            raise CommandError(
                "--export-rate must be a count of at least 1 per second, minute, hour or "
                f"day, e.g. 1/minute, not {options['export_rate']!r}."
            )
        return soak.FloodPlan(
            seconds=options["seconds"],
            exporters=options["exporters"],
            readers=options["clients"],
            workers=options["workers"],
            port=options["port"],
            export_rate=options["export_rate"],
            p95_target=options["p95_target"] / 1000,
            spec=bench.checked_spec(options),
        )

    def _log(self, message):
        self.stderr.write(message)
