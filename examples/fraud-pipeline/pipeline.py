#!/usr/bin/env python3
"""The fraud-scoring pipeline on Spool, end to end, with a failure drill.

    python3 examples/fraud-pipeline/pipeline.py run                     # 20,000 transactions, 4 producers, 3 workers
    python3 examples/fraud-pipeline/pipeline.py run --drill             # and SIGKILL a worker and the broker midway
    python3 examples/fraud-pipeline/pipeline.py run --replay 5000       # and model v2 re-scores the last 5,000

Producers (HPC nodes) push Transactions in batches into the typed queue `transactions`; scoring workers (separate
processes) lease them, score each with a small logistic regression (standard library only), push a Result into
the typed queue `results` with the transaction id as idempotency key (a batch per lease batch), then ack; a checker drains `results` and
verifies exactly one result per transaction. `run` starts its own broker from the jar, in a temp folder.

With --replay N, once the producers are done and while v1's workers keep scoring, a named subscription `v2` of
`transactions` is created at a past message id (the last N transactions), v2's workers (a second model) lease
through it and push into `results-v2`, and a report compares the two models per transaction: v1's workers lose
nothing to v2 (a subscription receives every message; it takes none from the queue).
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


# Model v2, retrained: it weighs the amount more and the vendor less.
WEIGHTS_V2 = dict(WEIGHTS, amount=0.0012, vendor_risk=1.2)
MODELS = {"v1": WEIGHTS, "v2": WEIGHTS_V2}


def score(body, model="v1"):
    """The model: P(fraud) for one transaction body; returns (is_fraudulent, confidence)."""
    w = MODELS[model]
    vendor_risk = (sum(ord(ch) for ch in body["vendor_id"]) % 10) / 10
    z = (w["bias"] + w["amount"] * body["amount"] + w["status_refused"] * (body["status"] == 2)
         + w["status_pending"] * (body["status"] == 1) + w["vendor_risk"] * vendor_risk
         + w["role_basic"] * (body["customer"]["role"] == 0))
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


def work(url, batch, model="v1", subscription=None, results_queue="results"):
    """Scores transactions with ``model``: from the queue itself (v1), or through a named ``subscription`` (v2)."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: stop.set())
    with client(url) as c:
        while not stop.is_set():
            leases = c.lease("transactions", max=batch, wait=1, visibility=5, subscription=subscription)
            if not leases:
                continue
            results = []
            for lease in leases:
                fraud, confidence = score(lease.body, model)
                tx = lease.body["transaction_id"]
                stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
                # The transaction id as idempotency key: a redelivered transaction's result is not stored twice.
                results.append({"body": Result(f"r-{model}-{tx}", tx, stamp, fraud, confidence),
                                "metadata": {"idempotency_key": tx, "model": model, "message_id": lease.id}})
            c.push_batch(results_queue, results, batch_size=len(results))
            c.ack("transactions", [lease.lease for lease in leases], subscription=subscription)


def drain(url, queue):
    """Every result in ``queue``: transaction id -> the list of its results (body and metadata)."""
    seen = {}
    with client(url) as c:
        while True:
            got = c.pull_batch(queue, max=1000, wait=1)
            if not got:
                break
            for m in got:
                seen.setdefault(m.body["transaction_id"], []).append((m.body, m.metadata))
    return seen


def check(url, expected):
    """Drains `results`; returns (results seen, duplicates, missing) and the results by transaction."""
    seen = drain(url, "results")
    duplicates = sum(len(r) - 1 for r in seen.values() if len(r) > 1)
    missing = len(expected - set(seen))
    return len(seen), duplicates, missing, seen


