"""Messages through twilio-python (Debian's python3-twilio 7.x) against a Parley server: BASE_URL, ACCOUNT_SID,
AUTH_TOKEN, SERVICE_SID from the environment. The main flow on both path families: create (with the author's
participant, media, a date override), fetch, update, list in both orders across pages with stream(), the
delivery receipts of an SMS participant, delete and the index gap, and the codes 50503, 50377 and 20404.

Run by tests/e2e/messages_python.test.mjs. Each check prints "ok <name>" or "FAIL <name>: <why>"; exits 0 only
when every check passed.
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


def flow(label, convs, n):
    tag = uuid.uuid4().hex[:8]
    c = convs.create(friendly_name=f"py messages {tag}", messaging_service_sid="MG" + "d" * 32)
    alice = convs(c.sid).participants.create(identity=f"alice {tag}")
    sms = convs(c.sid).participants.create(
        messaging_binding_address=f"+1415555{n}001", messaging_binding_proxy_address=f"+1415555{n}002"
    )
    msgs = convs(c.sid).messages
    m = msgs.create(author=alice.identity, body="héllo from python", attributes='{"py": true}')
    check(f"{label}: create", m.sid.startswith("IM") and m.index == 0 and m.body == "héllo from python", repr(m))
    check(f"{label}: author's participant", m.participant_sid == alice.sid, repr(m.participant_sid))
    check(f"{label}: delivery", m.delivery and m.delivery.get("total") == 1 and m.delivery.get("sent") == "all", repr(m.delivery))
    media = "ME" + uuid.uuid4().hex
    mm = msgs.create(media_sid=media)
    check(f"{label}: media", mm.body is None and mm.media and mm.media[0]["sid"] == media, repr(mm.media))
    old = msgs.create(body="imported", date_created=datetime.datetime(2020, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc))
    check(f"{label}: date override", old.date_created.year == 2020 and old.index == 2, repr(old.date_created))
    f = msgs(m.sid).fetch()
    check(f"{label}: fetch", f.sid == m.sid and f.attributes == '{"py": true}', repr(f))
    u = msgs(m.sid).update(body="edited")
    check(f"{label}: update", u.body == "edited" and u.index == 0, repr(u))
    for i in range(5):
        msgs.create(body=f"page {i}")
    asc = [x.index for x in msgs.stream(page_size=2)]
    desc = [x.index for x in msgs.stream(order="desc", page_size=3)]
    check(f"{label}: stream asc", asc == list(range(8)), repr(asc))
    check(f"{label}: stream desc", desc == list(range(7, -1, -1)), repr(desc))
    receipts = msgs(m.sid).delivery_receipts.list()
    check(f"{label}: receipts", len(receipts) == 1 and receipts[0].participant_sid == sms.sid and receipts[0].status == "sent", repr(receipts))
    one = msgs(m.sid).delivery_receipts(receipts[0].sid).fetch()
    check(f"{label}: receipt fetch", one.sid == receipts[0].sid and one.error_code == 0, repr(one))
    refused(f"{label}: nothing to send", lambda: msgs.create(author="x"), 400, 50503)
    check(f"{label}: delete", msgs(old.sid).delete() is True)
    refused(f"{label}: fetch deleted", lambda: msgs(old.sid).fetch(), 404, 20404)
    after = msgs.create(body="after the delete")
    check(f"{label}: no index reuse", after.index == 8, repr(after.index))
    convs(c.sid).update(state="closed")
    refused(f"{label}: closed", lambda: msgs.create(body="late"), 400, 50377)


client = Client(os.environ["ACCOUNT_SID"], os.environ["AUTH_TOKEN"])
base = os.environ["BASE_URL"]
client.conversations.base_url = base
v1 = client.conversations.v1
flow("short family", v1.conversations, 1)
flow("service family", v1.services(os.environ["SERVICE_SID"]).conversations, 2)
sys.exit(1 if failures else 0)
