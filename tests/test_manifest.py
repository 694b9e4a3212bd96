"""The Teams app package: what Teams will accept, checked offline before an admin tries to upload it.

Builds the real zip with ``bot.package`` into a temp folder and checks it against the vendored
Teams v1.30 schemas, the routing table and the icon rules, plus (when installed) Microsoft's own
validator from ``@microsoft/app-manifest`` as a second opinion.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import os
import shutil
import struct
import subprocess
import sys
import zipfile
import zlib
from hashlib import sha256
from pathlib import Path
from types import ModuleType
from typing import Any, cast

import pytest
from jsonschema import Draft4Validator, validators

import bot
from bot import package
from bot.commands import COMMANDS, manifest_commands

ROOT = Path(__file__).resolve().parent.parent
SCHEMA_DIR = Path(__file__).resolve().parent.parent / "manifest" / "schemas" / "teams"
CHECKER_DIR = ROOT / "tools" / "manifest-check"
APP_ID = "6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b"
SCOPES = ("personal", "team", "groupChat")
PACKAGE_FILES = {"manifest.json", "ja-jp.json", "color.png", "outline.png"}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return package.build_package(APP_ID, tmp_path_factory.mktemp("dist"))


@pytest.fixture(scope="module")
def files(built: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(built) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


@pytest.fixture(scope="module")
def manifest(files: dict[str, bytes]) -> dict[str, Any]:
    return cast(dict[str, Any], json.loads(files["manifest.json"]))


@pytest.fixture(scope="module")
def ja(files: dict[str, bytes]) -> dict[str, Any]:
    return cast(dict[str, Any], json.loads(files["ja-jp.json"]))


def schema(name: str) -> dict[str, Any]:
    return cast(dict[str, Any], json.loads((SCHEMA_DIR / name).read_text(encoding="utf-8")))


def errors(document: Any, name: str) -> list[str]:
    return package.schema_errors(document, SCHEMA_DIR / name)


# --- PNG ---------------------------------------------------------------------------------------------


def read_png(data: bytes) -> tuple[int, int, int, list[list[tuple[int, ...]]]]:
    """Width, height, colour type and pixel rows of an 8-bit non-interlaced PNG, any filter."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    position, header, idat = 8, b"", b""
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind, body = data[position + 4 : position + 8], data[position + 8 : position + 8 + length]
        (crc,) = struct.unpack(">I", data[position + 8 + length : position + 12 + length])
        assert zlib.crc32(kind + body) == crc, f"bad CRC in {kind!r}"
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            idat += body
        position += 12 + length
    width, height, depth, colour_type, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert depth == 8 and interlace == 0, "test decoder handles 8-bit, non-interlaced PNG only"
    channels = {0: 1, 2: 3, 4: 2, 6: 4}[colour_type]
    raw, stride = zlib.decompress(idat), width * channels
    rows: list[list[tuple[int, ...]]] = []
    previous = bytearray(stride)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up, up_left = previous[i], previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - up_left
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - up_left)
                line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else up_left)) & 0xFF
        rows.append([tuple(line[i : i + channels]) for i in range(0, stride, channels)])
        previous = line
    return width, height, colour_type, rows


def load_make_icons() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_icons", ROOT / "manifest" / "make_icons.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --- the package ---------------------------------------------------------------------------------------


def test_zip_is_named_by_version_and_holds_the_files_at_its_root(
    built: Path, files: dict[str, bytes]
) -> None:
    assert built.name == f"smtp-auth-readiness-{bot.__version__}.zip"
    assert set(files) == PACKAGE_FILES


def test_same_inputs_build_the_same_bytes(built: Path, tmp_path: Path) -> None:
    assert package.build_package(APP_ID, tmp_path).read_bytes() == built.read_bytes()


def test_manifest_matches_the_vendored_schema(manifest: dict[str, Any]) -> None:
    assert errors(manifest, "MicrosoftTeams.schema.json") == []


def test_localization_matches_the_vendored_schema(ja: dict[str, Any]) -> None:
    assert errors(ja, "MicrosoftTeams.Localization.schema.json") == []
    committed = json.loads((ROOT / "manifest" / "ja-jp.json").read_text(encoding="utf-8"))
    assert errors(committed, "MicrosoftTeams.Localization.schema.json") == []


