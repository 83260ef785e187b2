#!/usr/bin/env bash
# scripts/mutate.sh: mutation testing of Sources/ against the fast test step.
#
#   scripts/mutate.sh [--list] [--only ID ...] [--timeout SECONDS] [--keep]
#
#   --list             list the mutants of scripts/mutants.txt (and whether each
#                      original snippet still occurs exactly once); build nothing
#   --only ID ...      run only these mutants (shell-style patterns: 'state-*')
#   --timeout SECONDS  limit for each mutant's `swift test` (default: 4 x the
#                      baseline's test time + 60); a timeout counts as killed
#   --keep             keep every mutant's log in .build-mutate/logs/ (default:
#                      only the logs of mutants that were not killed)
#
# The working tree's files (git ls-files -co --exclude-standard, so
# uncommitted changes count) are synced into .build-mutate/tree/ (only
# changed contents are rewritten, so its .build/ builds incrementally). The
# unmutated copy must pass `swift build --build-tests` + `swift test`; then
# each mutant is applied there alone, built (a compile error: INVALID), tested
# (a failure or timeout: KILLED, else SURVIVED) and undone. A snippet that no
# longer occurs exactly once is STALE; mutants marked `equivalent:` are not
# run. The table goes to stdout and .build-mutate/results.md. Exit status 0
# when the run completed (survivors included), non-zero on a tool or
# baseline failure. Slow (about 20-40 s per mutant, half an hour for the
# whole list on 2 cores): not part of CI. MUTANTS=FILE runs another list.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LIST=${MUTANTS:-$ROOT/scripts/mutants.txt}  # another list: MUTANTS=file scripts/mutate.sh
WORK="$ROOT/.build-mutate"
TREE="$WORK/tree"
LOGS="$WORK/logs"
RESULTS="$WORK/results.tsv"

