#!/usr/bin/env bash
# scripts/test.sh - every check of libdaxmodel, from a clean clone.
#
#   1. installs what is missing (Debian packages: cmake, ninja-build,
#      pkg-config, libjson-c-dev, libnuma-dev, gcc, binutils);
#   2. SwiftPM: swift build, swift test (Swift Testing; runs the C test too),
#      the demos' stdout parsed as JSON with jq,
#      and the C test again against AddressSanitizer and ThreadSanitizer
#      builds;
#   2b. the libFuzzer harnesses (scripts/fuzz.sh --ci): every reproducer of
#      tests/fuzz/crashes and every seed of tests/fuzz/corpus replayed, then 20 s of
#      fuzzing per harness;
#   3. CMake (Release, Ninja): build, ctest (C test, demo, export check);
#   4. cmake --install into a temporary prefix, which is then moved
#      elsewhere (the installed tree must be relocatable);
#   5. the export check against the installed libdaxmodel.so and .a;
#   6. a C program built with plain gcc + pkg-config, against the shared
#      and the static library, and run;
#   7. the same program built by a CMake project with find_package(DaxModel),
#      against DaxModel::daxmodel and DaxModel::daxmodel_static, and run;
#   7b. a Swift package that depends on the DaxModel library product by URL
#      and version (a tagged clone of HEAD), built and run;
#   8. a build with -DDAXMODEL_STATIC_SWIFT_STDLIB=ON: ctest, no Swift
#      runtime needed at run time;
#   8b. the benchmark in quick mode (scripts/bench.sh --quick), so it keeps
#      building and running; its ratios are printed, not asserted;
#   9. the real kernel as referee (tests/kernel/run.sh): Debian's Linux 6.1
#      and 6.12 booted in QEMU (TCG), the same sysfs writes replayed on their
#      /sys/bus/dax and on the model, compared step by step (errno, layout,
#      and the kernel WARNs each write printed against the model's
#      warnings); one more boot per kernel with panic_on_warn=1 must panic
#      at exactly the step the model names.
#
# Needs a Swift 6.3+ toolchain in PATH. Build trees: .build (SwiftPM),
# build-release, build-static-stdlib, build-kernel (all gitignored).
# Environment:
#   DAXM_TEST_SKIP_STATIC_STDLIB=1  skip step 8
#   DAXM_SKIP_KERNEL=1              skip step 9 (the summary says SKIPPED)
#   DAXM_TEST_SKIP_FUZZ=1           skip step 2b
#   DAXM_TEST_KEEP=1                keep the temporary install tree
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
# shellcheck source=scripts/deps.sh
. "$root/scripts/deps.sh"

# ---- bookkeeping: a summary of every step, also when one fails ------------------
steps=()
current=""
step_start=0
start_all=$(date +%s)
work=""

begin() {
	current=$1
	step_start=$(date +%s)
	printf '\n==== %s\n' "$current"
}
end() {
	steps+=("PASS  $(printf '%4ss' $(($(date +%s) - step_start)))  $current")
	current=""
}
skip() {
	steps+=("SKIP         $1 ($2)")
}
summary() {
	local rc=$?
	set +e
	if [ -n "$work" ] && [ -d "$work" ]; then
		if [ "${DAXM_TEST_KEEP:-0}" = 1 ]; then
			echo "test.sh: kept $work"
		else
			rm -rf "$work"
		fi
	fi
	local passed failed=0 s
	echo
	echo "================ scripts/test.sh summary ================"
	for s in "${steps[@]}"; do echo "  $s"; done
	passed=$(printf '%s\n' "${steps[@]}" | grep -c '^PASS' || true)
	if [ "$rc" -ne 0 ]; then
		failed=1
		echo "  FAIL         ${current:-(outside a step)} (exit status $rc)"
	fi
	echo "  total $(($(date +%s) - start_all))s"
	echo "test.sh: $passed passed, $failed failed"
	exit "$rc"
}
trap summary EXIT

# ---- 1. tools --------------------------------------------------------------------------
begin "dependencies"
daxm_need_swift
daxm_need_packages cmake ninja-build pkg-config libjson-c-dev libnuma-dev \
	gcc libc6-dev binutils libfuse3-dev fuse3 daxctl jq
