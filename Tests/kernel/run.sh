#!/usr/bin/env bash
# Tests/kernel/run.sh - the real kernel as referee: boot Debian's Linux 6.1
# and 6.12 in QEMU (TCG), replay dax scenarios on their /sys/bus/dax, and
# compare every step with libdaxmodel. See Tests/kernel/README.md.
#
# usage: Tests/kernel/run.sh [KERNEL...]     KERNEL: 6.1, 6.12 (default: both)
#
# Needs the CMake build tree (default build-release, with libdaxmodel.so)
# and Debian's apt. Everything it downloads or builds goes to build-kernel/.
# Environment:
#   DAXM_BUILD_DIR=dir            CMake build tree to link against
#   DAXM_KERNEL_CACHE=dir         work directory (default build-kernel)
#   DAXM_KERNEL_SEED=N            first random seed (default 1)
#   DAXM_KERNEL_RANDOM_STEPS=N    random steps per kernel (default 2000)
#   DAXM_KERNEL_RANDOM_CHUNK=N    random steps per seed (default 300)
#   DAXM_KERNEL_SCENARIOS="f..."  scenario files (default Tests/kernel/scenarios/*.scn)
#   DAXM_KERNEL_BOOT_TIMEOUT=s    limit for one boot (default 480)
#   DAXM_KERNEL_STOP_AT_FIRST=1   kernel-compare stops at the first mismatch
#   DAXM_KERNEL_DMESG=1           the guest prints its whole kernel log (in the guest log)
#   DAXM_KERNEL_RELOAD=0          resets by writes only, without reloading dax_hmem
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
kernels=("$@")
# shellcheck disable=SC2206 # a list of files, split on blanks on purpose
scenarios=(${DAXM_KERNEL_SCENARIOS:-"$here"/scenarios/*.scn})
[ "${#kernels[@]}" -gt 0 ] || kernels=(6.1 6.12)

# The guest's memory map (q35, 4 GiB: RAM at 0-2G and 4G-6G): 4G..5G legacy
# pmem (a static region nobody converts; it only shifts the hmem region id on
# 6.12) and 5G..6G soft-reserved, which dax_hmem turns into the dynamic region
# under test. memhp_default_state=offline keeps 6.12 from onlining it as RAM.
cmdline="console=ttyS0 loglevel=4 panic=-1 memhp_default_state=offline memmap=1G!4G memmap=1G%5G+0xefffffff"
[ "${DAXM_KERNEL_DMESG:-0}" = 1 ] && cmdline="$cmdline daxm.dmesg=1"
[ "${DAXM_KERNEL_RELOAD:-1}" = 0 ] && cmdline="$cmdline daxm.noreload=1"
# load order: dependencies first (modinfo -F depends)
modules=(libnvdimm nd_btt nd_pmem nd_e820 device_dax dax_hmem)

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

# make_initramfs KVER KDIR OUT: busybox, modules, sysfs-replay, scenarios, /init
make_initramfs() {
	local kv=$1 kd=$2 out=$3 stage m ko
	stage=$cache/stage-$kv
	rm -rf "$stage"
	mkdir -p "$stage"/{bin,dev,proc,sys,modules,scenarios}
	cp /bin/busybox "$stage/bin/busybox"
	cp "$cache/sysfs-replay" "$stage/bin/sysfs-replay"
	cp "$here/guest/init.sh" "$stage/init"
	chmod 755 "$stage/init"
	: >"$stage/modules.list"
	for m in "${modules[@]}"; do
		ko=$(find "$kd/lib/modules/$kv" -name "$m.ko" | head -n1)
		[ -n "$ko" ] || daxm_die "$kv: module $m.ko not found in $kd"
		cp "$ko" "$stage/modules/"
		echo "$m" >>"$stage/modules.list"
	done
	cp "${scenarios[@]}" "$stage/scenarios/"
	[ "$random_steps" -eq 0 ] || cp "$cache/random.scn" "$stage/scenarios/90-random.scn"
	(cd "$stage" && find . | cpio -o -H newc --quiet | gzip -1) >"$out"
	rm -rf "$stage"
}

# boot KVER KDIR INITRD LOG: run the guest; fail loudly unless it finished
boot() {
	local kv=$1 kd=$2 initrd=$3 out=$4 rc=0 t0
	t0=$(date +%s.%N)
	timeout --foreground -k 10 "$boot_timeout" qemu-system-x86_64 \
		-accel tcg,thread=multi -cpu max -M q35 -m 4G -smp 2 \
		-nographic -no-reboot -nodefaults -serial stdio \
		-kernel "$kd/boot/vmlinuz-$kv" -initrd "$initrd" -append "$cmdline" \
		</dev/null >"$out" 2>&1 || rc=$?
	boot_seconds=$(awk -v a="$(date +%s.%N)" -v b="$t0" 'BEGIN { printf "%.1f", a - b }')
	tr -d '\r' <"$out" >"$out.tmp" && mv "$out.tmp" "$out"
	local why=""
	if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
		why="QEMU did not finish within ${boot_timeout}s"
	elif [ "$rc" -ne 0 ]; then
		why="QEMU exited with status $rc"
	elif ! grep -q '@@LAB init reached' "$out"; then
		why="the guest never reached /init"
	elif ! grep -q '^@@DAXREC END' "$out"; then
		why="the guest record has no end (sysfs-replay crashed or the guest died)"
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
		echo "kernel-compare: linux $kv: FAILED, $why" >>"$cache/summary.txt"
		daxm_die "kernel $kv: $why (log: $out)"
	fi
	if grep -q -E '^@@LAB dmesg: .*(WARNING:|BUG:|Oops|general protection)' "$out"; then
		echo "kernel $kv: the guest kernel warned during the run (details in the log):" >&2
		grep -E '^@@LAB dmesg: .*(WARNING:|BUG:|Oops|general protection)' "$out" |
			sed -E 's/^@@LAB dmesg: \[ *[0-9.]+\] /  /; s/ CPU: [0-9]+ PID: [0-9]+//' | sort -u | head -n 20 >&2
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

# the random part: chunks of random_chunk steps, one seed each
{
	echo "# generated by Tests/kernel/run.sh: $random_steps random steps from seed $seed"
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
for k in "${kernels[@]}"; do
	fetch_kernel "$k"
	initrd=$cache/initramfs-$kver.cpio.gz
	make_initramfs "$kver" "$kdir" "$initrd"
	guest_log=$cache/logs/$kver.log
	log "booting $kver under QEMU TCG (log: ${guest_log#"$root"/})"
	boot "$kver" "$kdir" "$initrd" "$guest_log"
	log "$kver: guest finished in ${boot_seconds}s; comparing with libdaxmodel"
	compare_args=()
	[ "${DAXM_KERNEL_STOP_AT_FIRST:-0}" = 1 ] && compare_args+=(--stop-at-first)
	set +e
	"$cache/kernel-compare" "${compare_args[@]}" --boot-seconds "$boot_seconds" "$guest_log" \
		| tee "$cache/logs/$kver.compare"
	rc=${PIPESTATUS[0]}
	set -e
	line=$(grep '^kernel-compare: ' "$cache/logs/$kver.compare" | tail -n1)
	echo "${line:-kernel-compare: linux $kver: FAILED, kernel-compare exit status $rc, no summary}" >>"$cache/summary.txt"
	[ "$rc" -eq 0 ] || status=1
done

echo
cat "$cache/summary.txt"
[ "$status" -eq 0 ] || echo "kernel: the model disagrees with a kernel (MISMATCH above; logs in ${cache#"$root"/}/logs)" >&2
exit "$status"
