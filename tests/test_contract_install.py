"""`ops-console contract install --into PATH [--force]`."""

from pathlib import Path

from console.cli import main
from console.contract.install import FILES

SOURCE = Path(__file__).resolve().parents[1] / "console" / "contract" / "convex"


def test_install_writes_the_files_and_prints_the_next_steps(tmp_path, capsys):
    into = tmp_path / "app" / "convex"
    assert main(["contract", "install", "--into", str(into)]) == 0
    for name in FILES:
        assert (into / name).read_text() == (SOURCE / name).read_text()
    out = capsys.readouterr().out
    assert "npx convex deploy" in out and "schema.fragment.ts" in out and "deploy key" in out.lower()


def test_install_never_overwrites_without_force(tmp_path, capsys):
    into = tmp_path / "convex"
    into.mkdir()
    (into / "console.ts").write_text("// mine")
    (into / "schema.ts").write_text("// the product's schema")
    assert main(["contract", "install", "--into", str(into)]) == 2
    assert "--force" in capsys.readouterr().err
    assert (into / "console.ts").read_text() == "// mine"
    assert not (into / "consoleRules.ts").exists()  # nothing written when anything would be overwritten
    assert main(["contract", "install", "--into", str(into), "--force"]) == 0
    assert (into / "console.ts").read_text() == (SOURCE / "console.ts").read_text()
    assert (into / "schema.ts").read_text() == "// the product's schema"  # never touched


def test_install_into_a_file_is_refused(tmp_path, capsys):
    target = tmp_path / "convex"
    target.write_text("x")
    assert main(["contract", "install", "--into", str(target)]) == 2
    assert "not a folder" in capsys.readouterr().err


def test_the_typescript_ships_as_package_data():
    import tomllib

    config = tomllib.loads((SOURCE.parents[2] / "pyproject.toml").read_text())
    assert "console.contract" in config["tool"]["setuptools"]["packages"]
    data = config["tool"]["setuptools"]["package-data"]["console.contract"]
    assert "convex/*.ts" in data and "args.json" in data
