"""``sceau infra`` subcommands."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import asdict, replace

from sceau_dev.infra import mongo_server
from sceau_dev.infra.manager import Infra, InfraSettings
from sceau_dev.infra.process import InfraError


def _progress(message: str) -> None:
    print(f"[infra] {message}", file=sys.stderr, flush=True)  # noqa: T201


def _settings(args: argparse.Namespace) -> InfraSettings:
    settings = InfraSettings()
    if getattr(args, "kafka_port", None):
        settings = replace(settings, kafka_port=args.kafka_port)
    if getattr(args, "mongo_port", None):
        settings = replace(settings, mongo_port=args.mongo_port)
    if getattr(args, "store", None):
        settings = replace(settings, mongo_store=args.store)
    if getattr(args, "postgres_port", None):
        settings = replace(settings, postgres_port=args.postgres_port)
    if getattr(args, "timeout", None):
        settings = replace(settings, timeout_s=float(args.timeout))
    return settings


def _up(args: argparse.Namespace) -> int:
    addresses = Infra(_settings(args), _progress).up()
    for key, value in addresses.items():
        print(f"export {key}={value}")  # noqa: T201 - eval-able output
    _progress("infrastructure is up and healthy")
    return 0


def _down(args: argparse.Namespace) -> int:
    Infra(_settings(args), _progress).down(purge=bool(args.purge))
    return 0


def _status(args: argparse.Namespace) -> int:
    statuses = Infra(_settings(args), _progress).status()
    if args.json:
        print(json.dumps([asdict(s) for s in statuses], indent=2))  # noqa: T201
    else:
        for s in statuses:
            state = "running" if s.running else "stopped"
            extra = f" ({s.detail})" if s.detail else ""
            print(f"{s.name:8} {state:8} {s.address}{extra}  pid={s.pid or '-'}")  # noqa: T201
    return 0 if all(s.running for s in statuses) else 1


def _env(args: argparse.Namespace) -> int:
    for key, value in Infra(_settings(args), _progress).addresses().items():
        print(f"export {key}={value}")  # noqa: T201
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``sceau infra``."""
    infra = sub.add_parser("infra", help="run the local Kafka and MongoDB-protocol servers")
    infra_sub = infra.add_subparsers(dest="infra_command", metavar="ACTION")
    infra_sub.required = True
    for name, func, help_text in (
        ("up", _up, "start Kafka and MongoDB (idempotent) and print their addresses"),
        ("down", _down, "stop them (data is kept unless --purge)"),
        ("status", _status, "say what runs where (exit 1 if something is down)"),
        ("env", _env, "print the environment variables clients need"),
    ):
        parser = infra_sub.add_parser(name, help=help_text)
        parser.add_argument("--kafka-port", type=int, help="Kafka port (default 19092)")
        parser.add_argument("--mongo-port", type=int, help="MongoDB port (default 27018)")
        parser.add_argument(
            "--store",
            choices=mongo_server.STORES,
            help="FerretDB's storage: sqlite (default) or postgresql (env SCEAU_MONGO_STORE)",
        )
        parser.add_argument(
            "--postgres-port", type=int, help="PostgreSQL port for --store postgresql (27019)"
        )
        parser.add_argument("--timeout", type=float, help="seconds to wait for each server")
        if name == "down":
            parser.add_argument("--purge", action="store_true", help="also delete the data")
        if name == "status":
            parser.add_argument("--json", action="store_true", help="machine-readable output")
        parser.set_defaults(func=_wrap(func))


def _wrap(func: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        try:
            return func(args)
        except InfraError as exc:
            print(f"sceau infra: {exc}", file=sys.stderr)  # noqa: T201
            return 1

    return run
