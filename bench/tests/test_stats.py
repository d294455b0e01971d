"""Pooling, ceilings, derived figures and medians over repeats."""
import unittest

from latchkey_bench.rows import LATCHKEY, PEER, Change, Kind, Pass, Row
from latchkey_bench.stats import combine, derive, percentile, pooled, sliced_ceiling


def run_part(requests, duration_us, quantiles, non_2xx=0, socket_errors=0):
    return {"requests": requests, "duration_us": duration_us, "quantiles_us": quantiles,
            "non_2xx": non_2xx, "socket_errors": socket_errors}


def token_row(backend="sqlite", apps=1, alg="RS256", server=LATCHKEY, kind=Kind.TOKEN, **figures):
    return Row(kind=kind, server=server, backend=backend if server == LATCHKEY else "", apps=apps, alg=alg,
               **figures)


class Percentile(unittest.TestCase):
    def test_unweighted_median_is_the_middle_value(self):
        self.assertEqual(percentile([(3, 1), (1, 1), (2, 1)], 0.5), 2)

    def test_weights_count_requests(self):
        # 90 requests at 10 and 10 at 100: p50 and p90 are 10, p99 is 100.
        points = [(10, 90), (100, 10)]
        self.assertEqual(percentile(points, 0.5), 10)
        self.assertEqual(percentile(points, 0.9), 10)
        self.assertEqual(percentile(points, 0.99), 100)

    def test_share_one_is_the_largest(self):
        self.assertEqual(percentile([(5, 1), (7, 1)], 1.0), 7)


class Pooled(unittest.TestCase):
    def test_counts_and_time_add_up(self):
        result = pooled([run_part(100, 1_000_000, [1, 2], non_2xx=1),
                         run_part(300, 1_000_000, [3, 4], socket_errors=2)])
        self.assertEqual(result["requests"], 400)
        self.assertEqual(result["duration_us"], 2_000_000)
        self.assertEqual(result["rps"], 200.0)
        self.assertEqual((result["non_2xx"], result["socket_errors"], result["slices"]), (1, 2, 2))

    def test_percentiles_weigh_each_run_by_its_requests(self):
        # A slow slice with few requests moves p99, not p50: averaging the slices' medians
        # (10 and 1,000) would report 505.
        fast = run_part(990, 1_000_000, [10] * 10)
        slow = run_part(10, 1_000_000, [1000] * 10)
        result = pooled([fast, slow])
        self.assertEqual(result["p50_us"], 10)
        self.assertEqual(result["p90_us"], 10)
        self.assertEqual(result["p99_us"], 10)
        self.assertEqual(pooled([fast, run_part(20, 1_000_000, [1000] * 10)])["p99_us"], 1000)


class SlicedCeiling(unittest.TestCase):
    def test_each_slice_takes_the_mean_of_its_neighbouring_rates(self):
        # 1 s at (100 + 200) / 2 and 3 s at (200 + 400) / 2: 150 + 900 signatures in 4 s.
        self.assertEqual(sliced_ceiling([(1_000_000, 100, 200), (3_000_000, 200, 400)]), 262.5)

    def test_no_slices_no_ceiling(self):
        self.assertIsNone(sliced_ceiling([]))