def compare(v1, v2, replayed_from, replayed):
    """The replay's report: v2's results against v1's, per transaction. Returns (ok, lines)."""
    dup = sum(len(r) - 1 for r in v2.values() if len(r) > 1)
    ids = sorted(meta["message_id"] for r in v2.values() for _, meta in r)
    early = sum(1 for i in ids if i < replayed_from)
    no_v1 = sum(1 for tx in v2 if tx not in v1)
    both = [tx for tx in v2 if tx in v1]
    agree = sum(1 for tx in both if v1[tx][0][0]["is_fraudulent"] == v2[tx][0][0]["is_fraudulent"])
    v2_more = sum(1 for tx in both if v2[tx][0][0]["is_fraudulent"] and not v1[tx][0][0]["is_fraudulent"])
    v2_fewer = len(both) - agree - v2_more
    lines = [f"replay: v2 scored {len(v2)} transactions from message id {replayed_from} "
             f"({replayed} replayed), {dup} duplicates, {early} from before the replay point, {no_v1} without a v1 result",
             f"compare: v1 and v2 agree on {agree}, v2 flags {v2_more} more and {v2_fewer} fewer as fraudulent"]
    ok = len(v2) == replayed and dup == 0 and early == 0 and no_v1 == 0
    lines.append("exactly one result per transaction per model version" if ok
                 else "FAILED: not exactly one v2 result per replayed transaction")
    return ok, lines


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
            if args.replay:
                c.create("results-v2", type="result", max_length=10_000_000)
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
        replay = None
        with client(url) as c:
            while True:
                if args.replay and replay is None and all(p.poll() is not None for p in producers):
                    # Every transaction is in; v1 keeps scoring. v2 starts at a past id: the last N messages (the
                    # id a subscription at "latest" is at is the newest message's).
                    probe = c.create_subscription("transactions", "probe", start="latest")
                    c.delete_subscription("transactions", "probe")
                    start = max(1, probe["position"] - args.replay + 1)
                    v2 = c.create_subscription("transactions", "v2", id=start, max_deliveries=0)
                    replay = (start, v2["backlog"], time.monotonic())
                    print(f"replay: subscription v2 created at message id {start} with {v2['backlog']} messages "
                          f"to score while v1 has {c.stats('results')['total_pushed']} results", flush=True)
                    workers += [subprocess.Popen(me + ["work", "--url", url, "--batch", str(args.batch), "--model",
                                                       "v2", "--subscription", "v2", "--results", "results-v2"])
                                for _ in range(args.workers)]
                    procs = workers + producers
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
                if done >= len(expected) and (not args.replay or (replay is not None and c.stats("results-v2")[
                        "total_pushed"] >= replay[1])):
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
        results, duplicates, missing, v1 = check(url, expected)
        print(f"{len(expected)} transactions scored end to end in {elapsed:.1f} s: {len(expected) / elapsed:.0f}/s "
              f"({args.producers} producers, {args.workers} workers, batches of {args.batch}, fsync {args.fsync})")
        print(f"check: {results} results for {len(expected)} transactions, {duplicates} duplicates, {missing} missing")
        ok = results == len(expected) and duplicates == 0 and missing == 0
        print("exactly one result per transaction" if ok else "FAILED: not exactly one result per transaction")
        if args.replay:
            replay_ok, lines = compare(v1, drain(url, "results-v2"), replay[0], replay[1])
            for line in lines:
                print(line)
            ok = ok and replay_ok
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
    r.add_argument("--replay", type=int, default=0, metavar="N",
                   help="model v2 re-scores the last N transactions through a subscription while v1 runs")
    pr = sub.add_parser("produce")
    pr.add_argument("--url", required=True)
    pr.add_argument("--node", type=int, required=True)
    pr.add_argument("--count", type=int, required=True)
    pr.add_argument("--batch", type=int, default=100)
    w = sub.add_parser("work")
    w.add_argument("--url", required=True)
    w.add_argument("--batch", type=int, default=100)
    w.add_argument("--model", default="v1", choices=sorted(MODELS))
    w.add_argument("--subscription")
    w.add_argument("--results", default="results")
    args = p.parse_args()
    try:
        if args.command == "run":
            return run(args)
        if args.command == "produce":
            produce(args.url, args.node, args.count, args.batch)
        elif args.command == "work":
            work(args.url, args.batch, args.model, args.subscription, args.results)
        return 0
    except SpoolError as e:
        sys.stderr.write(f"pipeline: {e.code}: {e.detail}\n")
        return 1


if __name__ == "__main__":
    sys.exit(main())
