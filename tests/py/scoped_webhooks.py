"""Conversation-scoped webhooks through twilio-python (Debian's python3-twilio 7.x) against a Parley server:
BASE_URL, ACCOUNT_SID, AUTH_TOKEN, SERVICE_SID from the environment. On both path families: create each target
with the SDK's configuration_* parameters (arrays as repeated keys), fetch, list across pages, update, the
limit of five, a rule's code, delete.

Run by tests/e2e/python_sdk.test.mjs. Each check prints "ok <name>" or "FAIL <name>: <why>"; exits 0 only when
every check passed.
"""
import os
import sys

from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

failures = []
FLOW = "FW" + "c" * 32


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
    c = convs.create(friendly_name="py hooks")
    hooks = convs(c.sid).webhooks
    w = hooks.create(
        target="webhook",
        configuration_url="https://example.com/py",
        configuration_method="GET",
        configuration_filters=["onMessageAdded", "onParticipantAdded"],
    )
    check(
        f"{label}: webhook",
        w.sid.startswith("WH")
        and w.conversation_sid == c.sid
        and w.configuration == {"url": "https://example.com/py", "method": "get", "filters": ["onMessageAdded", "onParticipantAdded"]},
        repr(w.configuration),
    )
    t = hooks.create(target="trigger", configuration_url="https://example.com/t", configuration_triggers=["help", "stop"])
    check(f"{label}: trigger", t.configuration == {"url": "https://example.com/t", "method": "post", "triggers": ["help", "stop"]}, repr(t.configuration))
    s = hooks.create(target="studio", configuration_flow_sid=FLOW, configuration_replay_after=0)
    check(f"{label}: studio", s.configuration == {"flow_sid": FLOW, "replay_after": 0}, repr(s.configuration))
    check(f"{label}: fetch", hooks(w.sid).fetch().target == "webhook")
    seen = [x.sid for x in hooks.stream(page_size=2)]
    check(f"{label}: list across pages", seen == [w.sid, t.sid, s.sid], repr(seen))
    u = hooks(w.sid).update(configuration_filters=["onConversationUpdated"], configuration_method="POST")
    check(f"{label}: update", u.configuration == {"url": "https://example.com/py", "method": "post", "filters": ["onConversationUpdated"]}, repr(u.configuration))
    refused(f"{label}: a bad filter", lambda: hooks.create(target="webhook", configuration_url="https://example.com/x", configuration_filters=["onMessageSent"]), 400, 50365)
    hooks.create(target="studio", configuration_flow_sid=FLOW)
    hooks.create(target="studio", configuration_flow_sid=FLOW)
    refused(f"{label}: the sixth", lambda: hooks.create(target="studio", configuration_flow_sid=FLOW), 400, 50361)
    check(f"{label}: delete", hooks(w.sid).delete() is True)
    refused(f"{label}: gone", lambda: hooks(w.sid).fetch(), 404, 20404)


def main():
    client = Client(os.environ["ACCOUNT_SID"], os.environ["AUTH_TOKEN"])
    client.conversations.base_url = os.environ["BASE_URL"]
    v1 = client.conversations.v1
    flow("short", v1.conversations)
    flow("service", v1.services(os.environ["SERVICE_SID"]).conversations)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
