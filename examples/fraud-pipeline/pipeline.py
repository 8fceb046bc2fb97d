#!/usr/bin/env python3
"""The fraud-scoring pipeline on Spool, end to end, with a failure drill.

    python3 examples/fraud-pipeline/pipeline.py run                     # 20,000 transactions, 4 producers, 3 workers
    python3 examples/fraud-pipeline/pipeline.py run --drill             # and SIGKILL a worker and the broker midway

Producers (HPC nodes) push Transactions in batches into the typed queue `transactions`; scoring workers (separate
processes) lease them, score each with a small logistic regression (standard library only), push a Result into
the typed queue `results` with the transaction id as idempotency key (a batch per lease batch), then ack; a checker drains `results` and
verifies exactly one result per transaction. `run` starts its own broker from the jar, in a temp folder.
"""

import argparse
import math
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "clients", "python"))

from spool_client import Client, Result, SpoolError, Transaction  # noqa: E402

# A logistic regression with fixed weights: large amounts, refused status and unusual vendors raise the risk.
WEIGHTS = {"bias": -4.0, "amount": 0.0009, "status_refused": 2.5, "status_pending": 0.6, "vendor_risk": 1.8,
           "role_basic": 0.4}


def score(body):
    """The model: P(fraud) for one transaction body; returns (is_fraudulent, confidence)."""
    vendor_risk = (sum(ord(ch) for ch in body["vendor_id"]) % 10) / 10
    z = (WEIGHTS["bias"] + WEIGHTS["amount"] * body["amount"] + WEIGHTS["status_refused"] * (body["status"] == 2)
         + WEIGHTS["status_pending"] * (body["status"] == 1) + WEIGHTS["vendor_risk"] * vendor_risk
         + WEIGHTS["role_basic"] * (body["customer"]["role"] == 0))
    p = 1 / (1 + math.exp(-z))
    return p >= 0.5, round(max(p, 1 - p), 4)


def client(url):
    # Generous retries: the drill restarts the broker under the clients' feet.
    return Client(url, user="admin", password=os.environ["SPOOL_PASSWORD"], retries=12, backoff=0.2)


def produce(url, node, count, batch):
    rng = random.Random(node)
    with client(url) as c:
        def txs():
            for i in range(count):
                yield Transaction(f"tx-{node}-{i}", user_id=rng.randrange(1, 10_000), username=f"user{node}",
                                  role=rng.randrange(0, 4), status=rng.choice([0, 0, 0, 1, 2]),
                                  vendor_id=f"v-{rng.randrange(1, 500)}", amount=round(rng.uniform(1, 5000), 2))
        c.push_batch("transactions", txs(), batch_size=batch)


def work(url, batch):
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: stop.set())
    with client(url) as c:
        while not stop.is_set():
            leases = c.lease("transactions", max=batch, wait=1, visibility=5)
            if not leases:
                continue
            results = []
            for lease in leases:
                fraud, confidence = score(lease.body)
                tx = lease.body["transaction_id"]
                stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
                # The transaction id as idempotency key: a redelivered transaction's result is not stored twice.
                results.append({"body": Result(f"r-{tx}", tx, stamp, fraud, confidence),
                                "metadata": {"idempotency_key": tx}})
            c.push_batch("results", results, batch_size=len(results))
            c.ack("transactions", [lease.lease for lease in leases])


def check(url, expected):
    """Drains `results`; returns (results seen, duplicates, missing)."""
    seen = {}
    with client(url) as c:
        while True:
            got = c.pull_batch("results", max=1000, wait=1)
            if not got:
                break
            for m in got:
                seen[m.body["transaction_id"]] = seen.get(m.body["transaction_id"], 0) + 1
    duplicates = sum(n - 1 for n in seen.values() if n > 1)
    missing = len(expected - set(seen))
    return len(seen), duplicates, missing


