"""Configuration: found the usual way, validated against scanner/schemas/config.schema.json, merged with
the command line (which wins). Every command-line flag has a config key of the same name.

Files, nearest first from the working directory up to the filesystem root: ``beian-scan.toml``,
``.beian-scan.toml`` (top-level keys), ``pyproject.toml`` (``[tool.beian-scan]``); ``--config PATH``
names one explicitly.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import jsonschema

import tomllib

from scanner.constants import presets
from scanner.facts.identity import Expected, expected, parse_spec
from scanner.facts.numbers import find_numbers, normalize
from scanner.files import CONFIG_BYTES, TooLarge, read_bounded
from scanner.formatters import OUTPUT_FORMATS
from scanner.i18n import language_from, message_of, msg
from scanner.model import (
    FactOptions,
    Limits,
    Options,
    OptionStage,
    OptionValue,
    PackageKind,
    ParseOptions,
    PolicySources,
    RuleId,
    RuleOption,
    RuleSettings,
    RuleValue,
    Severity,
)
from scanner.rules import CATALOGUE
from scanner.suppress import UNREADABLE

CONFIG_NAMES = ("beian-scan.toml", ".beian-scan.toml", "pyproject.toml")
PATH_KEYS = ("suppressions", "baseline", "source-root", "output")
"""Keys that name files; in a config file they are relative to the file's folder (as ruff, mypy and
pre-commit resolve theirs), so the same config works from any subfolder."""


class ConfigError(ValueError):
    """An invalid configuration; the message names the file and the key (exit code 2)."""


@dataclass(frozen=True, slots=True)
class OutputSpec:
    """One requested report: a format and the file it goes to (None: standard output)."""

    format: str
    path: str | None = None


@dataclass(frozen=True, slots=True)
class Policy:
    """What the engine stamps on findings after the rules ran."""

    disabled: frozenset[RuleId] = frozenset()
    severity: tuple[tuple[RuleId, Severity], ...] = ()
    """The user's severity per rule (wins over everything)."""
    promote: tuple[tuple[Severity, Severity], ...] = ()
    """The preset's severity mapping (``strict``: warning -> error)."""


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything a scan run needs, after config file and command line are merged."""

    outputs: tuple[OutputSpec, ...] = (OutputSpec("text"),)
    output: str | None = None
    fail_on: Severity = Severity.ERROR
    exit_zero: bool = False
    color: bool | None = None
    lang: str = "en"
    """The reports' language (scanner.i18n.LANGUAGES)."""
    suppressions: str | None = None
    baseline: str | None = None
    show_suppressed: bool = False
    source_root: str | None = None
    options: Options = field(default_factory=Options)
    policy: Policy = field(default_factory=Policy)
    config_path: str | None = None


def find_config(start: str) -> str | None:
    """The nearest config file from ``start`` upwards (a pyproject.toml counts only with the section)."""
    folder = os.path.abspath(start)
    while True:
        for name in CONFIG_NAMES:
            candidate = os.path.join(folder, name)
            if os.path.isfile(candidate) and (name != "pyproject.toml" or _has_tool_section(candidate)):
                return candidate
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent


def _has_tool_section(path: str) -> bool:
    try:
        return "beian-scan" in _read_toml(path).get("tool", {})
    except ConfigError:
        return False


def _read_toml(path: str) -> dict[str, Any]:
    try:
        return tomllib.loads(read_bounded(path, CONFIG_BYTES, msg("config file")).decode("utf-8"))
    except TooLarge as exc:
        raise ConfigError(message_of(exc)) from None
    except RecursionError:
        raise ConfigError(msg("{path}: cannot read config: nested too deeply", path=path)) from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(msg("{path}: cannot read config: {exc}", path=path, exc=exc)) from exc


def _resource(name: str) -> dict[str, Any]:
    # A schema beside this module (package data), read directly like scanner.catalogs reads its tables.
    with open(os.path.join(os.path.dirname(__file__), "schemas", name), encoding="utf-8") as handle:
        data: dict[str, Any] = json.load(handle)
    return data


@functools.cache
def rule_options() -> tuple[tuple[str, RuleOption], ...]:
    """(rule id, option) for every option a rule declares, in catalogue order."""
    return tuple((meta.id, option) for meta in CATALOGUE.values() for option in meta.options)


@functools.cache
def configurable_rules() -> tuple[str, ...]:
    """Rule ids a config may name: every rule but the results of unreadable packages."""
    return tuple(sorted(r for r in CATALOGUE if r not in UNREADABLE))


