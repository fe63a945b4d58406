"""Command line: ``beian-scan scan PATH...`` (exit 0 clean, 1 findings, 2 usage/config, 3 unreadable package).

Only click is imported at start-up; the engine, parsers and androguard load when a scan runs, so
``--help`` and ``--version`` stay instant. Settings come from the config file, then the flags the user
gave (the command line wins); errors in either are one line on stderr and exit code 2.
"""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, NoReturn

import click

from scanner import __version__
from scanner.cli_language import LANG_OPTION, run_language
from scanner.constants import LIMIT_MINIMUMS, WXID, presets
from scanner.i18n import message_of, msg, say

if TYPE_CHECKING:
    from scanner.config import OutputSpec, Settings
    from scanner.model import Report
    from scanner.progressbar import TerminalProgress

KINDS = ("app", "miniprogram", "quickapp")
SEVERITIES = ("error", "warning", "note")
NOT_CONFIG = frozenset({"config_path", "create_baseline"})
"""The flags without a config key (every other flag of ``scan`` has one, named as its long flag)."""


class _Main(click.Group):
    """The command group; Ctrl-C ends a run with 130 (128 + SIGINT, as shells report it), never with
    click's "Aborted!" and 1, which means "findings" here."""

    def invoke(self, ctx: click.Context) -> Any:  # noqa: ANN401 (click's own signature)
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            click.echo("\nbeian-scan: interrupted", err=True)
            sys.exit(130)


@click.group(cls=_Main, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="beian-scan")
def main() -> None:
    """Check released app packages against China's App filing (App备案) rules."""


def fail(message: str) -> NoReturn:
    """A usage or configuration error: one line on stderr, exit code 2, in the run's language."""
    click.echo(say(msg("beian-scan: error: {message}", message=message), run_language()), err=True)
    sys.exit(2)


class _FormatOption(click.Option):
    """--format: the choices come from the formatter registry, read only when help is shown."""

    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        from scanner.formatters import OUTPUT_FORMATS

        record = super().get_help_record(ctx)
        if record is None:
            return None
        names = ", ".join(OUTPUT_FORMATS)
        return record[0], f"{names}; {record[1]}"


def _check_paths(paths: tuple[str, ...]) -> None:
    """A folder is scanned only when a format reads it (a mini-program project, a folder of wxapkg); a
    FIFO, socket or device is no package (reading one could wait forever)."""
    from scanner.files import special_kind

    for path in paths:
        kind = special_kind(path)
        if kind:
            fail(msg("{path} is a {kind}, not a package file: pass package files or folders", path=path, kind=kind))
    folders = [path for path in paths if os.path.isdir(path)]
    if not folders:
        return
    from scanner.parsers import is_package_folder

    for path in folders:
        if not is_package_folder(path):
            fail(msg("{path} is a directory, but not a mini-program source folder or a folder of wxapkg packages: pass "
                     "package files, or scan a folder of packages with beian-scan batch FOLDER --db audit.sqlite",
                     path=path))


