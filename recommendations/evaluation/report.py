"""An evaluation's outputs: a markdown table, a JSON file and a PNG chart with the 95%
intervals. The chart needs matplotlib (requirements-dev.txt), drawn headless (Agg)."""
import json
import math
from pathlib import Path

from recommendations.evaluation import metrics, split
from recommendations.evaluation.run import TOP_K, Evaluation

LABELS = {"ndcg@16": "NDCG@16", "hitrate@16": "HitRate@16", "recall@32": "Recall@32",
          "mrr": "MRR", "coverage": "coverage", "popularity": "popularity"}
MARKDOWN, JSON, CHART = "evaluation.md", "evaluation.json", "evaluation.png"


def write_all(evaluation: Evaluation, out: Path, *, command: str) -> list[Path]:
    """Write the three files into ``out`` (created if needed); returns their paths."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / MARKDOWN, out / JSON, out / CHART]
    paths[0].write_text(markdown(evaluation, command=command, chart=CHART), encoding="utf-8")
    paths[1].write_text(json.dumps(as_json(evaluation, command=command), indent=2) + "\n",
                        encoding="utf-8")
    chart(evaluation, paths[2])
    return paths


def protocol_line(evaluation: Evaluation) -> str:
    return (f"{evaluation.users} test users (of {evaluation.eligible_users} with at least "
            f"{split.MIN_ENTRIES} watched, scored entries; {evaluation.dataset_users} users in "
            f"all), each hiding {split.HIDDEN_SHARE:.0%} of the entries they scored "
            f"{split.LIKED_SCORE}+ ({evaluation.relevant_per_user:.1f} recommendable hidden "
            f"anime on average), dealt into {evaluation.folds} folds: every method is "
            f"trained once per fold, on everything but that fold's hidden entries; top "
            f"{TOP_K} per method; seed {evaluation.seed}; 95% bootstrap intervals over the "
            f"test users.")


def _cell(value: float, interval: tuple[float, float]) -> str:
    if math.isnan(value):
        return "n/a"
    low, high = interval
    return f"{value:.3f} ({low:.3f}–{high:.3f})"


def table(evaluation: Evaluation) -> str:
    header = "| method | " + " | ".join(LABELS[m] for m in metrics.METRICS) + " |"
    lines = [header, "|---" * (len(metrics.METRICS) + 1) + "|"]
    for result in evaluation.methods:
        cells = [_cell(result.values[m], result.intervals[m]) for m in metrics.METRICS]
        lines.append(f"| {result.name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def markdown(evaluation: Evaluation, *, command: str, chart: str | None = CHART) -> str:
    parts = ["# Evaluation", "", f"`{command}`", "", protocol_line(evaluation), "",
             table(evaluation), "",
             "Coverage: share of the recommendable catalog that some test user is "
             "recommended. Popularity: mean share of users who watched and scored what is "
             "recommended (lower is more adventurous).", ""]
    if chart:
        parts += [f"![NDCG, hit rate, recall, MRR, coverage and popularity with their 95% "
                  f"intervals]({chart})", ""]
    return "\n".join(parts)


def _number(value: float):
    return None if math.isnan(value) else round(value, 6)


def as_json(evaluation: Evaluation, *, command: str) -> dict:
    return {
        "command": command, "seed": evaluation.seed, "folds": evaluation.folds,
        "top_k": TOP_K,
        "test_users": evaluation.users, "eligible_users": evaluation.eligible_users,
        "dataset_users": evaluation.dataset_users,
        "relevant_per_user": round(evaluation.relevant_per_user, 6),
        "protocol": {"min_entries": split.MIN_ENTRIES, "hidden_share": split.HIDDEN_SHARE,
                     "liked_score": split.LIKED_SCORE},
        "methods": [
            {"name": r.name, "metrics": {
                m: {"value": _number(r.values[m]), "low": _number(r.intervals[m][0]),
                    "high": _number(r.intervals[m][1])} for m in metrics.METRICS}}
            for r in evaluation.methods],
    }


def chart(evaluation: Evaluation, path: Path) -> None:
    """Grouped bars per metric, one colour per method, with the intervals as error bars;
    accuracy metrics on the left, coverage and popularity (another scale) on the right."""
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib import pyplot

    panels = [("accuracy", ["ndcg@16", "hitrate@16", "recall@32", "mrr"]),
              ("breadth", ["coverage", "popularity"])]
    figure, axes = pyplot.subplots(1, 2, figsize=(10, 3.8), dpi=90,
                                   gridspec_kw={"width_ratios": [2, 1]})
    width = 0.8 / max(len(evaluation.methods), 1)
    for axis, (title, names) in zip(axes, panels):
        for n, result in enumerate(evaluation.methods):
            values = [result.values[m] for m in names]
            errors = [[max(v - result.intervals[m][0], 0) for v, m in zip(values, names)],
                      [max(result.intervals[m][1] - v, 0) for v, m in zip(values, names)]]
            positions = [i + (n - (len(evaluation.methods) - 1) / 2) * width
                         for i in range(len(names))]
            axis.bar(positions, values, width, yerr=errors, capsize=2, label=result.name)
        axis.set_xticks(range(len(names)), [LABELS[m] for m in names])
        axis.set_title(title)
        axis.grid(axis="y", alpha=0.3)
    axes[0].legend(fontsize="small", ncols=2)
    figure.suptitle(f"{evaluation.users} test users, {evaluation.folds} folds, seed "
                    f"{evaluation.seed}", fontsize="medium")
    figure.tight_layout()
    figure.savefig(path)
    pyplot.close(figure)