class Derive(unittest.TestCase):
    def test_share_tails_and_ratio_to_the_peer(self):
        ours = token_row(rps=900.0, ceiling_rps=1000.0, p50_us=10, p99_us=15, open_p50_us=4, open_p99_us=10,
                         idle_rss_kib=1000)
        theirs = token_row(server=PEER, rps=450.0, ceiling_rps=1000.0, p50_us=20, p99_us=80)
        derive(Pass(rows=[ours, theirs]))
        self.assertAlmostEqual(ours.share_of_ceiling_pct, 90.0)
        self.assertEqual(ours.p99_over_p50, 1.5)
        self.assertEqual(ours.open_p99_over_p50, 2.5)
        self.assertEqual(ours.ratio_to_peer, 2.0)
        self.assertEqual(ours.idle_rss_mb, 1.024)
        self.assertIsNone(theirs.ratio_to_peer)

    def test_a_million_apps_compare_shares_with_one_app(self):
        one = token_row(apps=1, rps=900.0, ceiling_rps=1000.0)
        million = token_row(apps=1_000_000, rps=400.0, ceiling_rps=500.0)
        derive(Pass(rows=[one, million]))
        # 80% against 90%: a loss of a ninth, though the tokens/s fell by more than half.
        self.assertAlmostEqual(million.share_vs_one_app_pct, -100 / 9)
        self.assertIsNone(one.share_vs_one_app_pct)

    def test_postgres_rows_compare_with_sqlite_rows_of_the_same_apps_and_alg(self):
        sqlite = token_row(backend="sqlite", apps=10, rps=800.0, ceiling_rps=1000.0, idle_rss_kib=100)
        postgres = token_row(backend="postgres", apps=10, rps=792.0, ceiling_rps=1000.0, idle_rss_kib=105)
        other_alg = token_row(backend="postgres", apps=10, alg="ES256", rps=1.0, ceiling_rps=1.0)
        derive(Pass(rows=[sqlite, postgres, other_alg]))
        self.assertAlmostEqual(postgres.share_vs_sqlite_pct, -1.0)
        self.assertAlmostEqual(postgres.idle_rss_vs_sqlite_pct, 5.0)
        self.assertIsNone(other_alg.share_vs_sqlite_pct)
        self.assertIsNone(sqlite.share_vs_sqlite_pct)

    def test_reuse_rows_have_no_share_and_compare_with_the_peers_rs256(self):
        reuse = token_row(kind=Kind.REUSE, apps=10000, rps=40_000.0, ceiling_rps=None)
        peer_one = token_row(server=PEER, apps=1, rps=2000.0)
        peer_many = token_row(server=PEER, apps=10000, rps=1000.0)
        derive(Pass(rows=[reuse, peer_one, peer_many]))
        self.assertIsNone(reuse.share_of_ceiling_pct)
        self.assertEqual(reuse.ratio_to_peer, 40.0)

    def test_two_node_rows_compare_with_one_node(self):
        single = token_row(backend="postgres", apps=10, rps=1000.0)
        node = token_row(kind=Kind.TWO_NODES, backend="postgres", apps=10, rps=950.0, node="B")
        derive(Pass(rows=[single, node]))
        self.assertAlmostEqual(node.rps_vs_one_node_pct, 95.0)

    def test_checks_rows_cost_the_cpu_time_per_token_added_with_the_limits_on(self):
        off = token_row(kind=Kind.CHECKS, checks="off", rps=1000.0, server_cpu_pct=100.0)
        # Fewer tokens/s, but the server had less of the core: 1% more CPU time per token.
        on = token_row(kind=Kind.CHECKS, checks="on", rps=800.0, server_cpu_pct=80.8)
        derive(Pass(rows=[off, on]))
        self.assertAlmostEqual(off.cpu_us_per_token, 1000.0)
        self.assertAlmostEqual(on.checks_cost_pct, 1.0)
        self.assertIsNone(off.checks_cost_pct)

    def test_metrics_rows_are_compared_with_the_metrics_row_that_has_them_off(self):
        limits_off = token_row(kind=Kind.CHECKS, checks="off", rps=500.0, server_cpu_pct=100.0)
        off = token_row(kind=Kind.METRICS, checks="off", rps=1000.0, server_cpu_pct=100.0)
        on = token_row(kind=Kind.METRICS, checks="on", rps=1000.0, server_cpu_pct=101.5)
        logs = token_row(kind=Kind.METRICS, checks="logs", rps=900.0, server_cpu_pct=99.0)
        derive(Pass(rows=[limits_off, off, on, logs]))
        self.assertAlmostEqual(on.checks_cost_pct, 1.5)
        self.assertAlmostEqual(logs.checks_cost_pct, 10.0)
        self.assertIsNone(off.checks_cost_pct)

    def test_missing_figures_stay_missing(self):
        row = token_row()
        derive(Pass(rows=[row]))
        self.assertIsNone(row.share_of_ceiling_pct)
        self.assertIsNone(row.p99_over_p50)
        self.assertIsNone(row.ratio_to_peer)


class Combine(unittest.TestCase):
    def test_one_pass_is_itself(self):
        run = Pass(rows=[token_row(rps=1.0)])
        self.assertIs(combine([run]), run)

    def test_figures_take_medians_and_counts_add_up(self):
        runs = [Pass(rows=[token_row(rps=rps, requests=10, non_2xx=errors, ratio_to_peer=ratio)],
                     changes=[Change("sqlite", 1, 1, cli_ms=5.0, seen_after_cli_ms=seen)],
                     endpoints={"jwks, sqlite": {"rps": rps, "requests": 10}})
                for rps, errors, ratio, seen in [(100.0, 0, 2.0, 200.0), (300.0, 1, 1.5, 100.0),
                                                 (200.0, 2, 1.9, 300.0)]]
        combined = combine(runs)
        (row,) = combined.rows
        self.assertEqual(row.rps, 200.0)
        self.assertEqual(row.requests, 30)
        self.assertEqual(row.non_2xx, 3)
        # The median ratio is one pass's ratio, not the ratio of two medians.
        self.assertEqual(row.ratio_to_peer, 1.9)
        self.assertEqual(combined.changes[0].seen_after_cli_ms, 200.0)
        self.assertEqual(combined.endpoints["jwks, sqlite"], {"rps": 200.0, "requests": 30})

    def test_rows_are_matched_by_key_and_missing_values_skipped(self):
        first = Pass(rows=[token_row(alg="RS256", rps=1.0), token_row(alg="ES256", rps=10.0)])
        second = Pass(rows=[token_row(alg="ES256", rps=30.0, ratio_to_peer=3.0), token_row(alg="RS256", rps=3.0)])
        combined = {row.alg: row for row in combine([first, second]).rows}
        self.assertEqual(combined["RS256"].rps, 2.0)
        self.assertEqual(combined["ES256"].rps, 20.0)
        self.assertEqual(combined["ES256"].ratio_to_peer, 3.0)
        self.assertIsNone(combined["RS256"].ratio_to_peer)


if __name__ == "__main__":
    unittest.main()
