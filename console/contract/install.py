"""`ops-console contract install`: copy the contract's TypeScript into a Convex project's `convex/` folder."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

FILES = ("console.ts", "consoleRules.ts", "schema.fragment.ts")

NEXT_STEPS = """\
Next steps:
  1. Merge the tables of convex/schema.fragment.ts into convex/schema.ts
     (defineSchema({{ ...yourTables, ...consoleTables }}), or add the fields and indexes to tables you have).
     The contract needs a Better Auth component named `betterAuth` with the organization plugin.
  2. Deploy:            npx convex deploy        (or `npx convex dev` for a dev deployment)
  3. Make a deploy key: Convex dashboard > Settings > Deploy keys (for self-hosted: the admin key)
  4. In the console:    Settings > deployment URL, the deploy key, and the operator: your users `_id`
                        (or externalId). File > Connect to the deployment in Settings.
Installed into {into}: {files}"""


class InstallError(Exception):
    pass


def source_files() -> dict[str, str]:
    """The shipped TypeScript, by file name."""
    root = resources.files("console.contract") / "convex"
    return {name: (root / name).read_text(encoding="utf-8") for name in FILES}


def arg_spec() -> dict[str, dict]:
    """The contract's argument validators as Convex exports them (exportArgs), by function path."""
    return json.loads((resources.files("console.contract") / "args.json").read_text(encoding="utf-8"))


def install(into: Path, force: bool = False) -> list[Path]:
    """Write the files into `into` (a project's convex/ folder). Refuses to overwrite unless `force`."""
    into = Path(into)
    if into.exists() and not into.is_dir():
        raise InstallError(f"{into} is not a folder")
    files = source_files()
    targets = [into / name for name in files]
    existing = [t for t in targets if t.exists()]
    if existing and not force:
        raise InstallError("these files exist (pass --force to overwrite them): "
                           + ", ".join(str(t) for t in existing))
    into.mkdir(parents=True, exist_ok=True)
    for target in targets:
        target.write_text(files[target.name], encoding="utf-8")
    return targets
