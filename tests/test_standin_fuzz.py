"""Malformed requests of every kind get a deployment's 4xx answer from the stand-in, never a 500
(fixed seed, bounded count)."""

import json

import httpx
import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from console.standin.server import ROUTES
from tests.standin_helpers import KEY, SMALL, standin

ROUTE_NAMES = sorted(ROUTES) + ["/api/run/jobs/stats", "/api/run/x", "/http/stripe", "/nope"]
JSONISH = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
                       lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=6), c, max_size=3),
                       max_leaves=8)
PARAM_VALUES = st.one_of(st.text(max_size=12), st.integers().map(str), st.just(str(2**64)), st.just("-1"),
                         JSONISH.map(json.dumps))
PARAM_NAMES = st.sampled_from(["cursor", "snapshot", "tableName", "component", "format", "path", "args", "k",
                               "window", "percentiles", "metric", "deltaSchema", "byComponent", "adminKey"])
BODY_KEYS = st.sampled_from(["path", "args", "format", "componentPath", "queries", "ts", "cursor", "snapshot",
                             "selection", "tableName"])


@pytest.fixture(scope="module")
def s():
    st_ = standin(sizes=SMALL)
    yield st_
    st_.stop()


@seed(20261202)
@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(route=st.sampled_from(ROUTE_NAMES), method=st.sampled_from(["GET", "POST", "POST", "PUT"]),
       params=st.dictionaries(PARAM_NAMES, PARAM_VALUES, max_size=4),
       body=st.one_of(st.dictionaries(BODY_KEYS, JSONISH, max_size=4), JSONISH),
       auth=st.sampled_from([None, f"Convex {KEY}", "Convex nope", "Bearer x.y.z", "Basic Zm9v", "Convex",
                             f"Convex {KEY}:bm90IGpzb24="]),
       client=st.sampled_from([None, "npm-1.48.0", "x", "python-0.0.1", "weird-"]))
def test_malformed_requests_never_get_a_500(s, route, method, params, body, auth, client):
    headers = {"Content-Type": "application/json"}
    if auth:
        headers["Authorization"] = auth
    if client:
        headers["Convex-Client"] = client
    r = httpx.request(method, s.url + route, params=params, content=json.dumps(body), headers=headers, timeout=30)
    assert r.status_code < 500, (route, method, params, body, r.text)
    if r.status_code >= 400 and r.content and route.startswith("/api/"):
        assert set(r.json()) == {"code", "message"}  # a deployment's error body
