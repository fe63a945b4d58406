"""Messages in 简体中文 and English (issue 27).

Every text a person reads is written once, in English, as a template with named placeholders, and said
in Chinese by the gettext catalog ``scanner/locale/zh_CN/LC_MESSAGES/beian-scan.po`` (compiled to
``.mo`` with Babel; the standard library's ``gettext`` reads it at run time). The English template is
the catalog's msgid, so a message that has no translation yet still reads in English, and
``tests/test_i18n.py`` fails until it has one. Terms follow the glossary beside the catalog
(``scanner/locale/glossary.md``): 备案号, 备案系统, 显著位置, 加固 … as 工信部信管〔2023〕105号 and the
stores use them.

A rule builds its finding's text with ``msg(template, **args)``: a ``Message`` is a ``str`` (its English
form, so everything that reads it as text keeps working) that remembers its template and arguments, so
``say`` can give it again in Chinese. Arguments that are themselves ``Message`` are said in the same
language; any other argument (a number, a path, evidence, a package's own text) is shown as it is.
Plain strings that are msgids themselves (a rule's summary and fix, a formatter's labels) are looked up
as they are. Fingerprints, rule ids and JSON keys never depend on the language.
"""

from __future__ import annotations

import functools
import gettext
import os
import re
from collections.abc import Mapping, Sequence

LANGUAGES = ("en", "zh")
"""The languages of the reports: English (the templates) and Simplified Chinese."""

LANGUAGE_TAGS = {"en": "en-US", "zh": "zh-CN"}
"""BCP 47 tags (SARIF's ``run.language``, HTML's ``lang``)."""

DOMAIN = "beian-scan"
LOCALE_DIR = os.path.join(os.path.dirname(__file__), "locale")
_GETTEXT_LOCALE = {"zh": "zh_CN"}
_ONLY_PLACES = re.compile(r"(?:\{p\d+\}|[,;] )+")
"""A template of placeholders and ASCII separators only (what ``joined`` makes): said with Chinese
punctuation, which a Chinese sentence uses between its parts."""


class Message(str):
    """A text for people: its English form, with the template and arguments it was made from."""

    __slots__ = ("args", "template")
    template: str
    args: tuple[tuple[str, object], ...]

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        # Findings cross process boundaries (a batch worker, the forked helper): keep what makes them sayable.
        return _rebuild, (str(self), self.template, self.args)


class Said(str):
    """A text already said in each language (read back from a stored report that kept them): its str is
    the English."""

    __slots__ = ("texts",)
    texts: tuple[tuple[str, str], ...]

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        return said_in, (dict(self.texts),)


def said_in(texts: Mapping[str, str]) -> Said:
    """The text whose form in each language is given (English first: it is the str)."""
    made = Said(texts.get("en", ""))
    made.texts = tuple(sorted(texts.items()))
    return made


def _rebuild(text: str, template: str, args: tuple[tuple[str, object], ...]) -> Message:
    made = Message(text)
    made.template = template
    made.args = args
    return made


def msg(template: str, **args: object) -> Message:
    """The message ``template`` (the English text, and the catalog's msgid) with its placeholders filled."""
    return _rebuild(template.format(**{k: str(v) for k, v in args.items()}), template, tuple(args.items()))


def joined(parts: Sequence[str], separator: str = "; ") -> Message:
    """Parts (messages or plain text) joined, each said in the reader's language."""
    template = separator.replace("{", "{{").replace("}", "}}").join(f"{{p{i}}}" for i in range(len(parts)))
    return msg(template, **{"p" + str(i): part for i, part in enumerate(parts)})


def message_of(exc: BaseException) -> str:
    """An exception's message as it was raised (a Message keeps its template; ``str(exc)`` would not)."""
    first = exc.args[0] if len(exc.args) == 1 else None
    return first if isinstance(first, str) else str(exc)


def N_(template: str) -> str:
    """Marks a constant for the catalog; it is said in the reader's language where it is shown."""
    return template


@functools.cache
def _catalog(lang: str) -> gettext.NullTranslations:
    if lang not in _GETTEXT_LOCALE:
        return gettext.NullTranslations()
    return gettext.translation(DOMAIN, LOCALE_DIR, languages=[_GETTEXT_LOCALE[lang]], fallback=True)


def say(text: str, lang: str) -> str:
    """``text`` in ``lang``: a Message from its template and arguments, a plain string by the catalog
    (unchanged when the catalog does not hold it: a path, a package's own text, evidence)."""
    if isinstance(text, Said):
        return dict(text.texts).get(lang, str(text))
    if lang == "en" or not text:
        return str(text)
    catalog = _catalog(lang)
    if isinstance(text, Message):
        template = catalog.gettext(text.template)
        if template == text.template and _ONLY_PLACES.fullmatch(template):  # joined(): its separators
            template = template.replace(", ", "，").replace("; ", "；")
        return template.format(**{k: _said_value(v, lang) for k, v in text.args})
    return catalog.gettext(text)


def in_every_language(text: str) -> dict[str, str]:
    """``text`` said in each language, for a stored report that must read in either later."""
    return {lang: say(text, lang) for lang in LANGUAGES}


def _said_value(value: object, lang: str) -> str:
    """An argument as said in ``lang``: a message (or an exception raised with one) in that language,
    anything else as it is written."""
    if isinstance(value, BaseException):
        value = message_of(value)
    return say(value, lang) if isinstance(value, (Message, Said)) else str(value)


def language_from(environ: Mapping[str, str]) -> str:
    """The report language a locale asks for: the first of LC_ALL, LC_MESSAGES and LANG that is set
    (POSIX precedence) starting with ``zh`` gives Chinese, anything else English."""
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = environ.get(name, "")
        if value:
            return "zh" if value.lower().startswith("zh") else "en"
    return "en"
