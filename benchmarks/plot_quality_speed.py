"""Draw quality (ROUGE) against speed (articles/s) for every measured method.

usage:
    python -m summarizer eval DATA.jsonl --methods ... --json > EVAL.json
    python -m summarizer bench DATA.jsonl --methods ... --json > BENCH.json
    python -m benchmarks.plot_quality_speed EVAL.json BENCH.json OUT.png

Needs matplotlib (a dev dependency). Methods present in both files are plotted: ROUGE-1 as filled dots and
ROUGE-Lsum as open dots on the same vertical line, against articles/s on a log axis; Lead-3's scores and the
20 articles/s target are drawn as guides.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

TARGET_ARTICLES_PER_S = 20.0


def main() -> None:
    """Read the two JSON reports and write the picture."""
    ap = argparse.ArgumentParser()
    ap.add_argument("eval_json")
    ap.add_argument("bench_json")
    ap.add_argument("out")
    ap.add_argument("--title", default="Quality against speed (summ-dev, 100 CNN/DailyMail articles, 2 CPU cores)")
    args = ap.parse_args()

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    scores = json.loads(Path(args.eval_json).read_text())["methods"]
    speeds = {r["method"]: r["articles_per_s"] for r in json.loads(Path(args.bench_json).read_text())["results"]}
    methods = [m for m in scores if m in speeds]
    fig, ax = plt.subplots(figsize=(8, 5))
    methods.sort(key=speeds.__getitem__)
    for k, m in enumerate(methods):
        x = speeds[m]
        r1, rlsum = scores[m]["rouge1"], scores[m]["rougeLsum"]
        color = f"C{k % 10}"
        ax.plot([x, x], [rlsum, r1], color="0.8", zorder=1)
        ax.scatter([x], [r1], s=60, color=color, zorder=3)
        ax.scatter([x], [rlsum], s=60, facecolors="none", edgecolors=color, zorder=3)
        above = k % 2 == 0  # neighbours on the speed axis alternate above and below, so labels do not collide
        ax.annotate(
            f"{m}  {x:.0f} art/s\nR-1 {r1:.2f}, R-Lsum {rlsum:.2f}",
            (x, r1 if above else rlsum),
            textcoords="offset points",
            xytext=(-30, 10) if above else (-30, -28),
            fontsize=8,
        )
    lead = next((m for m in methods if m.startswith("lead")), None)
    if lead:
        ax.axhline(scores[lead]["rouge1"], color="C1", linestyle="--", linewidth=1, label=f"{lead} R-1")
        ax.axhline(scores[lead]["rougeLsum"], color="C1", linestyle=":", linewidth=1, label=f"{lead} R-Lsum")
    ax.axvline(TARGET_ARTICLES_PER_S, color="C2", linestyle="--", linewidth=1, label="target: 20 articles/s")
    ax.set_xscale("log")
    xs = [speeds[m] for m in methods]
    ax.set_xlim(min(xs) / 1.5, max(xs) * 4)
    ys = [scores[m][t] for m in methods for t in ("rouge1", "rougeLsum")]
    ax.set_ylim(min(ys) - 2.5, max(ys) + 2.5)
    ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}"))
    ax.set_xlabel("articles per second (log scale; sentence splitting included)")
    ax.set_ylabel("ROUGE F1 x100 (filled: R-1, open: R-Lsum)")
    ax.set_title(args.title, fontsize=10)
    ax.legend(loc="lower left", fontsize=8)
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(args.out, dpi=120)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
