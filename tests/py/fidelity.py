"""The input-side fidelity fixes of issue 12 through twilio-python (Debian's python3-twilio 7.x), against a
Parley server: BASE_URL, ACCOUNT_SID, AUTH_TOKEN, SERVICE_SID from the environment.

Run by tests/e2e/python_sdk.test.mjs. Each check prints "ok <name>" or "FAIL <name>: <why>"; exits 0 only when
every check passed.
"""
import json
import os
import sys

from twilio.base.exceptions import TwilioException, TwilioRestException
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


def main():
    client = Client(os.environ["ACCOUNT_SID"], os.environ["AUTH_TOKEN"])
    client.conversations.base_url = os.environ["BASE_URL"]
    v1 = client.conversations.v1
    sid = os.environ["SERVICE_SID"]
    service = v1.services(sid)

    # bindings: 20 identities (the spec's unbounded array)
    identities = [f"user-{i}@example.com" for i in range(20)]
    try:
        check("bindings list with 20 identities", service.bindings.list(identity=identities, binding_type=["apn", "fcm"]) == [])
    except TwilioException as e:   # list() reports a refused page as a bare TwilioException
        check("bindings list with 20 identities", False, str(e))

    # webhook configurations
    hooks = v1.configuration.webhooks().fetch()
    check("account webhooks never set: filters []", hooks.filters == [], repr(hooks.filters))
    check("account webhooks never set: method POST, target webhook", hooks.method == "POST" and hooks.target == "webhook")
    other = v1.services.create(friendly_name="py fidelity")
    sh = v1.services(other.sid).configuration.webhooks().update(post_webhook_url="https://example.com/post")
    check("service webhooks: a URL without Method renders POST", sh.method == "POST", repr(sh.method))
    refused("webhook Method PUT: 50055", lambda: v1.configuration.webhooks().update(method="PUT"), 400, 50055)
    refused("Filters onMessageSend (no event): 50054", lambda: v1.configuration.webhooks().update(filters=["onMessageSend", "onUserAdded"]), 400, 50054)
    refused("Filters foo: 50054", lambda: v1.configuration.webhooks().update(filters=["foo"]), 400, 50054)
    refused("empty webhook update: 20161", lambda: v1.configuration.webhooks().update(), 400, 20161)

    # configuration timers and messaging service
    refused("inactive timer PT30S: 50375", lambda: v1.configuration().update(default_inactive_timer="PT30S"), 400, 50375)
    refused("closed timer PT5M: 50376", lambda: v1.configuration().update(default_closed_timer="PT5M"), 400, 50376)
    refused("inactive timer malformed: 50379", lambda: v1.configuration().update(default_inactive_timer="soon"), 400, 50379)
    refused("closed timer malformed: 50380", lambda: v1.configuration().update(default_closed_timer="later"), 400, 50380)
    refused("messaging service malformed: 50341", lambda: v1.configuration().update(default_messaging_service_sid="MGx"), 400, 50341)

    # notifications
    fresh = v1.services(other.sid).configuration.notifications().fetch()
    check("fresh notifications {'enabled': False}", fresh.new_message == {"enabled": False}, repr(fresh.new_message))
    refused("template too long: 50058",
            lambda: service.configuration.notifications().update(new_message_template="t" * 1025), 400, 50058)
    refused("sound too long: 50059",
            lambda: service.configuration.notifications().update(added_to_conversation_sound="s" * 257), 400, 50059)

    # paging
    # page() reports any non-200 as a bare TwilioException carrying the response
    try:
        service.users.page(page_number=2, page_size=5)
        check("Page without PageToken: 70002", False, "succeeded")
    except TwilioException as e:
        resp = e.args[1] if len(e.args) > 1 else None
        body = resp.text if resp is not None else ""
        check("Page without PageToken: 70002", resp is not None and resp.status_code == 400 and json.loads(body).get("code") == 70002,
              body)
    try:
        users = service.users.list(limit=5000)
        check("users.list(limit=5000) (PageSize=5000 clamped)", isinstance(users, list))
    except TwilioException as e:
        check("users.list(limit=5000) (PageSize=5000 clamped)", False, str(e))

    # roles
    role = service.roles.create(friendly_name="py held", type="service", permission=["joinConversation"])
    refused("empty Permission beside others: 50104",
            lambda: service.roles(role.sid).update(permission=["joinConversation", ""]), 400, 50104)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
