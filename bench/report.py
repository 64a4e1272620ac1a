"""BENCHMARKS.md and its plot, from the results of one ``bench.run`` (no typed numbers)."""
from pathlib import Path

TARGET_USERS = 100_000
# Every user route over HTTP (gunicorn, one connection), and the mixed load on 2 workers.
HTTP_P50_MS = 3
HTTP_P99_MS = 15
HTTP_MIXED_RPS = 1000
TARGETS = {  # operation -> (field, limit in ms)
    "similar p1": 2.0, "similar p40": 2.0,
    "recommendations b1 p1": 3.0, "recommendations b1 p20": 3.0,
    "recommendations b40 p1": 3.0, "recommendations b40 p20": 3.0,
    "compare": 0.2,
}
# The trained ranking (?algorithm=scored_ease): a page explained by neighbours at the
# largest scale, and what one more worker costs with a model of that many anime.
MODEL_PAGE_P50_MS = 3.0
MODEL_PAGES = {"stored": "page b1 p1, stored neighbours",
               "fresh": "page b1 p1, fresh neighbours"}
MODEL_PRIVATE_MB = 300


def _f(value, digits=2) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        if abs(value) >= 100:
            return f"{value:,.0f}"
        return f"{value:.{digits}f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def _table(headers, rows) -> list[str]:
    out = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    out += ["| " + " | ".join(_f(c) if not isinstance(c, str) else c for c in row) + " |"
            for row in rows]
    return out + [""]


def _by_op(rows) -> dict:
    return {r["operation"]: r for r in rows or []}


DESIGN = [
    "## What makes the engine fast", "",
    "* **Scan** (`similarity.py`): the distance of every user is computed into per-thread "
    "work arrays (new arrays of 8 bytes a user cost a page fault every 4 KB, more than the "
    "popcounts); the cut-off distance of the 1,280 nearest comes from a strided sample and "
    "two or three exact counts instead of a full histogram; (distance, rank of the name) "
    "is one integer key, so the nearest are an `argpartition` and a small `argsort` (the "
    "name ranks are computed once per index and kept while only hashes change).",
    "* **Ranking** (`ranking.py`): anime ids map to catalog rows through a dense table; "
    "grouping is a `bincount` over catalog rows (no `unique` sort); the batch formula is "
    "an exact integer (the fraction scaled by lcm(1..36)), and the contract's order "
    "(formula, mean, id) one integer sort of a composite rank; contributors come out of "
    "a radix sort of the ranked positions.",
    "* **Index** (`user_index.py`, `index_file.py`, `selectors.py`): entries in CSR arrays, "
    "a batch's entries taken with one gather. Built from PostgreSQL by `COPY ... TO STDOUT "
    "(FORMAT BINARY)` of one packed `bytea` per user, on two connections. With `INDEX_DIR` "
    "set, the first worker saves the index as `.npy` files and every worker maps them "
    "read-only, so the workers share one copy in the page cache.",
    "* **Request path** (`live_index.py`, `neighbours.py`, `selectors.py`, `services.py`, "
    "`reko/renderers.py`): a walk's first page scans the current index (a process reuses "
    "its last scan while its index has not changed) and stores the list only when it "
    "changed, with one upsert committed without waiting for the WAL flush; later pages "
    "reuse a stored list within the paging window, and read none while the users have not "
    "changed for a window. The requester is read with plain SQL into a model instance "
    "(no ORM query compilation); their list is kept per process under their `updated_at`; "
    "anime details are kept per catalog version; a page's users are looked up in one "
    "vectorised call; the query string is checked by fields bound once; JSON is written by "
    "orjson, byte for byte what DRF's renderer wrote.", "",
]


def _met(ok: bool) -> str:
    return "met" if ok else "**missed**"


def write(report: dict, *, markdown: Path, plot: Path) -> None:
    lines = _header(report)
    for scale in report["scales"]:
        lines += _scale_section(scale)
    lines += _engine_only_section(report)
    lines += _growth_section(report, plot, markdown)
    if report.get("model"):
        lines += model_section(report["model"])
    lines = _targets(report) + DESIGN + lines
    lines.insert(0, "# Benchmarks\n")
    markdown.write_text("\n".join(lines).rstrip() + "\n")
    _plot(report, plot)


