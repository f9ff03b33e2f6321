import json

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail

from console.secrets import DEPLOY_KEY, SecretStore, SecretStoreError
from console.settings import Settings


class MemoryKeyring(KeyringBackend):
    priority = 1

    def __init__(self):
        super().__init__()
        self.items = {}

    def get_password(self, service, username):
        return self.items.get((service, username))

    def set_password(self, service, username, password):
        self.items[(service, username)] = password

    def delete_password(self, service, username):
        self.items.pop((service, username), None)


@pytest.fixture
def memory_keyring():
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture
def no_keyring():
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    yield
    keyring.set_keyring(previous)


def test_settings_round_trip(private_home):
    s = Settings(deployment_url="https://happy-otter-123.convex.cloud", operator_email="a@b.c", theme="dark")
    s.save()
    assert Settings.load() == s


def test_on_demand_tables_parse(private_home):
    s = Settings(on_demand_tables=["/messages", "betterAuth/session", "bogus/"])
    s.save()
    assert Settings.load().on_demand() == {("", "messages"), ("betterAuth", "session")}


def test_corrupt_or_foreign_settings_fall_back_to_defaults(private_home):
    Settings.path().parent.mkdir(parents=True, exist_ok=True)
    Settings.path().write_text("{not json")
    assert Settings.load() == Settings()
    Settings.path().write_text(json.dumps({"theme": 5, "unknown": 1, "deployment_url": "https://x"}))
    loaded = Settings.load()
    assert loaded.theme == "system" and loaded.deployment_url == "https://x"


def test_key_goes_to_the_keyring_and_nowhere_else(memory_keyring, private_home):
    store = SecretStore()
    assert store.available
    assert store.set(DEPLOY_KEY, "prod:otter|secret-key") == "keyring"
    assert store.get(DEPLOY_KEY) == "prod:otter|secret-key"
    Settings(deployment_url="https://x").save()
    on_disk = b"".join(p.read_bytes() for p in private_home.rglob("*") if p.is_file())
    assert b"secret-key" not in on_disk
    store.delete(DEPLOY_KEY)
    assert store.get(DEPLOY_KEY) is None


def test_without_a_keyring_it_refuses_unless_session_only(no_keyring, private_home):
    store = SecretStore()
    assert not store.available
    assert "fail" in store.backend_name
    with pytest.raises(SecretStoreError, match="No OS keyring"):
        store.set(DEPLOY_KEY, "k")
    assert store.set(DEPLOY_KEY, "k", session_only=True) == "session"
    assert store.get(DEPLOY_KEY) == "k" and store.where(DEPLOY_KEY) == "session"
    assert SecretStore().get(DEPLOY_KEY) is None  # a new session does not have it
    assert not any(p.is_file() for p in private_home.rglob("*"))


# -- backends that are not the OS keyring (issue 14): refused, with the file named ---------------------------------

def _with_backend(backend):
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    return previous


def _encrypted_keyring(tmp_path):
    from keyrings.alt.file import EncryptedKeyring

    class NoPrompt(EncryptedKeyring):  # no pycryptodome or password prompt needed to check the refusal
        def __init__(self):
            pass

        @property
        def file_path(self):
            return str(tmp_path / "crypted_pass.cfg")

    return NoPrompt()


@pytest.mark.parametrize("kind", ["plaintext", "encrypted", "fail", "null", "chainer-plaintext", "chainer-mixed"])
def test_file_and_fail_backends_are_not_the_os_keyring(kind, private_home, tmp_path, monkeypatch):
    from keyring.backends import chainer, null
    from keyrings.alt.file import PlaintextKeyring

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))  # keyrings.alt's files would go here
    plaintext = PlaintextKeyring()
    backend = {
        "plaintext": lambda: plaintext,
        "encrypted": lambda: _encrypted_keyring(tmp_path),
        "fail": fail.Keyring,
        "null": null.Keyring,
        "chainer-plaintext": lambda: chainer.ChainerBackend(),
        "chainer-mixed": lambda: chainer.ChainerBackend(),
    }[kind]()
    if kind.startswith("chainer"):
        inner = [plaintext] if kind == "chainer-plaintext" else [MemoryKeyring(), plaintext]
        monkeypatch.setattr(chainer.ChainerBackend, "backends", property(lambda self: inner))
    previous = _with_backend(backend)
    try:
        store = SecretStore(service="ops-console-test")
        assert not store.available
        why = store.unavailable_reason
        assert why and "keyring" in why
        if kind in ("plaintext", "encrypted") or kind.startswith("chainer"):
            assert "file" in why  # says exactly where the secret would have gone
        if kind == "plaintext":
            assert plaintext.file_path in why and "base64" in why
        with pytest.raises(SecretStoreError, match="No OS keyring"):
            store.set(DEPLOY_KEY, "prod:otter|secret-key")
        assert store.set(DEPLOY_KEY, "prod:otter|secret-key", session_only=True) == "session"
        assert store.get(DEPLOY_KEY) == "prod:otter|secret-key" and store.where(DEPLOY_KEY) == "session"
    finally:
        keyring.set_keyring(previous)
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert not any(b"secret-key" in p.read_bytes() or b"c2VjcmV0LWtleQ" in p.read_bytes() for p in written)


def test_a_chainer_of_os_keyrings_only_is_trusted(private_home, monkeypatch):
    from keyring.backends import chainer

    inner = [MemoryKeyring()]
    monkeypatch.setattr(chainer.ChainerBackend, "backends", property(lambda self: inner))
    previous = _with_backend(chainer.ChainerBackend())
    try:
        assert SecretStore().available and SecretStore().unavailable_reason is None
    finally:
        keyring.set_keyring(previous)


def test_settings_dialog_never_claims_the_os_keyring_for_a_plaintext_backend(qtbot, private_home, tmp_path,
                                                                              monkeypatch, demo_db):
    from keyrings.alt.file import PlaintextKeyring

    from console.store.db import open_replica
    from console.ui.context import AppContext
    from console.ui.settings_dialog import SettingsDialog
    from console.ui.theme import Theme

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    previous = _with_backend(PlaintextKeyring())
    ctx = AppContext(open_replica(demo_db), demo_db, Settings(demo_worker=False), SecretStore(),
                     Theme(qtbot_app(), "light"))
    try:
        dialog = SettingsDialog(ctx)
        qtbot.addWidget(dialog)
        note = dialog.keyring_note.text()
        assert "No OS keyring" in note and "PlaintextKeyring" in note and "stored in the OS keyring" not in note
        assert "OS keyring" not in dialog.key.placeholderText()
        assert not dialog.session_only.isEnabled() and dialog.session_only.isChecked()
        qtbot.waitUntil(lambda: not ctx.tasks.busy, timeout=5000)
    finally:
        keyring.set_keyring(previous)
        ctx.tasks.wait()
        ctx.tasks.shutdown()
        ctx.engine.dispose()


def qtbot_app():
    from PySide6.QtWidgets import QApplication

    return QApplication.instance()
