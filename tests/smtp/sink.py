#!/usr/bin/env python3
"""A real SMTP server for Tomoni's tests (aiosmtpd), on 127.0.0.1 and a free port.

Prints the port it listens on as the first line of stdout, then writes each message it accepts
to DIR as NNNN.json ({"mail_from", "rcpt_tos", "subject", "body", "raw"}, subject and body
decoded). While DIR/refuse exists it answers DATA with 451 (a relay that refuses for now). Exits
when its stdin closes, so a test that dies does not leave it behind.
"""

import argparse
import asyncio
import email
import email.policy
import json
import os
import sys
import threading

try:
    from aiosmtpd.smtp import SMTP
except ImportError:
    sys.stderr.write(
        "aiosmtpd is missing: python3 -m pip install aiosmtpd==1.4.6\n"
    )
    sys.exit(3)


class Sink:
    def __init__(self, directory):
        self.directory = directory
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        if os.path.exists(os.path.join(self.directory, "refuse")):
            return "451 4.3.0 Refused for the test"
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        body = message.get_body(preferencelist=("plain",))
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "subject": str(message["subject"] or ""),
            "body": body.get_content() if body is not None else "",
            "raw": envelope.content.decode("utf-8", errors="replace"),
        }
        self.count += 1
        path = os.path.join(self.directory, "%04d.json" % self.count)
        with open(path + ".tmp", "w", encoding="utf-8") as out:
            json.dump(record, out, ensure_ascii=False)
        os.replace(path + ".tmp", path)
        return "250 2.0.0 OK"


def exit_when_stdin_closes():
    sys.stdin.read()
    os._exit(0)


async def main(directory):
    handler = Sink(directory)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(handler, hostname="tomoni-test-sink"), "127.0.0.1", 0
    )
    port = server.sockets[0].getsockname()[1]
    print(port, flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", required=True)
    args = parser.parse_args()
    threading.Thread(target=exit_when_stdin_closes, daemon=True).start()
    asyncio.run(main(args.dir))