list_only=0 keep=0 timeout=""
only=()
while (($#)); do
    case "$1" in
        --list) list_only=1; shift ;;
        --keep) keep=1; shift ;;
        --timeout) timeout=${2:?--timeout needs SECONDS}; shift 2 ;;
        --only)
            shift
            while (($#)) && [[ $1 != --* ]]; do only+=("$1"); shift; done
            ((${#only[@]})) || { echo "mutate.sh: --only needs at least one ID" >&2; exit 2; } ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "mutate.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done

export SWIFT_BACKTRACE=enable=no

# The embedded python3 helper: py list|apply|sync|firstfail|table ARGS...
py() { python3 - "$@" <<'PYTHON'
import fnmatch, os, re, shutil, subprocess, sys

def parse(path):
    """The mutant blocks of mutants.txt, in file order."""
    mutants, cur = [], None
    for n, line in enumerate(open(path, encoding="utf-8").read().split("\n"), 1):
        where = f"{path}:{n}"
        if line.startswith("## "):
            m = re.match(r"## ([a-z0-9][a-z0-9-]*): (.+)$", line)
            if not m:
                sys.exit(f"{where}: expected '## <id>: <reason>'")
            cur = dict(id=m[1], reason=m[2].strip(), file=None, equivalent=None, minus=[], plus=[], line=n)
            mutants.append(cur)
        elif line.startswith("#") or not line.strip():
            continue
        elif cur is None:
            sys.exit(f"{where}: text before the first '## ' block")
        elif line.startswith("file: "):
            cur["file"] = line[6:].strip()
        elif line.startswith("equivalent: "):
            cur["equivalent"] = line[12:].strip()
        elif line[:1] in "-+" and (len(line) == 1 or line[1] == " "):
            (cur["minus"] if line[0] == "-" else cur["plus"]).append(line[2:])
        else:
            sys.exit(f"{where}: unexpected line: {line}")
    seen = set()
    for m in mutants:
        if not m["file"] or not m["minus"]:
            sys.exit(f"{path}:{m['line']}: mutant {m['id']} needs a 'file:' and at least one '-' line")
        if m["id"] in seen:
            sys.exit(f"{path}:{m['line']}: mutant id {m['id']} is used twice")
        seen.add(m["id"])
        m["old"], m["new"] = "\n".join(m["minus"]), "\n".join(m["plus"])
    return mutants

def occurrences(tree, m):
    try:
        return open(os.path.join(tree, m["file"]), encoding="utf-8").read().count(m["old"])
    except FileNotFoundError:
        return 0

def cmd_list(listfile, tree, *patterns):
    """Tab-separated: id, file, status (ok / stale / equivalent), reason."""
    for m in parse(listfile):
        if patterns and not any(fnmatch.fnmatchcase(m["id"], p) for p in patterns):
            continue
        status = "equivalent" if m["equivalent"] else ("ok" if occurrences(tree, m) == 1 else "stale")
        print("\t".join([m["id"], m["file"], status, m["reason"]]))

def cmd_apply(listfile, tree, ident):
    """Writes mutant `ident` into the tree; exit 3 when its snippet is not there exactly once."""
    m = next(m for m in parse(listfile) if m["id"] == ident)
    path = os.path.join(tree, m["file"])
    text = open(path, encoding="utf-8").read()
    n = text.count(m["old"])
    if n != 1:
        print(f"snippet occurs {n} times in {m['file']}")
        sys.exit(3)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text.replace(m["old"], m["new"]))

def cmd_sync(src, dst):
    """Mirrors the working tree's files into dst, rewriting only what differs."""
    out = subprocess.run(["git", "-C", src, "ls-files", "-co", "--exclude-standard", "-z"],
                         check=True, capture_output=True).stdout.decode()
    wanted, changed = set(), 0
    for rel in filter(None, out.split("\0")):
        s, d = os.path.join(src, rel), os.path.join(dst, rel)
        if not os.path.lexists(s):
            continue  # deleted in the working tree
        wanted.add(rel)
        os.makedirs(os.path.dirname(d), exist_ok=True)
        if os.path.islink(s):
            if not (os.path.islink(d) and os.readlink(d) == os.readlink(s)):
                if os.path.lexists(d):
                    shutil.rmtree(d) if os.path.isdir(d) and not os.path.islink(d) else os.remove(d)
                os.symlink(os.readlink(s), d)
                changed += 1
            continue
        data = open(s, "rb").read()
        if os.path.islink(d) or not os.path.isfile(d) or open(d, "rb").read() != data:
            if os.path.islink(d):
                os.remove(d)
            with open(d, "wb") as f:
                f.write(data)
            changed += 1
        shutil.copymode(s, d)
    removed = 0
    for base, dirs, files in os.walk(dst):
        if base == dst:
            dirs[:] = [x for x in dirs if x != ".build"]
        for name in files + [x for x in dirs if os.path.islink(os.path.join(base, x))]:
            rel = os.path.relpath(os.path.join(base, name), dst)
            if rel not in wanted:
                os.remove(os.path.join(base, name))
                removed += 1
    print(f"synced {len(wanted)} files into {dst}: {changed} rewritten, {removed} removed")

def cmd_firstfail(log):
    """The first failing test in a swift test log (with its arguments, and for the
    C test program its first failed check), or a crash note."""
    text = open(log, encoding="utf-8", errors="replace").read()
    m = re.search(r'✘ Test ("[^"]*"|\S+) recorded an issue(?: with \d+ arguments? (.+?))? at [\w+.-]+\.swift:\d+', text)
    if m:
        name = m[1].strip('"') + (f" [{m[2]}]" if m[2] else "")
        c = re.search(r"^\s*(?:\S*/)?([\w.-]+\.c:\d+): FAIL", text, re.M)
        if "daxm-ctest" in name and c:
            name = m[1].strip('"') + ": " + c[1]
        print(name[:150])
        return
    for pat in (r'✘ Test ("[^"]*"|\S+) (?:failed|with)', r"Test Case '([^']*)' failed",
                r"(Exited with unexpected signal code \d+)"):
        m = re.search(pat, text)
        if m:
            print(m[1].strip('"')[:150])
            return
    print("")

def cmd_table(listfile, results, out):
    """Renders results.tsv (id, result, seconds, detail) as Markdown, with totals."""
    files = {m["id"]: m["file"].removeprefix("Sources/") for m in parse(listfile)}
    rows = [l.rstrip("\n").split("\t") for l in open(results, encoding="utf-8") if l.strip()]
    cell = lambda s: s.replace("|", "\\|")
    lines = ["| # | Mutant | File | Result | Seconds | Killed by / note |", "|---|---|---|---|---|---|"]
    for i, (ident, result, secs, detail) in enumerate(rows, 1):
        lines.append(f"| {i} | `{ident}` | {files.get(ident, '?')} | {result} | {secs} | {cell(detail)} |")
    count = {k: sum(r[1] == k for r in rows) for k in ("KILLED", "SURVIVED", "INVALID", "STALE", "EQUIVALENT")}
    scored = count["KILLED"] + count["SURVIVED"]
    score = f"{100 * count['KILLED'] / scored:.1f}%" if scored else "n/a"
    lines += ["", f"Totals: {len(rows)} mutants: {count['KILLED']} killed, {count['SURVIVED']} survived, "
              f"{count['INVALID']} invalid, {count['STALE']} stale, {count['EQUIVALENT']} equivalent. "
              f"Mutation score (killed / (killed + survived)): {score}."]
    text = "\n".join(lines) + "\n"
    open(out, "w", encoding="utf-8").write(text)
    sys.stdout.write(text)

{"list": cmd_list, "apply": cmd_apply, "sync": cmd_sync,
 "firstfail": cmd_firstfail, "table": cmd_table}[sys.argv[1]](*sys.argv[2:])
PYTHON
}

if ((list_only)); then
    py list "$LIST" "$ROOT" "${only[@]}" | awk -F'\t' '{ printf "%-40s %-11s %s\n", $1, $3, $4 }'
    exit 0
fi

command -v swift >/dev/null || { echo "mutate.sh: swift is not in PATH (a Swift 6.3 toolchain is needed)" >&2; exit 1; }
mkdir -p "$WORK" "$TREE" "$LOGS"
exec 9>"$WORK/lock"
flock -n 9 || { echo "mutate.sh: another run holds $WORK/lock" >&2; exit 1; }

# The mutated file is restored from its backup whatever ends the run; a
# running test (in its own process group, under timeout) is stopped first.
current="" backup="$WORK/original" child=""
restore() {
    if [[ -n $child ]]; then kill -TERM "$child" 2>/dev/null || true; wait "$child" 2>/dev/null || true; child=""; fi
    if [[ -n $current ]]; then cp "$backup" "$TREE/$current"; current=""; fi
}
trap restore EXIT
trap 'restore; echo "mutate.sh: interrupted" >&2; exit 130' INT TERM

py sync "$ROOT" "$TREE"
mapfile -t plan < <(py list "$LIST" "$TREE" "${only[@]}")
((${#plan[@]})) || { echo "mutate.sh: no mutant matches" >&2; exit 2; }

echo "== baseline: swift build --build-tests && swift test (in $TREE)"
cd "$TREE"
if ! swift build --build-tests >"$LOGS/baseline-build.log" 2>&1; then
    tail -30 "$LOGS/baseline-build.log" >&2
    echo "mutate.sh: the unmutated tree does not build; see $LOGS/baseline-build.log" >&2
    exit 1
fi
t0=$SECONDS
if ! swift test --skip-build >"$LOGS/baseline-test.log" 2>&1; then
    grep -E '✘|error' "$LOGS/baseline-test.log" | head -20 >&2 || true
    echo "mutate.sh: the unmutated tree fails its tests; see $LOGS/baseline-test.log" >&2
    exit 1
fi
base=$((SECONDS - t0))
timeout=${timeout:-$((4 * base + 60))}
echo "== baseline passed (tests ${base}s); ${#plan[@]} mutants, test timeout ${timeout}s"

: >"$RESULTS"
start=$SECONDS
n=0
for row in "${plan[@]}"; do
    IFS=$'\t' read -r id file status reason <<<"$row"
    n=$((n + 1))
    t=$SECONDS detail="" log="$LOGS/$id.log"
    if [[ $status == equivalent ]]; then
        result=EQUIVALENT detail="not run (marked equivalent)"
    elif [[ $status == stale ]]; then
        result=STALE detail="snippet does not occur exactly once in $file"
    else
        cp "$TREE/$file" "$backup"
        current=$file
        if ! py apply "$LIST" "$TREE" "$id" >"$log" 2>&1; then
            result=STALE detail=$(head -1 "$log")
        elif ! swift build --build-tests >>"$log" 2>&1; then
            result=INVALID
            detail=$(grep -m1 'error:' "$log" | sed "s|$TREE/||" | cut -c1-160 || true)
        else
            rc=0
            timeout --kill-after=15 "$timeout" swift test --skip-build >>"$log" 2>&1 &
            child=$!
            wait "$child" || rc=$?
            child=""
            if ((rc == 0)); then
                result=SURVIVED
            elif ((rc == 124 || rc == 137)); then
                result=KILLED detail="timeout after ${timeout}s"
            else
                result=KILLED detail=$(py firstfail "$log")
                [[ -n $detail ]] || detail="swift test exit $rc"
            fi
        fi
        restore
    fi
    secs=$((SECONDS - t))
    printf '%s\t%s\t%s\t%s\n' "$id" "$result" "$secs" "$detail" >>"$RESULTS"
    printf '[%d/%d] %-40s %-10s %4ss  %s\n' "$n" "${#plan[@]}" "$id" "$result" "$secs" "$detail"
    if [[ $result == KILLED ]] && ((!keep)); then rm -f "$log"; fi
done

echo
echo "== results ($((SECONDS - start))s for ${#plan[@]} mutants; also in $WORK/results.md)"
echo
py table "$LIST" "$RESULTS" "$WORK/results.md"
