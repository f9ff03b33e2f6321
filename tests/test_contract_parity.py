"""The shared rule cases (tests/contract/cases.json) against the stand-in's contract functions, in process:
arguments checked as the server checks them (console/contract/args.json), then the function in one
transaction, as `ops-console standin` runs it. The TypeScript contract runs the same file in
tests/contract/harness/convex/parity.test.ts (tests/test_contract_ts.py)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from console.standin import functions as F
from console.standin.values import decode_arg as _wire_in
from console.standin.store import DocStore

CASES = json.loads((Path(__file__).parent / "contract" / "cases.json").read_text())
APP_TABLES = ["users", "sessions", "chats", "messages", "jobs", "auditLogs"]
COMPONENT_TABLES = ["organization", "member"]


def resolve(value: Any, ids: dict[str, str], now: int) -> Any:
    if isinstance(value, str) and value.startswith("@"):
        return ids[value[1:]]
    if isinstance(value, list):
        return [resolve(v, ids, now) for v in value]
    if isinstance(value, dict):
        if set(value) == {"$ago"}:
            return now - value["$ago"]
        return {k: resolve(v, ids, now) for k, v in value.items()}
    return value


def subset(actual: Any, expected: Any, where: str) -> None:
    if isinstance(expected, dict):
        assert isinstance(actual, dict), f"{where}: {actual!r} is not an object"
        for k, v in expected.items():
            if k == "$absent":
                for f in v:
                    assert f not in actual, f"{where}.{f} should be absent"
                continue
            subset(actual.get(k), v, f"{where}.{k}")
    elif isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected), f"{where}: {actual!r} vs {expected!r}"
        for i, (a, e) in enumerate(zip(actual, expected)):
            subset(a, e, f"{where}[{i}]")
    else:
        same_kind = isinstance(actual, bool) == isinstance(expected, bool)
        assert actual == expected and same_kind, f"{where}: {actual!r} != {expected!r}"


def run_case(case: dict) -> None:
    store = DocStore()
    now = int(time.time() * 1000)
    ids: dict[str, str] = {}
    where: dict[str, tuple[str, str]] = {}
    fixture = CASES["fixture"]
    with store.transaction() as tx:
        for table in APP_TABLES + COMPONENT_TABLES:
            component = "betterAuth" if table in COMPONENT_TABLES else ""
            docs = {**fixture.get(table, {}), **case.get("setup", {}).get(table, {})}
            for name, doc in docs.items():
                doc = {**doc, **case.get("patch", {}).get(name, {})}
                ids[name] = tx.insert(table, resolve(doc, ids, now), component)
                where[name] = (table, component)
        for name in case.get("delete", []):
            tx.delete(where[name][0], ids[name], where[name][1])
    audits_before = store.count("auditLogs")

    actor = case["actor"]
    identity = (None if actor is None else {"subject": resolve(actor, ids, now), "issuer": "ops-console"}
                if isinstance(actor, str) else {"issuer": "ops-console", **actor})
    path = case["call"]["function"]
    wire_args = resolve(case["call"]["args"], ids, now)
    outcome: dict[str, Any]
    invalid = F.check_args(path, wire_args)
    if invalid is not None:
        outcome = {"invalidArgs": invalid}
    else:
        fn = F.QUERIES.get(path) or F.MUTATIONS[path]
        assert path in F.INTERNAL
        try:
            with store.transaction() as tx:
                outcome = {"ok": True, "value": fn(F.Call(store, identity, True, tx), _wire_in(wire_args))}
        except F.FunctionThrew as exc:
            outcome = dict(exc.data)

    expect = case["expect"]
    if expect.get("ok"):
        assert outcome.get("ok"), f"expected success, got {outcome}"
        if "result" in case:
            subset(outcome["value"], resolve(case["result"], ids, now), "result")
        assert "_ts" not in json.dumps(outcome["value"]), "functions never return _ts"
    elif expect.get("invalidArgs"):
        assert "invalidArgs" in outcome, f"expected an argument validation error, got {outcome}"
        assert outcome["invalidArgs"].startswith("ArgumentValidationError: ")
    else:
        assert outcome.get("code") == expect["code"], f"expected {expect['code']}, got {outcome}"
        if "message" in expect:
            assert outcome["message"] == expect["message"]

    for name, expected in case.get("after", {}).items():
        table, component = where[name]
        subset(store.get(table, ids[name], component), resolve(expected, ids, now), f"after {name}")
    added = store.count("auditLogs") - audits_before
    if "audits" in case:
        assert added == case["audits"]
    if "audit" in case and case["audit"] is None:
        assert added == 0
    elif case.get("audit") is not None:
        assert added == 1
        entry = max(store.scan("auditLogs"), key=lambda d: d["_ts"])
        subset(entry, resolve(case["audit"], ids, now), "audit")
        assert abs(entry["timestamp"] - time.time() * 1000) < 60_000


@pytest.mark.parametrize("case", CASES["cases"], ids=[c["name"] for c in CASES["cases"]])
def test_case(case):
    run_case(case)


def test_every_contract_function_and_refusal_is_covered():
    called = {c["call"]["function"] for c in CASES["cases"]}
    assert called == {p for p in F.INTERNAL if p.startswith("console:")}
    codes = {c["expect"].get("code") for c in CASES["cases"]} - {None}
    assert codes == {"forbidden", "no_operator", "operator_deactivated", "not_found", "refused", "reason_required", "stale"}
    assert any(c["expect"].get("invalidArgs") for c in CASES["cases"])


def test_a_broken_expectation_fails():
    """The runner can fail: the same case with a wrong expected code does."""
    case = dict(CASES["cases"][0], expect={"code": "forbidden"})
    with pytest.raises(AssertionError):
        run_case(case)
