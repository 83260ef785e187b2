#!/usr/bin/env bash
# scripts/bench.sh - build libdaxmodel, install it, build the benchmark
# (bench/*.c) against the installed library and run it.
#
#   scripts/bench.sh [--quick] [--callgrind] [daxm-bench options...]
#
#   --quick       tiny sizes and short runs (what CI runs; well under 30 s
#                 of benchmark)
#   --callgrind   also count instructions per call of the calls table
#                 (library vs plain C mutex) under valgrind --tool=callgrind:
#                 independent of machine noise
#   --scale       also count, under callgrind with a simulated cache,
#                 instructions and last-level cache misses per sparse-region
#                 operation at E = 1k and E = 1M extents (quick: 10k), next
#                 to two plain C floors (table g; about 10 minutes at 1M),
#                 and instructions per fabric operation at 8 x 100 and
#                 64 x 10k extents (quick: 8 x 500; table h, about 12 more
#                 minutes)
#   other options go to daxm-bench: --budget S (seconds per table row,
#                 default 60), --only calls,dynamic,sparse,memory,threads,views,
#                 scale,fabric, --runs N, --seed N, --max-m N, --max-e N,
#                 --view-mib N, --fabric-hosts N --fabric-extents N
#                 (see bench/README.md)
#
# Steps: CMake (Release, Ninja) builds the library into build-bench/ and
# installs it into build-bench/prefix; gcc builds build-bench/daxm-bench
# from bench/*.c with `pkg-config --cflags --libs daxmodel` (rpath to the
# installed libdir); then it runs. The tables go to stdout (Markdown);
# progress goes to stderr. Ratios are printed, never asserted: the script
# fails only when a build fails or a library call fails.
#
# Needs a Swift 6.3 toolchain in PATH ($SWIFT_TOOLCHAIN/usr/bin or
# /opt/swift/usr/bin are tried), cmake, ninja-build, pkg-config, gcc and,
# for --callgrind, valgrind: missing Debian packages are installed (see
# scripts/deps.sh). Environment: BENCH_BUILD_DIR (default build-bench).
# The run takes about 8 minutes on 2 cores with --budget 120 (the sparse
# table's 1M-extent rows dominate); --quick takes seconds after the build.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
# shellcheck source=scripts/deps.sh
. "$root/scripts/deps.sh"

quick=0
callgrind=0
scale=0
args=()
for a in "$@"; do
	case "$a" in
	--quick) quick=1; args+=("$a") ;;
	--callgrind) callgrind=1 ;;
	--scale) scale=1 ;;
	-h|--help) sed -n '2,/^set -euo/p' "$0" | sed -n 's/^# \{0,1\}//p'; exit 0 ;;
	*) args+=("$a") ;;
	esac
done

build=${BENCH_BUILD_DIR:-build-bench}
prefix="$root/$build/prefix"
exe="$root/$build/daxm-bench"

pkgs=(cmake ninja-build pkg-config gcc)
{ [ "$callgrind" = 1 ] || [ "$scale" = 1 ]; } && pkgs+=(valgrind)
daxm_need_packages "${pkgs[@]}"
daxm_need_swift

# ---- the library: Release build, installed ------------------------------------
daxm_log "building libdaxmodel (Release) in $build/"
mkdir -p "$build"
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
	-DDAXMODEL_STATIC_SWIFT_STDLIB=OFF -DDAXMODEL_BUILD_EXAMPLES=OFF \
	-DDAXMODEL_BUILD_TOOLS=OFF -DDAXMODEL_BUILD_SYSFS=OFF -DBUILD_TESTING=OFF \
	>"$build/cmake-configure.log" 2>&1 ||
	{ cat "$build/cmake-configure.log" >&2; daxm_die "cmake configure failed"; }
cmake --build "$build" >&2
rm -rf "$prefix"
cmake --install "$build" --prefix "$prefix" >/dev/null

