"""The ``batch`` and ``report`` commands (registered on the main group by scanner.cli)."""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import sys
import time
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import click

from scanner.cli_language import LANG_OPTION, run_language
from scanner.i18n import N_, message_of, msg, say

if TYPE_CHECKING:
    from scanner.batch.registry import Index
    from scanner.batch.runner import Plan, Request, Stop, Tally
    from scanner.batch.store import Store
    from scanner.batch.worker import Outcome, WorkerLimits

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)i?B?\s*$", re.IGNORECASE)
LOG_EVERY = 10.0
"""Seconds between progress lines when standard error is not a terminal."""


def _fail(message: str) -> None:
    """One line on standard error in the run's language, a hostile name's control characters escaped; exit 2."""
    from scanner.formatters.base import visible

    click.echo(visible(say(msg("beian-scan: error: {message}", message=message), run_language())), err=True)
    sys.exit(2)


def parse_size(value: str) -> int:
    """``2G``, ``512M``, ``1.5GiB`` -> bytes."""
    match = _SIZE.match(value)
    if not match:
        raise click.BadParameter(say(msg("{value} is not a size (e.g. 2G, 512M)", value=repr(value)), run_language()))
    number, unit = float(match.group(1)), match.group(2).upper()
    size = int(number * 1024 ** " KMGT".index(unit or " "))
    if size < 64 * 1024 * 1024:
        raise click.BadParameter(say(msg("{value} is below 64M: no package can be scanned in that",
                                         value=repr(value)), run_language()))
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
              help="Memory a package may use in its worker (e.g. 512M, 2G), beyond what the worker starts with; "
                   "a package over it is PKG006.")
@click.option("--retry-aborted", is_flag=True,
              help="Scan again the packages stopped before (PKG006), under the same limits too.")
@click.option("--registry", type=click.Path(exists=True, dir_okay=False), metavar="CSV",
              help="Filing records: app_id,filing_number[,app_name][,cert_md5][,public_key] "
                   "(FIL005 / FIL008 / FIL009).")
@click.option("--dask", "dask_address", metavar="ADDRESS",
              help="Send the packages to a Dask scheduler (tcp://host:8786); results land in --db here.")
@click.option("--config", "config_path", type=click.Path(exists=True, dir_okay=False), metavar="FILE",
              help="Read settings from this file (default: .beian-scan.toml or pyproject.toml here).")
@click.option("--preset", default=None, metavar="NAME", help="A rule preset, as scan's --preset.")
@click.option("--suppressions", type=click.Path(exists=True, dir_okay=False), metavar="FILE",
              help="Accepted findings with reasons (and expiry), as scan's; the store keeps why.")
@click.option("--baseline", type=click.Path(exists=True, dir_okay=False), metavar="FILE",
              help="Findings of this baseline (scan --create-baseline) are accepted.")
@click.option("--wxid", metavar="APPID", default=None, help="AppID to decrypt PC-client wxapkg files with.")
@LANG_OPTION
def batch(paths: tuple[str, ...], db: str, from_list: Any, jobs: int | None, timeout: float,  # noqa: ANN401
          max_memory: int | None, retry_aborted: bool, registry: str | None, dask_address: str | None,
          config_path: str | None, preset: str | None, suppressions: str | None, baseline: str | None,
          wxid: str | None, lang: str | None) -> None:
    """Scan every package under PATHS (recursively) into an SQLite store, resumably.

    Packages are found by content; other files are skipped and counted. Each package is scanned in its
    own worker process, largest first; results are committed one package at a time, so a killed batch
    loses nothing committed and a rerun of the same command skips everything already scanned (same
    content, tool version and config). Ctrl-C stops handing out packages and lets running ones finish
    for a few seconds (exit 130); a second Ctrl-C stops them at once. Read the store with
    ``beian-scan report``: by default the current state of the folders scanned.

    Exit status: 0 the batch ran (findings are in the store, not in the status); 2 a usage error, or the
    store, registry, config, worker processes or Dask scheduler cannot be used; 130 stopped by Ctrl-C.
    """
    from scanner.batch import runner, store, worker

    listed = tuple(line.strip() for line in from_list) if from_list is not None else ()
    if not paths and not listed:
        _fail(msg("give package paths or folders, or --from-list FILE"))
    given = {key: value for key, value in (("wxid", wxid), ("preset", preset), ("suppressions", suppressions),
                                           ("baseline", baseline)) if value is not None}
    request = _request(paths, listed, given, config_path, worker.WorkerLimits(timeout, max_memory),
                       jobs or runner.default_jobs(), dask_address, retry_aborted)
    try:
        database = store.Store(db)
    except store.StoreError as exc:
        _fail(message_of(exc))
        return
    if registry:
        request = replace(request, registry=_registry(registry, database))
    lang = run_language()
    display = _Display(sys.stderr.isatty(), lang)
    stop = runner.Stop()
    # Ctrl-C is the batch's from here to the exit: a late press must not kill the summary half-way.
    signal.signal(signal.SIGINT, lambda _sig, _frame: _interrupt(stop, lang))
    try:
        chosen, tally = runner.run(database, request, display.plan, display.outcome, stop)
        current = _current(database)
    except (worker.WorkerStartError, runner.DaskError) as exc:
        _fail(message_of(exc))
        return
    except sqlite3.Error as exc:
        _fail(store.describe(exc, db))
        return
    finally:
        stop.close()
        display.close()
        database.close()
    _summary(chosen, tally, current, db, lang)
    # Everything is committed and said: a Ctrl-C pressed now (the second of two quick presses) must not
    # kill the interpreter while it exits, which would end the batch by the signal instead of its status.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if tally.stopped:
        sys.exit(130)


