"""Command line: `ops-console` (the GUI) and its subcommands. Qt is imported only where needed."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from console import __version__

STANDIN_KEY_ENV = "OPS_CONSOLE_STANDIN_ADMIN_KEY"


class _Defaults(argparse.HelpFormatter):
    """Says each option's default, except for flags and options whose absence is the default."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if action.default not in (None, False, argparse.SUPPRESS) and "%(default)" not in text:
            text += " (default: %(default)s)"
        return text


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="ops-console", description="Operations console for Convex-backed SaaS products.")
    p.add_argument("--version", action="version", version=f"ops-console {__version__}")
    p.add_argument("--db", type=Path, help="open this replica file instead of the default demo replica")
    p.add_argument("--demo", action="store_true", help="start on freshly generated demo data")
    sub = p.add_subparsers(dest="command")

    demo = sub.add_parser("demo-data", help="generate a demo replica")
    demo.add_argument("--db", type=Path, required=True, dest="out")
    demo.add_argument("--users", type=int)
    demo.add_argument("--messages", type=int)
    demo.add_argument("--jobs", type=int)
    demo.add_argument("--large", action="store_true", help="100k users, 1M messages, 1M jobs")
    demo.add_argument("--seed", type=int, default=7)
    demo.add_argument("--now-ms", type=int, help="the moment the data is generated around (default: this hour)")
    demo.add_argument("--force", action="store_true", help="overwrite an existing demo replica")

    sync = sub.add_parser("sync", help="build or update a replica from a deployment (streaming export)")
    sync.add_argument("--url", required=True, help="deployment URL, e.g. https://happy-otter-123.convex.cloud")
    sync.add_argument("--db", type=Path, dest="sync_db", help="replica file (default: one per deployment)")
    sync.add_argument("--follow", action="store_true", help="keep following changes until interrupted")

    standin = sub.add_parser(
        "standin", help="run a local stand-in deployment (for trying live mode and tests)",
        formatter_class=_Defaults,
        description="A local stand-in for a Convex deployment: the function API, streaming export, logs and "
                    "metrics, answered as a deployment does (the official Convex clients work against it), on "
                    "seeded demo data. The deploy key comes from --admin-key-file, else the environment "
                    f"variable {STANDIN_KEY_ENV}, else --admin-key, else a new random key (printed).")
    standin.add_argument("--host", default="127.0.0.1", help="address to listen on (anything but loopback "
                                                             "exposes the deployment to the network)")
    standin.add_argument("--port", type=int, default=8187, help="port to listen on (0: any free port)")
    standin.add_argument("--db", type=Path, dest="standin_db",
                         help="keep the stand-in's data in this SQLite file (without it: in memory, lost on exit)")
    standin.add_argument("--seed", choices=["demo", "empty"], default="demo",
                         help="start from demo data or from an empty deployment")
    standin.add_argument("--admin-key-file", type=Path,
                         help="read the deploy key clients must send from this file (first line)")
    standin.add_argument("--admin-key",
                         help="the deploy key clients must send. Visible to every user of this machine in the "
                              f"process list: prefer --admin-key-file or {STANDIN_KEY_ENV}")
    standin.add_argument("--production", action="store_true",
                         help="redact function errors to '[Request ID: ...] Server Error' as Cloud production "
                              "deployments do (ConvexError data is kept)")
    standin.add_argument("--fault-rate", type=float, default=0.0,
                         help="share of requests answered with an injected fault (500, 503, slow, drop, truncate)")
    standin.add_argument("--latency-ms", type=int, default=0, help="milliseconds added to every answer")
    standin.add_argument("--failure-rate", type=float, default=0.1, help="share of jobs the worker fails")
    standin.add_argument("--no-worker", action="store_true", help="do not run the job worker (jobs stay queued)")
    standin.add_argument("--ready-file", type=Path,
                         help="once listening, write the deployment URL to this file (for programs that start it)")

    capture = sub.add_parser("capture", help="record incoming webhooks byte for byte into a replica")
    capture.add_argument("--port", type=int, default=8188)
    capture.add_argument("--host", default="127.0.0.1")
    capture.add_argument("--db", type=Path, dest="capture_db", help="replica to record into (default: the demo's)")
    capture.add_argument("--public-url", help="the URL senders were configured with (Twilio signs it)")
    capture.add_argument("--max-body", type=int, default=5 * 1024 * 1024, metavar="BYTES",
                         help="refuse bodies larger than this with 413 (default 5 MiB)")

    contract = sub.add_parser("contract", help="the console contract (TypeScript for your Convex project)")
    contract_sub = contract.add_subparsers(dest="contract_command", required=True)
    inst = contract_sub.add_parser("install", help="write console.ts and its schema fragment into a convex/ folder")
    inst.add_argument("--into", type=Path, required=True, help="your project's convex/ folder")
    inst.add_argument("--force", action="store_true", help="overwrite files that exist")

    shot = sub.add_parser("screenshot", help="render every panel of the demo to PNG and exit")
    shot.add_argument("--out", type=Path, required=True)
    shot.add_argument("--db", type=Path, dest="shot_db", help="replica to render (default: fresh demo data)")
    shot.add_argument("--theme", choices=["light", "dark"], default="light")
    shot.add_argument("--live", action="store_true", help="also render live mode against a local stand-in")
    shot.add_argument("--size", help="window size WxH (names then end in -<theme>-<W>x<H>; default 1440x880)")
    shot.add_argument("--screen", action="store_true",
                      help="capture the screen (import -window root), for a real display such as xvfb-run")
    shot.add_argument("--panels", help="only these, comma-separated panel keys (users,jobs,...,quick-find,settings)")
    return p


