#!/usr/bin/env python3
"""Turns softsynic-bench JSON results into the generated part of
docs/PERFORMANCE.md: the machine, the compiler, ns/op per benchmark beside
its floor, the ratio and the targets, scaling, memory and replay speed.

Only the text between the GENERATED markers is replaced; the hand-written
rest of the document is kept. Benchmarks describe themselves in their label
("floor=<family> max_ratio=<r> max_ns=<n>", see bench/label.h); a floor row
is the floor family with the same arguments and thread count.
"""

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

BEGIN = "<!-- GENERATED:BEGIN (scripts/bench writes this part; edit outside it) -->"
END = "<!-- GENERATED:END -->"

# Scaling targets: throughput with 2 threads over 1 thread (ideal 2 on a
# 2-core machine), and ns/op at 64 VPs over 1 VP.
MIN_THREAD_SPEEDUP = 1.5
MAX_VP_GROWTH = 1.3
REPLAY_MIN_STEPS = 1e6


def machine():
    model, cpus = "unknown", "?"
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "Model name":
                model = value.strip()
            elif key.strip() == "CPU(s)":
                cpus = value.strip()
    except (OSError, subprocess.CalledProcessError):
        pass
    return model, cpus


def family_and_suffix(run_name):
    """'scale/x/vps:8/real_time/threads:2' -> ('scale/x', '/vps:8/real_time/threads:2')."""
    parts = run_name.split("/")
    for i, p in enumerate(parts):
        if ":" in p or p in ("real_time", "process_time", "manual_time"):
            return "/".join(parts[:i]), "/" + "/".join(parts[i:])
    return run_name, ""


def parse_label(label):
    out = {}
    for token in (label or "").split():
        key, _, value = token.partition("=")
        out[key] = value
    return out


class Row:
    def __init__(self, run_name, entry, cv):
        self.name = run_name
        self.family, self.suffix = family_and_suffix(run_name)
        self.error = entry.get("error_occurred", False)
        self.error_message = entry.get("error_message", "")
        self.label = parse_label(entry.get("label", ""))
        ips = entry.get("items_per_second")
        self.ns = 1e9 / ips if ips else None
        self.items_per_second = ips
        self.cv = cv
        self.threads = entry.get("threads", 1)
        # CPU time per iteration in ns (summed over threads for threaded runs).
        scale = {"ns": 1, "us": 1e3, "ms": 1e6, "s": 1e9}.get(entry.get("time_unit", "ns"), 1)
        self.cpu_ns = entry.get("cpu_time", 0) * scale if "cpu_time" in entry else None
        self.counters = entry


def load(path):
    data = json.loads(Path(path).read_text())
    medians, cvs, singles = {}, {}, {}
    for e in data.get("benchmarks", []):
        name = e.get("run_name", e["name"])
        if e.get("run_type") == "aggregate":
            if e.get("aggregate_name") == "median":
                medians[name] = e
            elif e.get("aggregate_name") == "cv":
                cvs[name] = e.get("items_per_second")
        else:
            singles.setdefault(name, e)  # one repetition or an error row
    rows = {}
    for name, e in singles.items():
        rows[name] = Row(name, e, None)
    for name, e in medians.items():
        rows[name] = Row(name, e, cvs.get(name))
    return data.get("context", {}), rows


def fmt_ns(ns):
    if ns is None:
        return "n/a"
    if ns >= 1000:
        return f"{ns:,.0f}"
    return f"{ns:.1f}" if ns >= 10 else f"{ns:.2f}"


def fmt_cv(cv):
    return "" if cv is None else f"{100 * cv:.0f}%"


def yes(ok):
    return "**yes**" if ok else "**no**"


def ratio_rows(rows, prefix):
    """Table rows (benchmark, ns, floor, floor ns, ratio, target, met) for
    every non-floor benchmark under `prefix`."""
    lines, verdicts = [], []
    for r in sorted(rows.values(), key=lambda r: r.name):
        if not r.name.startswith(prefix) or r.name.startswith("scale/"):
            continue
        floor_family = r.label.get("floor")
        if floor_family is None:
            continue
        floor = rows.get(floor_family + r.suffix)
        if r.error or floor is None or floor.error or r.ns is None or floor.ns is None:
            why = r.error_message if r.error else "floor missing or failed"
            lines.append(f"| `{r.name}` | failed | `{floor_family}` | | | | {why} |")
            verdicts.append((f"`{r.name}`: failed", False))
            continue
        ratio = r.ns / floor.ns
        targets, met = [], True
        if "max_ratio" in r.label and float(r.label["max_ratio"]) > 0:
            limit = float(r.label["max_ratio"])
            targets.append(f"≤ {limit:g}x floor")
            met &= ratio <= limit
        if "max_ns" in r.label:
            limit = float(r.label["max_ns"])
            targets.append(f"< {limit:g} ns")
            met &= r.ns < limit
        target = ", ".join(targets) if targets else "(information)"
        met_text = yes(met) if targets else ""
        lines.append(f"| `{r.name}` | {fmt_ns(r.ns)} | `{floor.name}` | {fmt_ns(floor.ns)} | "
                     f"{ratio:.2f} | {target} | {met_text} | {fmt_cv(r.cv)} |")
        if targets:
            verdicts.append((f"`{r.name}`: {fmt_ns(r.ns)} ns/op, {ratio:.2f}x its floor; {target}", met))
    return lines, verdicts