@functools.cache
def _schema() -> dict[str, Any]:
    """config.schema.json with what the registries declare filled in: the rule ids, each rule's options,
    the top-level keys of options that are also flags, the preset names and the output formats."""
    schema = _resource("config.schema.json")
    properties = schema["properties"]
    properties["format"]["items"]["pattern"] = f"^({'|'.join(OUTPUT_FORMATS)})(:.+)?$"
    properties["preset"] = {**properties["preset"], "enum": sorted(presets())}
    base = {"enabled": {"type": "boolean"}, "severity": {"enum": [s.label for s in Severity]}}
    per_rule: dict[str, dict[str, Any]] = {r: {"type": "object", "additionalProperties": False,
                                               "properties": dict(base)} for r in configurable_rules()}
    for rule_id, option in rule_options():
        per_rule[rule_id]["properties"][option.name] = {**option.schema, "description": option.description}
        if option.top_level:
            properties[option.name] = {**option.schema, "description": f"{option.description} ({rule_id})"}
    # Before the kind was a scan option it was declared by FIL003: its table still accepts it (same value).
    per_rule["FIL003"]["properties"]["kind"] = {**properties["kind"], "description": "the top-level kind (kept for "
                                                "configs written when FIL003 declared it)"}
    properties["rules"] = {**properties["rules"], "propertyNames": {"enum": list(per_rule)},
                           "properties": per_rule, "additionalProperties": False}
    return schema


def load_config(path: str) -> dict[str, Any]:
    """The validated config table of a file, its paths resolved against the file's folder."""
    data = _read_toml(path)
    if os.path.basename(path) == "pyproject.toml":
        data = data.get("tool", {}).get("beian-scan", {})
    validate(data, path)
    resolved = resolve_paths(data, os.path.dirname(os.path.abspath(path)))
    root = resolved.get("source-root")
    if root is not None and not os.path.isdir(root):
        raise ConfigError(msg("{path}: invalid config key source-root: {root} is not a folder", path=path, root=root))
    return resolved


def resolve_paths(data: dict[str, Any], base: str) -> dict[str, Any]:
    """Relative file names of a config table made absolute against ``base`` (the config's folder)."""
    resolved = {**data}
    for key in PATH_KEYS:
        if isinstance(resolved.get(key), str):
            resolved[key] = os.path.join(base, os.path.expanduser(resolved[key]))
    if isinstance(resolved.get("privacy-policy"), list):
        resolved["privacy-policy"] = [os.path.join(base, os.path.expanduser(f)) if isinstance(f, str) else f
                                      for f in resolved["privacy-policy"]]
    if isinstance(resolved.get("format"), list):
        resolved["format"] = [_resolve_format(f, base) for f in resolved["format"]]
    return resolved


def _resolve_format(value: str, base: str) -> str:
    spec = parse_output(value)
    return value if spec.path is None else f"{spec.format}:{os.path.join(base, os.path.expanduser(spec.path))}"


