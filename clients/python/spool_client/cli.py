"""The ``spool`` command line, for shell pipelines. Errors go to standard error with the problem's code, and the
exit status is non-zero (2 for usage, 1 for everything else)."""

from __future__ import annotations

import argparse
import getpass
import json
import os
import signal
import sys
import threading
from typing import List, Optional

from . import Client, SpoolError


def _client(args: argparse.Namespace) -> Client:
    if args.token:
        return Client(args.url, token=args.token, ca_file=args.ca_file)
    user = args.user or os.environ.get("SPOOL_USER")
    if not user:
        raise SpoolError(0, "NO_CREDENTIALS", "give --user (password from SPOOL_PASSWORD or a prompt) or --token")
    password = os.environ.get("SPOOL_PASSWORD")
    if password is None:
        password = getpass.getpass(f"Password for {user}: ")
    return Client(args.url, user=user, password=password, ca_file=args.ca_file)


def _messages(lines) -> "iter":
    for n, line in enumerate(lines, 1):
        line = line.strip()
        if not line:
            continue
        try:
            m = json.loads(line)
        except ValueError as e:
            raise SpoolError(0, "BAD_INPUT", f"line {n} is not JSON: {e}")
        if not isinstance(m, dict) or "body" not in m:
            raise SpoolError(0, "BAD_INPUT", f'line {n} must be {{"body": ..., "metadata": ...}}')
        yield m


def _print(obj) -> None:
    sys.stdout.write(json.dumps(obj, separators=(",", ":")) + "\n")
    sys.stdout.flush()


def _tail(c: Client, queue: str, batch: int, subscription: Optional[str] = None) -> None:
    stop = threading.Event()
    held: List = []

    def interrupted(signum, frame):
        stop.set()
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, interrupted)
    signal.signal(signal.SIGTERM, interrupted)
    try:
        while not stop.is_set():
            held = c.lease(queue, max=batch, wait=20, subscription=subscription)
            for lease in list(held):
                _print({"id": lease.id, "delivery": lease.delivery, "body": lease.body, "metadata": lease.metadata})
                lease.ack()
                held.remove(lease)
    except KeyboardInterrupt:
        if held:
            c.nack(queue, [l.lease for l in held], subscription=subscription)  # released for others at once
    except BrokenPipeError:
        if held:
            c.nack(queue, [l.lease for l in held], subscription=subscription)


def main(argv: Optional[List[str]] = None) -> int:
    p = argparse.ArgumentParser(prog="spool", description="Command line for the Spool broker.")
    p.add_argument("--url", default=os.environ.get("SPOOL_URL", "http://127.0.0.1:7500"))
    p.add_argument("--user", help="sign in as USER (password from SPOOL_PASSWORD, else asked for)")
    p.add_argument("--token", default=os.environ.get("SPOOL_TOKEN"), help="a token from /login instead")
    p.add_argument("--ca-file", help="a CA certificate (PEM) to trust for https")
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("queues", help="queue names, one per line")
    cr = sub.add_parser("create", help="create a queue")
    cr.add_argument("name")
    cr.add_argument("--type", choices=["transaction", "result"])
    cr.add_argument("--max-length", type=int)
    for name in ("delete", "stats"):
        sub.add_parser(name).add_argument("name")
    rd = sub.add_parser("redrive", help="move dead letters back (a subscription's: to it alone)")
    rd.add_argument("name")
    rd.add_argument("--subscription", "-s")
    sub.add_parser("subscriptions", help="a queue's named subscriptions, as NDJSON").add_argument("name")

    def start_options(sp: argparse.ArgumentParser) -> None:
        g = sp.add_mutually_exclusive_group()
        g.add_argument("--start", choices=["earliest", "latest"])
        g.add_argument("--id", type=int, help="from this message id")
        g.add_argument("--from-time", help="from this time (RFC 3339, e.g. 2026-12-07T10:00:00Z)")

    sb = sub.add_parser("subscribe", help="create a named subscription of a queue (default: from the next message)")
    sb.add_argument("name")
    sb.add_argument("subscription")
    start_options(sb)
    sb.add_argument("--max-deliveries", type=int)
    sb.add_argument("--dead-letter-queue")
    sb.add_argument("--paused", action="store_true")
    sk = sub.add_parser("seek", help="move a subscription (the replay): it re-delivers from there")
    sk.add_argument("name")
    sk.add_argument("subscription")
    start_options(sk)
    for name, what in (("unsubscribe", "delete a named subscription"), ("pause", "pause a subscription"),
                       ("resume", "resume a subscription")):
        sp = sub.add_parser(name, help=what)
        sp.add_argument("name")
        sp.add_argument("subscription")
    pu = sub.add_parser("push", help='push NDJSON from stdin, one {"body","metadata"} a line; prints the ids')
    pu.add_argument("name")
    pu.add_argument("--batch", type=int, default=500)
    pl = sub.add_parser("pull", help="pull messages for good, printed as NDJSON")
    pl.add_argument("name")
    pl.add_argument("--max", type=int, default=1)
    pl.add_argument("--wait", type=int, default=0)
    pl.add_argument("--subscription", "-s", help="through this named subscription")
    ta = sub.add_parser("tail", help="lease, print as NDJSON, ack after printing; Ctrl-C releases what it holds")
    ta.add_argument("name")
    ta.add_argument("--batch", type=int, default=10)
    ta.add_argument("--subscription", "-s", help="through this named subscription")
    args = p.parse_args(argv)
    try:
        c = _client(args)
        with c:
            if args.command == "queues":
                for q in c.queues():
                    print(q)
            elif args.command == "create":
                c.create(args.name, type=args.type, max_length=args.max_length)
            elif args.command == "delete":
                c.delete(args.name)
            elif args.command == "stats":
                _print(c.stats(args.name))
            elif args.command == "redrive":
                print(c.redrive(args.name, args.subscription))
            elif args.command == "subscriptions":
                for s in c.subscriptions(args.name):
                    _print(s)
            elif args.command == "subscribe":
                _print(c.create_subscription(args.name, args.subscription, start=args.start, id=args.id,
                                             from_time=args.from_time, max_deliveries=args.max_deliveries,
                                             dead_letter_queue=args.dead_letter_queue,
                                             paused=True if args.paused else None))
            elif args.command == "seek":
                if args.start is None and args.id is None and args.from_time is None:
                    raise SpoolError(0, "USAGE", "seek needs --start, --id or --from-time")
                _print(c.seek(args.name, args.subscription, start=args.start, id=args.id, from_time=args.from_time))
            elif args.command == "unsubscribe":
                c.delete_subscription(args.name, args.subscription)
            elif args.command == "pause":
                _print(c.pause_subscription(args.name, args.subscription))
            elif args.command == "resume":
                _print(c.resume_subscription(args.name, args.subscription))
            elif args.command == "push":
                for i in c.push_batch(args.name, _messages(sys.stdin), args.batch):
                    print(i)
            elif args.command == "pull":
                for m in c.pull_batch(args.name, args.max, args.wait, args.subscription):
                    _print({"id": m.id, "body": m.body, "metadata": m.metadata})
            elif args.command == "tail":
                _tail(c, args.name, args.batch, args.subscription)
        return 0
    except SpoolError as e:
        sys.stderr.write(f"spool: {e.code}: {e.detail}\n")
        return 1
