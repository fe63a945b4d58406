"""The ``batch`` and ``report`` commands (registered on the main group by scanner.cli)."""

from __future__ import annotations

import os
import re
import sys
import time
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from scanner.batch.runner import Plan, Tally
    from scanner.batch.worker import Outcome

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)i?B?\s*$", re.IGNORECASE)
LOG_EVERY = 10.0
"""Seconds between progress lines when standard error is not a terminal."""


def _fail(message: str) -> None:
    click.echo(f"beian-scan: error: {message}", err=True)
    sys.exit(2)


def parse_size(value: str) -> int:
    """``2G``, ``512M``, ``1.5GiB`` -> bytes."""
    match = _SIZE.match(value)
    if not match:
        raise click.BadParameter(f"{value!r} is not a size (e.g. 2G, 512M)")
    number, unit = float(match.group(1)), match.group(2).upper()
    size = int(number * 1024 ** " KMGT".index(unit or " "))
    if size < 64 * 1024 * 1024:
        raise click.BadParameter(f"{value!r} is below 64M: no package can be scanned in that")
    return size


def _size_option(ctx: click.Context, param: click.Parameter, value: str | None) -> int | None:
    return None if value is None else parse_size(value)


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True))
@click.option("--db", required=True, type=click.Path(dir_okay=False), metavar="FILE",
              help="The SQLite store: created when missing; a rerun skips what it already holds.")
@click.option("--from-list", "from_list", type=click.File("r", encoding="utf-8"), metavar="FILE",
              help="A file with one package path per line (as well as, or instead of, PATHS).")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=None, metavar="N",
              help="Packages scanned at once, each in its own worker process (default: the CPU count).")
@click.option("--timeout", type=click.FloatRange(min=1), default=120.0, show_default=True, metavar="SECONDS",
              help="Time limit per package; a package over it is PKG006.")
@click.option("--max-memory", callback=_size_option, default=None, metavar="SIZE",
              help="Memory limit per worker (e.g. 2G); a package over it is PKG006.")
@click.option("--registry", type=click.Path(exists=True, dir_okay=False), metavar="CSV",
              help="Filing records: app_id,filing_number[,app_name] (FIL005 / FIL008).")
@click.option("--dask", "dask_address", metavar="ADDRESS",
              help="Send the packages to a Dask scheduler (tcp://host:8786); results land in --db here.")
@click.option("--config", "config_path", type=click.Path(exists=True, dir_okay=False), metavar="FILE",
              help="Read settings from this file (default: .beian-scan.toml or pyproject.toml here).")
@click.option("--wxid", metavar="APPID", default=None, help="AppID to decrypt PC-client wxapkg files with.")
def batch(paths: tuple[str, ...], db: str, from_list: Any, jobs: int | None, timeout: float,  # noqa: ANN401
          max_memory: int | None, registry: str | None, dask_address: str | None, config_path: str | None,
          wxid: str | None) -> None:
    """Scan every package under PATHS (recursively) into an SQLite store, resumably.

    Packages are found by content; other files are skipped and counted. Each package is scanned in its
    own worker process, largest first; results are committed one package at a time, so a killed batch
    loses nothing committed and a rerun of the same command skips everything already scanned (same
    content, tool version and config). Read the store with ``beian-scan report``.
    """
    from scanner.batch import registry as records
    from scanner.batch import runner, store, worker
    from scanner.config import ConfigError, find_config, load_config, settings_from

    listed = tuple(line.strip() for line in from_list) if from_list is not None else ()
    if not paths and not listed:
        _fail("give package paths or folders, or --from-list FILE")
    try:
        config_file = config_path or find_config(os.getcwd())
        settings = settings_from(load_config(config_file) if config_file else {}, {"wxid": wxid}, config_file)
        options = settings.options
        if registry:
            options = records.with_registry(options, records.load(registry))
        database = store.Store(db)
    except (ConfigError, records.RegistryError, store.StoreError, ValueError) as exc:
        _fail(str(exc))
        return
    limits = worker.Limits(timeout, max_memory)
    display = _Display(sys.stderr.isatty())
    command = " ".join(["beian-scan", "batch", *sys.argv[2:]])
    try:
        chosen, tally = runner.run(database, paths, listed, options, settings.policy, limits,
                                   jobs or runner.default_jobs(), dask_address, command, display.plan, display.outcome)
    except RuntimeError as exc:
        _fail(str(exc))
        return
    finally:
        display.close()
        database.close()
    _summary(chosen, tally, db)


