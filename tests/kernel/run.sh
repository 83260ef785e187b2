#!/usr/bin/env bash
# tests/kernel/run.sh - the real kernel as referee: boot Debian's Linux 6.1
# and 6.12 in QEMU (TCG), replay dax scenarios on their /sys/bus/dax, and
# compare every step with libdaxmodel, importing the model from the guest's
# own sysfs; then boot each kernel again on a NUMA layout and run the
# project's examples on real device memory. See tests/kernel/README.md.
#
# usage: tests/kernel/run.sh [KERNEL...]     KERNEL: 6.1, 6.12 (default: both)
#
# Needs the CMake build tree (default build-release, with libdaxmodel.so),
# a Swift toolchain (for the self-contained libdaxmodel.so the guest runs)
# and Debian's apt. Everything it downloads or builds goes to build-kernel/.
# Environment:
#   DAXM_BUILD_DIR=dir            CMake build tree to link against
#   DAXM_KERNEL_CACHE=dir         work directory (default build-kernel)
#   DAXM_KERNEL_SEED=N            first random seed (default 1)
#   DAXM_KERNEL_RANDOM_STEPS=N    random steps per kernel (default 2000)
#   DAXM_KERNEL_RANDOM_CHUNK=N    random steps per seed (default 300)
#   DAXM_KERNEL_SCENARIOS="f..."  scenario files (default tests/kernel/scenarios/*.scn)
#   DAXM_KERNEL_BOOT_TIMEOUT=s    limit for one boot (default 480)
#   DAXM_KERNEL_STOP_AT_FIRST=1   kernel-compare stops at the first mismatch
#   DAXM_KERNEL_DMESG=1           the guest prints its whole kernel log (in the guest log)
#   DAXM_KERNEL_RELOAD=0          resets by writes only, without reloading dax_hmem
#   DAXM_KERNEL_DEVMEM=0          skip the devmem boot (examples on real device memory)
#   DAXM_KERNEL_PANIC=0           skip the panic_on_warn=1 boot (scenarios/panic/*.scn)
#   DAXM_KERNEL_GIB=0             skip the 3 GiB region boot (scenarios/gib/*.scn)
#   DAXM_KERNEL_UPDATE_FIXTURES=1 copy the captured trees to tests/fixtures/sysfs/
# Exit status: 0 when every kernel booted and agreed with the model.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
# shellcheck source=scripts/deps.sh
. "$root/scripts/deps.sh"