class Broker:
    def __init__(self, jar, directory, port):
        self.jar, self.dir, self.port = jar, directory, port
        self.password = None
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(["java", "-jar", self.jar, "--config", os.path.join(self.dir, "config.yaml")],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=self.dir)
        ready = threading.Event()

        def read():
            for line in self.proc.stdout:
                m = re.search(r"password: (\S+)", line)
                if m:
                    self.password = m.group(1)
                if "listening on http://" in line:
                    ready.set()
            ready.set()

        threading.Thread(target=read, daemon=True).start()
        if not ready.wait(60) or self.proc.poll() is not None:
            raise RuntimeError("the broker did not start")

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        self.proc.terminate()
        self.proc.wait(30)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(args):
    directory = tempfile.mkdtemp(prefix="spool-pipeline-")
    port = free_port()
    with open(os.path.join(directory, "config.yaml"), "w") as f:
        f.write(f"server:\n  port: {port}\nQueueManager:\n  max_length: 10000000\n"
                f"audit:\n  body: omit\nstorage:\n  fsync: {args.fsync}\n")
    broker = Broker(args.jar, directory, port)
    procs = []
    try:
        broker.start()
        os.environ["SPOOL_PASSWORD"] = broker.password
        url = f"http://127.0.0.1:{port}"
        with client(url) as c:
            c.create("transactions", type="transaction", max_length=10_000_000, max_deliveries=0)
            c.create("results", type="result", max_length=10_000_000)
        per = args.transactions // args.producers
        expected = {f"tx-{n}-{i}" for n in range(args.producers) for i in range(per)}
        me = [sys.executable, os.path.abspath(__file__)]
        started = time.monotonic()
        workers = [subprocess.Popen(me + ["work", "--url", url, "--batch", str(args.batch)])
                   for _ in range(args.workers)]
        producers = [subprocess.Popen(me + ["produce", "--url", url, "--node", str(n), "--count", str(per),
                                            "--batch", str(args.batch)]) for n in range(args.producers)]
        procs = workers + producers
        drilled = {"worker": False, "broker": False}
        with client(url) as c:
            while True:
                done = c.stats("results")["total_pushed"]
                if args.drill and not drilled["worker"] and done >= len(expected) // 4:
                    workers[0].send_signal(signal.SIGKILL)  # its leases come back after their visibility
                    drilled["worker"] = True
                    print(f"drill: worker killed (SIGKILL) at {done} results", flush=True)
                if args.drill and not drilled["broker"] and done >= len(expected) // 2:
                    broker.kill()
                    print(f"drill: broker killed (SIGKILL) at {done} results; restarting it", flush=True)
                    broker.start()
                    drilled["broker"] = True
                    continue
                if done >= len(expected):
                    break
                if all(p.poll() is not None for p in workers):
                    raise RuntimeError("every worker died")
                time.sleep(0.2)
        elapsed = time.monotonic() - started
        for p in producers:
            if p.wait(60) != 0:
                raise RuntimeError("a producer failed")
        for p in workers:
            p.send_signal(signal.SIGTERM)
        for p in workers:
            p.wait(30)
        results, duplicates, missing = check(url, expected)
        print(f"{len(expected)} transactions scored end to end in {elapsed:.1f} s: {len(expected) / elapsed:.0f}/s "
              f"({args.producers} producers, {args.workers} workers, batches of {args.batch}, fsync {args.fsync})")
        print(f"check: {results} results for {len(expected)} transactions, {duplicates} duplicates, {missing} missing")
        ok = results == len(expected) and duplicates == 0 and missing == 0
        print("exactly one result per transaction" if ok else "FAILED: not exactly one result per transaction")
        return 0 if ok else 1
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
        if broker.proc is not None and broker.proc.poll() is None:
            broker.stop()
        shutil.rmtree(directory, ignore_errors=True)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="start a broker, producers, workers and the checker")
    r.add_argument("--jar", default=os.path.join(ROOT, "broker", "target", "spool-broker.jar"))
    r.add_argument("--transactions", type=int, default=20_000)
    r.add_argument("--producers", type=int, default=4)
    r.add_argument("--workers", type=int, default=3)
    r.add_argument("--batch", type=int, default=100)
    r.add_argument("--fsync", default="none", choices=["none", "interval", "always"])
    r.add_argument("--drill", action="store_true", help="SIGKILL a worker, then the broker (restarted), midway")
    pr = sub.add_parser("produce")
    pr.add_argument("--url", required=True)
    pr.add_argument("--node", type=int, required=True)
    pr.add_argument("--count", type=int, required=True)
    pr.add_argument("--batch", type=int, default=100)
    w = sub.add_parser("work")
    w.add_argument("--url", required=True)
    w.add_argument("--batch", type=int, default=100)
    args = p.parse_args()
    try:
        if args.command == "run":
            return run(args)
        if args.command == "produce":
            produce(args.url, args.node, args.count, args.batch)
        elif args.command == "work":
            work(args.url, args.batch)
        return 0
    except SpoolError as e:
        sys.stderr.write(f"pipeline: {e.code}: {e.detail}\n")
        return 1


if __name__ == "__main__":
    sys.exit(main())