def validate(data: dict[str, Any], source: str) -> None:
    """Schema and ownership checks, with one-line messages that name the key."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(_schema())
    errors = sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path)))
    if errors:
        key, message = _describe(errors[0])
        raise ConfigError(msg("{source}: invalid config key {key}: {message}", source=source, key=key, message=message))
    _check_values(data, source)


def _check_values(data: dict[str, Any], source: str) -> None:
    """What a schema cannot say: filing numbers that must be well formed."""
    numbers: list[tuple[str, str]] = []
    for rule_id, option in rule_options():
        places = [(option.name, data.get(option.name))] if option.top_level else []
        places.append((f"rules.{rule_id}.{option.name}", data.get("rules", {}).get(rule_id, {}).get(option.name)))
        for key, value in places:
            if option.value is OptionValue.FILING_NUMBERS and value:
                numbers.extend((key, n) for n in value)
            elif option.value is OptionValue.FILING_NUMBER_MAP and value:
                numbers.extend((f"{key}.{app}", n) for app, n in value.items())
            elif option.value is not OptionValue.PLAIN and value:
                try:
                    _option_value(option, {}, {option.name: value})
                except ConfigError as exc:
                    raise ConfigError(msg("{source}: invalid config key {key}: {exc}",
                                          source=source, key=key, exc=exc)) from None
    for key, number in numbers:
        problem = filing_number_problem(number)
        if problem:
            raise ConfigError(msg("{source}: invalid config key {key}: {problem}",
                                  source=source, key=key, problem=problem))


def filing_number_problem(value: str) -> str | None:
    """Why ``value`` is not one well-formed filing number (None when it is), for --expect-filing."""
    found = list(find_numbers(value))
    if len(found) != 1 or normalize(found[0].raw) != normalize(value.strip()):
        return msg("{value} is not a filing number (expected e.g. 粤ICP备2023123456号-1A)", value=repr(value))
    if found[0].problem:
        return msg("{value} is not a well-formed filing number: {problem}", value=repr(value),
                   problem=found[0].problem)
    return None


def _describe(error: jsonschema.ValidationError) -> tuple[str, str]:
    """The dotted key an error is about, and a message a user can act on."""
    path = [str(p) for p in error.absolute_path]
    if error.validator == "additionalProperties":
        unknown = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        key = ".".join([*path, unknown[0]]) if unknown else ".".join(path)
        if len(path) == 2 and path[0] == "rules" and unknown:
            return key, msg("unknown option {option} for rule {rule} (its options: {options})", option=unknown[0],
                            rule=path[1], options=_options_of(path[1]))
        return key, msg("unknown setting")
    if "propertyNames" in error.schema_path:
        return ".".join([*path, str(error.instance)]), msg("unknown rule id (beian-scan rules lists them)")
    if error.validator == "enum":
        return ".".join(path) or msg("(top level)"), msg("{value} is not one of {choices}", value=repr(error.instance),
                                                       choices=", ".join(map(str, error.validator_value)))
    if error.validator == "type":
        return ".".join(path) or msg("(top level)"), msg("{value} is not of type {type}", value=repr(error.instance),
                                                       type=error.validator_value)
    return ".".join(path) or msg("(top level)"), error.message  # jsonschema's own words for the rarer checks


def parse_output(value: str) -> OutputSpec:
    """``FORMAT`` or ``FORMAT:PATH``."""
    fmt, _, path = value.partition(":")
    return OutputSpec(fmt, path or None)


def settings_from(config: dict[str, Any], cli: dict[str, Any], config_path: str | None = None) -> Settings:
    """Merge: built-in defaults < config file < command line (only flags the user gave)."""
    merged = {**config, **{k: v for k, v in cli.items() if v is not None}}
    rules = config.get("rules", {})
    return Settings(
        outputs=tuple(parse_output(f) for f in merged.get("format") or ["text"]),
        output=merged.get("output"),
        fail_on=Severity.parse(merged.get("fail-on", "error")),
        exit_zero=bool(merged.get("exit-zero", False)),
        color=merged.get("color"),
        lang=merged.get("lang") or language_from(os.environ),
        suppressions=merged.get("suppressions"),
        baseline=merged.get("baseline"),
        show_suppressed=bool(merged.get("show-suppressed", False)),
        source_root=merged.get("source-root"),
        options=_options(merged, rules),
        policy=_policy(merged, rules),
        config_path=config_path,
    )


def _options_of(rule_id: str) -> str:
    names = ["enabled", "severity", *(o.name for r, o in rule_options() if r == rule_id)]
    return ", ".join(names)


def _options(merged: dict[str, Any], rules: dict[str, Any]) -> Options:
    """Every stage's options: parsing (keys, caps), facts and rules from the rules' own declarations."""
    values: dict[str, list[tuple[str, RuleValue]]] = {}
    facts: dict[str, Any] = {}
    for rule_id, option in rule_options():
        value = _option_value(option, merged if option.top_level else {}, rules.get(rule_id, {}))
        if value is None:
            continue
        if option.stage is OptionStage.FACTS:
            facts[option.fact] = value
        else:
            values.setdefault(rule_id, []).append((option.name, value))
    kind = merged.get("kind") or rules.get("FIL003", {}).get("kind")
    return Options(
        kind=PackageKind(kind) if kind else None,
        parse=ParseOptions(wxid=merged.get("wxid"), limits=_limits(merged)),
        facts=FactOptions(**facts),
        rules=RuleSettings(tuple((rule_id, tuple(pairs)) for rule_id, pairs in values.items())),
        policies=_policies(merged),
    )


def _policies(merged: dict[str, Any]) -> PolicySources:
    """The privacy policies read with every package: files read once here (a bad one is an error of the
    run, exit 2), and whether linked pages are fetched, to which networks besides public ones."""
    allowed = tuple(merged.get("allow-network") or ())
    files = merged.get("privacy-policy") or ()
    if not allowed and not files:  # scanner.privacy_policy (http.client, ssl) only for a run that uses it
        return PolicySources(fetch=bool(merged.get("fetch-privacy-policy", False)))
    from scanner import privacy_policy

    try:
        privacy_policy.networks(allowed)
        texts = tuple(privacy_policy.local_text(path) for path in files)
    except (privacy_policy.PolicyError, ValueError) as exc:
        raise ConfigError(message_of(exc)) from exc
    return PolicySources(texts, bool(merged.get("fetch-privacy-policy", False)), allowed)


def _option_value(option: RuleOption, top: dict[str, Any], table: dict[str, Any]) -> RuleValue | None:
    """The option's value from the top-level key (a flag) and the rule's table: lists add up, else the
    top level wins. Filing numbers are normalized; lists and tables become tuples (frozen values)."""
    given = [v for v in (top.get(option.name), table.get(option.name)) if v is not None]
    if not given:
        return None
    if all(isinstance(v, list) for v in given):
        raw: Any = [item for v in given for item in v]
    else:
        raw = given[0]
    return NORMALIZERS[option.value](raw)


def _filing_numbers(raw: list[str]) -> RuleValue:
    return tuple(normalize(n) for n in raw)


def _filing_number_map(raw: dict[str, str]) -> RuleValue:
    return tuple((app, normalize(n)) for app, n in raw.items())


def _identities(raw: list[str]) -> RuleValue:
    return tuple(_identity(spec).as_value() for spec in raw)


def _identity_records(raw: list[dict[str, str]]) -> RuleValue:
    return tuple(identity_record(r) for r in raw)


def _identity(spec: str) -> Expected:
    try:
        return parse_spec(spec)
    except ValueError as exc:
        raise ConfigError(message_of(exc)) from None


def identity_record(record: dict[str, str]) -> tuple[str, tuple[str, ...]]:
    """A filing record with its certificate, as FIL009's ``registry`` holds it: (app id, (number, md5, key))."""
    number = record.get("filing_number") or ""
    shown = ",".join(str(v) for v in record.values())
    try:
        found = expected(record["app_id"], record.get("cert_md5") or "", record.get("public_key") or "", shown)
    except ValueError as exc:
        raise ConfigError(message_of(exc)) from None
    return found.app_id, (normalize(number) if number else "", found.md5, found.public_key)