def _registry(path: str, database: Store) -> Index:
    """The filing records, their number checks kept in the store across runs."""
    from scanner.batch import registry as records

    try:
        return records.index(path, database.number_checks)
    except records.RegistryError as exc:
        database.close()
        _fail(message_of(exc))
        raise  # unreachable: _fail exits


def _request(paths: tuple[str, ...], listed: tuple[str, ...], given: dict[str, Any], config_path: str | None,
             limits: WorkerLimits, parallel: int, dask_address: str | None, retry_aborted: bool) -> Request:
    """The batch's request from its flags and the config file (the same judging settings as scan)."""
    from scanner import baseline, engine, suppress
    from scanner.batch import runner
    from scanner.config import ConfigError, find_config, load_config, settings_from

    try:
        config_file = config_path or find_config(os.getcwd())
        settings = settings_from(load_config(config_file) if config_file else {}, given, config_file)
        options = settings.options
        acceptance = engine.Acceptance(
            suppress.load(settings.suppressions, engine.catalogue()) if settings.suppressions else (),
            baseline.load(settings.baseline) if settings.baseline else frozenset())
    except (ConfigError, suppress.SuppressionError, baseline.BaselineError, ValueError) as exc:
        _fail(message_of(exc))
        raise  # unreachable: _fail exits
    for notice in engine.expiry_notices(acceptance, settings.suppressions or ""):
        click.echo(f"beian-scan: {say(notice, run_language())}", err=True)
    command = " ".join(["beian-scan", "batch", *sys.argv[2:]])
    return runner.Request(tuple(paths), listed, options, settings.policy, acceptance, limits=limits,
                          parallel=parallel, dask_address=dask_address, retry_aborted=retry_aborted, command=command)


def _interrupt(stop: Stop, lang: str) -> None:
    if stop.requested.is_set():
        said = msg("beian-scan batch: stopping the running packages now")
    else:
        said = msg("beian-scan batch: stopping: no more packages are started; running ones have {grace} s to "
                   "finish (Ctrl-C again: stop them now)", grace=format(stop.grace, "g"))
    click.echo("\n" + say(said, lang), err=True)
    stop.request()


def _current(database: Store) -> dict[str, int]:
    """The store's current totals (every package present at the latest run over its folder)."""
    counts = {"packages": 0, "unreadable": 0, "aborted": 0, "error": 0, "warning": 0, "note": 0}
    for item in database.results():
        result = item.result
        counts["packages"] += 1
        error = result["error"]
        if error:
            counts["aborted" if error["rule_id"] == "PKG006" else "unreadable"] += 1
        for finding in result["findings"]:
            counts[finding["severity"]] += 1
    return counts