def _demo_data(args: argparse.Namespace) -> int:
    from console.demo.generator import LARGE, DemoSizes, generate
    from console.store.db import ReplicaBroken, ReplicaError, get_meta, move_aside, open_replica

    out: Path = args.out
    if out.is_dir():
        print(f"ops-console: {out} is a folder; give a file path for the demo replica.", file=sys.stderr)
        return 2
    if out.exists():
        try:
            engine = open_replica(out, create=False)
            with engine.connect() as conn:
                mode = get_meta(conn, "mode")
            engine.dispose()
        except ReplicaBroken as exc:
            if not args.force:
                print(f"ops-console: {exc}\nPass --force to move it aside and write fresh demo data.", file=sys.stderr)
                return 2
            print(f"ops-console: {out} is broken; moved it to {move_aside(out)}.", file=sys.stderr)
            mode = "demo"
        except ReplicaError as exc:
            print(f"ops-console: {exc}", file=sys.stderr)
            return 2
        if mode != "demo":
            print(f"ops-console: {out} exists and is not a demo replica; refusing to overwrite it.", file=sys.stderr)
            return 2
        if not args.force:
            print(f"ops-console: {out} exists; pass --force to replace it with fresh demo data.", file=sys.stderr)
            return 2
        # The fresh data is written next to it and renamed over it when complete.
    base = LARGE if args.large else DemoSizes()
    sizes = DemoSizes(
        users=args.users if args.users is not None else base.users,
        messages=args.messages if args.messages is not None else base.messages,
        jobs=args.jobs if args.jobs is not None else base.jobs,
    )
    started = time.perf_counter()
    last = [0.0]

    def progress(table: str, n: int) -> None:
        now = time.perf_counter()
        if now - last[0] > 0.5:
            last[0] = now
            print(f"\r  {now - started:5.1f}s  {table:<20} {n:>10,}", end="", file=sys.stderr, flush=True)

    try:
        counts = generate(out, sizes, seed=args.seed, now_ms=args.now_ms, progress=progress)
    except ReplicaError as exc:
        print(f"\nops-console: {exc}", file=sys.stderr)
        return 2
    elapsed = time.perf_counter() - started
    total = sum(counts.values())
    print(f"\r{'':60}\r", end="", file=sys.stderr)
    for table, n in sorted(counts.items()):
        print(f"  {table:<20} {n:>10,}")
    print(f"{total:,} documents in {elapsed:.1f} s ({total / elapsed:,.0f} documents/s) -> {out}")
    return 0


def _sync(args: argparse.Namespace) -> int:
    import os

    from console.client.http import Deployment
    from console.paths import data_dir
    from console.secrets import DEPLOY_KEY, SecretStore
    from console.sync.headless import run_sync

    key = os.environ.get("CONVEX_DEPLOY_KEY") or SecretStore().get(DEPLOY_KEY)
    db = args.sync_db or data_dir() / f"{Deployment(args.url).name}.sqlite"
    return run_sync(args.url, key, db, follow=args.follow)


