#!/usr/bin/env python3
"""coverage-report.py - print the Sources/ coverage report from an
`llvm-cov export -format=text` JSON file (used by scripts/coverage.sh).

Usage: coverage-report.py --root REPO --export export.json

Prints a per-file table with per-target subtotals and totals (lines,
functions, regions, branches), the C entry points implemented in
Sources/CDaxModel (`@c ... func daxm_*`) that no test executed, and the
`throw DaxError(...)` / `throw DaxErrorBox(...)` sites in Sources/ whose
execution count is 0.
"""
import argparse
import bisect
import json
import os
import re
import sys

KINDS = ("lines", "functions", "regions", "branches")
THROW_RE = re.compile(r"\bthrow\s+(DaxError|DaxErrorBox)\s*\(")
ENTRY_RE = re.compile(r"@c(?:\((\w+)\))?\s+(?:(?:public|package|internal)\s+)?func\s+(daxm_\w+)\s*\(")
HEADER_DECL_RE = re.compile(r"^[a-z][^;(#]*?\b(daxm_\w+)\s*\(", re.M)


def rel(path, root):
    return os.path.relpath(path, root)


def cell(s):
    n, c = s.get("count", 0), s.get("covered", 0)
    if n == 0:
        return "{:>11} {:>6}".format("0/0", "-")
    return "{:>11} {:>5.1f}%".format("{}/{}".format(c, n), 100.0 * c / n)


def add(acc, s):
    for k in KINDS:
        acc[k]["count"] += s[k]["count"]
        acc[k]["covered"] += s[k]["covered"]


def empty():
    return {k: {"count": 0, "covered": 0} for k in KINDS}


def table(files, root):
    width = max([len("TOTAL (Sources/)")] + [len(rel(f["filename"], root)) for f in files]) + 2
    head = "{:<{w}}".format("File", w=width) + "".join("{:>19}".format(k.capitalize()) for k in KINDS)
    print(head)
    print("-" * len(head))
    groups = {}
    for f in sorted(files, key=lambda f: f["filename"]):
        name = rel(f["filename"], root)
        parts = name.split(os.sep)
        group = os.sep.join(parts[:2]) if len(parts) > 2 else parts[0]
        groups.setdefault(group, []).append(f)
    total = empty()
    for group, members in groups.items():
        sub = empty()
        for f in members:
            s = f["summary"]
            add(sub, s)
            print("{:<{w}}".format(rel(f["filename"], root), w=width) + "".join(cell(s[k]) for k in KINDS))
        add(total, sub)
        print("{:<{w}}".format("  subtotal " + group + "/", w=width) + "".join(cell(sub[k]) for k in KINDS))
        print()
    print("-" * len(head))
    print("{:<{w}}".format("TOTAL (Sources/)", w=width) + "".join(cell(total[k]) for k in KINDS))
    return total, groups