def _check_wxid(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is not None and not WXID.match(value):
        raise click.BadParameter(say(msg("{value} is not a mini-program AppID (wx and 16 lower-case hex digits)",
                                         value=repr(value)), run_language()))
    return value


def _check_numbers(ctx: click.Context, param: click.Parameter, value: tuple[str, ...]) -> tuple[str, ...]:
    from scanner.config import filing_number_problem

    for number in value:
        problem = filing_number_problem(number)
        if problem:
            raise click.BadParameter(say(problem, run_language()))
    return value


def _check_identities(ctx: click.Context, param: click.Parameter, value: tuple[str, ...]) -> tuple[str, ...]:
    from scanner.facts.identity import parse_spec

    for spec in value:
        try:
            parse_spec(spec)
        except ValueError as exc:
            raise click.BadParameter(say(message_of(exc), run_language())) from None
    return value


def _limit(key: str, metavar: str, text: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A cap flag whose range is the config key's (LIMIT_MINIMUMS), so both accept the same values."""
    return click.option(f"--{key}", type=click.IntRange(min=LIMIT_MINIMUMS[key]), default=None, metavar=metavar,
                        help=text)


def config_key(option: click.Option) -> str:
    """The config key of a flag: its long name (``--expect-filing`` -> ``expect-filing``; ``--color`` of
    ``--color/--no-color``)."""
    return max((o for o in option.opts if o.startswith("--")), key=len)[2:]


def _given(ctx: click.Context, values: dict[str, object]) -> dict[str, Any]:
    """The flags the user typed, under their config keys (defaults do not override the config)."""
    given: dict[str, Any] = {}
    for param in ctx.command.params:
        if not isinstance(param, click.Option) or param.name is None or param.name in NOT_CONFIG:
            continue
        if ctx.get_parameter_source(param.name) is click.core.ParameterSource.COMMANDLINE:
            value = values[param.name]
            given[config_key(param)] = list(value) if isinstance(value, tuple) else value
    return given


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--format", "fmt", multiple=True, metavar="FORMAT[:PATH]", cls=_FormatOption,
              help="repeatable, each with its own file (FORMAT:PATH); the one without a path goes to standard "
                   "output. Default: text.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write the stdout report to this file.")
@click.option("--fail-on", type=click.Choice(SEVERITIES), default="error", show_default=True,
              help="Exit 1 when a finding is at or above this severity.")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even with findings (report-only jobs); 2 and 3 stay.")
@click.option("--expect-filing", multiple=True, metavar="NUMBER", callback=_check_numbers,
              help="The filing number the package must show (repeatable).")
@click.option("--expect-identity", multiple=True, metavar="APP_ID[,CERT_MD5[,PUBLIC_KEY]]",
              callback=_check_identities,
              help="The filed App特征信息 the package must carry (FIL009); repeat for several, any may match.")
@click.option("--kind", type=click.Choice(KINDS), default=None,
              help="Package kind to judge by (default: from the format).")
@click.option("--wxid", metavar="APPID", default=None, callback=_check_wxid,
              help="AppID (wx…) that decrypts PC-client encrypted wxapkg packages (default: from the path).")
@click.option("--config", "config_path", type=click.Path(exists=True, dir_okay=False),
              help="Config file (default: beian-scan.toml or [tool.beian-scan] in pyproject.toml, found upwards).")
@click.option("--preset", type=click.Choice(sorted(presets())), default=None,
              help="; ".join(f"{name}: {p['description']}" for name, p in sorted(presets().items())) + ".")
@click.option("--suppressions", type=click.Path(exists=True, dir_okay=False), metavar="FILE",
              help="Accepted findings: lines of 'PACKAGE-GLOB RULE-ID [until=YYYY-MM-DD] REASON'.")
@click.option("--baseline", type=click.Path(exists=True, dir_okay=False), metavar="FILE",
              help="Report only findings that are not in this baseline.")
@click.option("--create-baseline", type=click.Path(dir_okay=False), metavar="FILE",
              help="Write every current finding to a baseline file (then exit 0).")
@click.option("--show-suppressed", is_flag=True, help="List suppressed and baselined findings too.")
@click.option("--source-root", type=click.Path(exists=True, file_okay=False), metavar="DIR",
              help="The app's source folder (e.g. app/src/main): SARIF and annotations point at its files.")
@click.option("--privacy-policy", multiple=True, type=click.Path(exists=True, dir_okay=False), metavar="FILE",
              help="The app's privacy policy (HTML, Markdown or text; repeatable): its text declares purposes.")
@click.option("--fetch-privacy-policy", is_flag=True,
              help="Fetch the privacy policy pages the package links (network; 2 MB, 10 s, 5 redirects; "
              "public addresses only).")
@click.option("--allow-network", multiple=True, metavar="CIDR",
              help="A network a policy fetch may reach besides public addresses (repeatable; e.g. 127.0.0.1).")
@_limit("max-member-mb", "MB", "Cap on one member's inflated size (default 512); a hit is PKG003.")
@_limit("max-package-mb", "MB", "Cap on a package's inflated size (default 2048).")
@_limit("max-ratio", "N", "Inflation ratio past which a member is read only up to 32 MB (default 200).")
@_limit("max-members", "N", "Cap on the entries of one archive (default 100000).")
@_limit("max-depth", "N", "Cap on packages nested in packages (default 2; 0: none).")
@click.option("--color/--no-color", default=None, help="Colour the text report (default: on a terminal).")
@LANG_OPTION
@click.pass_context
def scan(ctx: click.Context, paths: tuple[str, ...], config_path: str | None, create_baseline: str | None,
         **values: object) -> None:
    """Scan packages and report filing-number, filing-link and permission-declaration findings."""
    _check_paths(paths)
    # The scanner's modules, imported here, live as long as the run: the collector is kept out of the
    # import (thousands of new objects trigger dozens of collections) and they are then frozen, so the
    # scan's collections walk only its own objects (measured: bench/results/imports-2026-12-07.md).
    collecting = gc.isenabled()
    gc.disable()
    try:
        from scanner import baseline, engine, suppress
        from scanner.config import ConfigError, find_config, load_config, settings_from
    finally:
        gc.freeze()
        if collecting:
            gc.enable()

    try:
        config_file = config_path or find_config(os.getcwd())
        settings = settings_from(load_config(config_file) if config_file else {}, _given(ctx, values), config_file)
        # A baseline being created records every finding: an old one (perhaps not written yet) is not read.
        acceptance = engine.Acceptance(
            suppress.load(settings.suppressions, engine.catalogue()) if settings.suppressions else (),
            baseline.load(settings.baseline) if settings.baseline and not create_baseline else frozenset(),
        )
    except (ConfigError, suppress.SuppressionError, baseline.BaselineError, ValueError) as exc:
        fail(message_of(exc))
    _check_outputs(settings.outputs, settings.output)
    notices = engine.expiry_notices(acceptance, settings.suppressions or "")
    bar = _progress(len(paths))
    try:
        report = engine.scan(paths, settings.options, settings.policy, acceptance, notices, bar)
    finally:
        if bar is not None:
            bar.close()
    from scanner.formatters.base import visible

    lang = settings.lang
    for result in report.results:
        if result.error is not None:
            line = f"beian-scan: {result.path}: {result.error.rule_id} {say(result.error.message, lang)}"
            click.echo(visible(line), err=True)
    for notice in notices:
        click.echo(f"beian-scan: {say(notice, lang)}", err=True)
    _write_outputs(report, settings)
    if create_baseline:
        _write(create_baseline, baseline.dumps(report))
        click.echo(f"beian-scan: wrote a baseline of {sum(len(r.findings) for r in report.results)} finding(s) "
                   f"to {create_baseline}", err=True)
        sys.exit(3 if any(r.error for r in report.results) else 0)
    code = engine.worst_exit(report, settings.fail_on)
    sys.exit(0 if settings.exit_zero and code == 1 else code)


def _progress(total: int) -> TerminalProgress | None:
    """A progress bar on standard error when it is a terminal (it shows only for long scans)."""
    if not sys.stderr.isatty():
        return None
    from scanner.progressbar import TerminalProgress

    return TerminalProgress(total, sys.stderr)


def _check_outputs(outputs: tuple[OutputSpec, ...], output: str | None) -> None:
    from scanner.formatters import OUTPUT_FORMATS

    for spec in outputs:
        if spec.format not in OUTPUT_FORMATS:
            fail(msg("unknown format {format} (choose from {names})",
                     format=repr(spec.format), names=', '.join(OUTPUT_FORMATS)))
    to_stdout = sum(1 for spec in outputs if spec.path is None)
    if to_stdout > 1:
        fail(msg("only one --format can go to standard output; give the others a file (FORMAT:PATH)"))
    if output and not to_stdout:
        fail(msg("-o/--output {output} names the standard-output report, but every --format has its own file: add a "
                 "--format without a path (e.g. --format text) or drop -o", output=output))


def _write(path: str, text: str) -> None:
    try:
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as exc:
        fail(msg("cannot write {path}: {reason}", path=path, reason=exc.strerror or exc))


def use_color(flag: bool | None, tty: bool, environ: Mapping[str, str]) -> bool:
    """--color/--no-color (or the config key) first, then NO_COLOR and FORCE_COLOR when set and not
    empty (no-color.org, force-color.org), then whether standard output is a terminal."""
    if flag is not None:
        return flag
    if environ.get("NO_COLOR"):
        return False
    if environ.get("FORCE_COLOR"):
        return True
    return tty


def _write_outputs(report: Report, settings: Settings) -> None:
    from scanner import source_lines
    from scanner.formatters import OUTPUT_FORMATS, options_for

    lines = source_lines.locate(report, settings.source_root) if settings.source_root else {}
    for spec in settings.outputs:
        target = spec.path or settings.output
        fmt = OUTPUT_FORMATS[spec.format]
        values = {"color": use_color(settings.color, target is None and sys.stdout.isatty(), os.environ),
                  "show_suppressed": settings.show_suppressed, "base_dir": os.getcwd(),
                  "source_root": settings.source_root, "source_lines": lines, "lang": settings.lang}
        options = options_for(fmt, values)
        rendered = fmt.render(report, options)
        if target:
            _write(target, rendered)
        else:
            # click strips colour when standard output is not a terminal, unless told otherwise
            click.echo(rendered, nl=False, color=getattr(options, "color", False))


@main.command("rules")
@click.argument("rule_id", required=False)
@LANG_OPTION
def rules_command(rule_id: str | None, lang: str | None) -> None:
    """List the rules, or show one rule's documentation (what, why, PASS/FAIL examples, sources)."""
    from scanner.formatters.base import SEVERITY_LABELS, rule_help
    from scanner.rules import CATALOGUE

    lang = run_language(lang)
    if rule_id is None:
        for meta in sorted(CATALOGUE.values(), key=lambda m: m.id):
            severity = say(SEVERITY_LABELS[meta.severity], lang)
            click.echo(f"{meta.id}  {meta.name:<34} {severity:<8} {say(meta.summary, lang)}")
        return
    found = CATALOGUE.get(rule_id.upper())
    if found is None:
        fail(msg("unknown rule {rule_id} (beian-scan rules lists them)", rule_id=repr(rule_id)))
    severity = say(SEVERITY_LABELS[found.severity], lang)
    fix = say(msg("Fix: {fix}", fix=found.fix), lang)
    body = rule_help(found, lang)
    click.echo(f"{found.id} {found.name} ({severity})\n\n{body}" + (f"\n\n{fix}" if lang == "en" else ""))


@main.command("identity")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--format", "fmt", type=click.Choice(("text", "json")), default="text", show_default=True,
              help="text: the filing form's fields first, one value per line; json: every certificate field.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write to this file instead of stdout.")
@LANG_OPTION
def identity_command(paths: tuple[str, ...], fmt: str, output: str | None, lang: str | None) -> None:
    """Print the App特征信息 a filing form asks for: platform, package name, certificate MD5, public key.

    Exit 0 when every package was read, 3 when one could not be (it is listed with why)."""
    _check_paths(paths)
    from scanner import engine
    from scanner.config import Policy
    from scanner.formatters import identity
    from scanner.model import Options

    results = [r for path in paths for r in engine.scan_target(path, Options(), Policy())]
    lang = run_language(lang)
    rendered = (identity.render_json(results, __version__) if fmt == "json"
                else identity.render_text(results, lang))
    if output:
        _write(output, rendered)
    else:
        click.echo(rendered, nl=False)
    for result in results:
        if result.error is not None:
            click.echo(f"beian-scan: {result.path}: {result.error.rule_id} {say(result.error.message, lang)}",
                       err=True)
    sys.exit(3 if any(r.error is not None for r in results) else 0)


def _register_batch() -> None:
    from scanner.batch.cli import batch, report

    main.add_command(batch)
    main.add_command(report)


_register_batch()
