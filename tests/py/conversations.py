"""Conversations through twilio-python (Debian's python3-twilio 7.x) against a Parley server: BASE_URL,
ACCOUNT_SID, AUTH_TOKEN, SERVICE_SID from the environment. The main flow on both path families: create with
every field this SDK version has, fetch by SID and by unique name, update, list across pages, the closed
guard, the unique-name conflict, delete.

Run by tests/e2e/python_sdk.test.mjs. Each check prints "ok <name>" or "FAIL <name>: <why>"; exits 0 only when
every check passed.
"""
import datetime
import os
import sys
import uuid

from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

failures = []


def check(name, cond, why=""):
    print(("ok " if cond else "FAIL ") + name + ("" if cond else f": {why}"))
    if not cond:
        failures.append(name)


def refused(name, call, status, code):
    try:
        value = call()
    except TwilioRestException as e:
        check(name, e.status == status and e.code == code, f"got {e.status}/{e.code} {e.msg}")
        return
    check(name, False, f"succeeded: {value}")


def flow(label, convs):
    tag = uuid.uuid4().hex[:8]
    name = f"py {tag} zoë+1@example.com"
    c = convs.create(
        friendly_name="From Python",
        unique_name=name,
        attributes='{"k": [1, 2]}',
        timers_closed="PT10M",
        date_created=datetime.datetime(2020, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc),
    )
    check(f"{label}: create", c.sid.startswith("CH") and c.state == "active" and c.unique_name == name, repr(c))
    check(f"{label}: date override", c.date_created.year == 2020, repr(c.date_created))
    check(f"{label}: timers", list(c.timers.keys()) == ["date_closed"], repr(c.timers))
    check(f"{label}: bindings", c.bindings == {}, repr(c.bindings))
    f = convs(name).fetch()
    check(f"{label}: fetch by unique name", f.sid == c.sid and f.attributes == '{"k": [1, 2]}', repr(f))
    u = convs(c.sid).update(friendly_name="Renamed", state="inactive")
    check(f"{label}: update", u.friendly_name == "Renamed" and u.state == "inactive", repr(u))
    for i in range(3):
        convs.create(friendly_name=f"list {tag}", state="inactive")
    # this SDK version has no list filters: page through everything
    seen = [x.sid for x in convs.stream(page_size=2) if x.friendly_name in ("Renamed", f"list {tag}")]
    check(f"{label}: list across pages", len(seen) == 4 and seen[0] == c.sid, repr(seen))
    refused(f"{label}: duplicate unique name", lambda: convs.create(unique_name=name), 409, 50353)
    convs(c.sid).update(state="closed")
    refused(f"{label}: closed guard", lambda: convs(c.sid).update(friendly_name="x"), 400, 50377)
    check(f"{label}: delete", convs(c.sid).delete() is True)
    refused(f"{label}: gone", lambda: convs(c.sid).fetch(), 404, 20404)


def main():
    client = Client(os.environ["ACCOUNT_SID"], os.environ["AUTH_TOKEN"])
    client.conversations.base_url = os.environ["BASE_URL"]
    v1 = client.conversations.v1
    flow("short", v1.conversations)
    flow("service", v1.services(os.environ["SERVICE_SID"]).conversations)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