class _Display:
    """A tqdm bar on a terminal (done / total, failures, rate, ETA), else a log line every LOG_EVERY s."""

    def __init__(self, tty: bool, lang: str = "en") -> None:
        self.tty = tty
        self.lang = lang
        self.bar: Any = None
        self.started = time.monotonic()
        self.last = 0.0

    def plan(self, chosen: Plan) -> None:
        special = (msg(", {count} special file(s) (FIFO, socket, device) skipped", count=chosen.skipped_special)
                   if chosen.skipped_special else "")
        retried = msg(" ({count} stopped before, scanned again)", count=chosen.retried) if chosen.retried else ""
        rejudged = (msg("; {count} judged again (accepted findings changed)", count=len(chosen.rejudged))
                    if chosen.rejudged else "")
        said = msg("beian-scan batch: {found} package(s) found, {others} other file(s) skipped{special}; {done} "
                   "already in the store, {duplicates} duplicate(s); {jobs} to scan{retried}{rejudged}",
                   found=chosen.total_packages, others=chosen.not_packages, special=special,
                   done=chosen.already_done, duplicates=chosen.duplicates, jobs=len(chosen.jobs), retried=retried,
                   rejudged=rejudged)
        click.echo(say(said, self.lang), err=True)
        if self.tty and chosen.jobs:
            from tqdm import tqdm

            self.bar = tqdm(total=len(chosen.jobs), unit="pkg", file=sys.stderr, dynamic_ncols=True)
        self.started = time.monotonic()

    def outcome(self, outcome: Outcome, tally: Tally) -> None:
        failed = tally.unreadable + tally.aborted
        if self.bar is not None:
            self.bar.set_postfix_str(say(msg("{count} failed", count=failed), self.lang), refresh=False)
            self.bar.update(1)
            return
        now = time.monotonic()
        if now - self.last >= LOG_EVERY or tally.done == tally.total:
            self.last = now
            rate = tally.done / max(now - self.started, 1e-9)
            eta = (tally.total - tally.done) / rate if rate else 0.0
            said = msg("beian-scan batch: {done}/{total} scanned ({unreadable} unreadable, {aborted} over a limit), "
                       "{rate}/min, ETA {eta} s", done=tally.done, total=tally.total, unreadable=tally.unreadable,
                       aborted=tally.aborted, rate=format(rate * 60, ".1f"), eta=format(eta, ".0f"))
            click.echo(say(said, self.lang), err=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _summary(chosen: Plan, tally: Tally, current: dict[str, int], db: str, lang: str = "en") -> None:
    """This run's counts beside the store's current totals (a resumed or no-op run scans little)."""
    from scanner.formatters.base import SEVERITY_LABELS
    from scanner.formatters.text import display_width
    from scanner.model import Severity

    def right(text: str, width: int) -> str:  # aligned by terminal columns: Chinese characters take two
        return " " * max(0, width - display_width(text)) + text

    def line(label: str, this: int | str, total: int | str = "") -> str:
        said = say(label, lang) if label.strip() else label
        return said + " " * max(0, 30 - display_width(said)) + right(str(this), 12) + right(str(total), 12)

    lines = [line("", say(N_("this run"), lang), say(N_("store now"), lang)),
             line(N_("packages scanned"), tally.done, current["packages"]),
             line(N_("  could not be read"), tally.unreadable, current["unreadable"]),
             line(N_("  over a limit (PKG006)"), tally.aborted, current["aborted"]),
             line(N_("  stopped before, retried"), chosen.retried),
             line(N_("  judged again (no rescan)"), len(chosen.rejudged)),
             line(N_("already in the store"), chosen.already_done),
             line(N_("duplicates (same content)"), chosen.duplicates),
             line(N_("other files skipped"), chosen.not_packages),
             line(N_("special files skipped"), chosen.skipped_special),
             line(N_("gone since the last run"), chosen.gone)]
    lines += [line(say(msg("findings: {severity}", severity=SEVERITY_LABELS[Severity.parse(severity)]), lang), n,
                   current[severity]) for severity, n in tally.findings.items()]
    lines += [f"  {rule:<28}" + right(str(n), 12)
              for rule, n in sorted(tally.by_rule.items(), key=lambda kv: (-kv[1], kv[0]))]
    click.echo("\n".join(lines))
    if tally.stopped:
        click.echo(say(msg("beian-scan batch: stopped; {count} package(s) committed, the rest are scanned by the "
                           "next run of the same command", count=tally.done), lang), err=True)
    click.echo(say(msg("results in {db}: beian-scan report {db} --format html -o audit.html", db=db), lang),
               err=True)


@click.command()
@click.argument("db", type=click.Path(exists=True, dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(["html", "csv", "jsonl", "json", "sarif"]), default="html",
              show_default=True, help="Report format.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write the report here (default: stdout).")
@click.option("--run", "run_id", type=click.IntRange(min=1), default=None, metavar="N",
              help="The state at run N: the files it found, with the verdicts of that day.")
@click.option("--history", is_flag=True, help="Every result ever stored, oldest run first (CSV gains a run column).")
@click.option("--csv-bom/--no-csv-bom", default=None,
              help="Start CSV with a UTF-8 byte order mark, which Excel and WPS on Chinese Windows need to read "
                   "UTF-8 (default: with -o FILE yes, on standard output no).")
@LANG_OPTION
def report(db: str, fmt: str, output: str | None, run_id: int | None, history: bool,
           csv_bom: bool | None, lang: str | None) -> None:
    """Write the report of a batch store: HTML for reviewers, CSV, JSONL, the JSON report, SARIF.

    By default the current state: each file present at the latest batch over its folder, with its
    latest verdict. The store is only read (it may be on read-only media)."""
    from scanner.batch import report as reports
    from scanner.batch import store

    if run_id is not None and history:
        _fail(msg("--run and --history are two views: give one"))
    try:
        database = store.Store(db, readonly=True)
    except store.StoreError as exc:
        _fail(message_of(exc))
        return
    try:
        if run_id is not None and not database.has_run(run_id):
            _fail(msg("{db}: no run {run} in this store (beian-scan report --history lists every run)", db=db,
                      run=run_id))
        stored = list(database.results(run=run_id, history=history))
        text = reports.render(stored, fmt, database.runs(), history=history, lang=run_language(lang))
    except sqlite3.Error as exc:
        _fail(store.describe(exc, db))
        return
    finally:
        database.close()
    if fmt == "csv" and (csv_bom if csv_bom is not None else output is not None):
        text = "\ufeff" + text
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        with open(output, "w", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as exc:
        _fail(msg("cannot write {path}: {reason}", path=output, reason=exc.strerror or exc))