def _header(report) -> list[str]:
    m = report["machine"]
    lines = [
        "## How this was measured", "",
        f"Run on {report['started']}, in {report['wall_s'] / 60:.1f} minutes, by:", "",
        "```", f".venv/bin/{report['command']}", "```", "",
        "Everything on this page comes from that one run (`bench/results/report.json` holds "
        "the raw numbers); nothing is typed by hand. Latencies are medians (p50) and 99th "
        "percentiles in milliseconds. *fresh*: the neighbour list is computed by the request "
        "(a scan of every user); *stored*: it is at hand (a stored neighbour list; for "
        "the SQL, the batch's 32 neighbour ids are passed in).", "",
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gb']} GB; {m['os']}. "
        f"Python {m['python']}, numpy {m['numpy']}, Django {m.get('django', '?')}, "
        f"DRF {m.get('rest_framework', '?')}, psycopg {m.get('psycopg', '?')}, "
        f"gunicorn {m.get('gunicorn', '?')}, PyMySQL {m.get('pymysql', '?')}, {m['wrk']}.", "",
        "Load average (1, 5, 15 min) before: " + ", ".join(f"{x:.2f}" for x in report["load_before"])
        + "; after: " + ", ".join(f"{x:.2f}" for x in report["load_after"]) + ". The machine "
        "is shared (other test suites may run during the benchmark), so the p99s are noisy.", "",
    ]
    return lines


def _dataset(scale) -> list[str]:
    g = scale["generate"]
    m = scale["measure"]
    lengths = g["list_lengths"]
    scores = {int(k): v for k, v in g["scores"].items()}
    zero = scores.get(0, 0) / max(sum(scores.values()), 1)
    statuses = ", ".join(f"{k} {v:.0%}" for k, v in g["statuses"].items())
    return [
        f"Dataset (seed {scale.get('seed', 1)}): {g['users']:,} users ({g['hashed_users']:,} with "
        f"a hash), {g['entries']:,} list entries, of which {m['index_entries']:,} are watched "
        f"and scored (the index). List length: median {lengths['median']:.0f}, mean "
        f"{lengths['mean']:.0f}, p90 {lengths['p90']:.0f}, p99 {lengths['p99']:.0f}, max "
        f"{lengths['max']:,}; {lengths['over_2000']:,} lists over 2,000. Scores 1–10, "
        f"{zero:.0%} of entries unscored (0). Statuses: {statuses}. Updates from "
        f"{g['update_years']['first']} to {g['update_years']['last']}. Catalog: the demo "
        f"catalog. Generated and bulk-loaded into PostgreSQL in {g['wall_s']:.0f} s.", "",
    ]


def _scale_section(scale) -> list[str]:
    users = scale["users"]
    m = scale["measure"]
    lines = [f"## {users:,} users", ""] + _dataset(scale)
    lines += [f"### Engine latency ({users:,} users, ms)", ""]
    lines += _engine_table(m["engine"])
    lines += _sql_section(m)
    lines += _http_section(scale)
    lines += [
        "### Index", "",
        f"Built from {m['index_build_source']} in {m['index_build_s']:.1f} s "
        f"({m['indexed_users']:,} users, {m['index_entries']:,} entries); resident memory of "
        f"the building process afterwards {m['rss_mb']:.0f} MB (peak {m['peak_rss_mb']:.0f} MB "
        f"while loading). Saving it as an index file took {m['index_file_save_s']:.2f} s and "
        f"mapping the file {m['index_file_map_s'] * 1000:.1f} ms.", "",
    ]
    return lines


def _engine_table(rows) -> list[str]:
    return _table(["operation", "fresh p50", "fresh p99", "stored p50", "stored p99", "samples"],
                  [[r["operation"], r["fresh_p50"], r["fresh_p99"], r["stored_p50"],
                    r["stored_p99"], r["stored_n"]] for r in rows])


