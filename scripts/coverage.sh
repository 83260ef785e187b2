#!/usr/bin/env bash
# coverage.sh - line/function/region (and branch) coverage of Sources/ from
# `swift test --enable-code-coverage`, including the C programs the tests run.
#
# Usage: scripts/coverage.sh [--no-build] [--html DIR] [-h|--help]
#   (no option)  build instrumented into .build-coverage/, run `swift test`,
#                merge every profile, print the report
#   --no-build   reuse the profiles of the last run (no build, no tests)
#   --html DIR   also write an HTML report (llvm-cov show) into DIR
#
# Prints, for Sources/ only: a per-file table with totals (lines, functions,
# regions, branches), the C entry points (daxm_* in Sources/CDaxModel) that no
# test calls, and the `throw DaxError(...)` / `throw DaxErrorBox(...)` sites
# that never run. Outputs are kept in .build-coverage/coverage/.
#
# Profiles: SwiftPM runs the test bundle with
#   LLVM_PROFILE_FILE=<bin>/codecov/{XCTest,Swift Testing}%m.%p.profraw
# and the programs the tests launch (daxm-ctest, daxm-demo, dax-map, dax-jobs,
# built instrumented in the same scratch path) inherit it, so their profiles
# land in the same folder. daxm-ctest runs each test area in a forked child
# that ends with _exit(), which skips the profile runtime's atexit writer; a
# small LD_PRELOAD shim (compiled here) writes the profile before _exit() in
# programs under the scratch path. Everything in codecov/ is then merged with
# llvm-profdata and read with llvm-cov against the test bundle plus every
# instrumented executable (-object).
#
# Needs: swift (found as scripts/deps.sh does), llvm-profdata and llvm-cov next
# to it, python3, a C compiler (cc/clang) for the shim.
set -euo pipefail

usage() { sed -n '2,7s/^# \{0,1\}//p' "$0"; }

NO_BUILD=0
HTML_DIR=
while [ $# -gt 0 ]; do
	case "$1" in
	--no-build) NO_BUILD=1 ;;
	--html)
		[ $# -ge 2 ] || { echo "coverage.sh: --html needs a directory" >&2; exit 2; }
		HTML_DIR=$2; shift ;;
	--html=*) HTML_DIR=${1#--html=} ;;
	-h|--help) usage; exit 0 ;;
	*) echo "coverage.sh: unknown option '$1'" >&2; usage >&2; exit 2 ;;
	esac
	shift
done
if [ -n "$HTML_DIR" ]; then
	mkdir -p "$HTML_DIR"
	HTML_DIR=$(cd "$HTML_DIR" && pwd)
fi

START=$SECONDS
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$ROOT"
SCRATCH=.build-coverage
OUT=$ROOT/$SCRATCH/coverage
mkdir -p "$OUT"

# --- tools ------------------------------------------------------------------
# shellcheck source=scripts/deps.sh
. "$ROOT/scripts/deps.sh"
daxm_need_swift
TOOLDIR=$(dirname "$(readlink -f "$(command -v swift)")")
find_tool() {
	local t
	for t in "$TOOLDIR/$1" "$(command -v "$1" 2>/dev/null || true)"; do
		[ -n "$t" ] && [ -x "$t" ] && { echo "$t"; return 0; }
	done
	echo "coverage.sh: $1 not found next to swift ($TOOLDIR)" >&2
	return 1
}
PROFDATA=$(find_tool llvm-profdata)
LLVMCOV=$(find_tool llvm-cov)
DEMANGLER=$(find_tool swift-demangle 2>/dev/null || true)
PYTHON=$(command -v python3 || true)
[ -n "$PYTHON" ] || { echo "coverage.sh: python3 not found" >&2; exit 1; }

export SWIFT_BACKTRACE=enable=no
unset LLVM_PROFILE_FILE # SwiftPM sets its own pattern for the test run

