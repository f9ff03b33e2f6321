import subprocess
import sys

from sqlalchemy import text

from console import __version__
from console.cli import main
from console.store.db import open_replica


def test_version_everywhere():
    out = subprocess.run([sys.executable, "-m", "console", "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == f"ops-console {__version__}"


def test_demo_data_command(tmp_path, capsys):
    path = tmp_path / "d.sqlite"
    assert main(["demo-data", "--db", str(path), "--users", "50", "--messages", "100", "--jobs", "80",
                 "--seed", "2"]) == 0
    assert "documents/s" in capsys.readouterr().out
    eng = open_replica(path)
    with eng.connect() as c:
        assert c.execute(text("SELECT count(*) FROM users")).scalar() == 50
    eng.dispose()
    # an existing demo replica is replaced only with --force
    assert main(["demo-data", "--db", str(path), "--users", "10", "--messages", "0", "--jobs", "0"]) == 2
    assert main(["demo-data", "--db", str(path), "--users", "10", "--messages", "0", "--jobs", "0", "--force"]) == 0


def test_demo_data_never_overwrites_a_live_replica(tmp_path, capsys):
    path = tmp_path / "live.sqlite"
    open_replica(path).dispose()  # a replica without the demo mark
    assert main(["demo-data", "--db", str(path), "--force"]) == 2
    assert "not a demo replica" in capsys.readouterr().err