def _standin(args: argparse.Namespace) -> int:
    import signal
    import threading

    from console.standin.app import start_standin

    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(f"ops-console standin: listening on {args.host}, not only on this machine.", file=sys.stderr)
    try:
        admin_key, source = _standin_key(args)
    except (OSError, ValueError) as exc:
        print(f"ops-console standin: {exc}", file=sys.stderr)
        return 2
    if source == "--admin-key":
        print(f"ops-console standin: --admin-key is visible in the process list; prefer --admin-key-file or "
              f"{STANDIN_KEY_ENV}.", file=sys.stderr)
    started = time.perf_counter()
    standin = start_standin(host=args.host, port=args.port, db=args.standin_db, seed=args.seed,
                            admin_key=admin_key, fault_rate=args.fault_rate, latency_ms=args.latency_ms,
                            worker=not args.no_worker, failure_rate=args.failure_rate, production=args.production)
    mode = " in production mode (function errors redacted)" if args.production else ""
    print(f"Stand-in deployment at {standin.url}{mode} (ready in {time.perf_counter() - started:.1f} s)")
    if source is None:  # a new key: whoever started it needs to see it once
        print(f"Deploy key: {standin.state.admin_key}")
        print(f"Try: CONVEX_DEPLOY_KEY='{standin.state.admin_key}' ops-console sync --url {standin.url}")
        print(f"Or:  CONVEX_SELF_HOSTED_URL={standin.url} CONVEX_SELF_HOSTED_ADMIN_KEY='{standin.state.admin_key}' "
              "npx convex run jobs:stats")
    else:
        print(f"Deploy key: the one from {source}")
        print(f"Try: CONVEX_DEPLOY_KEY=<that key> ops-console sync --url {standin.url}")
    print("Ctrl+C stops it.", flush=True)
    if args.ready_file:  # written whole, then renamed: a reader never sees half a URL
        partial = args.ready_file.with_name(args.ready_file.name + ".partial")
        partial.write_text(standin.url, encoding="utf-8")
        partial.replace(args.ready_file)
    done = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: done.set())
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    done.wait()
    standin.stop()
    return 0


def _standin_key(args: argparse.Namespace) -> tuple[str | None, str | None]:
    """(key, where it came from): the file, the environment, the command line, or None for a new one."""
    if args.admin_key_file:
        lines = args.admin_key_file.read_text(encoding="utf-8").splitlines()
        key = lines[0].strip() if lines else ""
        if not key:
            raise ValueError(f"{args.admin_key_file} holds no key")
        return key, str(args.admin_key_file)
    if os.environ.get(STANDIN_KEY_ENV):
        return os.environ[STANDIN_KEY_ENV].strip(), STANDIN_KEY_ENV
    if args.admin_key:
        return args.admin_key, "--admin-key"
    return None, None


def _capture(args: argparse.Namespace) -> int:
    import signal
    import threading

    from console.paths import default_demo_replica
    from console.store.db import ReplicaError, open_replica
    from console.webhooks.ingest import start_capture

    db = args.capture_db or default_demo_replica()
    try:
        engine = open_replica(db)
    except ReplicaError as exc:
        print(f"ops-console capture: {exc}", file=sys.stderr)
        return 2

    def captured(doc: dict) -> None:
        print(f"{time.strftime('%H:%M:%S')} {doc['provider']:<7} {doc['eventType'] or '-':<32} "
              f"{doc['providerEventId'] or '-'}", flush=True)

    server = start_capture(engine, host=args.host, port=args.port, public_url=args.public_url, on_capture=captured,
                           max_body=args.max_body)
    print(f"Capturing webhooks at {server.url} into {db} (e.g. stripe listen --forward-to {server.url}/stripe). "
          f"Ctrl+C stops.", flush=True)
    done = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: done.set())
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    done.wait()
    server.stop()
    engine.dispose()
    return 0


def _contract(args: argparse.Namespace) -> int:
    from console.contract.install import FILES, NEXT_STEPS, InstallError, install

    try:
        install(args.into, force=args.force)
    except (InstallError, OSError) as exc:
        print(f"ops-console: {exc}", file=sys.stderr)
        return 2
    print(NEXT_STEPS.format(into=args.into, files=", ".join(FILES)))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None and args.demo and args.db:
        parser.error("--demo starts on a fresh default demo replica; it cannot be combined with --db")
    if args.command == "demo-data":
        return _demo_data(args)
    if args.command == "sync":
        return _sync(args)
    if args.command == "standin":
        return _standin(args)
    if args.command == "capture":
        return _capture(args)
    if args.command == "contract":
        return _contract(args)
    if args.command == "screenshot":
        from console.ui.screenshot import take_screenshots

        size = tuple(int(v) for v in args.size.lower().split("x")) if args.size else None
        paths = take_screenshots(args.out, db=args.shot_db, theme=args.theme, live=args.live,
                                 size=size, screen=args.screen,  # type: ignore[arg-type]
                                 panels=set(args.panels.split(",")) if args.panels else None)
        for p in paths:
            print(p)
        return 0
    from console.ui.app import run

    return run(db=args.db, fresh_demo=args.demo)
