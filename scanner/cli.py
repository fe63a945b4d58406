"""Command line: ``beian-scan scan PATH...`` (exit 0 clean, 1 findings, 2 usage, 3 unreadable package).

Only click and the model are imported at start-up; the engine, parsers and androguard load when a scan
runs, so ``--help`` and ``--version`` stay instant.
"""

from __future__ import annotations

import os
import sys

import click

from scanner import __version__

KINDS = ("app", "miniprogram", "quickapp")
SEVERITIES = ("error", "warning", "note")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="beian-scan")
def main() -> None:
    """Check released app packages against China's App filing (App备案) rules."""


def _check_paths(paths: tuple[str, ...]) -> None:
    """A folder is a package only as a mini-program source project or a folder of wxapkg files."""
    for path in paths:
        if not os.path.isdir(path):
            continue
        from scanner.parsers import miniprogram_dir

        if not miniprogram_dir.is_source_folder(path) and not miniprogram_dir.wxapkg_files(path):
            raise click.UsageError(f"{path} is a directory, but not a mini-program source folder or a folder of "
                                   "wxapkg packages: pass package files (batch scanning of folders is not "
                                   "supported yet)")


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="Report format.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True),
              help="Write the report to this file instead of standard output.")
@click.option("--fail-on", type=click.Choice(SEVERITIES), default="error", show_default=True,
              help="Exit 1 when a finding is at or above this severity.")
@click.option("--expect-filing", multiple=True, metavar="NUMBER",
              help="The filing number the package must show (repeatable).")
@click.option("--kind", type=click.Choice(KINDS), default=None,
              help="Package kind to judge by (default: inferred from the format; an APK is an app).")
@click.option("--wxid", metavar="APPID", default=None,
              help="AppID (wx…) that decrypts PC-client encrypted wxapkg packages (default: from the path).")
@click.option("--color/--no-color", default=None, help="Colour the text report (default: on a terminal).")
def scan(paths: tuple[str, ...], fmt: str, output: str | None, fail_on: str, expect_filing: tuple[str, ...],
         kind: str | None, wxid: str | None, color: bool | None) -> None:
    """Scan packages and report filing-number, filing-link and permission-declaration findings."""
    _check_paths(paths)
    from scanner import engine, formatters
    from scanner.model import Options, PackageKind, Severity
    from scanner.rules.number_shapes import normalize

    options = Options(kind=PackageKind(kind) if kind else None,
                      expect_filing=tuple(normalize(n) for n in expect_filing), wxid=wxid)
    report = engine.scan(paths, options)
    for result in report.results:
        if result.error is not None:
            click.echo(f"beian-scan: {result.path}: {result.error.rule_id} {result.error.message}", err=True)
    to_tty = output is None and sys.stdout.isatty()
    rendered = formatters.get(fmt)(report, formatters.FormatOptions(color=to_tty if color is None else color))
    if output:
        with open(output, "w", encoding="utf-8") as handle:
            handle.write(rendered)
    else:
        click.echo(rendered, nl=False)
    sys.exit(engine.worst_exit(report, Severity.parse(fail_on)))
