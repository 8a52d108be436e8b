"""Booleans as twilio-python 7.x sends them (Python's True/False put straight into the form: "True", "False"),
against a Parley server: BASE_URL, ACCOUNT_SID, AUTH_TOKEN, SERVICE_SID from the environment.

Run by tests/e2e/python_sdk.test.mjs. Prints one JSON object with what the server answered; exits 0 only when
every call succeeded and every value came back as sent, else prints the failure and exits 1.
"""
import json
import os
import sys

from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client


def main():
    client = Client(os.environ["ACCOUNT_SID"], os.environ["AUTH_TOKEN"])
    client.conversations.base_url = os.environ["BASE_URL"]
    v1 = client.conversations.v1
    service = v1.services(os.environ["SERVICE_SID"])
    out = {}

    cred = v1.credentials.create(type="apn", friendly_name="py-apn", sandbox=True)
    out["create_sandbox"] = cred.sandbox
    cred = v1.credentials(cred.sid).update(sandbox=False)
    out["update_sandbox"] = cred.sandbox

    cfg = service.configuration().update(reachability_enabled=True)
    out["reachability_on"] = cfg.reachability_enabled
    cfg = service.configuration().update(reachability_enabled=False)
    out["reachability_off"] = cfg.reachability_enabled

    n = service.configuration.notifications().update(
        log_enabled=True,
        new_message_enabled=True,
        new_message_badge_count_enabled=True,
        new_message_with_media_enabled=True,
        added_to_conversation_enabled=True,
        removed_from_conversation_enabled=False,
    )
    out["notifications"] = {
        "log_enabled": n.log_enabled,
        "new_message": n.new_message,
        "added_to_conversation": n.added_to_conversation,
        "removed_from_conversation": n.removed_from_conversation,
    }

    print(json.dumps(out, sort_keys=True))

    want = {
        "create_sandbox": "True",
        "update_sandbox": "False",
        "reachability_on": True,
        "reachability_off": False,
    }
    for key, value in want.items():
        if out[key] != value:
            print(f"{key}: got {out[key]!r}, want {value!r}", file=sys.stderr)
            return 1
    nm = n.new_message
    if not (n.log_enabled is True and nm.get("enabled") is True and nm.get("badge_count_enabled") is True
            and nm.get("with_media", {}).get("enabled") is True
            and n.added_to_conversation.get("enabled") is True
            and n.removed_from_conversation.get("enabled") is False):
        print(f"notifications not as sent: {out['notifications']}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except TwilioRestException as e:
        print(f"TwilioRestException {e.status} {e.code}: {e.msg} ({e.method} {e.uri})", file=sys.stderr)
        sys.exit(1)