def _frozen(raw: Any) -> RuleValue:  # noqa: ANN401 (TOML values)
    if isinstance(raw, list):
        return tuple(str(item) for item in raw)
    if isinstance(raw, dict):
        return tuple((str(k), tuple(v) if isinstance(v, list) else v) for k, v in raw.items())
    value: RuleValue = raw
    return value


NORMALIZERS: dict[OptionValue, Callable[[Any], RuleValue]] = {
    OptionValue.PLAIN: _frozen,
    OptionValue.FILING_NUMBERS: _filing_numbers,
    OptionValue.FILING_NUMBER_MAP: _filing_number_map,
    OptionValue.IDENTITIES: _identities,
    OptionValue.IDENTITY_RECORDS: _identity_records,
}
"""How each kind of option value is checked and normalized (filing numbers as found ones are, identities
parsed), one function each: every OptionValue has one (a test holds it)."""


def _limits(merged: dict[str, Any]) -> Limits:
    default = Limits()
    mib = 1024 * 1024
    return Limits(
        member_bytes=int(merged.get("max-member-mb", default.member_bytes // mib)) * mib,
        package_bytes=int(merged.get("max-package-mb", default.package_bytes // mib)) * mib,
        ratio=int(merged.get("max-ratio", default.ratio)),
        members=int(merged.get("max-members", default.members)),
        depth=int(merged.get("max-depth", default.depth)),
    )


def _policy(merged: dict[str, Any], rules: dict[str, Any]) -> Policy:
    disabled = frozenset(RuleId(r) for r, table in rules.items() if table.get("enabled") is False)
    severity = tuple((RuleId(r), Severity.parse(t["severity"])) for r, t in sorted(rules.items()) if "severity" in t)
    preset = presets()[merged.get("preset", "default")]
    promote = tuple((Severity.parse(a), Severity.parse(b)) for a, b in preset.get("promote", {}).items())
    return Policy(disabled, severity, promote)