def test_schema_draft_and_versions_agree(manifest: dict[str, Any], ja: dict[str, Any]) -> None:
    teams = schema("MicrosoftTeams.schema.json")
    # If a future schema moves to 2020-12, bot.package.TeamsSchemaValidator must change with it.
    assert validators.validator_for(teams) is Draft4Validator
    assert validators.validator_for(schema("MicrosoftTeams.Localization.schema.json")) is Draft4Validator
    version = teams["properties"]["manifestVersion"]["const"]
    assert version == "1.30"
    assert manifest["manifestVersion"] == version
    base = f"https://developer.microsoft.com/json-schemas/teams/v{version}"
    assert manifest["$schema"] == f"{base}/MicrosoftTeams.schema.json"
    assert ja["$schema"] == f"{base}/MicrosoftTeams.Localization.schema.json"


def test_source_md_records_the_vendored_files() -> None:
    source = (SCHEMA_DIR / "SOURCE.md").read_text(encoding="utf-8")
    assert "@microsoft/app-manifest" in source and "1.1.2" in source and "MIT" in source
    for name in ("MicrosoftTeams.schema.json", "MicrosoftTeams.Localization.schema.json"):
        assert f"build/json-schemas/teams/v1.30/{name}" in source
        assert sha256((SCHEMA_DIR / name).read_bytes()).hexdigest() in source, (
            f"{name} changed; rerun tools/update_teams_schema.sh"
        )


def test_validator_enforces_what_draft04_alone_would_skip(manifest: dict[str, Any]) -> None:
    wrong_version = {**manifest, "manifestVersion": "1.29"}
    assert list(Draft4Validator(schema("MicrosoftTeams.schema.json")).iter_errors(wrong_version)) == []
    assert errors(wrong_version, "MicrosoftTeams.schema.json") == ["/manifestVersion: '1.30' was expected"]

    connector = {
        "remoteMcpServer": {
            "mcpServerUrl": "https://mcp.example.com",
            "authorization": {"type": "OAuthPluginVault"},
        }
    }
    with_connector = {
        **manifest,
        "agentConnectors": [{"id": "c", "displayName": "c", "toolSource": connector}],
    }
    assert any(
        "'referenceId' is a required property" in e
        for e in errors(with_connector, "MicrosoftTeams.schema.json")
    )


def test_unfilled_template_fails_the_schema_where_the_placeholders_are() -> None:
    template = json.loads(package.TEMPLATE_PATH.read_text(encoding="utf-8"))
    failing = {line.split(":")[0] for line in errors(template, "MicrosoftTeams.schema.json")}
    assert failing == {"/id", "/bots/0/botId", "/bots/0/commandLists", "/validDomains"}


def test_app_id_is_filled_in_both_places_and_no_placeholder_is_left(
    files: dict[str, bytes], manifest: dict[str, Any]
) -> None:
    assert manifest["id"] == APP_ID
    assert manifest["bots"][0]["botId"] == APP_ID
    assert manifest["version"] == bot.__version__
    for name in ("manifest.json", "ja-jp.json"):
        assert "{{" not in files[name].decode("utf-8"), name


def test_bot_is_conversational_in_every_scope_and_takes_files(manifest: dict[str, Any]) -> None:
    (only_bot,) = manifest["bots"]
    assert set(only_bot["scopes"]) == set(SCOPES)
    assert only_bot["supportsFiles"] is True
    assert only_bot["isNotificationOnly"] is False
    assert manifest["validDomains"] == []
    assert manifest["localizationInfo"] == {
        "defaultLanguageTag": "en-us",
        "additionalLanguages": [{"languageTag": "ja-jp", "file": "ja-jp.json"}],
    }
    assert manifest["developer"]["name"] == "SMTP AUTH Readiness contributors"


