#!/bin/busybox sh
# shellcheck shell=dash
# devmem.sh - real device memory in the kernel-referee guest (daxm.mode=devmem;
# see tests/kernel/README.md, "The devmem boot"). Runs the project's examples,
# built against the self-contained libdaxmodel.so, on:
#   - a real /dev/daxR.N of the hmem region on node 1 (target_node 1, a node
#     with a CPU), 2 MiB aligned and split in two ranges, then 1 GiB aligned
#     at the region's 1 GiB-aligned start;
#   - the pmem namespace converted to devdax with ndctl (a static region);
#   - emulated device memory bound with libnuma to node 2, the memory-only
#     node that daxctl makes of the second hmem region (system-ram, kmem);
#   - dax-jobs, bound to node 2 as well.
# Captures the sysfs tree "numa" on the way. Every check prints "@@LAB ok
# WHAT" or "@@LAB NOT OK WHAT: why"; the examples' output follows as
# "@@OUT name: ...". Exit status: the number of failed checks (at most 100).
D=/sys/bus/dax/devices
G=1073741824
checks=0
failed=0

ok() { checks=$((checks + 1)); echo "@@LAB ok $*"; }
notok() { checks=$((checks + 1)); failed=$((failed + 1)); echo "@@LAB NOT OK $*"; }

finish() {
	echo "@@LAB DEVMEM checks=$checks failed=$failed uptime=$(cut -d' ' -f1 /proc/uptime)"
	[ "$failed" -gt 100 ] && failed=100
	exit "$failed"
}

# run NAME CMD...: run it, its output (stdout and stderr) to /tmp/NAME.out
# and to the console as "@@OUT NAME: ..."; the exit status in $rc
run() {
	name=$1
	shift
	echo "@@LAB run $*"
	"$@" >"/tmp/$name.out" 2>&1
	rc=$?
	sed "s/^/@@OUT $name: /" "/tmp/$name.out"
	echo "@@LAB exit status $rc: $*"
}

# expect_rc0 WHAT: the last run exited 0
expect_rc0() {
	if [ "$rc" -eq 0 ]; then ok "$1"; else notok "$1: exit status $rc"; fi
}

# has NAME PATTERN WHAT: the output of run NAME has a line matching PATTERN
has() {
	if grep -q -E "$2" "/tmp/$1.out"; then ok "$3"; else notok "$3: no line matches /$2/ in $1's output"; fi
}

# hasnt NAME PATTERN WHAT
hasnt() {
	if grep -q -E "$2" "/tmp/$1.out"; then
		notok "$3: $(grep -E "$2" "/tmp/$1.out" | head -n1)"
	else
		ok "$3"
	fi
}

