"""The pipeline's test: the model, and a run with the failure drill (a worker and the broker killed with SIGKILL
midway) that must end with exactly one result per transaction, and model v2's replay of the last 1000 through a
subscription that must score each of them exactly once. Needs the broker jar (SPOOL_BROKER_JAR, default
broker/target/spool-broker.jar); ./mvnw verify runs it through PipelineTest."""

import os
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import pipeline  # noqa: E402


class PipelineTest(unittest.TestCase):
    def test_the_model_flags_large_refused_amounts_and_passes_small_approved_ones(self):
        risky = {"transaction_id": "t", "customer": {"user_id": 1, "username": "u", "role": 0}, "status": 2,
                 "vendor_id": "v-99", "amount": 4800.0}
        safe = dict(risky, status=0, amount=12.0, customer={"user_id": 1, "username": "u", "role": 3})
        self.assertEqual(pipeline.score(risky)[0], True)
        self.assertEqual(pipeline.score(safe)[0], False)
        self.assertTrue(0.5 <= pipeline.score(safe)[1] <= 1)

    def test_model_v2_differs_from_v1(self):
        big = {"transaction_id": "t", "customer": {"user_id": 1, "username": "u", "role": 3}, "status": 0,
               "vendor_id": "v-1", "amount": 3500.0}
        self.assertNotEqual(pipeline.score(big, "v1")[0], pipeline.score(big, "v2")[0])

    def test_a_run_with_a_killed_worker_and_a_killed_broker_scores_every_transaction_once(self):
        jar = os.environ.get("SPOOL_BROKER_JAR", os.path.join(pipeline.ROOT, "broker", "target", "spool-broker.jar"))
        out = subprocess.run([sys.executable, os.path.join(HERE, "pipeline.py"), "run", "--jar", jar,
                              "--transactions", "3000", "--producers", "2", "--workers", "3", "--drill",
                              "--replay", "1000"],
                             capture_output=True, text=True, timeout=240)
        print(out.stdout, out.stderr)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertIn("drill: worker killed (SIGKILL)", out.stdout)
        self.assertIn("drill: broker killed (SIGKILL)", out.stdout)
        self.assertIn("check: 3000 results for 3000 transactions, 0 duplicates, 0 missing", out.stdout)
        self.assertIn("exactly one result per transaction", out.stdout)
        # Model v2 re-scored the last 1000 through a subscription while v1 ran: once each, none earlier.
        self.assertRegex(out.stdout, r"replay: v2 scored (\d+) transactions from message id \d+ \(\1 replayed\), "
                                     r"0 duplicates, 0 from before the replay point, 0 without a v1 result")
        self.assertIn("exactly one result per transaction per model version", out.stdout)


if __name__ == "__main__":
    unittest.main()
