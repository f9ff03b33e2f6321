"""Start-up with a broken replica: a dialog that says what happened (and, for the default demo replica,
an offer to rebuild it, moving the broken file aside), never a traceback."""

import os

import pytest
from PySide6.QtWidgets import QMessageBox

from console.paths import default_demo_replica
from console.ui import app as app_mod
from console.ui import plain


@pytest.fixture
def dialogs(monkeypatch):
    seen = {"critical": [], "question": [], "answer": QMessageBox.StandardButton.No}

    def critical(_parent, title, message, *a, **k):
        seen["critical"].append((title, message))
        return QMessageBox.StandardButton.Ok

    def question(_parent, title, message, *a, **k):
        seen["question"].append((title, message))
        return seen["answer"]

    def message(parent, icon, title, text, *a, **k):  # console.ui.plain's one modal box
        return (question if icon == QMessageBox.Icon.Question else critical)(parent, title, text)

    monkeypatch.setattr(QMessageBox, "critical", critical)
    monkeypatch.setattr(QMessageBox, "question", question)
    monkeypatch.setattr(plain, "message", message)
    return seen


def _corrupt(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"SQLite format 3\x00" + os.urandom(8000))


def test_a_broken_replica_given_with_db_is_a_dialog_not_a_traceback(qapp, tmp_path, dialogs):
    bad = tmp_path / "bad.sqlite"
    _corrupt(bad)
    assert app_mod.run(db=bad) == 2
    assert len(dialogs["critical"]) == 1 and str(bad) in dialogs["critical"][0][1]
    assert dialogs["question"] == []  # not the demo replica: nothing is offered to be replaced
    assert bad.exists()


def test_a_folder_given_with_db_is_a_dialog(qapp, tmp_path, dialogs):
    assert app_mod.run(db=tmp_path) == 2
    assert "folder" in dialogs["critical"][0][1]


def test_a_broken_default_demo_replica_is_offered_a_rebuild_and_kept_when_declined(qapp, dialogs):
    demo = default_demo_replica()
    _corrupt(demo)
    before = demo.read_bytes()
    assert app_mod.run() == 2
    assert len(dialogs["question"]) == 1 and "Move the broken file aside" in dialogs["question"][0][1]
    assert demo.read_bytes() == before


def test_accepting_the_rebuild_moves_the_broken_demo_replica_aside(qapp, dialogs):
    demo = default_demo_replica()
    _corrupt(demo)
    before = demo.read_bytes()
    verdict = app_mod.check_replica(demo, default_demo=True, ask=lambda m: True, tell=pytest.fail)
    assert verdict == "rebuild" and not demo.exists()
    (moved,) = demo.parent.glob("demo-replica.sqlite.broken-*")
    assert moved.read_bytes() == before
    assert app_mod.check_replica(demo, default_demo=True, ask=pytest.fail, tell=pytest.fail) == "ok"