swift --version 2>&1 | head -n1
cmake --version | head -n1
echo "ninja $(ninja --version), $(gcc --version | head -n1), pkg-config $(pkg-config --version)"
end

work=$(mktemp -d "${TMPDIR:-/tmp}/daxmodel-test.XXXXXX")

# ---- 2. SwiftPM ------------------------------------------------------------------------
begin "swift build"
swift build
end

begin "swift test"
swift test
end

# The README's demo command: stdout carries only its JSON (progress and
# narration go to stderr), so `scripts/demo.sh | jq .` works.
begin "demo: stdout is the JSON listing only (scripts/demo.sh | jq)"
scripts/demo.sh 2>/dev/null | jq -e 'type == "array"' >/dev/null
scripts/demo.sh listing 2>/dev/null | jq -e 'type == "array"' >/dev/null
scripts/demo.sh fabric 2>/dev/null | jq -e 'type == "object" and .failures == 0 and .restart.leaked == false' >/dev/null
echo "the jobs and listing demos print one JSON array on stdout, the fabric demo one object"
end

# sanitized_ctest NAME CONFIG SANITIZER: builds daxm-ctest and the library
# with -sanitize=SANITIZER in configuration CONFIG into .build-NAME (its own
# scratch path), runs the whole C test, and fails on a failed check or on
# any sanitizer report. SWIFT_BACKTRACE=enable=no: under a sanitizer the
# Swift backtracer can hang and hold the pipes open.
sanitized_ctest() {
	local name=$1 config=$2 sanitizer=$3 log="$work/$1.log"
	swift build -c "$config" --product daxm-ctest --scratch-path ".build-$name" \
		-Xswiftc -sanitize="$sanitizer" -Xcc -fsanitize="$sanitizer"
	SWIFT_BACKTRACE=enable=no ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
		TSAN_OPTIONS=halt_on_error=0 ".build-$name/$config/daxm-ctest" >"$log" 2>&1 || {
		tail -n 60 "$log"
		daxm_die "the C test failed under -sanitize=$sanitizer"
	}
	if grep -q 'Sanitizer' "$log"; then
		grep -A30 'Sanitizer' "$log" | head -n 80
		daxm_die "-sanitize=$sanitizer reported an error"
	fi
	tail -n 1 "$log"
}

# AddressSanitizer on an optimized build (-c release: what users run;
# object lifetimes differ from debug builds): a use after free, overflow
# or leak anywhere the C ABI reaches fails the step.
begin "C test under AddressSanitizer (swift build -c release -sanitize=address)"
sanitized_ctest asan release address
# A forked area ends with _exit, which skips LeakSanitizer's check at exit:
# the load and save areas (a refused load must leave nothing) run again in
# one process, so that a leak fails the step too.
SWIFT_BACKTRACE=enable=no ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 DAXM_CTEST_NOFORK=1 \
	.build-asan/release/daxm-ctest state_roundtrip state_damaged state_edits state_staged \
	fabric_state fabric_state_profiles fabric_state_refusals >"$work/asan-leaks.log" 2>&1 || {
	tail -n 60 "$work/asan-leaks.log"
	daxm_die "the load/save areas leaked or failed under -sanitize=address (in one process)"
}
tail -n 1 "$work/asan-leaks.log"
end

# ThreadSanitizer: the threads and stress areas race workers, observers,
# saves and reference holders against each other and the last daxm_unref;
# fabric_threads and fabric_stress race fabric-manager commands,
# deliveries and host-context calls on one fabric (fabric_stress: 2 s of
# load, DAXM_FABRIC_STRESS_SECONDS=N for a longer run).
begin "C test under ThreadSanitizer (swift build -sanitize=thread)"
sanitized_ctest tsan debug thread
end

# ---- 2b. fuzz harnesses ------------------------------------------------------------------
# The library built with ASan, coverage and its internal checks
# (.build-fuzz), the harnesses of tests/fuzz/ against it; reproducers and seeds
# must run clean (known open bugs: tests/fuzz/crashes/OPEN), then each harness
# fuzzes 20 s and any new crash fails the step. See tests/fuzz/README.md.
if [ "${DAXM_TEST_SKIP_FUZZ:-0}" = 1 ]; then
	skip "fuzz harnesses (scripts/fuzz.sh --ci)" "DAXM_TEST_SKIP_FUZZ=1"
