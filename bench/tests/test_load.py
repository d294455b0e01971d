"""Reading oha's JSON report."""
import unittest

from latchkey_bench.load import open_loop_result


class OpenLoopResult(unittest.TestCase):
    def test_percentiles_in_microseconds_and_failures_counted(self):
        report = {
            "summary": {"requestsPerSec": 699.5},
            "latencyPercentiles": {"p50": 0.0012, "p99": 0.0031, "p99.9": 0.0094},
            "statusCodeDistribution": {"200": 2090, "401": 3, "503": 1},
            "errorDistribution": {"aborted due to deadline": 12, "connection closed": 2},
        }
        result = open_loop_result(report, 700.0)
        self.assertEqual(result, {"offered_qps": 700.0, "rps": 699.5, "p50_us": 1200, "p99_us": 3100,
                                  "p999_us": 9400, "errors": 6})


if __name__ == "__main__":
    unittest.main()