@pytest.mark.parametrize("scope", SCOPES)
def test_every_routing_table_command_is_offered_in_each_scope(manifest: dict[str, Any], scope: str) -> None:
    lists = [entry for entry in manifest["bots"][0]["commandLists"] if scope in entry["scopes"]]
    assert len(lists) == 1, f"{scope} should have exactly one command list"
    offered = {command["title"]: command for command in lists[0]["commands"]}
    for command in COMMANDS:
        if not command.in_manifest:
            continue
        assert command.name in offered, f"/{command.name} is routed but missing from the {scope} command list"
        description = offered[command.name]["description"]
        assert 0 < len(description) <= 128
        assert description == command.summary["en"]
    assert all(len(title) <= 32 for title in offered)


def test_japanese_command_descriptions_come_from_the_routing_table(
    manifest: dict[str, Any], ja: dict[str, Any]
) -> None:
    expected = manifest_commands("ja")
    for list_index, entry in enumerate(manifest["bots"][0]["commandLists"]):
        for command_index, command in enumerate(entry["commands"]):
            key = f"bots[0].commandLists[{list_index}].commands[{command_index}]"
            assert ja[f"{key}.description"] == expected[command_index]["description"], key
            assert 0 < len(ja[f"{key}.description"]) <= 128
            assert f"{key}.title" not in ja, "titles stay English: Teams sends the picked title to the bot"
            assert command["title"] == expected[command_index]["title"]
    assert ja["name.short"] and ja["description.short"] and ja["description.full"]


def test_localization_refuses_commands_that_differ_by_language() -> None:
    english, japanese = manifest_commands("en"), manifest_commands("ja")
    package.check_same_commands(english, japanese, "ja")  # the shipped table pairs up
    for wrong in (japanese[::-1], japanese[:-1], [*japanese, {"title": "extra", "description": "x"}]):
        with pytest.raises(ValueError, match="different commands"):
            package.check_same_commands(english, wrong, "ja")


def test_domain_goes_to_valid_domains(tmp_path: Path) -> None:
    path = package.build_package(APP_ID, tmp_path, bot_domain="Bot.Example.com", version="2.3.4")
    with zipfile.ZipFile(path) as archive:
        filled = json.loads(archive.read("manifest.json"))
    assert path.name == "smtp-auth-readiness-2.3.4.zip"
    assert filled["validDomains"] == ["bot.example.com"]
    assert filled["version"] == "2.3.4"


