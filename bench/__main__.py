"""``python -m bench [B1 B2 …] [--runs N] [--quick] [--profile auto|always|never]``.

Runs the chosen benchmarks (all by default), each ``--runs`` times (default:
the benchmark's own, 1 with ``--quick``), and prints one table of medians
with the goal and pass/FAIL, then the machine, then notes (errors, profiles).
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import importlib
import json
import math
import signal
import statistics
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType, ModuleType
from typing import Any

from bench.common import (
    Goal,
    RunResult,
    end_all_processes,
    machine_summary,
    pin_self_to_load_core,
    py_spy,
)

BENCHMARKS: dict[str, ModuleType] = {
    module.NAME: module
    for module in (
        importlib.import_module(f"bench.{name}")
        for name in (
            "b1_arrest_load",
            "b2_timer_lateness",
            "b3_restart_catchup",
            "b4_kill_storm",
            "b5_memory",
            "b6_slow_clients",
            "b7_channel_outage",
            "b8_oversight_export",
            "b9_arrest_burst",
        )
    )
}


@dataclass
class Row:
    bench: str
    metric: str
    unit: str
    goal: Goal | None
    values: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        finite = [v for v in self.values if not math.isnan(v)]
        if len(finite) < len(self.values):
            return math.nan  # a run that could not measure it counts against the goal
        return statistics.median(finite) if finite else math.nan

    @property
    def verdict(self) -> str:
        if self.goal is None:
            return "-"
        return "pass" if self.goal.met(self.median) else "FAIL"


def _fmt(value: float) -> str:
    if math.isnan(value):
        return "n/a"
    if value == 0:
        return "0"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    if abs(value) >= 0.1:
        return f"{value:.2f}"
    return f"{value:.4f}"


def _table(rows: list[Row]) -> str:
    header = ("benchmark", "metric", "goal", "measured (median)", "result", "runs")
    lines = [
        (
            row.bench,
            row.metric,
            row.goal.text + (f" {row.unit}" if row.unit else "") if row.goal else "-",
            f"{_fmt(row.median)} {row.unit}".strip(),
            row.verdict,
            " / ".join(_fmt(v) for v in row.values) if len(row.values) > 1 else "",
        )
        for row in rows
    ]
    widths = [max(len(str(c)) for c in column) for column in zip(header, *lines, strict=True)]
    out = [
        " | ".join(str(c).ljust(w) for c, w in zip(header, widths, strict=True)),
        "-+-".join("-" * w for w in widths),
    ]
    out += [
        " | ".join(str(c).ljust(w) for c, w in zip(line, widths, strict=True)) for line in lines
    ]
    return "\n".join(out)


def _collect(name: str, results: list[RunResult]) -> list[Row]:
    rows: dict[str, Row] = {}
    for result in results:
        for m in result.measurements:
            row = rows.setdefault(m.metric, Row(name, m.metric, m.unit, m.goal))
            row.values.append(m.value)
    return list(rows.values())


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "names", nargs="*", help=f"benchmarks to run (default all: {list(BENCHMARKS)})"
    )
    parser.add_argument("--runs", type=int, default=None, help="repeat each; report the median")
    parser.add_argument("--quick", action="store_true", help="small sizes, short windows (smoke)")
    parser.add_argument(
        "--profile",
        choices=("auto", "always", "never"),
        default="auto",
        help="one extra py-spy run of a benchmark: auto = when a goal fails (not with --quick)",
    )
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = parser.parse_args(argv)
    names = [n.upper() for n in args.names] or list(BENCHMARKS)
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s) {unknown}; choose from {list(BENCHMARKS)}")

    signal.signal(signal.SIGTERM, _on_sigterm)
    atexit.register(end_all_processes)
    pin_self_to_load_core()

    rows: list[Row] = []
    notes: list[str] = []
    started = time.monotonic()
    for name in names:
        module = BENCHMARKS[name]
        runs = args.runs or (1 if args.quick else module.DEFAULT_RUNS)
        results: list[RunResult] = []
        bench_started = time.monotonic()
        for index in range(runs):
            print(f"[{name}] {module.TITLE}: run {index + 1}/{runs} …", file=sys.stderr, flush=True)
            try:
                results.append(asyncio.run(module.run(quick=args.quick)))
            except Exception as error:
                notes.append(f"{name} run {index + 1} failed: {error!r}")
                traceback.print_exc()
            finally:
                end_all_processes()
        bench_rows = _collect(name, results)
        for result in results:
            notes.extend(dict.fromkeys(result.notes))  # the same note from each run once
        failed = any(row.verdict == "FAIL" for row in bench_rows)
        profile = args.profile == "always" or (args.profile == "auto" and failed and not args.quick)
        if (
            profile
            and getattr(module, "PROFILES", True)
            and "profile_dir" in module.run.__code__.co_varnames
        ):
            if py_spy() is None:
                notes.append(f"{name}: goal failed; py-spy not found, no profile taken")
            else:
                print(f"[{name}] profiling run (not counted) …", file=sys.stderr, flush=True)
                with tempfile.TemporaryDirectory(prefix="wso-bench-profile-") as tmp:
                    try:
                        extra = asyncio.run(module.run(quick=args.quick, profile_dir=Path(tmp)))
                        notes.append(f"{name} profiling run (py-spy, not counted in the table):")
                        notes.extend(f"    {line}" for line in extra.profile)
                    except Exception as error:
                        notes.append(f"{name} profiling run failed: {error!r}")
                    finally:
                        end_all_processes()
        rows.extend(bench_rows)
        print(
            f"[{name}] done in {time.monotonic() - bench_started:.0f} s",
            file=sys.stderr,
            flush=True,
        )

    print()
    print(_table(rows))
    print()
    print(machine_summary())
    print(
        f"total time {time.monotonic() - started:.0f} s; {'quick' if args.quick else 'full'} sizes"
    )
    if notes:
        print()
        print("notes:")
        for note in notes:
            print(f"- {note}" if not note.startswith(" ") else note)
    if args.json is not None:
        args.json.write_text(json.dumps(_as_json(rows, notes, args.quick), indent=2))
    return 0


def _as_json(rows: list[Row], notes: list[str], quick: bool) -> dict[str, Any]:
    return {
        "machine": machine_summary(),
        "quick": quick,
        "rows": [
            {
                "bench": r.bench,
                "metric": r.metric,
                "unit": r.unit,
                "goal": r.goal.text if r.goal else None,
                "median": None if math.isnan(r.median) else r.median,
                "values": [None if math.isnan(v) else v for v in r.values],
                "result": r.verdict,
            }
            for r in rows
        ],
        "notes": notes,
    }


if __name__ == "__main__":
    sys.exit(main())