class _Display:
    """A tqdm bar on a terminal (done / total, failures, rate, ETA), else a log line every LOG_EVERY s."""

    def __init__(self, tty: bool) -> None:
        self.tty = tty
        self.bar: Any = None
        self.started = time.monotonic()
        self.last = 0.0

    def plan(self, chosen: Plan) -> None:
        click.echo(f"beian-scan batch: {chosen.total_packages} package(s) found, {chosen.not_packages} other "
                   f"file(s) skipped; {chosen.already_done} already in the store, {chosen.duplicates} duplicate(s); "
                   f"{len(chosen.jobs)} to scan", err=True)
        if self.tty and chosen.jobs:
            from tqdm import tqdm

            self.bar = tqdm(total=len(chosen.jobs), unit="pkg", file=sys.stderr, dynamic_ncols=True)
        self.started = time.monotonic()

    def outcome(self, outcome: Outcome, tally: Tally) -> None:
        failed = tally.unreadable + tally.aborted
        if self.bar is not None:
            self.bar.set_postfix_str(f"{failed} failed", refresh=False)
            self.bar.update(1)
            return
        now = time.monotonic()
        if now - self.last >= LOG_EVERY or tally.done == tally.total:
            self.last = now
            rate = tally.done / max(now - self.started, 1e-9)
            eta = (tally.total - tally.done) / rate if rate else 0.0
            click.echo(f"beian-scan batch: {tally.done}/{tally.total} scanned ({tally.unreadable} unreadable, "
                       f"{tally.aborted} over a limit), {rate * 60:.1f}/min, ETA {eta:.0f} s", err=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _summary(chosen: Plan, tally: Tally, db: str) -> None:
    lines = [f"{'packages scanned':<28}{tally.done:>8}", f"{'  could not be read':<28}{tally.unreadable:>8}",
             f"{'  over a limit (PKG006)':<28}{tally.aborted:>8}",
             f"{'already in the store':<28}{chosen.already_done:>8}",
             f"{'duplicates (same content)':<28}{chosen.duplicates:>8}",
             f"{'other files skipped':<28}{chosen.not_packages:>8}"]
    lines += [f"{'findings: ' + severity:<28}{n:>8}" for severity, n in tally.findings.items()]
    lines += [f"  {rule:<26}{n:>8}" for rule, n in sorted(tally.by_rule.items(), key=lambda kv: (-kv[1], kv[0]))]
    click.echo("\n".join(lines))
    click.echo(f"results in {db}: beian-scan report {db} --format html -o audit.html", err=True)


@click.command()
@click.argument("db", type=click.Path(exists=True, dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(["html", "csv", "jsonl", "json", "sarif"]), default="html",
              show_default=True, help="Report format.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write the report here (default: stdout).")
def report(db: str, fmt: str, output: str | None) -> None:
    """Write the report of a batch store: HTML for reviewers, CSV, JSONL, the JSON report, SARIF."""
    from scanner.batch import report as reports
    from scanner.batch import store

    try:
        database = store.Store(db)
    except store.StoreError as exc:
        _fail(str(exc))
        return
    try:
        text = reports.render(list(database.results()), fmt, database.runs())
    finally:
        database.close()
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        with open(output, "w", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as exc:
        _fail(f"cannot write {output}: {exc.strerror or exc}")
