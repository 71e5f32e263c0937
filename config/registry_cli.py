"""``python -m config registry template|export|import``: the registry from the command line, through
the same services and checks as the staff API (every change audited as ``cli:<user>``).

    python -m config registry template --out city.xlsx
    python -m config registry import city.xlsx            # a dry run: lists every problem
    python -m config registry import city.xlsx --apply    # writes all of it, or nothing
    python -m config registry export --out city.xlsx      # or --sheet devices --out devices.csv
    python -m config registry device-login 33108100000001 # a device's MQTT login, shown once
    python -m config registry mosquitto --out /etc/mosquitto/wenling   # password_file + acl_file
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import getpass
import json
from pathlib import Path
from urllib.parse import urlsplit

from adapters.uploads import sniff_type
from config.container import close_database, open_database
from config.settings import Settings
from domain.errors import DomainError
from domain.projects import device_credentials, registry
from domain.projects.device_credentials_rules import mosquitto_hash
from domain.projects.registry_files import csv_city_file, read_city_file, xlsx_city_file
from domain.projects.registry_rules import SheetKind


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m config registry")
    actions = parser.add_subparsers(dest="action", required=True)
    template = actions.add_parser("template", help="write the empty XLSX template")
    template.add_argument("--out", type=Path, required=True)
    export = actions.add_parser("export", help="write the registry as XLSX, or one sheet as CSV")
    export.add_argument("--out", type=Path, required=True)
    export.add_argument("--sheet", choices=[kind.value for kind in SheetKind])
    load = actions.add_parser("import", help="check a city file (and with --apply, import it)")
    load.add_argument("file", type=Path)
    load.add_argument("--sheet", choices=[kind.value for kind in SheetKind], help="for a CSV file")
    load.add_argument("--apply", action="store_true", help="write it (default: a dry run)")
    login = actions.add_parser("device-login", help="issue a device's MQTT login (shown once)")
    login.add_argument("device")
    broker = actions.add_parser("mosquitto", help="write Mosquitto's password_file and acl_file")
    broker.add_argument("--out", type=Path, required=True, help="a folder")
    return parser


async def _export(args: argparse.Namespace) -> int:
    if args.sheet:
        kind = SheetKind(args.sheet)
        args.out.write_bytes(csv_city_file((await registry.export_registry([kind]))[kind]))
    else:
        args.out.write_bytes(xlsx_city_file(await registry.export_registry()))
    print(f"wrote {args.out}")
    return 0


async def _import(args: argparse.Namespace) -> int:
    data = args.file.read_bytes()
    sheet = SheetKind(args.sheet) if args.sheet else None
    sheets = read_city_file(data, kind_of_file=sniff_type(data) or "csv", sheet=sheet)
    report = await registry.import_registry(
        sheets, actor=f"cli:{getpass.getuser()}", source=f"cli:{args.file.name}", dry_run=not args.apply,
        now=dt.datetime.now(dt.UTC),
    )  # fmt: skip
    for problem in report.problems:
        print(problem)
    print(json.dumps({k: v for k, v in report.as_json().items() if k != "problems"}, ensure_ascii=False))
    if report.problems:
        print(f"{len(report.problems)} problems; nothing was written.")
        return 1
    if not args.apply:
        print("dry run: nothing was written; add --apply to import.")
    return 0


async def _device_login(args: argparse.Namespace) -> int:
    issued = await device_credentials.issue_mqtt_login(
        args.device, actor=f"cli:{getpass.getuser()}", now=dt.datetime.now(dt.UTC)
    )
    print(f"device {issued.device_code} (site {issued.site_code})")
    print(f"  MQTT username: {issued.username}\n  MQTT password: {issued.password}   (shown only now)")
    print(f"  publish to:    {issued.topic}telemetry")
    print("Rewrite the broker's files (registry mosquitto) and reload it for the login to work.")
    return 0


async def _mosquitto(settings: Settings, args: argparse.Namespace) -> int:
    target = urlsplit(settings.mqtt_url or "")
    if not (target.username and target.password):
        print("MQTT_URL must carry the bridge's login (mqtt://user:password@host:port)")
        return 1
    passwords, acl = await device_credentials.broker_files(
        bridge_username=target.username, bridge_password_hash=mosquitto_hash(target.password)
    )
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "password_file").write_text(passwords, encoding="utf-8")
    (args.out / "password_file").chmod(0o600)
    (args.out / "acl_file").write_text(acl, encoding="utf-8")
    print(f"wrote {args.out}/password_file and acl_file; reload Mosquitto (SIGHUP) to apply")
    return 0


async def _run(settings: Settings, args: argparse.Namespace) -> int:
    if args.action == "template":
        args.out.write_bytes(xlsx_city_file(registry.template_sheets(), with_notes=True))
        print(f"wrote {args.out}")
        return 0
    await open_database(settings)
    try:
        if args.action == "device-login":
            return await _device_login(args)
        if args.action == "mosquitto":
            return await _mosquitto(settings, args)
        return await (_export(args) if args.action == "export" else _import(args))
    except DomainError as error:
        print(f"{error.code}: {error.message}")
        for problem in getattr(error, "problems", []):
            print(problem)
        return 1
    finally:
        await close_database()


def main(settings: Settings, argv: list[str]) -> int:
    return asyncio.run(_run(settings, _parser().parse_args(argv)))
