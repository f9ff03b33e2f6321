"""The package list in pyproject.toml is explicit (resources/ is mapped in): keep it complete."""

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_subpackage_is_listed():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    listed = set(config["tool"]["setuptools"]["packages"])
    found = {".".join(p.relative_to(ROOT).parent.parts) for p in (ROOT / "console").rglob("__init__.py")}
    found.add("console.resources")
    assert listed == found


def test_resources_ship_with_the_package():
    from console.paths import resource

    assert resource("app-icon.svg").read_text().startswith("<svg")
    for icon in (ROOT / "resources" / "icons").glob("*.svg"):
        assert resource(f"icons/{icon.name}").exists()


def test_core_does_not_import_qt():
    """The core (everything outside console/ui) must work with no display and no Qt."""
    offenders = []
    for path in (ROOT / "console").rglob("*.py"):
        if "ui" in path.relative_to(ROOT / "console").parts:
            continue
        if "PySide6" in path.read_text() or "pyqtgraph" in path.read_text():
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def test_panels_do_not_import_each_other():
    panels = ROOT / "console" / "ui" / "panels"
    names = [p.name for p in panels.iterdir() if p.is_dir() and (p / "__init__.py").exists()]
    for name in names:
        for path in (panels / name).rglob("*.py"):
            source = path.read_text()
            for other in names:
                if other != name:
                    assert f"console.ui.panels.{other}" not in source, f"{path} imports panel {other}"
