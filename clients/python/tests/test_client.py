"""The Python client and its command line against a real broker started from the built jar.

Run: python3 -m unittest discover -s clients/python/tests -t clients/python (the broker jar from
SPOOL_BROKER_JAR, default broker/target/spool-broker.jar; ./mvnw verify runs this through PythonClientTest).
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
PACKAGE_ROOT = os.path.dirname(HERE)
sys.path.insert(0, PACKAGE_ROOT)

from spool_client import Client, LeaseLost, Result, SpoolError, Transaction  # noqa: E402

JAR = os.environ.get("SPOOL_BROKER_JAR",
                     os.path.join(PACKAGE_ROOT, "..", "..", "broker", "target", "spool-broker.jar"))


class Broker:
    """A broker process on a free port in a temp folder; the admin password from its first start."""

    def __init__(self, extra_config: str = "") -> None:
        self.dir = tempfile.mkdtemp(prefix="spool-py-")
        config = os.path.join(self.dir, "config.yaml")
        with open(config, "w") as f:
            f.write("server:\n  port: 0\n" + extra_config)
        self.proc = subprocess.Popen(["java", "-jar", JAR, "--config", config], stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True, cwd=self.dir)
        self.log = []
        self.port = None
        self.password = None
        ready = threading.Event()

        def read() -> None:
            for line in self.proc.stdout:
                self.log.append(line)
                m = re.search(r"password: (\S+)", line)
                if m:
                    self.password = m.group(1)
                m = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
                if m:
                    self.port = int(m.group(1))
                    ready.set()
            ready.set()

        threading.Thread(target=read, daemon=True).start()
        if not ready.wait(60) or self.port is None:
            self.stop()
            raise RuntimeError("broker did not start:\n" + "".join(self.log))
        self.url = f"http://127.0.0.1:{self.port}"

    def admin(self, **kw) -> Client:
        return Client(self.url, user="admin", password=self.password, **kw)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


def setUpModule() -> None:
    global BROKER
    BROKER = Broker()


def tearDownModule() -> None:
    BROKER.stop()


def eventually(check, timeout: float = 10.0):
    """Polls ``check`` until it returns a true value (or the timeout passes) and returns that value."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.05)


