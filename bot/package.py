"""The Teams app package: the zip an admin uploads to Teams to install the bot.

Owns filling ``manifest/manifest.template.json`` (app id, version, commands, valid domains), the
localization files it points at, checking both against the vendored Teams schema, and writing
``smtp-auth-readiness-<version>.zip`` with ``manifest.json``, the localization files and the two icons
at the zip root, which is where Teams looks for them.

``commandLists`` and the localized command descriptions come from ``bot.commands.manifest_commands``
so the command menu Teams shows can never list a command the bot does not route, or miss one it
does. Command *titles* are not localized: Teams sends the title text the user picked to the bot, and
the routing table is keyed by the English names.

Everything is checked before anything is written, so a bad app id never leaves a half-built or
uninstallable package in ``dist/``. CLI::

    python -m bot.package --app-id GUID [--domain bot.example.com] [--out dist] [--version 1.2.3]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any, NoReturn, cast

from jsonschema import Draft4Validator, Draft7Validator, ValidationError, validators

from bot import __version__
from bot.commands import manifest_commands

PROJECT_DIR = Path(__file__).resolve().parent.parent
MANIFEST_DIR = PROJECT_DIR / "manifest"
TEMPLATE_PATH = MANIFEST_DIR / "manifest.template.json"
SCHEMA_DIR = MANIFEST_DIR / "schemas" / "teams"
MANIFEST_SCHEMA_PATH = SCHEMA_DIR / "MicrosoftTeams.schema.json"
LOCALIZATION_SCHEMA_PATH = SCHEMA_DIR / "MicrosoftTeams.Localization.schema.json"
DEFAULT_OUT_DIR = PROJECT_DIR / "dist"
APP_ID_ENV = "MicrosoftAppId"
PACKAGE_PREFIX = "smtp-auth-readiness"

APP_ID = "{{APP_ID}}"
VERSION = "{{VERSION}}"
COMMAND_LISTS = "{{COMMAND_LISTS}}"
VALID_DOMAINS = "{{VALID_DOMAINS}}"

_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_NIL_GUID = "00000000-0000-0000-0000-000000000000"
# Teams wants MAJOR.MINOR.PATCH and compares versions numerically when an app is updated.
_VERSION = re.compile(r"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$")
_HOST = re.compile(r"^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$")
_KEY_PART = re.compile(r"^([A-Za-z_$][A-Za-z0-9_]*)((?:\[[0-9]+\])*)$")
# Zip entries get a fixed timestamp so the same inputs always give the same bytes.
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)


def _pattern(
    validator: Any, pattern: str, instance: Any, schema: Mapping[str, Any]
) -> Iterator[ValidationError]:
    """``pattern`` as Ajv runs it (JavaScript, unicode mode), as far as Python's ``re`` can follow.

    One schema pattern (Office add-in custom function names) uses ``\\p{L}``, which ``re`` cannot
    compile. This app never has that property; if a manifest ever does, say so instead of crashing.
    """
    if not validator.is_type(instance, "string"):
        return
    try:
        compiled = re.compile(pattern)
    except re.error:
        yield ValidationError(f"pattern {pattern!r} cannot be checked in Python; use tools/manifest-check")
        return
    if not compiled.search(instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


# The manifest schema says draft-04 but uses ``const`` (manifestVersion) and ``if``/``then``. Microsoft's
# validator (Ajv in draft-04 mode) enforces them; plain Draft4Validator would silently skip them.
TeamsSchemaValidator = validators.extend(  # type: ignore[no-untyped-call]
    Draft4Validator,
    {
        "const": Draft7Validator.VALIDATORS["const"],
        "if": Draft7Validator.VALIDATORS["if"],
        "pattern": _pattern,
    },
)


def check_app_id(app_id: str | None) -> str:
    """The bot's Microsoft App ID, normalised, or a ValueError saying what is wrong with it."""
    value = (app_id or "").strip()
    if not value:
        raise ValueError(f"no app id: pass --app-id or set {APP_ID_ENV} to the bot's Microsoft App ID")
    if not _GUID.match(value):
        raise ValueError(f"app id '{value}' is not a GUID (expected xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)")
    if value == _NIL_GUID:
        raise ValueError("app id is the all-zero placeholder GUID; use the bot's Microsoft App ID")
    return value.lower()


def check_version(version: str) -> str:
    """The app version; Teams only offers an update when MAJOR.MINOR.PATCH goes up."""
    if not _VERSION.match(version):
        raise ValueError(f"version '{version}' must be MAJOR.MINOR.PATCH, for example 1.0.0")
    return version