# --- build and test -----------------------------------------------------------
TEST_STATUS=0
if [ "$NO_BUILD" = 0 ]; then
	echo "== swift build --build-tests --enable-code-coverage --scratch-path $SCRATCH"
	if ! swift build --build-tests --enable-code-coverage --scratch-path "$SCRATCH" >"$OUT/build.log" 2>&1; then
		grep -E 'error:' "$OUT/build.log" | sort -u | head -n 20 >&2 || true
		tail -n 5 "$OUT/build.log" >&2
		echo "coverage.sh: build failed (log: $OUT/build.log)" >&2
		exit 1
	fi
	tail -n 1 "$OUT/build.log"
fi

BIN=$(swift build --show-bin-path --scratch-path "$SCRATCH" 2>/dev/null || true)
[ -n "$BIN" ] && [ -d "$BIN" ] || BIN=$ROOT/$SCRATCH/debug
BIN=$(cd "$BIN" && pwd -P)
CODECOV=$BIN/codecov

if [ "$NO_BUILD" = 0 ]; then
	# The shim: write the profile before _exit() (daxm-ctest's forked areas).
	SHIM=$OUT/exit-profile-shim.so
	CC_BIN=$(command -v cc || command -v clang || true)
	[ -n "$CC_BIN" ] || CC_BIN=$(find_tool clang 2>/dev/null || true)
	cat >"$OUT/exit-profile-shim.c" <<'EOF'
/* LD_PRELOAD shim: an instrumented program under $DAXM_COVERAGE_BIN that calls
 * _exit() (daxm-ctest's forked test areas) writes its coverage profile first.
 * __llvm_profile_write_file is a hidden symbol: look it up in the program's
 * own .symtab. Anything else just exits. */
#define _GNU_SOURCE
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static int main_object(struct dl_phdr_info *info, size_t size, void *data)
{
	(void)size;
	*(ElfW(Addr) *)data = info->dlpi_addr;
	return 1;
}

static void *local_function(const char *name)
{
	const char *only = getenv("DAXM_COVERAGE_BIN");
	char exe[4096];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (!only || !*only || n <= 0)
		return NULL;
	exe[n] = 0;
	if (strncmp(exe, only, strlen(only)) != 0 || exe[strlen(only)] != '/')
		return NULL;
	int fd = open(exe, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	struct stat st;
	void *map = MAP_FAILED;
	if (fstat(fd, &st) == 0 && (size_t)st.st_size > sizeof(ElfW(Ehdr)))
		map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED)
		return NULL;
	const unsigned char *base = map;
	const ElfW(Ehdr) *eh = map;
	void *found = NULL;
	if (memcmp(eh->e_ident, ELFMAG, SELFMAG) == 0 && eh->e_shoff &&
	    eh->e_shoff + (size_t)eh->e_shnum * sizeof(ElfW(Shdr)) <= (size_t)st.st_size) {
		const ElfW(Shdr) *sh = (const void *)(base + eh->e_shoff);
		for (unsigned i = 0; i < eh->e_shnum && !found; i++) {
			if (sh[i].sh_type != SHT_SYMTAB || sh[i].sh_link >= eh->e_shnum)
				continue;
			const ElfW(Sym) *sym = (const void *)(base + sh[i].sh_offset);
			const char *str = (const char *)(base + sh[sh[i].sh_link].sh_offset);
			size_t count = sh[i].sh_size / sizeof(ElfW(Sym));
			for (size_t k = 0; k < count; k++) {
				if (ELF64_ST_TYPE(sym[k].st_info) == STT_FUNC && sym[k].st_value &&
				    strcmp(str + sym[k].st_name, name) == 0) {
					ElfW(Addr) bias = 0;
					dl_iterate_phdr(main_object, &bias);
					found = (void *)(bias + sym[k].st_value);
					break;
				}
			}
		}
	}
	munmap(map, (size_t)st.st_size);
	return found;
}