def scaling_section(rows):
    scale = [r for r in rows.values() if r.name.startswith("scale/")]
    if not scale:
        return ["Scaling benchmarks were not run."], []
    out = ["| path | VPs | threads | ns/op (wall, all threads) | CPU ns/op | Mops/s total | Mops/s per thread | "
           "floor ns/op | ratio | cv |",
           "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    by_path = {}
    for r in scale:
        m = re.match(r"/vps:(\d+)/real_time/threads:(\d+)", r.suffix)
        if not m:
            continue
        by_path.setdefault(r.family, {})[(int(m.group(1)), int(m.group(2)))] = r
    verdicts = []
    for family in sorted(by_path):
        if family.endswith("_floor"):
            continue
        points = by_path[family]
        floor_family = next(iter(points.values())).label.get("floor")
        for (vps, threads) in sorted(points):
            r = points[(vps, threads)]
            floor = by_path.get(floor_family, {}).get((vps, threads))
            if r.error or r.ns is None:
                out.append(f"| `{family}` | {vps} | {threads} | failed: {r.error_message} | | | | | | |")
                continue
            mops = r.items_per_second / 1e6
            ratio = f"{r.ns / floor.ns:.2f}" if floor and floor.ns else ""
            out.append(f"| `{family}` | {vps} | {threads} | {fmt_ns(r.ns)} | {fmt_ns(r.cpu_ns)} | {mops:.1f} | "
                       f"{mops / threads:.1f} | "
                       f"{fmt_ns(floor.ns) if floor else ''} | {ratio} | {fmt_cv(r.cv)} |")
        # Per-VP cost in CPU time: robust against other load on the machine.
        one, many = points.get((1, 1)), points.get((64, 1))
        if one and many and one.cpu_ns and many.cpu_ns:
            growth = many.cpu_ns / one.cpu_ns
            verdicts.append((f"`{family}`: CPU ns/op at 64 VPs / at 1 VP (1 thread) = {growth:.2f}, "
                             f"flat means ≤ {MAX_VP_GROWTH}", growth <= MAX_VP_GROWTH))
        floor_points = by_path.get(floor_family, {})
        for vps in (2, 8, 64):
            a, b = points.get((vps, 1)), points.get((vps, 2))
            if a and b and a.items_per_second and b.items_per_second:
                speedup = b.items_per_second / a.items_per_second
                fa, fb = floor_points.get((vps, 1)), floor_points.get((vps, 2))
                floor_text = ""
                if fa and fb and fa.items_per_second and fb.items_per_second:
                    floor_text = f" (its floor: {fb.items_per_second / fa.items_per_second:.2f})"
                verdicts.append((f"`{family}`: throughput with 2 threads / 1 thread at {vps} VPs = {speedup:.2f}"
                                 f"{floor_text}, target ≥ {MIN_THREAD_SPEEDUP}", speedup >= MIN_THREAD_SPEEDUP))
    return out, verdicts


def memory_section(rows):
    r = next((r for r in rows.values() if r.family == "memory/footprint"), None)
    if r is None or r.error:
        return ["Memory was not measured" + (f" ({r.error_message})." if r else ".")]
    c = r.counters
    return [
        "| quantity | bytes | how |",
        "|---|---:|---|",
        f"| per VP (queue capacity 64 per SINT, 1 VTL) | {c.get('bytes_per_vp', 0):,.0f} | "
        "heap of a 64-VP partition minus a 1-VP one, / 63 |",
        f"| per SINT-queue capacity slot | {c.get('bytes_per_capacity_slot', 0):,.1f} | "
        "heap growth per unit of `sint_queue_capacity` per SINT (preallocated) |",
        f"| per queued message, beyond the preallocation | {c.get('bytes_per_queued_message', 0):,.1f} | "
        "heap growth while 4096 messages wait in one queue, / 4096 |",
        f"| floor per queued message | {c.get('message_floor_bytes', 256):,.0f} | sizeof(HvMessage) |",
    ]


def replay_section(rows):
    r = next((r for r in rows.values() if r.family.startswith("replay/")), None)
    if r is None:
        return ["Replay speed: **pending** (no `replay/` benchmark in this build).", None]
    if r.error or not r.items_per_second:
        return [f"Replay speed: failed ({r.error_message}).", ("replay ≥ 10^6 steps/s", False)]
    steps = r.items_per_second
    ok = steps >= REPLAY_MIN_STEPS
    return [f"Replay (`{r.name}`): **{steps:,.0f} steps/s** (target ≥ 1,000,000: {yes(ok)}).",
            (f"replay: {steps:,.0f} steps/s, target ≥ 10^6", ok)]


def generate(context, rows, model, cpus):
    out = [BEGIN, ""]
    out.append("## Results")
    out.append("")
    out.append(f"- Machine: {model}, {cpus} CPUs ({context.get('num_cpus', '?')} seen by the run, "
               f"{context.get('mhz_per_cpu', '?')} MHz); host `{context.get('host_name', '?')}`")
    out.append(f"- Compiler: {context.get('compiler', '?')}, build type {context.get('build_type', '?')}; "
               f"Google Benchmark library build: {context.get('library_build_type', '?')}")
    out.append(f"- Date: {context.get('date', '?')}; load average at start: "
               f"{', '.join(f'{x:.2f}' for x in context.get('load_avg', [])) or '?'}")
    reps = {r.name: r for r in rows.values()}
    out.append(f"- {len(reps)} benchmarks; every figure is the median over the repetitions; "
               "cv is the coefficient of variation of the throughput over them.")
    out.append("")

    header = ["| benchmark | ns/op | floor | floor ns/op | ratio | target | met | cv |",
              "|---|---:|---|---:|---:|---|---|---:|"]
    verdicts = []
    out.append("### Hot paths (one thread, one VP)")
    out.append("")
    lines, v = [], []
    for prefix in ("signal_event/", "post_message/", "host_post/", "eom/", "event_flag/"):
        l, vv = ratio_rows(rows, prefix)
        lines += l
        v += vv
    out += header + lines if lines else ["Not run."]
    verdicts += v
    out.append("")

    out.append("### On the emulator (Unicorn x86-64, per trapped instruction)")
    out.append("")
    lines, v = ratio_rows(rows, "emulator/")
    lines_runner, v_runner = ratio_rows(rows, "emulator_runner/")
    lines += lines_runner
    v += v_runner
    floors = [r for r in rows.values()
              if r.family in ("emulator/nop", "emulator/out_trap", "emulator/cpuid_trap", "emulator_runner/out")]
    if lines or floors:
        out += header + lines
        for f in sorted(floors, key=lambda r: r.name):
            out.append(f"| `{f.name}` (floor) | {fmt_ns(f.ns)} | | | | | | {fmt_cv(f.cv)} |")
    else:
        out.append("Not built (libunicorn missing).")
    if not any(r.family == "emulator/hypercall_synic" for r in rows.values()):
        out.append("")
        out.append("The SynIC variant (`emulator/hypercall_synic`) needs cpu_hooks; it is **pending** in this build.")
    verdicts += v
    out.append("")

    out.append("### Scaling (VPs × host threads)")
    out.append("")
    lines, v = scaling_section(rows)
    out += lines
    verdicts += v
    out.append("")

    out.append("### Memory")
    out.append("")
    out += memory_section(rows)
    out.append("")

    out.append("### Replay")
    out.append("")
    text, verdict = replay_section(rows)
    out.append(text)
    if verdict:
        verdicts.append(verdict)
    out.append("")

    out.append("### Targets")
    out.append("")
    out.append("| target | met |")
    out.append("|---|---|")
    for what, ok in verdicts:
        out.append(f"| {what} | {yes(ok)} |")
    out.append("")
    out.append(END)
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    context, rows = load(args.json)
    model, cpus = machine()
    generated = generate(context, rows, model, cpus)
    path = Path(args.out)
    text = path.read_text() if path.exists() else ""
    if BEGIN in text and END in text:
        head, _, rest = text.partition(BEGIN)
        _, _, tail = rest.partition(END)
        text = head + generated.rstrip("\n") + tail
    else:
        text = "# Performance\n\n" + generated + text
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