def check_domain(domain: str) -> str:
    """A bare host name for ``validDomains``: Teams wants no scheme, path or port there."""
    value = domain.strip().lower().rstrip(".")
    if "://" in value or "/" in value or ":" in value:
        raise ValueError(f"domain '{domain}' must be a host name like bot.example.com, not a URL")
    if not _HOST.match(value):
        raise ValueError(f"domain '{domain}' is not a host name like bot.example.com")
    return value


@cache
def _load_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _describe(error: ValidationError) -> str:
    """jsonschema's message, with a long offending value (a whole command list) cut to its size."""
    shown = repr(error.instance)
    if len(shown) <= 80 or not error.message.startswith(shown):
        return error.message
    if isinstance(error.instance, (list, dict)):
        what = f"{len(error.instance)} {'items' if isinstance(error.instance, list) else 'properties'}"
    else:
        what = f"{len(str(error.instance))} characters"
    return f"value ({what}){error.message[len(shown) :]} ({error.validator}: {error.validator_value})"


def schema_errors(document: Any, schema_path: Path) -> list[str]:
    """Every way ``document`` breaks the schema, as ``/json/pointer: message`` lines."""
    validator = TeamsSchemaValidator(_load_json(schema_path))
    found = sorted(validator.iter_errors(document), key=lambda error: [str(p) for p in error.absolute_path])
    return ["/" + "/".join(str(p) for p in error.absolute_path) + ": " + _describe(error) for error in found]


def _validate(document: Any, schema_path: Path, label: str) -> None:
    errors = schema_errors(document, schema_path)
    if errors:
        shown = "; ".join(errors[:5]) + (f"; and {len(errors) - 5} more" if len(errors) > 5 else "")
        raise ValueError(f"{label} does not match {schema_path.name}: {shown}")