class ClientTest(unittest.TestCase):
    def setUp(self) -> None:
        self.c = BROKER.admin()
        self.q = self.id().split(".")[-1].replace("_", "-")[:60]
        self.c.create(self.q, max_length=1000)

    def tearDown(self) -> None:
        self.c.close()

    def test_queues_create_stats_delete(self) -> None:
        self.assertIn(self.q, self.c.queues())
        self.c.create("typed-" + self.q, type="transaction", max_length=5)
        stats = self.c.stats("typed-" + self.q)
        self.assertEqual((stats["type"], stats["max_length"], stats["depth"]), ("transaction", 5, 0))
        self.c.delete("typed-" + self.q)
        with self.assertRaises(SpoolError) as e:
            self.c.stats("typed-" + self.q)
        self.assertEqual((e.exception.status, e.exception.code), (404, "QUEUE_NOT_FOUND"))

    def test_push_and_pull_in_order_with_long_polls(self) -> None:
        first = self.c.push(self.q, {"n": 1}, {"node": "hpc-1"})
        self.c.push(self.q, {"n": 2})
        m = self.c.pull(self.q)
        self.assertEqual((m.id, m.body, m.metadata), (first, {"n": 1}, {"node": "hpc-1"}))
        self.assertEqual([x.body for x in self.c.pull_batch(self.q, max=10)], [{"n": 2}])
        self.assertIsNone(self.c.pull(self.q))
        other = BROKER.admin()
        threading.Timer(0.5, lambda: other.push(self.q, {"n": 3})).start()
        started = time.monotonic()
        m = self.c.pull(self.q, wait=10)
        self.assertEqual(m.body, {"n": 3})
        self.assertLess(time.monotonic() - started, 8, "the long poll returned when the push came")
        other.close()

    def test_batches_are_chunked_and_idempotent(self) -> None:
        ids = self.c.push_batch(self.q, ({"body": {"n": i}, "metadata": {"i": i}} for i in range(25)), batch_size=10)
        self.assertEqual(len(ids), 25)
        self.assertEqual(ids, sorted(ids))
        key = "same-key-" + self.q
        a = self.c.push(self.q, {"x": 1}, idempotency_key=key)
        b = self.c.push(self.q, {"x": 1}, idempotency_key=key)
        self.assertEqual(a, b)
        self.assertEqual(self.c.stats(self.q)["depth"], 26, "a retried push is stored once")

    def test_leases_ack_on_success_and_nack_on_exception(self) -> None:
        self.c.push(self.q, {"job": 1})
        with self.c.lease(self.q, visibility=30)[0] as lease:
            self.assertEqual((lease.body, lease.delivery), ({"job": 1}, 1))
        self.assertEqual(self.c.stats(self.q)["depth"], 0, "acked when the block ended")
        self.c.push(self.q, {"job": 2})
        with self.assertRaises(RuntimeError):
            for lease in self.c.leases(self.q, max=1, wait=1):
                with lease:
                    raise RuntimeError("the worker failed")
        again = self.c.lease(self.q, wait=1)[0]
        self.assertEqual((again.body, again.delivery), ({"job": 2}, 2), "nacked, so delivered again")
        self.assertTrue(again.renew(60))
        self.assertTrue(again.nack(delay_seconds=1))
        self.assertEqual(self.c.lease(self.q), [], "delayed")
        later = eventually(lambda: self.c.lease(self.q))
        self.assertEqual(later[0].delivery, 3)
        self.assertTrue(later[0].ack())
        self.assertFalse(later[0].ack(), "an ack of a settled lease is refused")

    def test_subscriptions_replay_and_leases_through_them(self) -> None:
        ids = self.c.push_batch(self.q, [{"n": i} for i in range(1, 6)])
        v2 = self.c.create_subscription(self.q, "v2", id=ids[2])
        self.assertEqual((v2["name"], v2["backlog"]), ("v2", 3))
        self.c.create_subscription(self.q, "v1", start="earliest")
        self.assertEqual(sorted(s["name"] for s in self.c.subscriptions(self.q)), ["v1", "v2"])
        self.assertEqual([m.body["n"] for m in self.c.pull_batch(self.q, 10, subscription="v2")], [3, 4, 5])
        with self.c.lease(self.q, max=1, subscription="v1")[0] as lease:
            self.assertEqual((lease.body, lease.subscription), ({"n": 1}, "v1"))
        self.assertEqual(self.c.subscription(self.q, "v1")["backlog"], 4, "acked through v1 by the with block")
        self.assertEqual(self.c.stats(self.q)["depth"], 5, "the queue's own backlog is untouched")
        self.c.seek(self.q, "v2", start="earliest")
        self.assertEqual([m.body["n"] for m in self.c.pull_batch(self.q, 10, subscription="v2")], [1, 2, 3, 4, 5])
        self.assertTrue(self.c.pause_subscription(self.q, "v2")["paused"])
        self.assertFalse(self.c.resume_subscription(self.q, "v2")["paused"])
        self.c.delete_subscription(self.q, "v2")
        with self.assertRaises(SpoolError) as e:
            self.c.pull(self.q, subscription="v2")
        self.assertEqual((e.exception.status, e.exception.code), (404, "SUBSCRIPTION_NOT_FOUND"))
        with self.assertRaises(SpoolError) as e:
            self.c.seek(self.q, "v1", id=10_000)
        self.assertEqual(e.exception.code, "BAD_START")

    def test_auto_renew_keeps_a_long_job_leased(self) -> None:
        self.c.push(self.q, {"long": True})
        lease = self.c.lease(self.q, visibility=1)[0].auto_renew(visibility_seconds=1, every_seconds=0.3)
        deadline = time.monotonic() + 2.5
        with BROKER.admin() as other:
            while time.monotonic() < deadline:  # the job runs past its 1 s visibility
                self.assertEqual(other.lease(self.q), [], "still leased")
                time.sleep(0.2)
        self.assertTrue(lease.ack())

    def test_a_refused_auto_renewal_is_raised_not_swallowed(self) -> None:
        # Issue 21: the auto-renewal used to stop silently when a renewal was refused, so a long job ran on while
        # another worker got its message. Renewing every 1.5 s a lease visible for 1 s: the first renewal finds it
        # expired.
        self.c.push(self.q, {"slow": True})
        errors = []
        lease = self.c.lease(self.q, visibility=1)[0].auto_renew(visibility_seconds=1, every_seconds=1.5,
                                                                  on_error=errors.append)
        eventually(lambda: errors)
        self.assertIsInstance(errors[0], LeaseLost)
        self.assertIs(lease.renewal_error, errors[0])
        with self.assertRaises(LeaseLost):
            lease.check()
        with self.assertRaises(LeaseLost):
            with lease:
                pass  # the job ends; acking its lost lease raises
        again = self.c.lease(self.q)[0]
        self.assertEqual((again.body, again.delivery), ({"slow": True}, 2), "delivered again, as the error said")
        again.ack()

    def test_errors_carry_the_problem(self) -> None:
        with self.assertRaises(SpoolError) as e:
            self.c.push("no-such-queue", {"n": 1})
        self.assertEqual((e.exception.status, e.exception.code), (404, "QUEUE_NOT_FOUND"))
        self.c.create("tx-" + self.q, type="transaction")
        with self.assertRaises(SpoolError) as e:
            self.c.push("tx-" + self.q, {"amount": 1})
        self.assertEqual((e.exception.status, e.exception.code), (422, "SCHEMA_VIOLATION"))
        self.assertIn("transaction_id", e.exception.detail)

    def test_typed_models_match_the_broker_validation(self) -> None:
        self.c.create("tx2-" + self.q, type="transaction")
        self.c.create("res-" + self.q, type="result")
        t = Transaction("t-1", user_id=7, username="ann", role=3, status=0, vendor_id="v-9", amount=12.5)
        self.c.push("tx2-" + self.q, t)
        self.c.push("res-" + self.q, Result("r-1", "t-1", "2026-11-30T10:00:00Z", False, 0.93))
        self.assertEqual(self.c.pull("tx2-" + self.q).body["customer"]["username"], "ann")

    def test_signs_in_again_after_a_401(self) -> None:
        self.c.queues()
        self.c.token = "revoked-or-expired"
        self.assertIn(self.q, self.c.queues())
        with self.assertRaises(SpoolError) as e:
            Client(BROKER.url, token="nonsense").queues()
        self.assertEqual(e.exception.code, "UNAUTHORIZED")

    def test_429_is_retried_after_its_retry_after(self) -> None:
        self.c.create("full-" + self.q, max_length=1)
        self.c.push("full-" + self.q, {"n": 1})
        drainer = BROKER.admin()
        threading.Timer(0.3, lambda: drainer.pull("full-" + self.q)).start()
        started = time.monotonic()
        self.c.push("full-" + self.q, {"n": 2})  # 429 QUEUE_FULL, Retry-After 1, then stored
        self.assertGreaterEqual(time.monotonic() - started, 0.9, "waited as Retry-After said")
        self.assertEqual(self.c.stats("full-" + self.q)["depth"], 1)
        no_retry = BROKER.admin(retries=0)
        with self.assertRaises(SpoolError) as e:
            no_retry.push("full-" + self.q, {"n": 3})
        self.assertEqual((e.exception.status, e.exception.code, e.exception.retry_after), (429, "QUEUE_FULL", 1.0))
        drainer.close()

    def test_connection_errors_are_retried_then_reported(self) -> None:
        dead = Client("http://127.0.0.1:9", token="t", retries=2, backoff=0.01)
        with self.assertRaises(SpoolError) as e:
            dead.queues()
        self.assertEqual((e.exception.status, e.exception.code), (0, "CONNECTION_FAILED"))

    def test_redrive_and_users(self) -> None:
        self.c.create("dl-" + self.q, max_deliveries=1)
        self.c.push("dl-" + self.q, {"poison": True})
        self.c.lease("dl-" + self.q)[0].nack()
        self.assertTrue(eventually(lambda: "dl-" + self.q + ".dlq" in self.c.queues()
                                   and self.c.stats("dl-" + self.q + ".dlq")["depth"] == 1))
        self.assertEqual(self.c.redrive("dl-" + self.q), 1)
        self.assertEqual(self.c.stats("dl-" + self.q)["depth"], 1)
        name = "u-" + self.q[:40]
        self.c.add_user(name, "a-long-password-1", "AGENT")
        self.assertIn({"username": name, "role": 3, "role_name": "AGENT"}, self.c.users())
        worker = Client(BROKER.url, user=name, password="a-long-password-1")
        self.assertIn(self.q, worker.queues())
        self.assertEqual(self.c.set_password(name, "a-long-password-2"), 1)
        self.assertEqual(self.c.delete_user(name), 0)
        with self.assertRaises(SpoolError):
            worker.queues()  # its token was revoked, and signing in again fails