def _sql_section(m) -> list[str]:
    if "postgresql" not in m:
        return []
    engine = _by_op(m["engine"])
    pg, my = _by_op(m.get("postgresql")), _by_op(m.get("mariadb"))
    rows = []
    for op, e in engine.items():
        for mode in ("fresh", "stored"):
            if mode == "stored" and not op.startswith(("recommendations b", "random")):
                continue
            p = pg.get(op, {}).get(f"{mode}_p50")
            q = my.get(op, {}).get(f"{mode}_p50")
            ours = e[f"{mode}_p50"]
            rows.append([f"{op} ({mode})", p, q, ours,
                         f"{p / ours:,.0f}×" if p else "–", f"{q / ours:,.0f}×" if q else "–"])
    agree = m.get("postgresql_agreement", {})
    agree_my = m.get("mariadb_agreement", {})
    lines = [
        "### The original's SQL on the same data (p50, ms) and the engine's speed-up", "",
        f"{m.get('postgresql_version', 'PostgreSQL')}; MariaDB {m.get('mariadb_version', '–')} "
        f"(the same rows copied over in {m.get('mariadb_load_s', 0):.0f} s, InnoDB buffer pool "
        "sized to hold them). The SQL is in `bench/sql_bench.py`: the similar page is the "
        "`ORDER BY BIT_COUNT(h ^ hash) + BIT_COUNT((h & M) ^ (hash & M))` scan; "
        "recommendations a `GROUP BY` over the batch's neighbours' entries (with the scan "
        "inside when fresh). Speed-up = SQL p50 / engine p50. "
        f"Check: SQL and engine gave the same similar page 1 for "
        f"{agree.get('similar_page_1_identical', '–')}/{agree.get('checked', '–')} requesters "
        f"on PostgreSQL and {agree_my.get('similar_page_1_identical', '–')}/"
        f"{agree_my.get('checked', '–')} on MariaDB.", "",
    ]
    return lines + _table(["operation", "PostgreSQL", "MariaDB", "engine", "vs PostgreSQL",
                           "vs MariaDB"], rows)


def _http_section(scale) -> list[str]:
    h = scale["http"]
    rows = [[route, r["rps"], r["p50_ms"], r["p99_ms"], r["requests"], r["errors"],
             r["connections"]] for route, r in h["routes"].items()]
    x = h["mixed"]
    rows.append(["**mixed**", x["rps"], x["p50_ms"], x["p99_ms"], x["requests"], x["errors"],
                 x["connections"]])
    mem = h["memory_loaded"]
    mem_text = "; ".join(f"RSS {w['rss_mb']:.0f} MB (PSS {w['pss_mb']:.0f}, USS "
                         f"{w['uss_mb']:.0f})" for w in mem)
    lines = []
    profile = scale["measure"].get("request_profile")
    if profile:
        lines = ["### Where a request's time goes (in process, p50 ms)", "",
                 "Django's test client, no HTTP server, after a warm-up on the same paths; *database* "
                 "is the time spent in queries (Python side included), the rest is Django, "
                 "DRF, the services, the engine and the JSON.", ""] + _table(
            ["route", "request", "database", "queries", "rest"],
            [[route, p["total_ms"], p["db_ms"], p["queries"], p["total_ms"] - p["db_ms"]]
             for route, p in profile.items()])
    return lines + _before_after(scale) + [
        "### HTTP", "",
        f"{h['server']} ({h['workers']} workers), DEBUG=0, RATELIMIT_ENABLE=0, PostgreSQL; "
        "`wrk` on 127.0.0.1 with random known users, pages and batches: each route alone "
        "with 1 connection (a request's own latency), then all routes mixed with 4 "
        "connections (throughput of both workers). The workers build the index when they "
        "start (the first saves the index file, the other maps it): "
        + (f"ready {h['ready_s']:.1f} s after gunicorn started, then the first API request "
           f"took {h['first_request_s']:.2f} s." if "ready_s" in h else
           f"the first API request took {h['first_request_s']:.1f} s."), "",
    ] + _table(["route", "req/s", "p50 ms", "p99 ms", "requests", "errors", "connections"],
               rows) + [
        f"Memory per worker after the load: {mem_text}. RSS counts the shared pages of the "
        "mapped index file in every worker; PSS splits them between the workers.", "",
    ]


