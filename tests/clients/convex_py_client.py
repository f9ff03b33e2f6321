"""The PyPI `convex` ConvexClient (its WebSocket sync client), unmodified, against a deployment.

Run as a child process (its Rust core holds the GIL while it waits, so it can't share a process with an
in-process stand-in). Env: URL, KEY, CHAT. Prints one JSON object per line: the results of a query, a
mutation and an action, then every update of a subscription to messages:list with the time it arrived.
"""

import json
import os
import sys
import time

from convex import ConvexClient


def say(**kw):
    print(json.dumps(kw), flush=True)


def main():
    client = ConvexClient(os.environ["URL"])
    chat = os.environ["CHAT"]
    say(step="anon_echo", value=client.action("standin:echo", {"n": 1.5}))
    client.set_admin_auth(os.environ["KEY"])
    say(step="stats", value=client.query("jobs:stats"))
    sent = client.mutation("messages:send", {"chatId": chat, "body": "from the python client",
                                             "clientMessageId": "py-1"})
    say(step="send", value=sent)
    try:
        client.mutation("console:retryJob", {"jobId": "nope"})
        say(step="bad_mutation", ok=True)
    except Exception as exc:  # a ConvexError or a function error
        say(step="bad_mutation", ok=False, error=type(exc).__name__, text=str(exc)[:300])
    wanted = int(os.environ.get("UPDATES", "3"))
    for n, page in enumerate(client.subscribe("messages:list", {"chatId": chat, "limit": 1})):
        say(step="update", at=time.time(), body=page["page"][-1]["body"] if page["page"] else None)
        if n + 1 >= wanted:
            break
    say(step="done")


if __name__ == "__main__":
    sys.exit(main())