# ---- the benchmark: plain gcc + pkg-config against the installed tree -----------
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
libdir=$(pkg-config --variable=libdir daxmodel)
daxm_log "building $build/daxm-bench against $prefix"
# shellcheck disable=SC2046
gcc -std=gnu11 -O2 -g -Wall -Wextra \
	bench/*.c \
	$(pkg-config --cflags --libs daxmodel) -Wl,-rpath,"$libdir" \
	-lpthread -lm -o "$exe"

# ---- run ------------------------------------------------------------------------------
# the header names the sources the library was built from
DAXM_BENCH_SOURCE="git $(git -C "$root" describe --always --dirty 2>/dev/null || echo '(not a git checkout)')"
export DAXM_BENCH_SOURCE
daxm_log "running daxm-bench ${args[*]}"
start=$(date +%s)
"$exe" ${args[@]+"${args[@]}"}
daxm_log "daxm-bench finished in $(($(date +%s) - start)) s"

# ---- instructions per call under callgrind ----------------------------------------------
# Collection is on only inside the cg_loop_* functions of bench/calls.c (one
# loop of N calls per row and side), so setup and the Swift runtime's start
# are not counted; inclusive instructions / N = instructions per call.
if [ "$callgrind" = 1 ]; then
	n=$([ "$quick" = 1 ] && echo 2000 || echo 20000)
	out="$root/$build/callgrind.out"
	daxm_log "callgrind: calls table, $n iterations per row"
	valgrind --tool=callgrind --callgrind-out-file="$out" \
		--collect-atstart=no --toggle-collect='cg_loop_*' \
		"$exe" --only calls --iterations "$n" >/dev/null 2>"$build/callgrind.log" ||
		{ cat "$build/callgrind.log" >&2; daxm_die "valgrind failed"; }
	callgrind_annotate --inclusive=yes --threshold=100 --auto=no "$out" |
		awk -v n="$n" '
		function ir(s) { gsub(/,/, "", s); return s + 0 }
		/^ *[0-9,]+ +\([ 0-9.]+%\) +[^ ]*:cg_loop_[a-z_]+ / {
			match($0, /cg_loop_[a-z_]+/)
			f = substr($0, RSTART + 8, RLENGTH - 8)
			v[f] = ir($1) / n
		}
		END {
			printf "\n## Instructions per call (callgrind, %d calls per row)\n\n", n
			print "| call | library instructions | C mutex equivalent | C instructions | library / C |"
			print "|---|---:|---|---:|---:|"
			row("daxm_extent_get + daxm_extent_put", "lib_getput", "lock, ++, unlock; lock, --, unlock", "c_getput")
			row("daxm_dev_get_size", "lib_dev_size", "lock, read, unlock", "c_dev_size")
			row("daxm_region_get_available_size (dynamic)", "lib_avail_dyn", "lock, read, unlock", "c_avail_dyn")
			row("daxm_region_get_available_size (sparse)", "lib_avail_sparse", "lock, read, unlock", "c_avail_sparse")
			row("daxm_dev_get_devname", "lib_devname", "read, no lock", "c_devname")
			print "\n(each count includes the benchmark loop and its result check, a few instructions)"
		}
		function row(name, l, cname, c) {
			if (!(l in v) || !(c in v)) { printf "| %s | ? | %s | ? | |\n", name, cname; return }
			printf "| %s | %.0f | %s | %.0f | %.1fx |\n", name, v[l], cname, v[c], v[l] / v[c]
		}'
fi

# ---- instructions and cache misses per operation at 1k and 1M extents -------------
# One process per E, collection on only inside the cg_op_* functions of
# bench/scale.c (each called N times), with callgrind's cache simulation:
# inclusive Ir / N is the work of one operation, (DLmr + DLmw) / N its
# last-level cache misses. The simulated caches are fixed (32 KiB L1s, a
# 32 MiB 16-way last level: 1M extents do not fit, 1k do), so the counts
# do not depend on the machine. Setup (offering E extents) is not counted.
if [ "$scale" = 1 ]; then
	n=$([ "$quick" = 1 ] && echo 200 || echo 1000)
	big=$([ "$quick" = 1 ] && echo 10000 || echo 1000000)
	for e in 1000 "$big"; do
		out="$root/$build/callgrind-scale-$e.out"
		daxm_log "callgrind: scale table at E = $e, $n calls per operation"
		valgrind --tool=callgrind --callgrind-out-file="$out" --cache-sim=yes \
			--I1=32768,8,64 --D1=32768,8,64 --LL=33554432,16,64 \
			--collect-atstart=no --toggle-collect='cg_op_*' \
			"$exe" --only scale --iterations "$n" --max-e "$e" >/dev/null 2>"$build/callgrind-scale.log" ||
			{ cat "$build/callgrind-scale.log" >&2; daxm_die "valgrind failed"; }
		callgrind_annotate --inclusive=yes --threshold=100 --auto=no "$out" >"$build/callgrind-scale-$e.txt"
	done
	awk -v n="$n" -v big="$big" '
	function num(s) { gsub(/,/, "", s); return s + 0 }
	FNR == 1 { file++ }
	/^Events shown:/ { for (i = 3; i <= NF; i++) col[file, $i] = i - 2 }
	/cg_op_[a-z_]+ / {
		match($0, /cg_op_[a-z_]+/)
		f = substr($0, RSTART + 6, RLENGTH - 6)
		line = $0
		gsub(/\([ 0-9.]+%\)/, "", line)
		split(line, w, " ")
		ir[file, f] = num(w[col[file, "Ir"]]) / n
		ll[file, f] = (num(w[col[file, "DLmr"]]) + num(w[col[file, "DLmw"]])) / n
	}
	END {
		printf "\n## g. Instructions and last-level cache misses per operation (callgrind, %d calls each)\n\n", n
		printf "| operation | instr., E = 1k | instr., E = %d | ratio | LL misses, E = 1k | LL misses, E = %d |\n", big, big
		print "|---|---:|---:|---:|---:|---:|"
		row("C floor: touch a random 96-byte object (lock, ++, --, unlock)", "floor_touch")
		row("C floor: binary search over E sorted keys", "floor_search")
		row("daxm_extent_get + daxm_extent_put, random extent", "getput")
		row("select tag + size 3 units", "tagsize")
		row("shrink 3 -> 1 unit", "shrink")
		row("daxm_attr_read regionR/extentK/refcount, random K", "attr")
		row("release an unreferenced tag group (10 extents)", "release")
		row("re-offer the group (10 extents)", "reoffer")
		row("release while pinned (deferred)", "deferred")
		row("the put completing a deferred release", "put_completes")
		row("drain an event (a RELEASED or a GROUP event)", "drain")
	}
	function row(name, f,   d) {
		d = f == "drain" ? 2 : 1
		if (!((1, f) in ir) || !((2, f) in ir)) { printf "| %s | ? | ? | | | |\n", name; return }
		printf "| %s | %.0f | %.0f | %.2fx | %.2f | %.2f |\n", name, ir[1, f] / d, ir[2, f] / d,
			ir[2, f] / ir[1, f], ll[1, f] / d, ll[2, f] / d
	}' "$build/callgrind-scale-1000.txt" "$build/callgrind-scale-$big.txt"

	# Table h's operations: one process per size, collection on only inside
	# the cg_fab_* functions of bench/fabric.c; the benchmark prints how
	# many calls each got ("cg-calls NAME N" on stderr).
	n=$([ "$quick" = 1 ] && echo 100 || echo 200)
	sizes=("8 100" "$([ "$quick" = 1 ] && echo "8 500" || echo "64 10000")")
	for he in "${sizes[@]}"; do
		read -r h e <<<"$he"
		out="$root/$build/callgrind-fabric-$h-$e.out"
		daxm_log "callgrind: fabric table at $h hosts x $e extents, $n calls per operation"
		valgrind --tool=callgrind --callgrind-out-file="$out" --collect-atstart=no --toggle-collect='cg_fab_*' \
			"$exe" --only fabric --iterations "$n" --fabric-hosts "$h" --fabric-extents "$e" \
			>/dev/null 2>"$build/callgrind-fabric-$h-$e.log" ||
			{ cat "$build/callgrind-fabric-$h-$e.log" >&2; daxm_die "valgrind failed"; }
		{
			grep '^cg-calls ' "$build/callgrind-fabric-$h-$e.log"
			callgrind_annotate --inclusive=yes --threshold=100 --auto=no "$out"
		} >"$build/callgrind-fabric-$h-$e.txt"
	done
	awk -v small="${sizes[0]}" -v large="${sizes[1]}" '
	function num(s) { gsub(/,/, "", s); return s + 0 }
	FNR == 1 { file++ }
	/^cg-calls / { calls[file, $2] = $3 }
	/cg_fab_[a-z_]+ / {
		match($0, /cg_fab_[a-z_]+/)
		ir[file, substr($0, RSTART + 7, RLENGTH - 7)] = num($1)
	}
	END {
		split(small, s, " "); split(large, l, " ")
		printf "\n## h. Instructions per fabric operation (callgrind)\n\n"
		printf "| operation | instr., %s x %s | instr., %s x %s | ratio |\n", s[1], s[2], l[1], l[2]
		print "|---|---:|---:|---:|"
		row("Initiate Add, Prescriptive (1 extent)", "add_presc")
		row("Initiate Add, Free (1 block)", "add_free")
		row("delivery + host answer", "deliver")
		row("Get DC Region Extent Lists page (64)", "list")
		row("List Tags page (64)", "tags")
		row("Initiate Release, Tag-based (10 extents) + delivery", "release")
		row("Add Reference + Remove Reference", "refs")
		row("Enable Shared Access (10 extents)", "esa")
		row("manager event drain, per record", "drain")
		row("host: select tag + size", "tagsize")
	}
	function row(name, f,   a, b) {
		if (!calls[1, f] || !calls[2, f]) { printf "| %s | ? | ? | |\n", name; return }
		a = ir[1, f] / calls[1, f]; b = ir[2, f] / calls[2, f]
		printf "| %s | %.0f | %.0f | %.2fx |\n", name, a, b, b / a
	}' "$build/callgrind-fabric-${sizes[0]// /-}.txt" "$build/callgrind-fabric-${sizes[1]// /-}.txt"
fi
