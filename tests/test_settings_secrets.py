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
