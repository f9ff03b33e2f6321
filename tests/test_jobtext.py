""""Error or payload contains" means the same on the replica (FTS5), in the stand-in and in the console
contract (consoleRules.ts, held to the same rule by the parity cases): the count shown before a bulk
action on a text filter is the count the deployment acts on."""

import json
import random
import re

from sqlalchemy import text

from console.domain import jobtext
from console.store.jobs import JobQuery, count_matching


def test_the_rule():
    job = {"lastError": "Twilio 500: upstream", "errors": [{"error": "Connexion refusée"}],
           "payload": {"to": "+14155550100", "vip": True, "n": 3.0, "tags": ["Café"]}}
    assert jobtext.matches("twil", job) and jobtext.matches("upstream twilio", job)
    assert not jobtext.matches("wilio", job)  # no substrings inside a word
    assert jobtext.matches("refusee", job) and jobtext.matches("CAFE", job)  # an earlier attempt; accents
    assert jobtext.matches("14155550100", job) and not jobtext.matches("4155550100", job)
    assert jobtext.matches("3", job) and jobtext.matches("1", job)  # 3.0 reads "3" (as in JavaScript); true is 1
    assert not jobtext.matches("t", job)  # a one-letter last word is a whole word, not every word with a t
    assert jobtext.matches("  ::  ", job)  # nothing searchable: no condition
    assert jobtext.terms("a " * 100) == ["a"] and len(jobtext.terms(" ".join(f"w{i}" for i in range(99)))) == 16


def test_the_replica_index_agrees_with_the_rule_on_the_demo_jobs(engine):
    with engine.connect() as c:
        docs = [json.loads(d) for (d,) in c.execute(text("SELECT doc FROM jobs"))]
    rng = random.Random(5)
    vocabulary = sorted({w for d in docs for w in jobtext.words(jobtext.job_texts(d))})
    typed = ["timeout", "TIMEOUT", "tim", "imeout", "twilio 500", "500 twilio", "stripe", "smtp", "e", "42",
             "rate limit", "Ümlaut", "::"]
    for _ in range(35):
        w = rng.choice(vocabulary)
        typed += [w, w[: max(1, len(w) // 2)], w[1:], f"{rng.choice(vocabulary)} {w[:3]}"]
    disagreements = []
    with engine.connect() as c:
        for t in typed:
            replica = count_matching(c, JobQuery(text=t), cap=10_000_000)
            rule = sum(jobtext.matches(t, d) for d in docs)
            if replica != rule:
                disagreements.append((t, replica, rule))
    assert not disagreements, disagreements[:10]
    assert any(re.fullmatch(r"\d+", w) for w in vocabulary)  # payload numbers are part of it
