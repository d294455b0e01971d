"""The performance targets, read as data from `bench/targets.json` and judged against a pass.
Each target names the records it is about (`of`: rows or changes, filtered by `where`), the
figure (`metric`), a `comparison` and a `threshold`. A target is met when every matching
record that has the figure passes; a target none of whose records were measured (no --peer,
no 1,000,000-app rows, one backend only) is left out rather than called missed."""
import json
import operator
from dataclasses import dataclass
from typing import Optional

COMPARISONS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}
SOURCES = ("rows", "changes")
# The fields that tell records apart in a target's figure, in the order they are printed.
LABEL_FIELDS = ("backend", "apps", "alg", "node", "nodes")


@dataclass(frozen=True)
class Target:
    """One target, as `targets.json` states it."""

    name: str
    of: str
    where: dict
    metric: str
    comparison: str
    threshold: float
    format: str = "{:.2f}"

    @staticmethod
    def parse(entry):
        """A target from its JSON object; refuses an unknown comparison or source at load time
        rather than when the first figure comes to be judged."""
        target = Target(name=entry["name"], of=entry.get("of", "rows"), where=entry.get("where", {}),
                        metric=entry["metric"], comparison=entry["comparison"],
                        threshold=entry["threshold"], format=entry.get("format", "{:.2f}"))
        if target.comparison not in COMPARISONS:
            raise ValueError(f"target {target.name!r}: unknown comparison {target.comparison!r}")
        if target.of not in SOURCES:
            raise ValueError(f"target {target.name!r}: unknown source {target.of!r}")
        return target

    def selects(self, record):
        """Whether `record` is one this target is about: each `where` field equal to its value,
        or to one of them when it is a list."""
        for name, wanted in self.where.items():
            value = getattr(record, name, None)
            if value not in (wanted if isinstance(wanted, list) else [wanted]):
                return False
        return True

    def passes(self, value):
        return COMPARISONS[self.comparison](value, self.threshold)


@dataclass(frozen=True)
class Judgement:
    """A target with the figures it was judged on and whether it was met."""

    target: str
    figure: str
    met: bool


def load(path):
    """The targets of a JSON file (a list of objects)."""
    with open(path, encoding="utf-8") as file:
        return [Target.parse(entry) for entry in json.load(file)]


def apps_text(apps):
    return "1 app" if apps == 1 else f"{apps:,} apps"


def label(record, varying):
    parts = []
    for name in varying:
        value = getattr(record, name)
        parts.append(apps_text(value) if name == "apps" else
                     ("1 node" if value == 1 else f"{value} nodes") if name == "nodes" else
                     f"node {value}" if name == "node" else str(value))
    return ", ".join(parts)


def judge(target, run) -> Optional[Judgement]:
    """`target` judged on the records of `run` (a `rows.Pass`); None when it has no figure."""
    records = [record for record in getattr(run, target.of)
               if target.selects(record) and getattr(record, target.metric, None) is not None]
    if not records:
        return None
    # Name only what tells the figures apart: one backend needs no "sqlite" after each figure.
    varying = [name for name in LABEL_FIELDS
               if len({getattr(record, name, None) for record in records}) > 1]
    figures = []
    for record in records:
        text = target.format.format(getattr(record, target.metric))
        where = label(record, varying)
        figures.append(f"{text} ({where})" if where else text)
    met = all(target.passes(getattr(record, target.metric)) for record in records)
    return Judgement(target=target.name, figure=", ".join(figures), met=met)


def judge_all(targets, run):
    """Every target that has a figure in `run`, in the file's order."""
    return [judgement for judgement in (judge(target, run) for target in targets) if judgement]
