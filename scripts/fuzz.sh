#!/usr/bin/env bash
# scripts/fuzz.sh - build and run the libFuzzer harnesses of tests/fuzz/.
#
#   scripts/fuzz.sh [SECONDS] [HARNESS...]   build, replay, then fuzz each
#                                            harness SECONDS (default 60)
#   scripts/fuzz.sh --replay [HARNESS...]    build, replay only
#   scripts/fuzz.sh --ci                     what scripts/test.sh runs: build,
#                                            replay, 20 s per harness
#   scripts/fuzz.sh --seeds                  rewrite tests/fuzz/corpus/{state,sysfs,fabric_state}
#                                            with tests/fuzz/seeds.c
#
# Harnesses: ops (the C ABI as an operation program), state (daxm_ctx_load
# of arbitrary files), sysfs (daxm_ctx_import_sysfs of a generated tree),
# fabric_state (daxm_fabric_load of arbitrary files), fabric (fabric-manager
# and host programs on a fabric); see tests/fuzz/README.md.
#
# Build: the library with SwiftPM into .build-fuzz (release,
# -sanitize=address, libFuzzer coverage, and DAXMODEL_INTERNAL_CHECKS so
# the model checks its own invariants after every call), the harnesses with
# the toolchain's clang (-fsanitize=fuzzer,address,undefined) against it.
# Both steps are incremental.
#
# Replay: every committed reproducer tests/fuzz/crashes/<harness>/* must run
# clean (they are the fixed bugs' regression inputs; tests/fuzz/crashes/OPEN
# lists those not fixed yet), and so must the seed corpus
# tests/fuzz/corpus/<harness>/ (with DAXM_FUZZ_SKIP_KNOWN=1). A failure fails
# the script.
#
# Fuzzing: libFuzzer starts from the committed corpus plus a local one kept
# in .build-fuzz/corpus/<harness> (grows across runs, not committed), with
# tests/fuzz/<harness>.dict when there is one. A crash is copied to
# tests/fuzz/crashes/<harness>/ (one per distinct failure) and fuzzing goes on
# with the time left. The summary gives executions, coverage (cov: and
# ft: of libFuzzer's last status line) and crashes per harness; the exit
# status is non-zero when a replay failed or a new crash was found.
#
# Environment:
#   DAXM_FUZZ_JOBS=N     swift build -j (default 2)
#   DAXM_FUZZ_RSS_MB=N   libFuzzer -rss_limit_mb (default 2048)
#   DAXM_FUZZ_SEED=N     libFuzzer -seed (default: random)
#   DAXM_FUZZ_SKIP_KNOWN=1  the harnesses steer around the open bugs of
#                        tests/fuzz/crashes/OPEN (default in --ci, whose replay
#                        covers them; see tests/fuzz/README.md)
# SWIFT_BACKTRACE=enable=no is always set: under ASan the Swift backtracer
# hangs and holds the pipes open.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
# shellcheck source=scripts/deps.sh
. "$root/scripts/deps.sh"
daxm_need_swift

