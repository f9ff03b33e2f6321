"""Command line: `ops-console` (the GUI) and its subcommands. Qt is imported only where needed."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from console import __version__


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

    shot = sub.add_parser("screenshot", help="render every panel of the demo to PNG and exit")
    shot.add_argument("--out", type=Path, required=True)
    shot.add_argument("--db", type=Path, dest="shot_db", help="replica to render (default: fresh demo data)")
    shot.add_argument("--theme", choices=["light", "dark"], default="light")
    return p


def _demo_data(args: argparse.Namespace) -> int:
    from console.demo.generator import LARGE, DemoSizes, generate
    from console.store.db import ReplicaError, get_meta, open_replica

    out: Path = args.out
    if out.exists():
        try:
            engine = open_replica(out, create=False)
            with engine.connect() as conn:
                mode = get_meta(conn, "mode")
            engine.dispose()
        except ReplicaError:
            mode = None
        if mode != "demo":
            print(f"ops-console: {out} exists and is not a demo replica; refusing to overwrite it.", file=sys.stderr)
            return 2
        if not args.force:
            print(f"ops-console: {out} exists; pass --force to replace it with fresh demo data.", file=sys.stderr)
            return 2
        for suffix in ("", "-wal", "-shm"):
            Path(f"{out}{suffix}").unlink(missing_ok=True)
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

    counts = generate(out, sizes, seed=args.seed, now_ms=args.now_ms, progress=progress)
    elapsed = time.perf_counter() - started
    total = sum(counts.values())
    print(f"\r{'':60}\r", end="", file=sys.stderr)
    for table, n in sorted(counts.items()):
        print(f"  {table:<20} {n:>10,}")
    print(f"{total:,} documents in {elapsed:.1f} s ({total / elapsed:,.0f} documents/s) -> {out}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None and args.demo and args.db:
        parser.error("--demo starts on a fresh default demo replica; it cannot be combined with --db")
    if args.command == "demo-data":
        return _demo_data(args)
    if args.command == "screenshot":
        from console.ui.screenshot import take_screenshots

        paths = take_screenshots(args.out, db=args.shot_db, theme=args.theme)
        for p in paths:
            print(p)
        return 0
    from console.ui.app import run

    return run(db=args.db, fresh_demo=args.demo)