else
	begin "fuzz harnesses: replay + 20 s each (scripts/fuzz.sh --ci)"
	scripts/fuzz.sh --ci
	end
fi

# ---- 3. CMake --------------------------------------------------------------------------
build="build-release"
begin "cmake build (Release) + ctest"
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
	-DDAXMODEL_STATIC_SWIFT_STDLIB=OFF -DDAXMODEL_BUILD_EXAMPLES=ON -DBUILD_TESTING=ON
cmake --build "$build"
ctest --test-dir "$build" --output-on-failure
end

# ---- 4. install, then move the tree ------------------------------------------------------
begin "cmake --install (relocated afterwards)"
cmake --install "$build" --prefix "$work/stage"
mv "$work/stage" "$work/prefix"
prefix="$work/prefix"
so=$(find "$prefix" -name libdaxmodel.so.0 | head -n1)
[ -n "$so" ] || daxm_die "libdaxmodel.so.0 is not installed"
libdir=$(dirname "$so")
echo "installed files:"
(cd "$prefix" && find . -type f -o -type l | sort | sed 's/^/  /')
[ -f "$prefix/include/daxmodel.h" ] || daxm_die "not installed: include/daxmodel.h"
[ ! -e "$prefix/include/module.modulemap" ] || daxm_die "module.modulemap must not be installed"
for f in libdaxmodel.so libdaxmodel.so.0 libdaxmodel.a pkgconfig/daxmodel.pc \
	cmake/DaxModel/DaxModelConfig.cmake cmake/DaxModel/DaxModelConfigVersion.cmake; do
	[ -e "$libdir/$f" ] || daxm_die "not installed: $libdir/$f"
done
end

# ---- 5. exports of the installed libraries -----------------------------------------------
begin "export check (installed libdaxmodel.so and .a)"
scripts/check-exports.sh --header include/daxmodel.h --map cmake/daxmodel.map \
	--soname libdaxmodel.so.0 --static "$libdir/libdaxmodel.a" "$libdir/libdaxmodel.so"
end

# ---- 6. plain gcc + pkg-config -------------------------------------------------------------
export PKG_CONFIG_PATH="$libdir/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
begin "gcc + pkg-config consumer (shared library)"
pkg-config --modversion daxmodel
# shellcheck disable=SC2046
gcc -std=c11 -Wall -Wextra -Werror -o "$work/consumer-pc" tests/install/consumer.c \
	$(pkg-config --cflags --libs daxmodel) \
	-Wl,-rpath,"$(pkg-config --variable=libdir daxmodel)"
readelf -d "$work/consumer-pc" | grep -q 'NEEDED.*\[libdaxmodel\.so\.0\]' ||
	daxm_die "consumer-pc does not depend on libdaxmodel.so.0"
"$work/consumer-pc"
end

begin "gcc + pkg-config consumer (static library)"
# shellcheck disable=SC2046
gcc -std=c11 -Wall -Wextra -Werror -o "$work/consumer-pc-static" tests/install/consumer.c \
	$(pkg-config --cflags daxmodel) \
	"$(pkg-config --variable=libdir daxmodel)/libdaxmodel.a" \
	$(pkg-config --variable=swift_static_link daxmodel)
if readelf -d "$work/consumer-pc-static" | grep -q 'NEEDED.*libdaxmodel'; then
	daxm_die "consumer-pc-static depends on libdaxmodel.so"
fi
"$work/consumer-pc-static"
end

# ---- 7. CMake find_package -----------------------------------------------------------------
begin "CMake find_package(DaxModel) consumer (shared and static)"
cmake -S tests/install/cmake -B "$work/build-consumer" -G Ninja \
	-DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$prefix"
cmake --build "$work/build-consumer"
"$work/build-consumer/consumer-shared"
"$work/build-consumer/consumer-static"
end