def _strings(node: Any, path: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(node, str):
        yield path, node
    elif isinstance(node, Mapping):
        for key, value in node.items():
            yield from _strings(value, f"{path}.{key}" if path else str(key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _strings(value, f"{path}[{index}]")


def _substitute(node: Any, values: Mapping[str, Any]) -> Any:
    """Replace every string that is exactly a placeholder with its value (of any JSON type)."""
    if isinstance(node, str):
        return values.get(node, node)
    if isinstance(node, Mapping):
        return {key: _substitute(value, values) for key, value in node.items()}
    if isinstance(node, list):
        return [_substitute(value, values) for value in node]
    return node


def command_lists(scopes: Sequence[str], lang: str = "en") -> list[dict[str, Any]]:
    """One ``commandLists`` entry per bot scope, each with every command from the routing table.

    Separate lists (rather than one list for all scopes) leave room for scope-only commands later,
    such as CSV upload, which only works in personal chat.
    """
    return [{"scopes": [scope], "commands": manifest_commands(lang)} for scope in scopes]


def fill_manifest(
    app_id: str, *, bot_domain: str | None = None, version: str | None = None
) -> dict[str, Any]:
    """The template with every placeholder filled and checked against the vendored schema."""
    app_id = check_app_id(app_id)
    version = check_version(version if version is not None else __version__)
    template = json.loads(TEMPLATE_PATH.read_text(encoding="utf-8"))
    bots = template.get("bots") or [{}]
    manifest = _substitute(
        template,
        {
            APP_ID: app_id,
            VERSION: version,
            COMMAND_LISTS: command_lists(bots[0].get("scopes", [])),
            VALID_DOMAINS: [check_domain(bot_domain)] if bot_domain else [],
        },
    )
    left = [path for path, text in _strings(manifest) if "{{" in text]
    if left:
        raise ValueError(
            f"{TEMPLATE_PATH.name} has placeholders the builder does not fill: {', '.join(left)}"
        )
    _validate(manifest, MANIFEST_SCHEMA_PATH, "manifest.json")
    return cast(dict[str, Any], manifest)


def _resolve(manifest: Mapping[str, Any], key: str) -> bool:
    """Whether a localization key such as ``bots[0].commandLists[1].commands[2].description`` exists."""
    node: Any = manifest
    for part in key.split("."):
        match = _KEY_PART.match(part)
        if not match or not isinstance(node, Mapping) or match.group(1) not in node:
            return False
        node = node[match.group(1)]
        for index in re.findall(r"\[([0-9]+)\]", match.group(2)):
            if not isinstance(node, list) or int(index) >= len(node):
                return False
            node = node[int(index)]
    return isinstance(node, str)


def check_same_commands(english: list[dict[str, str]], translated: list[dict[str, str]], lang: str) -> None:
    """Teams pairs a translated description with a command by its position, so the lists must match."""
    if [command["title"] for command in translated] != [command["title"] for command in english]:
        raise ValueError(f"manifest_commands('{lang}') lists different commands from manifest_commands('en')")


def localization(manifest: Mapping[str, Any], file_name: str, language_tag: str) -> dict[str, Any]:
    """A localization file: the hand-translated strings in ``manifest/<file>`` plus command descriptions.

    The committed file holds only what exists nowhere else (name and descriptions); the command
    descriptions are added here from the routing table in the tag's language, so a new command is
    translated in ``bot/commands.py`` once and the package follows.
    """
    lang = language_tag.split("-")[0].lower()
    strings = dict(json.loads((MANIFEST_DIR / file_name).read_text(encoding="utf-8")))
    generated = [key for key in strings if key.startswith("bots[")]
    if generated:
        raise ValueError(
            f"manifest/{file_name} must not contain {generated[0]}: command strings come from bot/commands.py"
        )
    try:
        translated = manifest_commands(lang)
    except KeyError:
        raise ValueError(f"{file_name}: a command in bot/commands.py has no '{lang}' summary") from None
    check_same_commands(manifest_commands("en"), translated, lang)
    for list_index, _ in enumerate(manifest["bots"][0].get("commandLists", [])):
        for command_index, command in enumerate(translated):
            strings[f"bots[0].commandLists[{list_index}].commands[{command_index}].description"] = command[
                "description"
            ]
    dangling = [
        key for key in strings if key not in ("$schema", "localizationKeys") and not _resolve(manifest, key)
    ]
    if dangling:
        raise ValueError(f"{file_name} translates strings the manifest does not have: {', '.join(dangling)}")
    _validate(strings, LOCALIZATION_SCHEMA_PATH, file_name)
    return strings


def package_files(
    app_id: str, *, bot_domain: str | None = None, version: str | None = None
) -> dict[str, bytes]:
    """Every file of the package by its name at the zip root, all validated; nothing is written."""
    manifest = fill_manifest(app_id, bot_domain=bot_domain, version=version)
    files = {"manifest.json": _json_bytes(manifest)}
    info = manifest.get("localizationInfo", {})
    for language in info.get("additionalLanguages", []):
        files[language["file"]] = _json_bytes(
            localization(manifest, language["file"], language["languageTag"])
        )
    for icon in manifest["icons"].values():
        path = MANIFEST_DIR / icon
        if not path.is_file():
            raise ValueError(f"icon {icon} is missing from manifest/; run python manifest/make_icons.py")
        files[icon] = path.read_bytes()
    return files


def _json_bytes(document: Any) -> bytes:
    return (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def build_package(
    app_id: str, out_dir: Path, *, bot_domain: str | None = None, version: str | None = None
) -> Path:
    """Write ``<out_dir>/smtp-auth-readiness-<version>.zip`` and return its absolute path.

    Raises ValueError (with a message fit for one log line) if the app id, domain or version is bad
    or the filled manifest or a localization file does not match the Teams schema.
    """
    files = package_files(app_id, bot_domain=bot_domain, version=version)
    manifest = json.loads(files["manifest.json"])
    out_dir = Path(out_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{PACKAGE_PREFIX}-{manifest['version']}.zip"
    partial = target.with_name(target.name + ".partial")
    try:
        with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name, data in files.items():
                entry = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
                entry.compress_type = zipfile.ZIP_DEFLATED
                entry.external_attr = 0o644 << 16
                archive.writestr(entry, data)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return target


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line and exit 2 like every other bad input."""

    def error(self, message: str) -> NoReturn:
        raise _UsageError(message)


def main(argv: Sequence[str] | None = None) -> int:
    parser = _Parser(prog="python -m bot.package", description="Build the Teams app package (zip).")
    parser.add_argument(
        "--app-id",
        default=os.environ.get(APP_ID_ENV),
        help=f"bot's Microsoft App ID (default: ${APP_ID_ENV})",
    )
    parser.add_argument("--domain", default=None, help="the bot's host name, added to validDomains")
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT_DIR, help="output folder (default: dist/ in the project)"
    )
    parser.add_argument(
        "--version", default=None, help=f"app version (default: bot.__version__, {__version__})"
    )
    try:
        args = parser.parse_args(argv)
        path = build_package(args.app_id or "", args.out, bot_domain=args.domain, version=args.version)
    except (_UsageError, ValueError) as problem:
        sys.stderr.write(f"{parser.prog}: error: {problem}\n")
        return 2
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