build=${DAXM_BUILD_DIR:-$root/build-release}
cache=${DAXM_KERNEL_CACHE:-$root/build-kernel}
seed=${DAXM_KERNEL_SEED:-1}
random_steps=${DAXM_KERNEL_RANDOM_STEPS:-2000}
random_chunk=${DAXM_KERNEL_RANDOM_CHUNK:-300}
boot_timeout=${DAXM_KERNEL_BOOT_TIMEOUT:-480}
devmem=${DAXM_KERNEL_DEVMEM:-1}
panic=${DAXM_KERNEL_PANIC:-1}
gib=${DAXM_KERNEL_GIB:-1}
update_fixtures=${DAXM_KERNEL_UPDATE_FIXTURES:-0}
fixtures=$root/tests/fixtures/sysfs
kernels=("$@")
# shellcheck disable=SC2206 # a list of files, split on blanks on purpose
scenarios=(${DAXM_KERNEL_SCENARIOS:-"$here"/scenarios/*.scn})
[ "${#kernels[@]}" -gt 0 ] || kernels=(6.1 6.12)

# The guest's memory map (q35, 4 GiB: RAM at 0-2G and 4G-6G): 4G..5G legacy
# pmem (a static region nobody converts; it only shifts the hmem region id on
# 6.12) and 5G..6G soft-reserved, which dax_hmem turns into the dynamic region
# under test. memhp_default_state=offline keeps 6.12 from onlining it as RAM.
cmdline="console=ttyS0 loglevel=4 panic=-1 memhp_default_state=offline memmap=1G!4G memmap=1G%5G+0xefffffff"
machine=(-m 4G -smp 2)
# The GiB boot: a 3 GiB dynamic region at 4G..7G (q35, 5 GiB: RAM at 0-2G
# and 4G-7G, all of the latter soft reserved), for the scenarios that need
# a whole 1 GiB-aligned GiB inside a misaligned range (scenarios/gib/*.scn:
# the direct map's 1 GiB pages, phys_pud_init). -cpu max has pdpe1gb under
# TCG, so the kernel maps hotplugged memory with 1 GiB pages; the guest
# reports the flag and DirectMap1G (@@LAB cpu).
gib_cmdline="console=ttyS0 loglevel=4 panic=-1 memhp_default_state=offline memmap=3G%4G+0xefffffff daxm.mode=gib"
gib_machine=(-m 5G -smp 2)
# The devmem boot (guest/devmem.sh): 5 GiB on three NUMA nodes, one CPU per
# socket (no llc-sibling warning). node0: CPU 0, RAM 0-2G; node1: CPU 1,
# 4G..5G soft-reserved (the hmem region whose /dev/daxR.N the examples map:
# its target node has a CPU, so its pages are on it) and 5G..6G legacy pmem
# (made devdax with ndctl); node2: no CPU, 6G..7G soft-reserved, which
# daxctl onlines as system RAM (kmem): a memory-only node.
devmem_cmdline="console=ttyS0 loglevel=4 panic=-1 memhp_default_state=offline memmap=1G%4G+0xefffffff memmap=1G!5G memmap=1G%6G+0xefffffff daxm.mode=devmem"
# shellcheck disable=SC2054 # -smp takes a comma-separated list
devmem_machine=(-m 5G -smp 2,sockets=2,cores=1,threads=1
	-object memory-backend-ram,id=m0,size=2G -object memory-backend-ram,id=m1,size=2G
	-object memory-backend-ram,id=m2,size=1G
	-numa node,nodeid=0,cpus=0,memdev=m0 -numa node,nodeid=1,cpus=1,memdev=m1
	-numa node,nodeid=2,memdev=m2)
if [ "${DAXM_KERNEL_DMESG:-0}" = 1 ]; then
	cmdline="$cmdline daxm.dmesg=1"
	gib_cmdline="$gib_cmdline daxm.dmesg=1"
	devmem_cmdline="$devmem_cmdline daxm.dmesg=1"
fi
if [ "${DAXM_KERNEL_RELOAD:-1}" = 0 ]; then
	cmdline="$cmdline daxm.noreload=1"
	gib_cmdline="$gib_cmdline daxm.noreload=1"
fi
# The panic boot: the replay boot's machine, with panic_on_warn=1; the guest
# replays scenarios/panic/*.scn only, and the first kernel WARN panics it
# (panic=-1 reboots at once, and -no-reboot makes QEMU exit).
panic_cmdline="$cmdline panic_on_warn=1 daxm.mode=panic"
# load order: dependencies first (modinfo -F depends)
modules=(libnvdimm nd_btt nd_pmem nd_e820 device_dax dax_hmem)
# the devmem boot also converts pmem (dax_pmem) and onlines RAM (kmem)
devmem_modules=(libnvdimm nd_btt nd_pmem nd_e820 device_dax dax_pmem dax_hmem kmem)
# what the devmem guest runs, with the shared libraries they need
devmem_tools=(/usr/bin/ndctl /usr/bin/daxctl /usr/bin/numactl)

log() { printf 'kernel: %s\n' "$*"; }
sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)

meta_package() {
	case $1 in
	6.1) echo linux-image-amd64 ;;
	6.12) echo linux-image-6.12-amd64 ;;
	*) daxm_die "unknown kernel '$1' (want 6.1 or 6.12)" ;;
	esac
}

# The linux-image-X.Y.Z-N-amd64 package a meta package depends on.
resolve_image() {
	apt-cache depends "$1" 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}'
}

# apt-get download as the calling user, into the cache (as root apt warns
# that its sandbox user cannot write there: harmless)
download() {
	(cd "$cache/debs" && apt-get download -q "$1" 2>&1) | grep -v 'Download is performed unsandboxed' || true
	find "$cache/debs" -maxdepth 1 -name "${1}_*.deb" | grep -q .
}

# fetch_kernel 6.1 -> sets kdir (vmlinuz + the modules we load), kver
fetch_kernel() {
	local meta pkg deb
	meta=$(meta_package "$1")
	pkg=$(resolve_image "$meta")
	if [ -z "$pkg" ]; then
		log "apt-get update (apt-cache does not know $meta yet)"
		"${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
		pkg=$(resolve_image "$meta")
	fi
	[ -n "$pkg" ] || daxm_die "cannot resolve $meta to a linux-image package (apt-cache depends $meta)"
	kdir=$cache/kernels/$pkg
	if [ ! -f "$kdir/.complete" ]; then
		mkdir -p "$cache/debs"
		deb=$(find "$cache/debs" -maxdepth 1 -name "${pkg}_*.deb" | head -n1)
		if [ -z "$deb" ]; then
			log "downloading $pkg ($meta)"
			if ! download "$pkg"; then
				log "apt-get download failed; apt-get update and once more"
				"${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
				download "$pkg" || daxm_die "apt-get download $pkg failed"
			fi
			deb=$(find "$cache/debs" -maxdepth 1 -name "${pkg}_*.deb" | head -n1)
			[ -n "$deb" ] || daxm_die "apt-get download $pkg left no .deb in $cache/debs"
		fi
		log "unpacking $(basename "$deb") (vmlinuz and the dax/nvdimm modules only)"
		rm -rf "$kdir"
		mkdir -p "$kdir"
		# the subset of `dpkg-deb -x` we need: about 13 MB instead of 400-500 MB
		dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$kdir" --wildcards \
			'./boot/vmlinuz-*' './lib/modules/*/kernel/drivers/dax/*' \
			'./lib/modules/*/kernel/drivers/nvdimm/*'
		# 6.12 ships .ko.xz; busybox insmod wants plain .ko
		find "$kdir/lib/modules" -name '*.ko.xz' -exec xz -d {} +
		touch "$kdir/.complete"
	fi
	kver=$(basename "$(find "$kdir/lib/modules" -mindepth 1 -maxdepth 1 -type d | head -n1)")
	[ -f "$kdir/boot/vmlinuz-$kver" ] || daxm_die "$kdir: no boot/vmlinuz-$kver"
}

# copy_with_libs STAGE FILE [DEST]: FILE (to DEST, default its own path) and
# its shared libraries (ldd), at their own paths: host glibc = guest glibc
copy_with_libs() {
	local stage=$1 f=$2 dest=${3:-$2} lib
	mkdir -p "$stage$(dirname "$dest")"
	cp -L "$f" "$stage$dest"
	LD_LIBRARY_PATH=$cache/lib ldd "$f" | awk '/=>/ { print $3 } /^\s*\/lib/ { print $1 }' | while read -r lib; do
		if [ -z "$lib" ] || [ ! -e "$lib" ]; then continue; fi
		mkdir -p "$stage$(dirname "$lib")"
		cp -L "$lib" "$stage$lib"
	done
}

# make_initramfs KVER KDIR OUT: busybox, the modules (with depmod's index,
# for daxctl's libkmod), sysfs-replay, scenarios, /init
make_initramfs() {
	local kv=$1 kd=$2 out=$3 stage m ko rel
	stage=$cache/stage-$kv
	rm -rf "$stage"
	mkdir -p "$stage"/{bin,dev,proc,sys,tmp,scenarios/panic,scenarios/gib,lib/modules/"$kv"}
	cp /bin/busybox "$stage/bin/busybox"
	cp "$cache/sysfs-replay" "$stage/bin/sysfs-replay"
	cp "$here/guest/init.sh" "$stage/init"
	chmod 755 "$stage/init"
	(cd "$kd/lib/modules/$kv" && find kernel -name '*.ko' | cpio -pdm --quiet "$stage/lib/modules/$kv")
	: >"$stage/lib/modules/$kv/modules.order"
	: >"$stage/lib/modules/$kv/modules.builtin"
	: >"$stage/lib/modules/$kv/modules.builtin.modinfo"
	depmod -b "$stage" "$kv"
	: >"$stage/modules.replay"
	: >"$stage/modules.devmem"
	for m in "${modules[@]}" "${devmem_modules[@]}"; do
		ko=$(find "$stage/lib/modules/$kv" -name "$m.ko" | head -n1)
		[ -n "$ko" ] || daxm_die "$kv: module $m.ko not found in $kd"
	done
	for m in "${modules[@]}"; do
		rel=$(cd "$stage/lib/modules/$kv" && find kernel -name "$m.ko" | head -n1)
		echo "$rel" >>"$stage/modules.replay"
	done
	for m in "${devmem_modules[@]}"; do
		rel=$(cd "$stage/lib/modules/$kv" && find kernel -name "$m.ko" | head -n1)
		echo "$rel" >>"$stage/modules.devmem"
	done
	cp "${scenarios[@]}" "$stage/scenarios/"
	cp "$here"/scenarios/panic/*.scn "$stage/scenarios/panic/"
	cp "$here"/scenarios/gib/*.scn "$stage/scenarios/gib/"
	[ "$random_steps" -eq 0 ] || cp "$cache/random.scn" "$stage/scenarios/90-random.scn"
	(cd "$stage" && find . | cpio -o -H newc --quiet | gzip -1) >"$out"
	rm -rf "$stage"
}

# make_devmem_payload OUT: a second cpio for the devmem boot: devmem.sh,
# ndctl/daxctl/numactl, dax-map and dax-jobs with the self-contained
# libdaxmodel.so.0, and every shared library they need
make_devmem_payload() {
	local out=$1 stage t
	stage=$cache/stage-devmem
	rm -rf "$stage"
	mkdir -p "$stage"/{lib64,usr/local/bin,etc/ndctl,etc/daxctl}
	cp "$here/guest/devmem.sh" "$stage/devmem.sh"
	chmod 755 "$stage/devmem.sh"
	for t in "${devmem_tools[@]}"; do
		[ -x "$t" ] || daxm_die "$t is missing (install ndctl, daxctl and numactl)"
		copy_with_libs "$stage" "$t"
	done
	for t in dax-map dax-jobs; do
		copy_with_libs "$stage" "$cache/lib/$t" "/usr/local/bin/$t"
	done
	# the library where the loader looks by default (the examples' RUNPATH
	# names the build tree, which the guest does not have)
	rm -f "$stage$cache/lib/libdaxmodel.so.0"
	copy_with_libs "$stage" "$cache/lib/libdaxmodel.so.0" /lib/x86_64-linux-gnu/libdaxmodel.so.0
	cp -L /lib64/ld-linux-x86-64.so.2 "$stage/lib64/"
	find "$stage" -type d -empty -delete
	(cd "$stage" && find . -mindepth 1 | cpio -o -H newc --quiet | gzip -1) >"$out"
	rm -rf "$stage"
}

# boot MODE KVER KDIR INITRD LOG: run the guest (MODE replay, panic, gib or
# devmem); fail loudly unless it finished (the panic boot: unless it panicked)
boot() {
	local mode=$1 kv=$2 kd=$3 initrd=$4 out=$5 rc=0 t0 append mach=()
	if [ "$mode" = devmem ]; then
		append=$devmem_cmdline
		mach=("${devmem_machine[@]}")
	elif [ "$mode" = panic ]; then
		append=$panic_cmdline
		mach=("${machine[@]}")
	elif [ "$mode" = gib ]; then
		append=$gib_cmdline
		mach=("${gib_machine[@]}")
	else
		append=$cmdline
		mach=("${machine[@]}")
	fi
	# A guest that dies before /init (an early-boot crash of the emulated
	# machine, seen once as an int3 Oops in sched_clock_cpu under
	# multi-threaded TCG) has run nothing of ours: it boots once more.
	local attempt
	for attempt in 1 2; do
		rc=0
		t0=$(date +%s.%N)
		timeout --foreground -k 10 "$boot_timeout" qemu-system-x86_64 \
			-accel tcg,thread=multi -cpu max -M q35 "${mach[@]}" \
			-nographic -no-reboot -nodefaults -serial stdio \
			-kernel "$kd/boot/vmlinuz-$kv" -initrd "$initrd" -append "$append" \
			</dev/null >"$out" 2>&1 || rc=$?
		boot_seconds=$(awk -v a="$(date +%s.%N)" -v b="$t0" 'BEGIN { printf "%.1f", a - b }')
		tr -d '\r' <"$out" >"$out.tmp" && mv "$out.tmp" "$out"
		if [ "$attempt" = 2 ] || grep -q '@@LAB init reached' "$out" || [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
			break
		fi
		mv "$out" "$out.before-init"
		log "$kv ($mode boot): the guest died before /init ($(grep -m1 -E 'Oops|Kernel panic' "$out.before-init" || echo 'no Oops line')); booting once more (first log: ${out#"$root"/}.before-init)"
	done
	local why=""
	if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
		why="QEMU did not finish within ${boot_timeout}s"
	elif [ "$rc" -ne 0 ]; then
		why="QEMU exited with status $rc"
	elif ! grep -q '@@LAB init reached' "$out"; then
		why="the guest never reached /init"
	elif [ "$mode" = panic ]; then
		# kernel-compare checks where and why; here only that it happened
		if ! grep -q '^@@DAXREC BEGIN' "$out"; then
			why="sysfs-replay never started"
		elif ! grep -q 'Kernel panic - not syncing' "$out"; then
			why="the guest did not panic (the model names a warning in scenarios/panic)"
		fi
	elif { [ "$mode" = replay ] || [ "$mode" = gib ]; } && ! grep -q '^@@DAXREC END' "$out"; then
		why="the guest record has no end (sysfs-replay crashed or the guest died)"
	elif [ "$mode" = devmem ] && ! grep -q '^@@LAB DEVMEM checks=' "$out"; then
		why="devmem.sh did not finish (the guest died, or a program hung)"
	elif ! grep -q '^@@LAB GUEST_RC=' "$out"; then
		why="the guest did not finish"
	fi
	if [ -z "$why" ] && grep -q '^@@LAB insmod' "$out"; then
		why="a module did not load: $(grep '^@@LAB insmod' "$out" | head -n1)"
	fi
	if [ -n "$why" ]; then
		echo "---- last 40 lines of $out" >&2
		tail -n 40 "$out" >&2
		echo "----" >&2
		echo "$mode: linux $kv: FAILED, $why" >>"$cache/summary.txt"
		daxm_die "kernel $kv ($mode boot): $why (log: $out)"
	fi
	# WARNs are compared with the model step by step (kernel-compare); a
	# BUG or an Oops is shown here too
	if grep -q -E '^@@LAB dmesg: .*(BUG:|Oops|general protection)' "$out"; then
		echo "kernel $kv: the guest kernel oopsed during the $mode run (details in the log):" >&2
		grep -E '^@@LAB dmesg: .*(WARNING:|BUG:|Oops|general protection)' "$out" |
			sed -E 's/^@@LAB dmesg: \[ *[0-9.]+\] /  /; s/ CPU: [0-9]+ PID: [0-9]+//' | sort -u | head -n 20 >&2
	fi
}

# compare LOG OUT PREFIX [ARGS...]: kernel-compare ARGS on a guest LOG
# (uses $trees, $boot_seconds), its output to OUT and the terminal, its
# summary line (after PREFIX) to summary.txt; a failure sets status=1.
compare() {
	local guest=$1 out=$2 prefix=$3 rc line
	shift 3
	set +e
	"$cache/kernel-compare" "$@" --trees "$trees" --boot-seconds "$boot_seconds" "$guest" | tee "$out"
	rc=${PIPESTATUS[0]}
	set -e
	line=$(grep '^kernel-compare: ' "$out" | tail -n1)
	echo "$prefix${line:-kernel-compare: linux $kver: FAILED, kernel-compare exit status $rc, no summary}" >>"$cache/summary.txt"
	[ "$rc" -eq 0 ] || status=1
}

# fixture KVER TREEDIR NAME: the captured tree NAME (trees/NNN-NAME) as
# tests/fixtures/sysfs/linux-X.Y-NAME: copied with DAXM_KERNEL_UPDATE_FIXTURES=1,
# otherwise compared (a difference is reported, not a failure: the trees
# are checked by kernel-compare either way), but for dev and uevent, whose
# char device numbers follow the order in which devices were probed
fixture() {
	local kv=$1 trees=$2 name=$3 src dest short
	short=$(echo "$kv" | sed -E 's/^([0-9]+\.[0-9]+).*/\1/')
	dest=$fixtures/linux-$short-$name
	src=$(find "$trees" -mindepth 1 -maxdepth 1 -type d -name "[0-9]*-$name" | sort | head -n1)
	if [ -z "$src" ]; then
		fixture_notes+=("linux-$short-$name: not captured in this run")
		return 0
	fi
	if [ "$update_fixtures" = 1 ]; then
		rm -rf "$dest"
		mkdir -p "$fixtures"
		cp -a "$src" "$dest"
		fixture_notes+=("linux-$short-$name: updated ($(find "$dest" -type f -o -type l | wc -l) files)")
	elif [ ! -d "$dest" ]; then
		fixture_notes+=("linux-$short-$name: not in the tree (DAXM_KERNEL_UPDATE_FIXTURES=1 adds it)")
	elif diff -r --no-dereference -x dev -x uevent "$src" "$dest" >"$cache/logs/fixture-$short-$name.diff" 2>&1; then
		fixture_notes+=("linux-$short-$name: the same as this run's")
	else
		fixture_notes+=("linux-$short-$name: DIFFERS from this run's (${cache#"$root"/}/logs/fixture-$short-$name.diff; DAXM_KERNEL_UPDATE_FIXTURES=1 refreshes it)")
	fi
}

mkdir -p "$cache/logs"
rm -f "$cache/summary.txt"

# ---- tools -----------------------------------------------------------------------------
daxm_need_packages qemu-system-x86 busybox-static cpio kmod xz-utils gzip gcc libc6-dev
if [ ! -x /bin/busybox ] || readelf -d /bin/busybox 2>/dev/null | grep -q NEEDED; then
	daxm_die "/bin/busybox is not a static binary (install busybox-static)"
fi
[ -f "$build/libdaxmodel.so" ] || daxm_die "$build/libdaxmodel.so is missing: build the CMake tree first"

cflags=(-O2 -std=gnu11 -Wall -Wextra -Werror -Wno-format-truncation)
gcc "${cflags[@]}" -static -o "$cache/sysfs-replay" "$here/guest/sysfs-replay.c"
gcc "${cflags[@]}" -I "$root/include" -o "$cache/kernel-compare" "$here/host/kernel-compare.c" \
	-L "$build" -ldaxmodel -Wl,-rpath,"$build"

# The devmem guest has no Swift toolchain: a self-contained libdaxmodel.so
# (the Swift runtime linked in) and the examples built against it, in
# build-kernel/lib.
if [ "$devmem" = 1 ]; then
	daxm_need_packages ndctl daxctl numactl libnuma-dev libjson-c-dev cmake ninja-build
	daxm_need_swift
	t0=$(date +%s)
	if [ ! -f "$cache/lib/build.ninja" ]; then
		cmake -S "$root" -B "$cache/lib" -G Ninja -DCMAKE_BUILD_TYPE=Release \
			-DDAXMODEL_STATIC_SWIFT_STDLIB=ON -DDAXMODEL_BUILD_EXAMPLES=ON \
			-DDAXMODEL_BUILD_TOOLS=OFF -DBUILD_TESTING=OFF >"$cache/logs/lib-cmake.log" 2>&1 ||
			{ tail -n 30 "$cache/logs/lib-cmake.log" >&2; daxm_die "cmake (static-stdlib library) failed"; }
	fi
	cmake --build "$cache/lib" >"$cache/logs/lib-build.log" 2>&1 ||
		{ tail -n 30 "$cache/logs/lib-build.log" >&2; daxm_die "building the static-stdlib library failed"; }
	for f in libdaxmodel.so.0 dax-map dax-jobs; do
		[ -e "$cache/lib/$f" ] || daxm_die "$cache/lib/$f was not built (libnuma-dev, libjson-c-dev?)"
	done
	if readelf -d "$cache/lib/libdaxmodel.so.0" | grep -E 'NEEDED.*libswift|RUNPATH|RPATH'; then
		daxm_die "$cache/lib/libdaxmodel.so.0 still needs the Swift toolchain"
	fi
	log "self-contained libdaxmodel.so and the examples: ${cache#"$root"/}/lib ($(($(date +%s) - t0))s)"
	make_devmem_payload "$cache/devmem.cpio.gz"
fi

# the random part: chunks of random_chunk steps, one seed each
{
	echo "# generated by tests/kernel/run.sh: $random_steps random steps from seed $seed"
	s=$seed
	left=$random_steps
	while [ "$left" -gt 0 ]; do
		n=$((left < random_chunk ? left : random_chunk))
		echo "scenario random-seed-$s"
		echo "random $s $n"
		s=$((s + 1))
		left=$((left - n))
	done
} >"$cache/random.scn"
log "random steps: $random_steps per kernel, seeds $seed..$((seed + (random_steps + random_chunk - 1) / random_chunk - 1)) (DAXM_KERNEL_SEED=$seed)"

status=0
fixture_notes=()
for k in "${kernels[@]}"; do
	k_t0=$(date +%s)
	fetch_kernel "$k"
	initrd=$cache/initramfs-$kver.cpio.gz
	make_initramfs "$kver" "$kdir" "$initrd"

	# -- 1. replay: scenarios on /sys/bus/dax and on the model imported from the guest's trees
	guest_log=$cache/logs/$kver.log
	trees=$cache/trees/$kver-replay
	rm -rf "$trees"
	log "booting $kver under QEMU TCG: replay (log: ${guest_log#"$root"/})"
	boot replay "$kver" "$kdir" "$initrd" "$guest_log"
	log "$kver: guest finished in ${boot_seconds}s; comparing with libdaxmodel"
	compare_args=()
	[ "${DAXM_KERNEL_STOP_AT_FIRST:-0}" = 1 ] && compare_args+=(--stop-at-first)
	compare "$guest_log" "$cache/logs/$kver.compare" "" "${compare_args[@]}"
	fixture "$kver" "$trees" boot
	fixture "$kver" "$trees" split

	# -- 2. panic_on_warn=1: the guest must panic at the step the model names
	if [ "$panic" = 1 ]; then
		panic_log=$cache/logs/$kver-panic.log
		trees=$cache/trees/$kver-panic
		rm -rf "$trees"
		log "booting $kver under QEMU TCG: panic_on_warn=1 (log: ${panic_log#"$root"/})"
		boot panic "$kver" "$kdir" "$initrd" "$panic_log"
		compare "$panic_log" "$cache/logs/$kver-panic.compare" "panic: " --panic-on-warn
	fi

	# -- 3. a 3 GiB region: the scenarios that need a whole GiB in a misaligned range
	if [ "$gib" = 1 ]; then
		gib_log=$cache/logs/$kver-gib.log
		trees=$cache/trees/$kver-gib
		rm -rf "$trees"
		log "booting $kver under QEMU TCG: 3 GiB region (log: ${gib_log#"$root"/})"
		boot gib "$kver" "$kdir" "$initrd" "$gib_log"
		grep '^@@LAB cpu' "$gib_log" | sed 's/^@@LAB /  /' || true
		set +e
		"$cache/kernel-compare" "${compare_args[@]}" --trees "$trees" --boot-seconds "$boot_seconds" "$gib_log" \
			| tee "$cache/logs/$kver-gib.compare"
		rc=${PIPESTATUS[0]}
		set -e
		line=$(grep '^kernel-compare: ' "$cache/logs/$kver-gib.compare" | tail -n1)
		echo "gib: ${line:-kernel-compare: linux $kver: FAILED, kernel-compare exit status $rc, no summary}" >>"$cache/summary.txt"
		[ "$rc" -eq 0 ] || status=1
	fi

	# -- 4. devmem: the examples on real device memory and on a memory-only node
	if [ "$devmem" = 1 ]; then
		devmem_log=$cache/logs/$kver-devmem.log
		trees=$cache/trees/$kver-devmem
		rm -rf "$trees"
		cat "$initrd" "$cache/devmem.cpio.gz" >"$cache/initramfs-$kver-devmem.cpio.gz"
		log "booting $kver under QEMU TCG: devmem, NUMA layout (log: ${devmem_log#"$root"/})"
		boot devmem "$kver" "$kdir" "$cache/initramfs-$kver-devmem.cpio.gz" "$devmem_log"
		grep -E '^@@LAB (ok|NOT OK) ' "$devmem_log" | sed 's/^@@LAB /  /' >"$cache/logs/$kver-devmem.checks"
		nchecks=$(sed -nE 's/^@@LAB DEVMEM checks=([0-9]+) failed=([0-9]+).*/\1/p' "$devmem_log")
		nfailed=$(sed -nE 's/^@@LAB DEVMEM checks=([0-9]+) failed=([0-9]+).*/\2/p' "$devmem_log")
		guest_rc=$(sed -nE 's/^@@LAB GUEST_RC=([0-9]+).*/\1/p' "$devmem_log")
		if [ "$nfailed" != 0 ] || [ "$guest_rc" != 0 ]; then
			echo "kernel $kver: devmem checks that failed (log: ${devmem_log#"$root"/}):" >&2
			grep '^  NOT OK' "$cache/logs/$kver-devmem.checks" >&2 || true
			status=1
		fi
		set +e
		"$cache/kernel-compare" --trees-only --trees "$trees" "$devmem_log" >"$cache/logs/$kver-devmem.compare"
		rc=$?
		set -e
		cat "$cache/logs/$kver-devmem.compare"
		[ "$rc" -eq 0 ] || status=1
		tline=$(grep '^kernel-compare: ' "$cache/logs/$kver-devmem.compare" | tail -n1 | sed 's/^kernel-compare: //')
		ran=$(grep -c '^@@LAB run dax-' "$devmem_log" || true)
		echo "devmem: linux $kver: $nchecks checks, $nfailed failed ($ran example runs: dax-map on /dev/dax" \
			"2 MiB split, 1 GiB, static pmem; emulated and dax-jobs on memory-only node 2); ${tline:-no tree}; boot+guest ${boot_seconds}s" \
			>>"$cache/summary.txt"
		fixture "$kver" "$trees" numa
	fi
	echo "time: linux $kver: $(($(date +%s) - k_t0))s" >>"$cache/summary.txt"
done

echo
cat "$cache/summary.txt"
for n in "${fixture_notes[@]}"; do echo "fixture $n"; done
[ "$status" -eq 0 ] || echo "kernel: the model disagrees with a kernel, or an example failed on real device memory (MISMATCH / NOT OK above; logs in ${cache#"$root"/}/logs)" >&2
exit "$status"