# placement NAME SECTION NODE WHAT: dax-map's placement table SECTION
# ("device", "emulated", "anonymous"): every sampled page on NODE
placement() {
	got=$(awk -v s="$2" '
		$1 == s && $2 == "page" { on = 1; next }
		on && $1 ~ /^0x/ { print $3; next }
		on { exit }' "/tmp/$1.out" | sort | uniq -c | awk '{ printf "%s%d page(s) on node %s", sep, $1, $2; sep = ", " }')
	rows=$(awk -v s="$2" '
		$1 == s && $2 == "page" { on = 1; next }
		on && $1 ~ /^0x/ { n++; next }
		on { exit }
		END { print n + 0 }' "/tmp/$1.out")
	if [ "$rows" -gt 0 ] && [ "$got" = "$rows page(s) on node $3" ]; then
		ok "$4: $got"
	else
		notok "$4: expected every sampled page on node $3, got: ${got:-no placement table}"
	fi
}

# wr FILE VALUE: one write(2); a failure is a failed check
wr() {
	if ! printf '%s' "$2" >"$1"; then
		notok "write $2 to $1"
		return 1
	fi
}

# dax_map_real NAME DEV ALIGN-WORDS [ARGS...]: dax-map on a real device; the
# checks every real device gets
dax_map_real() {
	name=$1 dev=$2 aligned=$3
	shift 3
	node=$(cat "$D/$dev/target_node")
	run "$name" dax-map --node "$node" "$@" "/dev/$dev"
	expect_rc0 "$name: dax-map --node $node ${*:+$* }/dev/$dev exits 0"
	has "$name" '^dax-map: ok$' "$name: dax-map says ok"
	has "$name" 'MAP_SHARED, one align unit +-> ok$' "$name: mmap(MAP_SHARED, one align unit) works"
	has "$name" 'MAP_PRIVATE +-> EINVAL$' "$name: mmap(MAP_PRIVATE) refused with EINVAL"
	has "$name" 'MAP_SHARED, length 4 KiB +-> EINVAL$' "$name: mmap of 4 KiB refused with EINVAL"
	hasnt "$name" 'NOTE:|FAIL' "$name: no FAIL and no NOTE"
	has "$name" "view 1 at 0x[0-9a-f]+, .*\\($aligned-aligned: yes\\)" "$name: the view is $aligned aligned"
	has "$name" '^  pattern: wrote and read back [0-9]+ words through view 1: ok$' "$name: the pattern reads back"
	has "$name" 'view 2 at .* reads the same bytes: yes' "$name: a second view sees the same bytes"
	has "$name" 'a new view after unmapping both reads the pattern: yes' "$name: the bytes outlive the views"
	placement "$name" device "$node" "$name: the device's pages are on its target_node $node"
}

echo "@@LAB devmem: $(uname -r), $(grep -c ^processor /proc/cpuinfo) CPUs"

# ---- the regions: hmem on node 1 (A) and node 2 (B) ------------------------------------
A=''
B=''
for p in "$D"/dax*.0; do
	case $(readlink -f "$p") in */hmem.*) ;; *) continue ;; esac
	case $(cat "$p/target_node" 2>/dev/null) in
	1) A=${p##*/} ;;
	2) B=${p##*/} ;;
	esac
done
if [ -z "$A" ] || [ -z "$B" ]; then
	notok "two hmem regions, target_node 1 and 2: found '${A:-none}' and '${B:-none}' ($(ls "$D"))"
	finish
fi
ok "hmem regions: $A on node 1, $B on node 2"
RA=${A#dax}
RA=${RA%.0}
RDIR=$(readlink -f "$D/$A/..")/dax_region
for d in "$A" "$B"; do
	echo "@@LAB $d: target_node $(cat "$D/$d/target_node") numa_node $(cat "$D/$d/numa_node")" \
		"resource $(cat "$D/$d/resource") driver $(readlink "$D/$d/driver" || echo -)"
done

# 6.12 types hmem regions for kmem, which took A at boot (its memory stays
# offline: memhp_default_state=offline): give it back to device_dax
case $(readlink "$D/$A/driver") in
*/kmem)
	run reconf-a daxctl reconfigure-device -m devdax -f "$A"
	expect_rc0 "daxctl reconfigure-device -m devdax $A (kmem had it)"
	;;
esac
case $(readlink "$D/$A/driver") in
*/device_dax) ok "$A is bound to device_dax" ;;
*) notok "$A is bound to device_dax: driver '$(readlink "$D/$A/driver")'" ;;
esac

# ---- node 2 as memory-only system RAM (kmem) --------------------------------------------
run reconf-b daxctl reconfigure-device -m system-ram -f "$B"
expect_rc0 "daxctl reconfigure-device -m system-ram $B"
case $(readlink "$D/$B/driver") in
*/kmem) ok "$B is bound to kmem" ;;
*) notok "$B is bound to kmem: driver $(readlink "$D/$B/driver")" ;;
esac
mem2=$(awk '/MemTotal/ { print $4 }' /sys/devices/system/node/node2/meminfo 2>/dev/null)
cpus2=$(cat /sys/devices/system/node/node2/cpulist 2>/dev/null)
if [ "${mem2:-0}" -gt 0 ] && [ -z "$cpus2" ]; then
	ok "node 2 is a memory-only node with ${mem2} kB"
else
	notok "node 2 is a memory-only node: MemTotal '${mem2}' kB, cpus '${cpus2}'"
fi
run numactl numactl -H

# ---- emulated device memory and dax-jobs, bound to node 2 --------------------------------
run map-emulated dax-map --node 2
expect_rc0 "map-emulated: dax-map --node 2 (emulated) exits 0"
has map-emulated '^dax-map: ok$' "map-emulated: dax-map says ok"
has map-emulated 'mbind\(view 1, MPOL_BIND, node 2\) -> 0$' "map-emulated: mbind to node 2 succeeds"
hasnt map-emulated 'FAIL' "map-emulated: no FAIL"
placement map-emulated emulated 2 "map-emulated: emulated device memory is on node 2"
placement map-emulated anonymous 2 "map-emulated: anonymous memory bound with numa_tonode_memory is on node 2"