all_harnesses=(ops state sysfs fabric_state fabric)
mode=fuzz
seconds=60
case "${1:-}" in
--replay) mode=replay; shift ;;
--ci) mode=ci; seconds=20; shift; export DAXM_FUZZ_SKIP_KNOWN=${DAXM_FUZZ_SKIP_KNOWN:-1} ;;
--seeds) mode=seeds; shift ;;
-h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
[0-9]*) seconds=$1; shift ;;
esac
harnesses=("$@")
[ ${#harnesses[@]} -gt 0 ] || harnesses=("${all_harnesses[@]}")
for h in "${harnesses[@]}"; do
	[ -f "tests/fuzz/$h.c" ] && [ "$h" != common ] && [ "$h" != seeds ] ||
		{ echo "fuzz.sh: no harness tests/fuzz/$h.c (harnesses: ${all_harnesses[*]})" >&2; exit 2; }
done

export SWIFT_BACKTRACE=enable=no
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

scratch=.build-fuzz
lib="$root/$scratch/release"
bin="$scratch/fuzz"
mkdir -p "$bin"

# ---- build ----------------------------------------------------------------------
# SwiftPM does not rebuild when only -Xswiftc flags change: the flags are
# kept in a stamp and a change starts the scratch path over.
swift_flags=(-Xswiftc -sanitize=address
	-Xswiftc -sanitize-coverage=edge,inline-8bit-counters,pc-table,trace-cmp
	-Xswiftc -DDAXMODEL_INTERNAL_CHECKS)
stamp="$scratch/flags.stamp"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" != "${swift_flags[*]}" ]; then
	rm -rf "$scratch"
	mkdir -p "$bin"
fi
echo "==== fuzz.sh: building the library (swift build -c release, ASan + coverage)"
swift build -c release -j "${DAXM_FUZZ_JOBS:-2}" --scratch-path "$scratch" --product daxmodel \
	"${swift_flags[@]}" 2>&1 | grep -vE '^\[[0-9]+/[0-9]+\] (Compiling|Write|Emitting)' || true
[ -f "$lib/libdaxmodel.so" ] || { echo "fuzz.sh: the library did not build" >&2; exit 1; }
echo "${swift_flags[*]}" >"$stamp"
ln -sf libdaxmodel.so "$lib/libdaxmodel.so.0" # the SONAME the harnesses ask for

# the toolchain's clang: its libFuzzer and sanitizer runtimes match swiftc's
cc="$(dirname "$(command -v swiftc)")/clang"
[ -x "$cc" ] || daxm_die "no clang next to swiftc ($cc): the harnesses need the Swift toolchain's clang"
cflags=(-g -O1 -fno-omit-frame-pointer -std=gnu11 -Wall -Wextra -Werror -Iinclude)
ldflags=(-fuse-ld=lld -L"$lib" -ldaxmodel -Wl,-rpath,"$lib")

# build_one OUT SANITIZERS SOURCES...: rebuild when a source, the header or
# the library is newer than OUT.
build_one() {
	local out=$1 san=$2
	shift 2
	local f
	if [ -x "$out" ]; then
		local stale=0
		for f in "$@" tests/fuzz/common.h include/daxmodel.h "$lib/libdaxmodel.so"; do
			[ "$f" -nt "$out" ] && stale=1
		done
		[ $stale = 1 ] || return 0
	fi
	"$cc" "${cflags[@]}" -fsanitize="$san" -fno-sanitize-recover=undefined "$@" \
		"${ldflags[@]}" -o "$out"
}
for h in "${harnesses[@]}"; do
	build_one "$bin/$h" fuzzer,address,undefined "tests/fuzz/$h.c" tests/fuzz/common.c
done

if [ "$mode" = seeds ]; then
	build_one "$bin/seeds" address,undefined tests/fuzz/seeds.c
	rm -f tests/fuzz/corpus/state/* tests/fuzz/corpus/sysfs/* tests/fuzz/corpus/fabric_state/*
	mkdir -p tests/fuzz/corpus/state tests/fuzz/corpus/sysfs tests/fuzz/corpus/fabric_state
	"$bin/seeds" tests/fuzz/corpus/state tests/fuzz/corpus/sysfs tests/fuzz/corpus/fabric_state
	ls -l tests/fuzz/corpus/state tests/fuzz/corpus/sysfs tests/fuzz/corpus/fabric_state
	exit 0
fi

# Scratch files of the harnesses (saves, trees) go to a tmpfs when there
# is one: a save fsyncs, which costs milliseconds on a disk.
tmp_base=${TMPDIR:-/tmp}
[ -d /dev/shm ] && [ -w /dev/shm ] && tmp_base=/dev/shm
work=$(mktemp -d "$tmp_base/daxm-fuzz-run.XXXXXX")
trap 'rm -rf "$work"' EXIT
export TMPDIR=$work

# signature LOG: one line naming the failure, for telling crashes apart:
# the harness's message or the sanitizer's kind, the API function called
# and the first frame in the library's sources.
signature() {
	local log=$1 what api frame
	what=$(grep -m1 -oE 'fuzz: FAIL: .{0,70}' "$log" || true)
	[ -n "$what" ] || what=$(grep -m1 -oE 'ERROR: [A-Za-z]+Sanitizer: [A-Za-z-]+|runtime error: .{0,60}|Fatal error: .{0,60}|ERROR: libFuzzer: [a-z -]+' "$log" || true)
	[ -n "$what" ] || what="unknown failure"
	api=$(grep -m1 -oE ' in daxm_[a-z_0-9]+' "$log" || true)
	frame=$(grep -m1 -oE ' in [^ ]+ [^ ]*Sources/[^ :]+' "$log" | sed -E 's/ in ([^ ]+) .*Sources\//\1 /' || true)
	case "$what" in *LeakSanitizer*) frame="" ;; esac # the frames are the allocations
	printf '%s |%s | %s' "$what" "$api" "$frame" | tr -s ' ' | cut -c1-200
}

# ---- replay ---------------------------------------------------------------------
# Reproducers: every file in tests/fuzz/crashes/<harness>/ except notes (*.md,
# *.txt), one process each, so each failure is reported. A reproducer
# listed in tests/fuzz/crashes/OPEN is a bug not fixed yet: its failure is
# reported (XFAIL) and tolerated; once it passes (XPASS) the script fails
# until its line is removed, so the list stays true.
failed=0
declare -A replay_status
is_open() { grep -qE "^$1([[:space:]]|\$)" tests/fuzz/crashes/OPEN 2>/dev/null; }
for h in "${harnesses[@]}"; do
	n=0 bad=0 xfail=0
	if [ -d "tests/fuzz/crashes/$h" ]; then
		for f in "tests/fuzz/crashes/$h"/*; do
			[ -f "$f" ] || continue
			case "$f" in *.md | *.txt) continue ;; esac
			n=$((n + 1))
			rel=${f#tests/fuzz/crashes/}
			if DAXM_FUZZ_SKIP_KNOWN=0 timeout 120 "$bin/$h" -rss_limit_mb=2048 -artifact_prefix="$work/" "$f" \
				>"$work/replay.log" 2>&1; then
				if is_open "$rel"; then
					bad=$((bad + 1))
					echo "XPASS        $h  $f: fixed? remove its line from tests/fuzz/crashes/OPEN"
				fi
			elif is_open "$rel"; then
				xfail=$((xfail + 1))
				echo "XFAIL        $h  $f  ($(signature "$work/replay.log"))"
			else
				bad=$((bad + 1))
				echo "REPLAY FAIL  $h  $f"
				echo "             $(signature "$work/replay.log")"
				grep -m2 -E 'fuzz: FAIL|daxm_last_error' "$work/replay.log" | sed 's/^/             /' || true
			fi
		done
	fi
	# the seed corpus: -runs=0 executes each input once and stops; with
	# the open bugs steered around (seeds are for coverage; the
	# reproducers above are for the bugs)
	if [ -d "tests/fuzz/corpus/$h" ] &&
		! DAXM_FUZZ_SKIP_KNOWN=1 timeout 300 "$bin/$h" -runs=0 -rss_limit_mb=2048 -artifact_prefix="$work/" "tests/fuzz/corpus/$h" \
			>"$work/corpus.log" 2>&1; then
		bad=$((bad + 1))
		echo "REPLAY FAIL  $h  tests/fuzz/corpus/$h (a seed input)"
		echo "             $(signature "$work/corpus.log")"
	fi
	replay_status[$h]="$n reproducers ($xfail open) + $({ find "tests/fuzz/corpus/$h" -type f 2>/dev/null || true; } | wc -l) seeds: $bad failed"
	[ $bad -eq 0 ] || failed=1
	echo "replay  $h: ${replay_status[$h]}"
done

if [ "$mode" = replay ]; then
	exit $failed
fi

# ---- fuzz -----------------------------------------------------------------------
declare -A execs cov ft crashes
new_crashes=0
for h in "${harnesses[@]}"; do
	corpus="$scratch/corpus/$h"
	arts="$work/artifacts-$h"
	mkdir -p "$corpus" "$arts" "tests/fuzz/crashes/$h"
	dict=()
	[ -f "tests/fuzz/$h.dict" ] && dict=(-dict="tests/fuzz/$h.dict")
	seed=()
	[ -n "${DAXM_FUZZ_SEED:-}" ] && seed=(-seed="$DAXM_FUZZ_SEED")
	declare -A seen=()
	execs[$h]=0 cov[$h]=- ft[$h]=- crashes[$h]=0
	end=$(($(date +%s) + seconds))
	runs=0
	echo
	echo "==== fuzz.sh: $h for ${seconds}s"
	while :; do
		left=$((end - $(date +%s)))
		[ $left -gt 0 ] && [ $runs -lt 30 ] || break
		runs=$((runs + 1))
		log="$work/$h-$runs.log"
		rc=0
		"$bin/$h" -max_total_time=$left -timeout=30 -rss_limit_mb="${DAXM_FUZZ_RSS_MB:-2048}" \
			-print_final_stats=1 -print_funcs=0 -artifact_prefix="$arts/" "${dict[@]}" "${seed[@]}" \
			"$corpus" "tests/fuzz/corpus/$h" >"$log" 2>&1 || rc=$?
		n=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+)/\1/p' "$log" | tail -n1)
		execs[$h]=$((execs[$h] + ${n:-0}))
		last=$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -n1 || true)
		if [ -n "$last" ]; then
			cov[$h]=$(sed -nE 's/.*cov: ([0-9]+).*/\1/p' <<<"$last")
			ft[$h]=$(sed -nE 's/.*ft: ([0-9]+).*/\1/p' <<<"$last")
		fi
		[ $rc -ne 0 ] || break
		art=$(ls -t "$arts"/* 2>/dev/null | head -n1 || true)
		if [ -z "$art" ]; then
			echo "fuzz.sh: $h exited $rc without an artifact:"
			tail -n 20 "$log"
			failed=1
			break
		fi
		crashes[$h]=$((crashes[$h] + 1))
		sig=$(signature "$log")
		key=$(tr -d '0-9' <<<"$sig") # the same failure with other numbers
		if [ -z "${seen[$key]:-}" ]; then
			seen[$key]=1
			name=$(basename "$art")
			if [ ! -e "tests/fuzz/crashes/$h/$name" ]; then
				cp "$art" "tests/fuzz/crashes/$h/$name"
				cp "$log" "$scratch/$h-$name.log"
				new_crashes=$((new_crashes + 1))
				echo "NEW CRASH  $h  tests/fuzz/crashes/$h/$name"
				echo "           $sig"
				echo "           log: $scratch/$h-$name.log"
				grep -m12 -E 'fuzz: FAIL|daxm_last_error|ERROR: |runtime error|^ +#[0-9]+ .*(Sources|fuzz)/' "$log" |
					cut -c1-240 | sed 's/^/           | /' || true
			fi
		fi
		rm -f "$arts"/*
	done
	unset seen
	echo "fuzz    $h: ${execs[$h]} executions, cov ${cov[$h]}, ft ${ft[$h]}, ${crashes[$h]} crashes"
done

echo
echo "================ scripts/fuzz.sh summary (${seconds}s per harness) ================"
printf '  %-12s %12s %7s %8s %8s   %s\n' harness executions cov ft crashes replay
for h in "${harnesses[@]}"; do
	printf '  %-12s %12s %7s %8s %8s   %s\n' "$h" "${execs[$h]}" "${cov[$h]}" "${ft[$h]}" \
		"${crashes[$h]}" "${replay_status[$h]}"
done
[ $new_crashes -eq 0 ] || { echo "fuzz.sh: $new_crashes new crash(es) saved under tests/fuzz/crashes/"; failed=1; }
exit $failed