def _before_after(scale) -> list[str]:
    """The HTTP leg of this checkout beside the baseline's, measured in the same run."""
    before, after = scale.get("http_baseline"), scale["http"]
    if not before:
        return []
    rows = []
    for route in list(after["routes"]) + ["mixed"]:
        b = before["mixed"] if route == "mixed" else before["routes"][route]
        a = after["mixed"] if route == "mixed" else after["routes"][route]
        rows.append([f"**{route}**" if route == "mixed" else route, b["p50_ms"], a["p50_ms"],
                     b["p99_ms"], a["p99_ms"], b["rps"], a["rps"],
                     f"{a['rps'] / b['rps']:.2f}×"])
    return [
        f"### HTTP before and after (baseline `{before['revision']}`)", "",
        "The same load on the same database in this run, first on this checkout, then on "
        f"the baseline's code (a git worktree of that revision, same packages). After: "
        f"{after['server']}; before: {before['server']}.", "",
    ] + _table(["route", "p50 ms before", "p50 ms after", "p99 ms before", "p99 ms after",
                "req/s before", "req/s after", "req/s ratio"], rows)


def _engine_only_section(report) -> list[str]:
    lines = []
    for item in report["engine_only"]:
        m = item["measure"]
        lines += [f"## {item['users']:,} users, engine only (no database)", "",
                  f"Population generated in memory with the same model (in "
                  f"{m.get('generate_s', 0):.0f} s); index built from those arrays in "
                  f"{m['index_build_s']:.1f} s ({m['indexed_users']:,} users, "
                  f"{m['index_entries']:,} entries); process RSS {m['rss_mb']:.0f} MB, "
                  f"generator's arrays included.", ""]
        lines += _engine_table(m["engine"])
    return lines


def _series(report):
    points = []
    for scale in report["scales"]:
        points.append((scale["users"], scale["measure"], scale.get("http")))
    for item in report["engine_only"]:
        points.append((item["users"], item["measure"], None))
    return sorted(points, key=lambda p: p[0])


def _growth_section(report, plot: Path, markdown: Path) -> list[str]:
    ops = ["similar p1", "similar p40", "compare", "recommendations b1 p1",
           "recommendations b40 p20", "random b1"]
    rows = []
    for users, m, http in _series(report):
        e = _by_op(m["engine"])
        pg = _by_op(m.get("postgresql"))
        rows.append([f"{users:,}"] + [e[o]["fresh_p50"] for o in ops] +
                    [pg.get("similar p1", {}).get("fresh_p50"),
                     pg.get("recommendations b1 p1", {}).get("fresh_p50"),
                     m["index_build_s"], m["rss_mb"],
                     http["mixed"]["rps"] if http else None])
    try:
        rel = plot.resolve().relative_to(markdown.resolve().parent)
    except ValueError:
        rel = plot
    return ["## Growth with the number of users", "",
            "Engine p50 (ms, fresh), the SQL on PostgreSQL, index build (s; from the "
            "database, or from generated arrays for the engine-only scale), the building "
            "process's RSS (MB) and mixed HTTP req/s.", ""] + _table(
        ["users"] + ops + ["PG similar p1", "PG recs b1 p1", "index build s", "RSS MB",
                           "HTTP req/s"], rows) + [f"![growth]({rel})", ""]