class TlsAndSessionTest(unittest.TestCase):
    def test_https_with_a_ca_file_and_logout(self) -> None:
        keytool = shutil.which("keytool") or os.path.join(os.path.dirname(os.path.realpath(shutil.which("java"))),
                                                          "keytool")
        work = tempfile.mkdtemp(prefix="spool-py-tls-")
        try:
            ks, pem = os.path.join(work, "server.p12"), os.path.join(work, "ca.pem")
            subprocess.run([keytool, "-genkeypair", "-alias", "spool", "-keyalg", "EC", "-groupname", "secp256r1",
                            "-dname", "CN=localhost", "-ext", "SAN=dns:localhost,ip:127.0.0.1", "-validity", "2",
                            "-storetype", "PKCS12", "-keystore", ks, "-storepass", "keystore-pass"],
                           check=True, capture_output=True)
            subprocess.run([keytool, "-exportcert", "-rfc", "-alias", "spool", "-keystore", ks, "-storepass",
                            "keystore-pass", "-file", pem], check=True, capture_output=True)
            b = Broker(f"  tls:\n    keystore: \"{ks}\"\n    password: \"keystore-pass\"\n    port: 0\n"
                       "    plain_http: true\n")
            try:
                tls_port = next(int(m.group(1)) for line in b.log
                                for m in [re.search(r"listening on https://127\.0\.0\.1:(\d+)", line)] if m)
                with Client(f"https://127.0.0.1:{tls_port}", user="admin", password=b.password, ca_file=pem) as c:
                    self.assertEqual(c.queues(), [])
                    self.assertEqual(c.health()["status"], "ready")
                    c.logout()
                    self.assertIsNone(c.token)
                with self.assertRaises(SpoolError) as e:
                    Client(f"https://127.0.0.1:{tls_port}", token="t", retries=0).queues()  # no CA: untrusted
                self.assertEqual(e.exception.code, "CONNECTION_FAILED")
            finally:
                b.stop()
        finally:
            shutil.rmtree(work, ignore_errors=True)