def count_at(segments, line, col):
    """Execution count at (line, col): the last segment starting at or before it."""
    keys = [(s[0], s[1]) for s in segments]
    i = bisect.bisect_right(keys, (line, col)) - 1
    if i < 0:
        return None
    seg = segments[i]
    if not seg[3]:  # hasCount
        return None
    return seg[2]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", required=True)
    ap.add_argument("--export", required=True)
    a = ap.parse_args()
    root = os.path.realpath(a.root)
    sources = os.path.join(root, "Sources")
    data = json.load(open(a.export))["data"][0]
    files = [f for f in data["files"] if os.path.realpath(f["filename"]).startswith(sources + os.sep)]
    if not files:
        print("coverage-report: no Sources/ files in " + a.export, file=sys.stderr)
        return 1

    print("Coverage of Sources/ (llvm-cov; functions include closures and accessors)")
    print()
    total, groups = table(files, root)
    print()
    if total["branches"]["count"] == 0:
        r = total["regions"]
        print("Branches: llvm-cov records 0/0 branches for every Swift file: this toolchain's Swift")
        print("coverage mapping has no branch regions (branch coverage exists only for C/C++ via clang).")
        print("Stand-in: REGION coverage, {}/{} = {:.1f}%. Swift gives every then/else, guard-else,".format(
            r["covered"], r["count"], 100.0 * r["covered"] / max(r["count"], 1)))
        print("switch case, catch clause, loop body and ternary arm its own counted region, so an")
        print("uncovered region is a branch side that no test took.")
        print()

    # --- C entry points ------------------------------------------------------
    by_file = {}
    for fn in data["functions"]:
        for fname in fn.get("filenames", [])[:1]:
            by_file.setdefault(os.path.realpath(fname), []).append(fn)
    cdir = os.path.join(sources, "CDaxModel")
    entries = []
    for dirpath, _, names in os.walk(cdir):
        for n in sorted(names):
            if not n.endswith(".swift"):
                continue
            path = os.path.join(dirpath, n)
            text = open(path, encoding="utf-8").read()
            for m in ENTRY_RE.finditer(text):
                cname = m.group(1) or m.group(2)
                line = text.count("\n", 0, m.start(2)) + 1
                entries.append((path, line, m.group(2), cname))
    never, missing = [], []
    for path, line, swiftname, cname in entries:
        prefix = "$s9CDaxModel{}{}".format(len(swiftname), swiftname)
        cands = [fn for fn in by_file.get(os.path.realpath(path), [])
                 if fn["name"].split(":")[-1].startswith(prefix)]
        if not cands:
            missing.append((path, line, cname))
            continue
        fn = min(cands, key=lambda f: len(f["name"].split(":")[-1]))
        if fn["count"] == 0:
            never.append((path, line, cname))
    called = len(entries) - len(never) - len(missing)
    print("C entry points (Sources/CDaxModel): {} implemented, {} called by some test, {} never called"
          .format(len(entries), called, len(never)))
    for path, line, cname in sorted(never, key=lambda e: e[2]):
        print("  never called: {:<36} {}:{}".format(cname, rel(path, root), line))
    for path, line, cname in missing:
        print("  no coverage record: {:<30} {}:{}".format(cname, rel(path, root), line))
    header = os.path.join(root, "include", "daxmodel.h")
    if os.path.exists(header):
        declared = set(HEADER_DECL_RE.findall(open(header, encoding="utf-8").read()))
        implemented = {e[3] for e in entries}
        if declared - implemented:
            print("  declared in include/daxmodel.h, no @c implementation found: " +
                  ", ".join(sorted(declared - implemented)))
    print()

    # --- uncovered throw sites ---------------------------------------------------
    segs = {os.path.realpath(f["filename"]): f["segments"] for f in data["files"]}
    sites, uncovered, unknown = 0, [], []
    for dirpath, _, names in sorted(os.walk(sources)):
        for n in sorted(names):
            if not n.endswith(".swift"):
                continue
            path = os.path.join(dirpath, n)
            for lineno, text in enumerate(open(path, encoding="utf-8"), 1):
                code = text.split("//", 1)[0] if text.lstrip().startswith("//") else text
                for m in THROW_RE.finditer(code):
                    sites += 1
                    seg = segs.get(os.path.realpath(path))
                    c = count_at(seg, lineno, m.start() + 1) if seg else None
                    item = (rel(path, root), lineno, text.strip())
                    if c is None:
                        unknown.append(item)
                    elif c == 0:
                        uncovered.append(item)
    print("Error paths: {} `throw DaxError(...)`/`throw DaxErrorBox(...)` sites, {} never executed"
          .format(sites, len(uncovered)))
    for path, line, text in uncovered:
        short = text if len(text) <= 110 else text[:107] + "..."
        print("  {}:{}: {}".format(path, line, short))
    for path, line, text in unknown:
        print("  (no coverage data) {}:{}: {}".format(path, line, text[:100]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