def _targets(report) -> list[str]:
    scale = next((s for s in report["scales"] if s["users"] == TARGET_USERS),
                 report["scales"][-1] if report["scales"] else None)
    lines = ["## Targets", ""]
    rows = []
    if scale:
        m, h = scale["measure"], scale["http"]
        e = _by_op(m["engine"])
        users = f"{scale['users']:,}"
        for op, limit in TARGETS.items():
            for mode in ("fresh", "stored"):
                value = e[op][f"{mode}_p50"]
                rows.append([f"engine {op} p50, {mode} ({users} users)", f"≤ {limit} ms",
                             f"{value:.3f} ms", _met(value <= limit)])
        for route, r in h["routes"].items():
            rows.append([f"HTTP {route} p50", f"≤ {HTTP_P50_MS} ms", f"{r['p50_ms']:.1f} ms",
                         _met(r["p50_ms"] <= HTTP_P50_MS)])
            rows.append([f"HTTP {route} p99", f"≤ {HTTP_P99_MS} ms", f"{r['p99_ms']:.1f} ms",
                         _met(r["p99_ms"] <= HTTP_P99_MS)])
        x = h["mixed"]
        rows.append(["HTTP mixed, 2 workers", f"≥ {HTTP_MIXED_RPS:,} req/s",
                     f"{x['rps']:.0f} req/s", _met(x["rps"] >= HTTP_MIXED_RPS)])
        errors = sum(r["errors"] for r in h["routes"].values()) + x["errors"]
        rows.append(["HTTP errors", "0", str(errors), _met(errors == 0)])
        for db in ("postgresql", "mariadb"):
            sql = _by_op(m.get(db))
            if not sql:
                continue
            s = sql["similar p1"]["fresh_p50"] / e["similar p1"]["fresh_p50"]
            r = sql["recommendations b1 p1"]["fresh_p50"] / e["recommendations b1 p1"]["fresh_p50"]
            rows.append([f"similar users vs {db} SQL", "≥ 50×", f"{s:,.0f}×", _met(s >= 50)])
            rows.append([f"recommendations vs {db} SQL", "≥ 20×", f"{r:,.0f}×", _met(r >= 20)])
        rows.append(["index build from the database", "≤ 30 s", f"{m['index_build_s']:.1f} s",
                     _met(m["index_build_s"] <= 30)])
        worst = max(w["rss_mb"] for w in h["memory_loaded"])
        rows.append(["RSS per HTTP worker (largest)", "≤ 600 MB", f"{worst:.0f} MB",
                     _met(worst <= 600)])
    for item in report["engine_only"]:
        if item["users"] >= 1_000_000:
            value = _by_op(item["measure"]["engine"])["similar p1"]["fresh_p50"]
            rows.append([f"{item['users']:,} users, engine only: similar page p50 (fresh)",
                         "≤ 10 ms", f"{value:.2f} ms", _met(value <= 10)])
    if report.get("model"):
        rows += _model_targets(report["model"])
    return lines + _table(["target", "wanted", "measured", ""], rows)


def _model_targets(model) -> list[list[str]]:
    rows = []
    pages = {row["operation"]: row for row in model["engine"]}
    for mode, operation in MODEL_PAGES.items():
        value = pages[operation]["p50_ms"]
        rows.append([f"trained ranking: engine page p50, {mode} neighbours "
                     f"({model['users']:,} users)", f"≤ {MODEL_PAGE_P50_MS} ms",
                     f"{value:.2f} ms", _met(value <= MODEL_PAGE_P50_MS)])
    private = model["memory"]["private_gain_mb"]
    rows.append([f"trained ranking: extra private memory per worker ({model['anime']:,} anime)",
                 f"≤ {MODEL_PRIVATE_MB} MB", f"{private:.1f} MB",
                 _met(private <= MODEL_PRIVATE_MB)])
    return rows


def model_section(model: dict) -> list[str]:
    """The trained ranking's section, from one ``bench.model_bench`` result."""
    memory = model["memory"]
    lines = [
        "## Trained ranking (`?algorithm=scored_ease`)", "",
        f"Run on {model['run_at']}, in a process of its own, by:", "",
        "```", model["command"], "```", "",
        f"Load average (1, 5, 15 min) before: {model['load_before']}; after: "
        f"{model['load_after']}.", "",
        "### Serving", "",
        f"Engine only (no database): {model['indexed_users']:,} indexed users, a "
        f"model of {model['anime']:,} anime with {model['top_n']} weights per anime in each "
        "of its two sparse matrices (random weights: the cost does not depend on their "
        f"values), published and mapped as a worker maps it; {model['requesters']} "
        "requesters.", "",
    ] + _table(["operation", "p50 ms", "p99 ms", "samples"],
               [[r["operation"], r["p50_ms"], r["p99_ms"], r["n"]] for r in model["engine"]])
    lines += [
        f"Memory: the model's files are {memory['model_files_mb']:.0f} MB, mapped read-only "
        "and shared by every worker through the page cache. Serving every requester made "
        f"the process's resident size grow by {memory['rss_gain_mb']:.0f} MB (the mapped "
        f"pages it touched, shared) and its private memory by "
        f"{memory['private_gain_mb']:.1f} MB: the extra cost of one more worker is the "
        "private part.", ""]
    if model.get("training"):
        lines += _training(model["training"])
    return lines


