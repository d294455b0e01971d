"""Targets as data: loading `bench/targets.json` and judging a pass against them."""
import pathlib
import unittest

from latchkey_bench import targets
from latchkey_bench.rows import LATCHKEY, Change, Kind, Pass, Row
from latchkey_bench.targets import Target, judge, judge_all

TARGETS_FILE = pathlib.Path(__file__).resolve().parents[1] / "targets.json"


def target(**overrides):
    entry = {"name": "share", "of": "rows", "where": {"kind": "token", "alg": "RS256"},
             "metric": "share_of_ceiling_pct", "comparison": ">=", "threshold": 85, "format": "{:.0f}%"}
    entry.update(overrides)
    return Target.parse(entry)


def row(apps=1, alg="RS256", backend="sqlite", kind=Kind.TOKEN, share=90.0):
    return Row(kind=kind, server=LATCHKEY, backend=backend, apps=apps, alg=alg, share_of_ceiling_pct=share)


class Judge(unittest.TestCase):
    def test_met_when_every_selected_row_passes(self):
        judgement = judge(target(), Pass(rows=[row(apps=1, share=90.0), row(apps=10000, share=85.0),
                                               row(alg="ES256", share=10.0)]))
        self.assertTrue(judgement.met)
        self.assertEqual(judgement.figure, "90% (1 app), 85% (10,000 apps)")

    def test_one_row_short_misses_it(self):
        judgement = judge(target(), Pass(rows=[row(share=90.0), row(apps=10, share=84.9)]))
        self.assertFalse(judgement.met)

    def test_the_threshold_itself_passes_or_not_by_the_comparison(self):
        at = Pass(rows=[row(share=85.0)])
        self.assertTrue(judge(target(comparison=">="), at).met)
        self.assertFalse(judge(target(comparison=">"), at).met)
        self.assertTrue(judge(target(comparison="<="), at).met)
        self.assertFalse(judge(target(comparison="<"), at).met)

    def test_a_target_without_figures_is_left_out(self):
        self.assertIsNone(judge(target(), Pass(rows=[row(share=None)])))
        self.assertIsNone(judge(target(where={"kind": "token_reuse"}), Pass(rows=[row()])))
        self.assertEqual(judge_all([target()], Pass()), [])

    def test_where_takes_a_list_of_values(self):
        picked = target(where={"alg": ["ES256", "EdDSA"]})
        judgement = judge(picked, Pass(rows=[row(alg="RS256", share=1.0), row(alg="ES256", share=90.0),
                                             row(alg="EdDSA", share=95.0)]))
        self.assertTrue(judgement.met)
        self.assertEqual(judgement.figure, "90% (ES256), 95% (EdDSA)")

    def test_changes_are_judged_too(self):
        change = target(of="changes", where={}, metric="seen_after_cli_ms", comparison="<", threshold=1000,
                        format="{:.0f} ms")
        judgement = judge(change, Pass(changes=[Change("sqlite", 10000, 1, 20.0, 240.0),
                                                Change("postgres", 10000, 2, 30.0, 1200.0)]))
        self.assertFalse(judgement.met)
        self.assertEqual(judgement.figure, "240 ms (sqlite, 1 node), 1200 ms (postgres, 2 nodes)")

    def test_unknown_comparisons_and_sources_are_refused_at_load(self):
        with self.assertRaises(ValueError):
            target(comparison="=>")
        with self.assertRaises(ValueError):
            target(of="columns")


class TargetsFile(unittest.TestCase):
    def test_every_target_of_the_file_parses_and_names_a_field_of_its_records(self):
        loaded = targets.load(TARGETS_FILE)
        self.assertGreater(len(loaded), 0)
        fields = {"rows": set(Row.__dataclass_fields__), "changes": set(Change.__dataclass_fields__)}
        for each in loaded:
            self.assertIn(each.metric, fields[each.of], each.name)
            for name in each.where:
                self.assertIn(name, fields[each.of], each.name)


if __name__ == "__main__":
    unittest.main()