void _exit(int status)
{
	int (*write_file)(void) = (int (*)(void))local_function("__llvm_profile_write_file");
	if (write_file)
		write_file();
	syscall(SYS_exit_group, status);
	for (;;)
		;
}
EOF
	if [ -n "$CC_BIN" ] && "$CC_BIN" -shared -fPIC -O1 -o "$SHIM" "$OUT/exit-profile-shim.c"; then
		:
	else
		SHIM=
		echo "coverage.sh: warning: no C compiler for the _exit shim; daxm-ctest's forked areas" \
			"will write no profile and CDaxModel coverage will be low" >&2
	fi

	# Profiles of an earlier build would not match the new binaries.
	rm -f "$CODECOV"/*.profraw "$CODECOV"/*.profdata
	echo "== swift test --skip-build --enable-code-coverage --scratch-path $SCRATCH"
	set +e
	if [ -n "$SHIM" ]; then
		DAXM_COVERAGE_BIN=$BIN LD_PRELOAD=$SHIM${LD_PRELOAD:+:$LD_PRELOAD} \
			swift test --skip-build --enable-code-coverage --scratch-path "$SCRATCH" \
			>"$OUT/test.log" 2>&1
	else
		swift test --skip-build --enable-code-coverage --scratch-path "$SCRATCH" >"$OUT/test.log" 2>&1
	fi
	TEST_STATUS=$?
	set -e
	grep -E '^(✔|✘|􀟈|Test run|.*error:)' "$OUT/test.log" | grep -E 'Test run|failed|error:' | tail -n 20 || true
	if [ "$TEST_STATUS" != 0 ]; then
		echo "coverage.sh: warning: swift test exited $TEST_STATUS (log: $OUT/test.log);" \
			"the coverage below is from a failing run" >&2
	fi
fi

# --- merge ----------------------------------------------------------------------
shopt -s nullglob
PROFRAWS=("$CODECOV"/*.profraw)
shopt -u nullglob
if [ ${#PROFRAWS[@]} = 0 ]; then
	echo "coverage.sh: no profiles in $CODECOV; run without --no-build first" >&2
	exit 1
fi
"$PROFDATA" merge -sparse -o "$OUT/merged.profdata" "${PROFRAWS[@]}"

# Coverage objects: the test bundle first, then every instrumented executable.
OBJECTS=()
for f in "$BIN"/*.xctest "$BIN"/*; do
	[ -f "$f" ] && [ -x "$f" ] || continue
	case " ${OBJECTS[*]-} " in *" $f "*) continue ;; esac
	case "$f" in *.so|*.a|*.o|*.json|*.txt) continue ;; esac
	"$LLVMCOV" export -summary-only -instr-profile "$OUT/merged.profdata" "$f" >/dev/null 2>&1 || continue
	OBJECTS+=("$f")
done
[ ${#OBJECTS[@]} -gt 0 ] || { echo "coverage.sh: no instrumented binaries in $BIN" >&2; exit 1; }
COV_ARGS=("${OBJECTS[0]}")
for f in "${OBJECTS[@]:1}"; do COV_ARGS+=(-object "$f"); done
ROOT_RE=$(printf '%s' "$ROOT" | sed 's/[][\.*^$+?(){}|]/\\&/g')
COV_ARGS+=(-instr-profile "$OUT/merged.profdata"
	-ignore-filename-regex "^$ROOT_RE/(Tests|tests|examples|tools|\\.build[^/]*)/"
	"$ROOT/Sources")

"$LLVMCOV" export -format=text "${COV_ARGS[@]}" >"$OUT/export.json"
"$LLVMCOV" report "${COV_ARGS[@]}" >"$OUT/report.txt"

echo
echo "== coverage: ${#PROFRAWS[@]} profiles merged; objects:" "${OBJECTS[@]##*/}"
"$PYTHON" "$ROOT/scripts/coverage-report.py" --root "$ROOT" --export "$OUT/export.json"

if [ -n "$HTML_DIR" ]; then
	DEM=()
	[ -n "$DEMANGLER" ] && DEM=(-Xdemangler="$DEMANGLER")
	"$LLVMCOV" show -format=html -output-dir "$HTML_DIR" -show-line-counts-or-regions \
		"${DEM[@]}" "${COV_ARGS[@]}"
	echo "HTML report: $HTML_DIR/index.html"
fi
echo "(llvm-cov report: $OUT/report.txt; JSON: $OUT/export.json; took $((SECONDS - START)) s)"
exit "$TEST_STATUS"