run jobs dax-jobs --node 2
expect_rc0 "jobs: dax-jobs --node 2 exits 0"
hasnt jobs 'FAIL' "jobs: no FAIL"
has jobs 'bound to node 2: first page on node 2$' "jobs: the jobs' memory is on node 2"
if [ "$(grep -c 'first page on node' /tmp/jobs.out)" = "$(grep -c 'first page on node 2$' /tmp/jobs.out)" ]; then
	ok "jobs: every job's first page is on node 2"
else
	notok "jobs: every job's first page is on node 2: $(grep 'first page on node' /tmp/jobs.out | tr '\n' ';')"
fi
has jobs '^\[' "jobs: dax-jobs printed its JSON listing"

# ---- the pmem namespace as devdax: a static region -----------------------------------------
ns=''
for n in /sys/bus/nd/devices/namespace*; do
	[ -e "$n" ] && ns=${n##*/} && break
done
P=''
if [ -z "$ns" ]; then
	notok "a pmem namespace: none under /sys/bus/nd/devices"
else
	run ndctl ndctl create-namespace -f -e "$ns" -m devdax
	expect_rc0 "ndctl create-namespace -f -e $ns -m devdax"
	for p in "$D"/dax*; do
		case $(readlink -f "$p") in */hmem.*) ;; *) P=${p##*/} ;; esac
	done
	if [ -n "$P" ] && [ ! -e "$(readlink -f "$D/$P/..")/dax_region/available_size" ]; then
		ok "$ns is $P, a static region (no available_size)"
	else
		notok "$ns became a static dax device: found '${P:-none}'"
		P=
	fi
fi

# ---- a 2 MiB-aligned device in two ranges on A ---------------------------------------------
run disable-a daxctl disable-device "$A"
expect_rc0 "daxctl disable-device $A"
wr "$D/$A/size" 0
wr "$RDIR/create" 1
A1=$(cat "$RDIR/create")
wr "$D/$A1/size" $((128 << 20))
wr "$RDIR/create" 1
A2=$(cat "$RDIR/create")
wr "$D/$A2/size" $((64 << 20))
wr "$D/$A1/size" $((256 << 20))
start=$(cat "$D/$A/resource")
m0=$(cat "$D/$A1/mapping0/start" 2>/dev/null)
m1=$(cat "$D/$A1/mapping1/start" 2>/dev/null)
if [ -n "$m1" ] && [ $((m0)) -eq $((start)) ] && [ $((m1)) -eq $((start + (192 << 20))) ]; then
	ok "$A1: 256 MiB in two ranges ($m0, $m1) around $A2"
else
	notok "$A1: 256 MiB in two ranges at +0 and +192 MiB: mapping0 '$m0' mapping1 '$m1' (region at $start)"
fi
run enable-a1 daxctl enable-device "$A1"
expect_rc0 "daxctl enable-device $A1"

# the tree with all three regions: tests/fixtures/sysfs/linux-<kernel>-numa
/bin/sysfs-replay --capture numa || notok "sysfs-replay --capture numa"

dax_map_real map-2m "$A1" "2 MiB"
if [ -n "$P" ]; then
	dax_map_real map-static "$P" "2 MiB" --size 64M
fi

# ---- 1 GiB aligned, at the region's 1 GiB-aligned start --------------------------------------
# (on 6.1 enabling A1 wrote its name to new_id, which bound A2 as well)
for d in "$A1" "$A2"; do
	if [ -e "$D/$d/driver" ]; then
		run "disable-$d" daxctl disable-device "$d"
		expect_rc0 "daxctl disable-device $d"
	fi
done
wr "$D/$A1/size" 0
wr "$D/$A2/size" 0
wr "$RDIR/delete" "$A2"
wr "$RDIR/delete" "$A1"
wr "$D/$A/align" $G
wr "$D/$A/size" $G
res=$(cat "$D/$A/resource")
if [ "$(cat "$D/$A/size")" = $G ] && [ "$(cat "$D/$A/align")" = $G ] && [ $((res % G)) -eq 0 ]; then
	ok "$A: 1 GiB, align 1 GiB, at $res (1 GiB aligned)"
	run enable-a daxctl enable-device "$A"
	expect_rc0 "daxctl enable-device $A"
	dax_map_real map-1g "$A" "1 GiB"
else
	# never mmap a 1 GiB-aligned device at an unaligned start: it crashed both kernels
	notok "$A: 1 GiB, align 1 GiB at a 1 GiB-aligned start: size $(cat "$D/$A/size") align" \
		"$(cat "$D/$A/align") resource $res; not mapped"
fi

finish
