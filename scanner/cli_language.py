"""The reports' language on the command line: ``--lang`` and the locale, for every command."""

from __future__ import annotations

import os

import click

from scanner.i18n import LANGUAGES, language_from

LANG_OPTION = click.option(
    "--lang", type=click.Choice(LANGUAGES), default=None,
    help="Language of the report and messages: zh (简体中文) or en (default: zh when LC_ALL, LC_MESSAGES or "
    "LANG starts with zh, else en).")


def run_language(chosen: str | None = None) -> str:
    """``--lang`` of the command being run (or ``chosen``), else the locale's (scanner.i18n.language_from)."""
    ctx = click.get_current_context(silent=True)
    given = chosen or (ctx.params.get("lang") if ctx is not None else None)
    return given if given in LANGUAGES else language_from(os.environ)