class CommandLineTest(unittest.TestCase):
    def run_cli(self, *args, stdin: str = "", env_extra=None) -> subprocess.CompletedProcess:
        env = dict(os.environ, SPOOL_PASSWORD=BROKER.password, PYTHONPATH=PACKAGE_ROOT, **(env_extra or {}))
        return subprocess.run([sys.executable, "-m", "spool_client", "--url", BROKER.url, "--user", "admin", *args],
                              input=stdin, capture_output=True, text=True, env=env, timeout=60)

    def test_a_pipeline_of_commands(self) -> None:
        self.assertEqual(self.run_cli("create", "cli-q", "--max-length", "100").returncode, 0)
        self.assertIn("cli-q", self.run_cli("queues").stdout.split())
        pushed = self.run_cli("push", "cli-q", "--batch", "2",
                              stdin='{"body":{"n":1}}\n{"body":{"n":2},"metadata":{"m":1}}\n{"body":{"n":3}}\n')
        self.assertEqual(pushed.returncode, 0, pushed.stderr)
        self.assertEqual(len(pushed.stdout.split()), 3)
        self.assertEqual(json.loads(self.run_cli("stats", "cli-q").stdout)["depth"], 3)
        pulled = self.run_cli("pull", "cli-q", "--max", "2")
        self.assertEqual([json.loads(l)["body"]["n"] for l in pulled.stdout.splitlines()], [1, 2])
        bad = self.run_cli("stats", "no-such-queue")
        self.assertEqual(bad.returncode, 1)
        self.assertIn("QUEUE_NOT_FOUND", bad.stderr)
        self.assertEqual(self.run_cli("delete", "cli-q").returncode, 0)

    def test_subscription_commands(self) -> None:
        c = BROKER.admin()
        c.create("cli-s")
        c.push_batch("cli-s", [{"n": 1}, {"n": 2}, {"n": 3}])
        made = self.run_cli("subscribe", "cli-s", "v2", "--start", "earliest")
        self.assertEqual(made.returncode, 0, made.stderr)
        self.assertEqual(json.loads(made.stdout)["backlog"], 3)
        pulled = self.run_cli("pull", "cli-s", "--subscription", "v2", "--max", "3")
        self.assertEqual([json.loads(l)["body"]["n"] for l in pulled.stdout.splitlines()], [1, 2, 3])
        self.assertEqual(c.stats("cli-s")["depth"], 3, "pulled through v2, not from the queue")
        seek = self.run_cli("seek", "cli-s", "v2", "--id", str(json.loads(pulled.stdout.splitlines()[1])["id"]))
        self.assertEqual(json.loads(seek.stdout)["backlog"], 2, seek.stderr)
        listed = self.run_cli("subscriptions", "cli-s")
        self.assertEqual([json.loads(l)["name"] for l in listed.stdout.splitlines()], ["v2"])
        self.assertTrue(json.loads(self.run_cli("pause", "cli-s", "v2").stdout)["paused"])
        self.assertEqual(self.run_cli("pull", "cli-s", "-s", "v2").stdout, "", "paused: nothing")
        self.assertFalse(json.loads(self.run_cli("resume", "cli-s", "v2").stdout)["paused"])
        self.assertEqual(self.run_cli("unsubscribe", "cli-s", "v2").returncode, 0)
        gone = self.run_cli("pull", "cli-s", "-s", "v2")
        self.assertEqual(gone.returncode, 1)
        self.assertIn("SUBSCRIPTION_NOT_FOUND", gone.stderr)
        bad = self.run_cli("seek", "cli-s", "v9")
        self.assertEqual(bad.returncode, 1)
        c.close()

    def test_tail_prints_acks_and_releases_on_ctrl_c(self) -> None:
        c = BROKER.admin()
        c.create("tail-q")
        c.push_batch("tail-q", [{"n": 1}, {"n": 2}])
        env = dict(os.environ, SPOOL_PASSWORD=BROKER.password, PYTHONPATH=PACKAGE_ROOT)
        p = subprocess.Popen([sys.executable, "-m", "spool_client", "--url", BROKER.url, "--user", "admin", "tail",
                              "tail-q"], stdout=subprocess.PIPE, text=True, env=env)
        lines = [json.loads(p.stdout.readline()), json.loads(p.stdout.readline())]
        self.assertEqual([l["body"]["n"] for l in lines], [1, 2])
        self.assertTrue(eventually(lambda: c.stats("tail-q")["depth"] == 0), "acked after printing")
        p.send_signal(signal.SIGINT)
        self.assertEqual(p.wait(30), 0)
        p.stdout.close()
        self.assertEqual(c.stats("tail-q")["in_flight"], 0, "nothing left leased")
        c.close()


if __name__ == "__main__":
    unittest.main()
