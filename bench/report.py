"""Results of bench/run.sh: one JSON line per step, one table per run, and the comparison table.

    report.py record RESULTS NAME METRICS JSON STORE   append a row (run.sh calls it after each step)
    report.py summary RUN_DIR [--elapsed S]            every run's table, then the comparison; exit 1 if invalid
    report.py profile FILE [--top N]                   the top frames of a py-spy raw profile (PROFILE=1)

The per-run table has the columns of /work/shared/peers/harness/table.mjs (from which its validity rules and
noise marking are taken) plus our store's CPU (PostgreSQL backends of the bench database and Redis) and the
minter's own CPU. Validity, as there: a step is invalid if any response failed (non-2xx, or for W5 anything but a
3xx carrying a code; socket errors; timeouts), the minter hit an error or its time limit, or W3's bodies ran out
in under 5 s; a run that did not complete is invalid. Steps with steal > 5% or other > 10% are NOISY.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
from collections import Counter
from pathlib import Path
from typing import Any

Row = dict[str, Any]
HELPER_STEPS = ("check", "warmup", "tokens")
SSO_MINT = "SSO codes for W3"
NOISY_STEAL, NOISY_OTHER = 5.0, 10.0


# --- record ------------------------------------------------------------------------------------------------------


def record(results: Path, name: str, metrics: str, payload: str, store: str) -> None:
    pct, secs, steal, other, store_pct, store_s = metrics.split()
    row: Row = {
        "workload": name,
        "server_cpu_pct": int(float(pct)),
        "server_cpu_s": float(secs),
        "steal_pct": float(steal),
        "other_cpu_pct": float(other),
    }
    if store == "1":
        row.update(store_cpu_pct=int(float(store_pct)), store_cpu_s=float(store_s))
    row.update(json.loads(payload))
    with results.open("a") as handle:
        handle.write(json.dumps(row) + "\n")


# --- one run -----------------------------------------------------------------------------------------------------


class Run:
    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self.name = directory.name
        self.provider = directory.name.rsplit("-r", 1)[0]
        results = directory / "results.jsonl"
        self.all: list[Row] = (
            [json.loads(line) for line in results.read_text().splitlines() if line.strip()] if results.exists() else []
        )
        meta_path = directory / "meta.json"
        self.meta: dict[str, Any] = json.loads(meta_path.read_text()) if meta_path.exists() else {}
        self.rows = [r for r in self.all if "rps" in r and r["workload"] not in HELPER_STEPS]
        self.probes = [r for r in self.all if str(r["workload"]).startswith("probe")]

    @property
    def complete(self) -> bool:
        return self.meta.get("status") == "complete"

    def problems(self) -> list[str]:
        found = [] if self.complete else [f"{self.name}: the run did not complete (see its mint.log, server.log)"]
        for r in self.all:
            found += [f"{self.name} {r['workload']}: {p}" for p in row_problems(r)]
        return found

    def row(self, workload: str) -> Row | None:
        return next((r for r in self.rows if r["workload"] == workload), None)


def row_problems(r: Row) -> list[str]:
    if "rps" not in r:
        return []
    found = []
    bad = sum(int(r.get(k) or 0) for k in ("non2xx", "socket_errors", "timeouts", "errors"))
    if bad:
        found.append(f"{bad} failed requests")
    if r.get("kind") == "mint" and r.get("timed_out"):
        found.append("minting hit its time limit")
    if r.get("bodies_exhausted") and r.get("window_s", 0) < 5:
        found.append(f"bodies ran out after {r['window_s']} s (mint more)")
    return found


def count(r: Row) -> int:
    return int(r.get("requests") or r.get("signins") or 0)


def ms_per(r: Row, key: str) -> float | None:
    n = count(r)
    return r[key] * 1000 / n if key in r and n else None


def noisy(r: Row) -> bool:
    return (r.get("steal_pct") or 0) > NOISY_STEAL or (r.get("other_cpu_pct") or 0) > NOISY_OTHER


def fmt(value: float | None, digits: int = 0) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


COLUMNS: list[tuple[str, int]] = [
    ("workload", 28),
    ("req/s", 8),
    ("p50 ms", 8),
    ("p99 ms", 8),
    ("non-2xx", 8),
    ("requests", 9),
    ("secs", 6),
    ("srv CPU%", 9),
    ("CPU ms/req", 11),
    ("store CPU%", 11),
    ("store ms/req", 13),
    ("steal%", 7),
    ("other%", 7),
    ("cli CPU%", 9),
    ("", 6),
]


def aligned(cells: list[str], widths: list[int], sep: str = " ") -> str:
    return sep.join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True)))


def line(cells: list[str]) -> str:
    return aligned(cells, [w for _, w in COLUMNS])


def print_run(run: Run) -> None:
    meta = run.meta
    print(f"\n### {run.name}: {meta.get('version', '(incomplete run)')}")
    mode = "server pinned to CPU 0, minter+wrk pinned to CPU 1" if meta.get("pinned") else "no CPU pinning"
    if meta:
        profiled = "; PROFILED with py-spy (W3-W5 figures low)" if meta.get("profiled") else ""
        print(f"mode: WORKERS={meta.get('workers')}, {mode}{profiled}")
    if run.probes:
        print(
            "CPU probe (ES256 signs/s on the server's CPU, median of 1 s windows [min-max]): "
            + ", ".join(
                f"{p['workload'].replace('probe ', '')} {p['es256_signs_per_s']} [{p['min']}-{p['max']}]"
                for p in run.probes
            )
        )
    rss = meta.get("rss")
    if rss:
        print(f"peak RSS: server process {rss['server_mb']} MB, its children (workers) {rss['children_mb']} MB")
    print(line([h for h, _ in COLUMNS]))
    for r in run.rows:
        bad = sum(int(r.get(k) or 0) for k in ("non2xx", "errors", "socket_errors", "timeouts"))
        print(
            line(
                [
                    ("(untimed) " if r["workload"] == SSO_MINT else "") + r["workload"],
                    fmt(r["rps"]),
                    fmt(r["p50_ms"], 2),
                    fmt(r["p99_ms"], 2),
                    str(bad),
                    str(count(r)),
                    fmt(r.get("window_s", r.get("seconds")), 1),
                    str(r.get("server_cpu_pct", "-")),
                    fmt(ms_per(r, "server_cpu_s"), 3),
                    str(r.get("store_cpu_pct", "-")),
                    fmt(ms_per(r, "store_cpu_s"), 3),
                    fmt(r.get("steal_pct"), 1),
                    fmt(r.get("other_cpu_pct"), 1),
                    fmt(r.get("client_cpu_pct"), 0),
                    "NOISY" if noisy(r) else "",
                ]
            )
        )
    w3 = run.row("W3 POST token")
    if w3:
        ran_out = " (all used: ran out before the time limit)" if w3.get("bodies_exhausted") else ""
        print(f"W3: {w3['requests']} of {w3['bodies_offered']} minted bodies used{ran_out}.")
    for problem in run.problems():
        print(f"INVALID: {problem}")


# --- comparison --------------------------------------------------------------------------------------------------


def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def summary(run_dir: Path, elapsed: int | None) -> int:
    dirs = [d for d in run_dir.iterdir() if d.is_dir() and re.fullmatch(r"(peer|ours)-r\d+", d.name)]
    runs = [Run(d) for d in sorted(dirs, key=lambda d: (int(d.name.rsplit("-r", 1)[1]), not d.name.startswith("peer")))]
    if not runs:
        print(f"no runs in {run_dir}")
        return 1
    for run in runs:
        print_run(run)
    problems = [p for run in runs for p in run.problems()]
    # figures from every completed run; a row that broke a validity rule is flagged INVALID (and the exit status is 1)
    done = {p: [r for r in runs if r.provider == p and r.complete] for p in ("peer", "ours")}
    order: list[str] = []
    for run in runs:
        for r in run.rows:
            if r["workload"] != SSO_MINT and r["workload"] not in order:
                order.append(r["workload"])

    def figures(provider: str, workload: str, f: Any) -> list[float]:
        out = []
        for run in done[provider]:
            r = run.row(workload)
            value = f(r) if r else None
            if value is not None:
                out.append(float(value))
        return out

    rounds = max((r.meta.get("round", 0) for r in runs), default=0)
    print(
        f"\n## Comparison: median over completed runs (peer {len(done['peer'])}, ours {len(done['ours'])}; "
        f"{rounds} round(s), alternated peer, ours)"
    )
    head = ["workload", "peer req/s", "ours req/s", "ours/peer", "peer ms/req", "ours ms/req", "ours store"]
    head += ["ours p50", "ours p99", "validity, noise"]
    widths = [28, 11, 11, 10, 12, 12, 11, 9, 9, 0]
    print(aligned(head, widths, "  "))
    for workload in order:
        peer = median(figures("peer", workload, lambda r: r["rps"]))
        ours = median(figures("ours", workload, lambda r: r["rps"]))
        ratio = f"{ours / peer:.2f}" if peer and ours is not None else "n/a"
        noisy_runs = [run.name for run in runs if (found := run.row(workload)) is not None and noisy(found)]
        invalid_runs = [run.name for run in runs if (found := run.row(workload)) is not None and row_problems(found)]
        invalid_runs += [run.name for run in runs if not run.complete and run.row(workload) is None]
        cells = [
            workload,
            fmt(peer),
            fmt(ours),
            ratio,
            fmt(median(figures("peer", workload, lambda r: ms_per(r, "server_cpu_s"))), 3),
            fmt(median(figures("ours", workload, lambda r: ms_per(r, "server_cpu_s"))), 3),
            fmt(median(figures("ours", workload, lambda r: ms_per(r, "store_cpu_s"))), 3),
            fmt(median(figures("ours", workload, lambda r: r["p50_ms"])), 1),
            fmt(median(figures("ours", workload, lambda r: r["p99_ms"])), 1),
            " ".join(
                (["INVALID: " + ", ".join(invalid_runs)] if invalid_runs else [])
                + (["NOISY: " + ", ".join(noisy_runs)] if noisy_runs else [])
            ),
        ]
        print(aligned(cells, widths, "  "))
    print(
        "ms/req = server CPU time per request (per sign-in for E2E rows); ours store = CPU of our PostgreSQL backends\n"
        "  and Redis per request (the peer keeps its state in its own process, so its ms/req includes its store).\n"
        "E2E rows: full sign-ins/s with a fresh cookie jar (peer: email+password, 4 requests; ours: email,\n"
        "  password, authenticator-app code, 9 requests).\n"
        "W5: GET /authorize with a signed-in session cookie -> redirect with code, one request."
    )
    peer_rss = median([float(r.meta["rss"]["server_mb"]) for r in done["peer"] if r.meta.get("rss")])
    ours_worker = median([float(max(r.meta["rss"]["children_mb"] or [0])) for r in done["ours"] if r.meta.get("rss")])
    ours_master = median([float(r.meta["rss"]["server_mb"]) for r in done["ours"] if r.meta.get("rss")])
    peer_workers = done["peer"][0].meta.get("workers") if done["peer"] else None
    peer_what = "one process" if peer_workers == 1 else "primary process (cluster)"
    print(
        f"peak RSS per worker: peer {fmt(peer_rss)} MB ({peer_what}); ours {fmt(ours_worker)} MB per gunicorn worker "
        f"(+ {fmt(ours_master)} MB gunicorn arbiter)"
    )
    for workload in order:
        if workload.startswith("E2E"):
            o = median(figures("ours", workload, lambda r: ms_per(r, "server_cpu_s")))
            s = median(figures("ours", workload, lambda r: ms_per(r, "store_cpu_s")))
            p = median(figures("peer", workload, lambda r: ms_per(r, "server_cpu_s")))
            print(f"E2E CPU ms per sign-in ({workload}): ours {fmt(o, 1)} server + {fmt(s, 1)} store; peer {fmt(p, 2)}")
    seeds = [r.meta["seed"] for r in runs if r.meta.get("seed")]
    if seeds:
        a = seeds[0]["argon2"]
        print(
            f"ours: password check = Argon2id m={a['memory_kib']} KiB ({a['memory_kib'] / 1024:.0f} MiB), "
            f"t={a['time_cost']}, p={a['parallelism']} (one hash took {a['one_hash_ms']} ms, unpinned, at seeding); "
            "the peer hashes no password."
        )
    print(
        "CPU probes (ES256 signs/s, before/after): "
        + "; ".join(f"{r.name} " + "/".join(str(p["es256_signs_per_s"]) for p in r.probes) for r in runs)
    )
    if any(r.meta.get("profiled") for r in runs):
        print("NOTE: some runs were profiled with py-spy; their W3-W5 figures are not comparable.")
    if elapsed is not None:
        print(f"total time: {elapsed // 60} min {elapsed % 60} s")
    for run in runs:
        for prof in sorted(run.dir.glob("profile-*.txt")):
            step = prof.stem.removeprefix("profile-")
            print(f"\n-- py-spy --gil, {run.name} {step}: samples of the thread holding the GIL (Python CPU;")
            print("   Argon2 and socket I/O release the GIL, so they are not in these samples)")
            print_profile(prof, 12)
    if problems:
        print("\nINVALID RUN: " + "; ".join(problems))
        return 1
    print("\nAll figures valid.")
    return 0


# --- profiles ----------------------------------------------------------------------------------------------------

_LINENO = re.compile(r":\d+\)$")
# py-spy --full-filenames: keep the path below site-packages, the repository or the standard library
_REPO = re.escape(str(Path(__file__).resolve().parent.parent) + "/")
_PREFIX = re.compile(rf"\((?:[^()]*/site-packages/|{_REPO}|[^()]*/lib/python3\.\d+/)")


_FRAME_FILE = re.compile(r"\(([^()]*)\)$")
_WRAPPER = "PublishedDocuments.__call__"  # the WSGI middleware around every request


def package_of(frame: str) -> str:
    m = _FRAME_FILE.search(frame)
    path = m.group(1) if m else frame
    first = path.split("/", 1)[0]
    return first.removesuffix(".py") if "/" not in path else first


def print_profile(path: Path, top: int) -> None:
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    packages: Counter[str] = Counter()
    total = 0
    for raw in path.read_text().splitlines():
        stack, _, n = raw.rpartition(" ")
        if not stack or not n.isdigit():
            continue
        samples = int(n)
        total += samples
        frames = [_PREFIX.sub("(", _LINENO.sub(")", f)) for f in stack.split(";") if f]
        own[frames[-1]] += samples
        for frame in set(frames):
            inclusive[frame] += samples
        # the innermost frame outside the standard-library glue decides the package a sample is charged to
        packages[package_of(frames[-1])] += samples
    if not total:
        print("(no samples)")
        return
    print(f"{total} samples; self time by package (innermost frame):")
    print("  " + ", ".join(f"{name} {100 * c / total:.0f}%" for name, c in packages.most_common(10)))
    print("self time, top functions:")
    for frame, c in own.most_common(top):
        print(f"  {100 * c / total:5.1f}%  {frame[:140]}")
    print("inclusive, our code (idp/):")
    ours = [(f, c) for f, c in inclusive.most_common() if "(idp/" in f and not f.startswith(_WRAPPER)]
    for frame, c in ours[:top]:
        print(f"  {100 * c / total:5.1f}%  {frame[:140]}")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    rec = sub.add_parser("record")
    for name in ("results", "name", "metrics", "payload", "store"):
        rec.add_argument(name)
    summ = sub.add_parser("summary")
    summ.add_argument("run_dir", type=Path)
    summ.add_argument("--elapsed", type=int)
    prof = sub.add_parser("profile")
    prof.add_argument("file", type=Path)
    prof.add_argument("--top", type=int, default=20)
    args = parser.parse_args(argv)
    if args.command == "record":
        record(Path(args.results), args.name, args.metrics, args.payload, args.store)
        return 0
    if args.command == "profile":
        print_profile(args.file, args.top)
        return 0
    return summary(args.run_dir, args.elapsed)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