@pytest.mark.parametrize(
    ("app_id", "reason"),
    [
        ("", "no app id"),
        ("not-a-guid", "not a GUID"),
        (f"{{{APP_ID}}}", "not a GUID"),
        (APP_ID + "0", "not a GUID"),
        (APP_ID.replace("-", ""), "not a GUID"),
        ("00000000-0000-0000-0000-000000000000", "placeholder"),
    ],
)
def test_bad_app_id_is_refused_before_anything_is_written(tmp_path: Path, app_id: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        package.build_package(app_id, tmp_path / "out")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"bot_domain": "https://bot.example.com/api/messages"}, "not a URL"),
        ({"bot_domain": "bot.example.com:443"}, "not a URL"),
        ({"bot_domain": "bot_example"}, "not a host name"),
        ({"version": "1.0"}, "MAJOR.MINOR.PATCH"),
        ({"version": "v1.0.0"}, "MAJOR.MINOR.PATCH"),
    ],
)
def test_bad_domain_or_version_is_refused(tmp_path: Path, kwargs: dict[str, str], reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        package.build_package(APP_ID, tmp_path / "out", **kwargs)
    assert not (tmp_path / "out").exists()


def test_manifest_that_breaks_the_schema_is_refused_before_writing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    template = json.loads(package.TEMPLATE_PATH.read_text(encoding="utf-8"))
    broken = copy.deepcopy(template)
    broken["name"]["short"] = "SMTP AUTH Readiness for Exchange Online"  # 39 > 30 characters
    broken["bots"][0]["scopes"].append("groupchat")  # old docs' casing; the schema wants groupChat
    path = tmp_path / "manifest.template.json"
    path.write_text(json.dumps(broken), encoding="utf-8")
    monkeypatch.setattr(package, "TEMPLATE_PATH", path)
    with pytest.raises(ValueError) as raised:
        package.build_package(APP_ID, tmp_path / "out")
    message = str(raised.value)
    assert "/name/short" in message and "/bots/0/scopes/3" in message and "\n" not in message
    assert not (tmp_path / "out").exists()


# --- CLI ---------------------------------------------------------------------------------------------


def test_cli_prints_the_zip_path(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert package.main(["--app-id", APP_ID, "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out.strip()
    assert Path(printed) == tmp_path / f"smtp-auth-readiness-{bot.__version__}.zip"
    assert zipfile.is_zipfile(printed)


def test_cli_takes_the_app_id_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MicrosoftAppId", APP_ID)
    assert package.main(["--out", str(tmp_path)]) == 0
    with zipfile.ZipFile(capsys.readouterr().out.strip()) as archive:
        assert json.loads(archive.read("manifest.json"))["id"] == APP_ID


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--app-id", "not-a-guid"], "not a GUID"),
        ([], "MicrosoftAppId"),
        (["--app-id", APP_ID, "--domain", "https://bot.example.com"], "not a URL"),
        (["--app-id", APP_ID, "--unknown"], "unrecognized arguments"),
    ],
)
def test_cli_bad_input_is_exit_2_with_one_line(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    needle: str,
) -> None:
    monkeypatch.delenv("MicrosoftAppId", raising=False)
    assert package.main([*argv, "--out", str(tmp_path / "out")]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and needle in captured.err
    assert not (tmp_path / "out").exists()


def test_cli_runs_as_a_module_from_any_working_directory(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("MicrosoftAppId", None)
    run = subprocess.run(
        [sys.executable, "-m", "bot.package", "--app-id", APP_ID, "--out", "here"],
        cwd=tmp_path,
        env=env,
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert Path(run.stdout.strip()) == tmp_path / "here" / f"smtp-auth-readiness-{bot.__version__}.zip"


# --- icons -------------------------------------------------------------------------------------------


def test_color_icon_is_192_full_colour_on_the_accent_colour(
    files: dict[str, bytes], manifest: dict[str, Any]
) -> None:
    width, height, colour_type, rows = read_png(files["color.png"])
    assert (width, height) == (192, 192)
    assert colour_type in (2, 6), "full colour means RGB or RGBA, not greyscale or palette"
    pixels = [pixel for row in rows for pixel in row]
    assert all(len(p) == 3 or p[3] == 255 for p in pixels), "full bleed: no transparent pixels"
    assert len({p[:3] for p in pixels}) > 3
    accent = tuple(int(manifest["accentColor"][i : i + 2], 16) for i in (1, 3, 5))
    assert {rows[0][0][:3], rows[0][-1][:3], rows[-1][0][:3], rows[-1][-1][:3]} == {accent}


def test_outline_icon_is_32_white_on_transparent(files: dict[str, bytes]) -> None:
    width, height, colour_type, rows = read_png(files["outline.png"])
    assert (width, height) == (32, 32)
    assert colour_type == 6, "outline needs an alpha channel (RGBA)"
    pixels = [pixel for row in rows for pixel in row]
    assert [p for p in pixels if p[3] > 0 and p[:3] != (255, 255, 255)] == [], (
        "only white or transparent pixels"
    )
    assert sum(p[3] == 255 for p in pixels) >= 100, "the symbol is drawn"
    assert sum(p[3] == 0 for p in pixels) >= 400, "the background is transparent"
    assert rows[0][0][3] == rows[-1][-1][3] == 0


def test_committed_icons_are_what_make_icons_draws() -> None:
    make_icons = load_make_icons()
    for name, draw in (("color.png", make_icons.color_icon), ("outline.png", make_icons.outline_icon)):
        committed = read_png((ROOT / "manifest" / name).read_bytes())
        assert read_png(draw()) == committed, f"manifest/{name} is stale; run python manifest/make_icons.py"


# --- Microsoft's own validator (optional) ------------------------------------------------------------


def _node_checker() -> str:
    node = shutil.which("node")
    installed = CHECKER_DIR / "node_modules" / "@microsoft" / "app-manifest" / "package.json"
    if node is None or not installed.is_file():
        pytest.skip(
            "node or tools/manifest-check/node_modules missing; install with: "
            "npm install --prefix tools/manifest-check --no-package-lock"
        )
    pinned = json.loads((CHECKER_DIR / "package.json").read_text(encoding="utf-8"))["dependencies"][
        "@microsoft/app-manifest"
    ]
    version = json.loads(installed.read_text(encoding="utf-8"))["version"]
    assert version == pinned, (
        f"tools/manifest-check has @microsoft/app-manifest {version}, package.json pins {pinned}"
    )
    return node


def _run_checker(node: str, paths: list[Path]) -> tuple[int, dict[str, Any]]:
    run = subprocess.run(
        [node, str(CHECKER_DIR / "validate.mjs"), *map(str, paths)],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode in (0, 1), run.stderr
    return run.returncode, json.loads(run.stdout)


def test_microsoft_validator_accepts_the_package(files: dict[str, bytes], tmp_path: Path) -> None:
    node = _node_checker()
    paths = []
    for name in ("manifest.json", "ja-jp.json"):
        (tmp_path / name).write_bytes(files[name])
        paths.append(tmp_path / name)
    code, report = _run_checker(node, paths)
    assert report["results"] == {str(path): [] for path in paths}
    assert code == 0


def test_microsoft_validator_rejects_what_ours_rejects(
    manifest: dict[str, Any], ja: dict[str, Any], tmp_path: Path
) -> None:
    node = _node_checker()
    bad_manifest = copy.deepcopy(manifest)
    bad_manifest["manifestVersion"] = "1.29"
    bad_manifest["bots"][0]["scopes"][2] = "groupchat"
    bad_ja = {**ja, "name.short": "x" * 31}
    (tmp_path / "manifest.json").write_text(json.dumps(bad_manifest), encoding="utf-8")
    (tmp_path / "ja-jp.json").write_text(json.dumps(bad_ja, ensure_ascii=False), encoding="utf-8")
    code, report = _run_checker(node, [tmp_path / "manifest.json", tmp_path / "ja-jp.json"])
    assert code == 1
    theirs = report["results"][str(tmp_path / "manifest.json")]
    assert any(e.startswith("/manifestVersion ") for e in theirs) and any(
        e.startswith("/bots/0/scopes/2 ") for e in theirs
    )
    assert any(e.startswith("/name.short ") for e in report["results"][str(tmp_path / "ja-jp.json")])
    ours = errors(bad_manifest, "MicrosoftTeams.schema.json")
    assert {e.split(":")[0] for e in ours} == {"/manifestVersion", "/bots/0/scopes/2"}


@pytest.mark.parametrize(
    ("field", "lang"), [("full", "en"), ("full", "ja")]
)
def test_descriptions_say_what_the_bot_does(
    manifest: dict[str, Any], ja: dict[str, Any], field: str, lang: str
) -> None:
    """What admins read in Teams before installing names every feature: the countdown and timeline, the
    device inventory with its CSV import and sign-in scan, /check, and alerts."""
    text = manifest["description"][field] if lang == "en" else ja[f"description.{field}"]
    for feature in ("/status", "/timeline", "/mc", "/readiness", "/devices", "/scan", "/check", "/subscribe",
                    "CSV", "MC786329", "550 5.7.30"):
        assert feature in text, (lang, feature)
    words = ("inventory", "alerts", "Exchange admin center") if lang == "en" else ("デバイス一覧", "通知", "Exchange 管理センター")
    assert all(word in text for word in words), lang
    assert ("Japanese" if lang == "en" else "日本語") in text


def test_the_package_builds_without_the_tests_folder(tmp_path: Path) -> None:
    """``python -m bot.package`` runs on a server or in the container, where tests/ is not copied."""
    for folder in ("bot", "cards", "manifest"):
        shutil.copytree(ROOT / folder, tmp_path / folder, ignore=shutil.ignore_patterns("__pycache__"))
    result = subprocess.run(
        [sys.executable, "-m", "bot.package", "--app-id", APP_ID, "--out", str(tmp_path / "dist")],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
        env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
    )
    assert result.returncode == 0, result.stderr
    assert Path(result.stdout.strip()).is_file() and Path(result.stdout.strip()).parent == tmp_path / "dist"
    assert not (tmp_path / "tests").exists()