# ---- 7b. a Swift package depending on DaxModel ----------------------------------------------
# A tagged clone of HEAD (committed work only) stands in for the published
# repository; the consumer names it by URL and version, as any package would.
begin "Swift package depending on the DaxModel product (by URL and version)"
git clone -q "$root" "$work/daxmodel"
git -C "$work/daxmodel" -c user.name=test -c user.email=test@localhost tag -f -a 0.1.0 -m "test tag"
cp -R tests/install/swift "$work/swift-consumer"
sed "s|@DAXMODEL_URL@|file://$work/daxmodel|" tests/install/swift/Package.swift.in >"$work/swift-consumer/Package.swift"
rm "$work/swift-consumer/Package.swift.in"
(cd "$work/swift-consumer" && swift build -c release >&2)
out=$("$work/swift-consumer/.build/release/consumer")
echo "$out"
[ "$out" = "$(printf 'region0 available 896 MiB\ndax0.2 0x110000000\nconsistent')" ] ||
	daxm_die "the Swift consumer printed something else"
end

# ---- 8. self-contained library ---------------------------------------------------------------
if [ "${DAXM_TEST_SKIP_STATIC_STDLIB:-0}" = 1 ]; then
	skip "DAXMODEL_STATIC_SWIFT_STDLIB=ON build" "DAXM_TEST_SKIP_STATIC_STDLIB=1"
else
	sbuild="build-static-stdlib"
	begin "DAXMODEL_STATIC_SWIFT_STDLIB=ON build + ctest"
	cmake -S . -B "$sbuild" -G Ninja -DCMAKE_BUILD_TYPE=Release \
		-DDAXMODEL_STATIC_SWIFT_STDLIB=ON -DDAXMODEL_BUILD_EXAMPLES=ON -DBUILD_TESTING=ON
	cmake --build "$sbuild"
	ctest --test-dir "$sbuild" --output-on-failure
	readelf -d "$sbuild/libdaxmodel.so" >"$work/static-stdlib.dynamic"
	if grep -E 'NEEDED.*libswift|RUNPATH|RPATH' "$work/static-stdlib.dynamic"; then
		daxm_die "the static-stdlib libdaxmodel.so still needs the Swift toolchain (above)"
	fi
	echo "libdaxmodel.so needs only: $(sed -nE 's/.*NEEDED.*\[(.*)\]/\1/p' "$work/static-stdlib.dynamic" | paste -sd' ' -)"
	end

	# The real proof: run the C test with the toolchain's runtime hidden.
	# Needs a private mount namespace (root or user namespaces).
	rtdir=$(swiftc -print-target-info | sed -nE 's/.*"runtimeResourcePath": "(.*)".*/\1/p')
	if [ -d "$rtdir" ] && unshare -m --map-root-user true 2>/dev/null; then
		begin "static-stdlib C test with the Swift runtime hidden"
		# shellcheck disable=SC2016 # $1 and $2 are the inner shell's
		unshare -m --map-root-user sh -c \
			'mount -t tmpfs none "$1" && "$2"' sh "$rtdir" "$sbuild/daxm-ctest"
		end
	else
		skip "static-stdlib C test with the Swift runtime hidden" "no mount namespace here"
	fi
fi

# ---- 8b. the benchmark keeps working -----------------------------------------------------------
# Quick mode only (seconds of benchmark after its Release build); ratios are
# printed, never asserted. The full run is `scripts/bench.sh` (README).
begin "benchmark, quick mode (scripts/bench.sh --quick)"
scripts/bench.sh --quick >"$work/bench-quick.md"
grep -E '^\| (daxm_extent_get \+ daxm_extent_put|daxm_dev_get_size) ' "$work/bench-quick.md" | head -n 2
end

# ---- 9. the real kernel as referee ----------------------------------------------------------
if [ "${DAXM_SKIP_KERNEL:-0}" = 1 ]; then
	skip "kernel referee (tests/kernel)" "SKIPPED: DAXM_SKIP_KERNEL=1"
else
	begin "kernel referee: Linux 6.1 and 6.12 in QEMU vs the model (tests/kernel)"
	krc=0
	DAXM_BUILD_DIR="$root/$build" tests/kernel/run.sh || krc=$?
	kernel_lines=()
	if [ -f build-kernel/summary.txt ]; then
		while IFS= read -r line; do kernel_lines+=("             $line"); done <build-kernel/summary.txt
	fi
	if [ "$krc" -ne 0 ]; then
		steps+=("${kernel_lines[@]}")
		exit "$krc"
	fi
	end
	steps+=("${kernel_lines[@]}")
fi
