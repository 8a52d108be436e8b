"""The main flows of participants and their views through twilio-python (Debian's python3-twilio 7.x), against
a Parley server: BASE_URL, ACCOUNT_SID, AUTH_TOKEN, SERVICE_SID from the environment. (That SDK version has no
ConversationWithParticipants.)

Run by tests/e2e/python_sdk.test.mjs. Each check prints "ok <name>" or "FAIL <name>: <why>"; exits 0 only when
every check passed.
"""
import json
import os
import sys
import uuid

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
    except TwilioException as e:  # list() reports a refused page as a bare TwilioException with the response
        resp = e.args[1] if len(e.args) > 1 else None
        body = resp.text if resp is not None else ""
        check(name, resp is not None and resp.status_code == status and json.loads(body).get("code") == code, body)
        return
    check(name, False, f"succeeded: {value}")


def main():
    client = Client(os.environ["ACCOUNT_SID"], os.environ["AUTH_TOKEN"])
    client.conversations.base_url = os.environ["BASE_URL"]
    v1 = client.conversations.v1
    service = v1.services(os.environ["SERVICE_SID"])
    tag = uuid.uuid4().hex[:8]

    for family, root in (("short", v1), ("service", service)):
        conv = root.conversations.create(friendly_name=f"py {family}", messaging_service_sid="MG" + "d" * 32)
        parts = root.conversations(conv.sid).participants
        identity = f"py-{family}-{tag}"
        chat = parts.create(identity=identity, attributes='{"py": true}')
        check(f"{family}: chat participant", chat.identity == identity and chat.messaging_binding is None)
        special = parts.create(identity=f"Ωmega {tag}+x@y")
        check(f"{family}: special identity round-trips", special.identity == f"Ωmega {tag}+x@y")
        sms = parts.create(messaging_binding_address=f"+1555{uuid.uuid4().int % 10**7:07d}",
                           messaging_binding_proxy_address="+15017122661")
        check(f"{family}: sms binding", sms.messaging_binding.get("type") == "sms" and sms.identity is None,
              str(sms.messaging_binding))
        check(f"{family}: fetch by identity", parts(identity).fetch().sid == chat.sid)
        upd = parts(chat.sid).update(last_read_message_index=3, attributes='{"py": 2}')
        check(f"{family}: update", upd.last_read_message_index == 3 and upd.attributes == '{"py": 2}')
        listed = [p.sid for p in parts.list(page_size=2)]
        check(f"{family}: list pages", listed == [chat.sid, special.sid, sms.sid], str(listed))
        refused(f"{family}: duplicate identity", lambda: parts.create(identity=identity), 409, 50433)

        uc = root.users(identity).user_conversations(conv.sid)
        view = uc.fetch()
        check(f"{family}: user conversation", view.participant_sid == chat.sid and view.last_read_message_index == 3
              and view.unread_messages_count == 0 and view.notification_level == "default")
        check(f"{family}: user conversation update", uc.update(notification_level="muted").notification_level == "muted")
        check(f"{family}: user conversations list",
              [c.conversation_sid for c in root.users(identity).user_conversations.list()] == [conv.sid])
        found = root.participant_conversations.list(identity=identity)
        check(f"{family}: participant conversations", [c.participant_sid for c in found] == [chat.sid])
        refused(f"{family}: identity and address", lambda: root.participant_conversations.list(identity="a", address="+1"),
                400, 50451)
        uc.delete()
        refused(f"{family}: left the conversation", lambda: parts(chat.sid).fetch(), 404, 20404)
        conv.update(state="closed")
        refused(f"{family}: closed conversation", lambda: parts.create(identity=f"late-{tag}"), 400, 50377)

    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