def _training(training: dict) -> list[str]:
    steps = training["steps_s"]
    return [
        "### Training", "",
        f"A real `ScoredEase().fit`, in a process of its own, on the watched and scored "
        f"entries of {training['users']:,} generated users ({training['entries']:,} "
        f"entries), spanning {training['anime_spanned']:,} anime{_twins(training)}. The "
        f"model kept the {training['anime']:,} most watched "
        f"({training['recommendable']:,} recommendable) and {training['weights']:,} "
        "weights in its two matrices.", "",
    ] + _table(["anime", "users", "items s", "watched model s", "liked model s", "total s",
                "peak memory GB"],
               [[training["anime"], training["users"], steps.get("items"),
                 steps.get("watched model"), steps.get("liked model"), training["seconds"],
                 training["peak_rss_mb"] / 1024]]) + [
        "Each model is a co-occurrence count over the users' lists (anime² × users) and "
        "an inversion of an anime × anime matrix (anime³). Peak memory is the training "
        "process's peak resident size (`ru_maxrss`), "
        f"{training['rss_before_mb']:.0f} MB of it held before `fit` began (the "
        "interpreter and the entries).", ""]


def _twins(training: dict) -> str:
    if not training["twins"]:
        return " of the demo catalog"
    return (f": the odd-numbered users' entries of the {training['twins']:,} least popular "
            "demo anime go to made-up twins past the demo catalog, so that a catalog that "
            "large is trained (`bench/model_bench.py`)")


def _plot(report, plot: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    series = _series(report)
    users = [p[0] for p in series]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4), dpi=80)
    for op in ("similar p1", "recommendations b1 p1", "random b1", "compare"):
        left.plot(users, [_by_op(m["engine"])[op]["fresh_p50"] for _, m, _ in series],
                  marker="o", label=f"engine {op}")
    for op in ("similar p1", "recommendations b1 p1"):
        points = [(u, _by_op(m.get("postgresql")).get(op, {}).get("fresh_p50"))
                  for u, m, _ in series]
        points = [(u, v) for u, v in points if v]
        if points:
            left.plot(*zip(*points), marker="s", linestyle="--", label=f"PostgreSQL {op}")
    left.set(xscale="log", yscale="log", xlabel="users", ylabel="p50 latency (ms)",
             title="Latency (fresh)")
    left.grid(True, which="both", alpha=0.3)
    left.legend(fontsize=7)
    for source, style in (("database", "o-"), ("arrays", "s--")):
        points = [(u, m) for u, m, _ in series
                  if (m["index_build_source"].startswith("generated")) == (source == "arrays")]
        if not points:
            continue
        xs = [u for u, _ in points]
        right.plot(xs, [m["index_build_s"] for _, m in points], style,
                   label=f"index build, s (from {source})")
        right.plot(xs, [m["rss_mb"] / 1000 for _, m in points], style,
                   label=f"process RSS, GB (from {source})")
    right.set(xscale="log", yscale="log", xlabel="users", title="Index build and memory")
    right.grid(True, which="both", alpha=0.3)
    right.legend(fontsize=7)
    fig.tight_layout()
    plot.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(plot)
    plt.close(fig)


def main(argv=None) -> None:
    """Re-render the page from a run's raw results (by default the last run's)."""
    import argparse
    import json
    here = Path(__file__).resolve().parent
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--results", default=str(here / "results" / "report.json"))
    parser.add_argument("--model", help="a bench.model_bench result (its --out) to render as "
                                        "the trained ranking's section instead of the run's")
    parser.add_argument("--output", default=str(here.parent / "BENCHMARKS.md"))
    parser.add_argument("--plot", default=str(here / "benchmarks.png"))
    args = parser.parse_args(argv)
    report = json.loads(Path(args.results).read_text())
    if args.model:
        report["model"] = json.loads(Path(args.model).read_text())
    write(report, markdown=Path(args.output), plot=Path(args.plot))


if __name__ == "__main__":
    main()
