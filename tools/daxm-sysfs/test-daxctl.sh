#!/bin/bash
# test-daxctl.sh DAXM_SYSFS - the unmodified daxctl (Debian's daxctl 76.1)
# against a libdaxmodel model served as /sys by daxm-sysfs --run.
#
#   1. list      `daxctl list -RDMi` through the tree equals the model's
#                own listing (daxm-sysfs --list over the saved state), for
#                dynamic, static and sparse regions, both profiles
#   2. create    ndctl's daxctl-create.sh statements (reference ndctl.md
#                §3.3: DC-01..DC-38, SD-01..SD-04, NF-01..NF-09, with the
#                daxctl 76.1 corrections) through daxctl create-device (-s,
#                -a, --input), reconfigure-device -s, disable-, enable-,
#                destroy-device: the same layouts and kernel errnos as the
#                model's own tests (tests/swift/DaxctlCreateTests),
#                for both profiles and two region sizes
#   3. sparse    create-device -s fails at the size write with EOPNOTSUPP
#                (and the library logs that a tag is needed); after a tag
#                is written to daxR.N/tag, sizing draws only from that tag
#   4. robust    garbage, huge, NUL-cut and concurrent writes; EACCES/EPERM;
#                the server survives, and its saved state loads back
#                identically; plain mount mode on a directory
#
# Needs root, /dev/fuse, daxctl and jq; installs nothing. Exits 77 only when
# /dev/fuse does not exist. Kernel errnos (which daxctl squashes into ENXIO)
# are read from the server's write log (--log).
set -u

# ---------------------------------------------------------------------------
# shared helpers
# ---------------------------------------------------------------------------

NPASS=0
NFAIL=0

ok() {
	NPASS=$((NPASS + 1))
	echo "ok   $*"
	[[ -n ${RESULTS:-} ]] && echo "ok $*" >>"$RESULTS"
	return 0
}

bad() {
	NFAIL=$((NFAIL + 1))
	echo "FAIL $*"
	[[ -n ${RESULTS:-} ]] && echo "FAIL $*" >>"$RESULTS"
	return 0
}

# check NAME COMMAND...: the command succeeds.
check() {
	local name=$1
	shift
	if "$@"; then ok "$name"; else bad "$name: $*"; fi
}

# eq NAME GOT WANT
eq() {
	if [[ "$2" == "$3" ]]; then ok "$1"; else bad "$1: got '$2', want '$3'"; fi
}

# The errno name of a shell error message ("...: Invalid argument").
errno_of() {
	case "$1" in
	"") echo 0 ;;
	*"No space left on device"*) echo ENOSPC ;;
	*"Invalid argument"*) echo EINVAL ;;
	*"Device or resource busy"*) echo EBUSY ;;
	*"No such device or address"*) echo ENXIO ;;
	*"No such device"*) echo ENODEV ;;
	*"Permission denied"*) echo EACCES ;;
	*"Numerical result out of range"*) echo ERANGE ;;
	*"Operation not supported"*) echo EOPNOTSUPP ;;
	*"Cannot allocate memory"*) echo ENOMEM ;;
	*"No such file or directory"*) echo ENOENT ;;
	*"Operation not permitted"*) echo EPERM ;;
	*"File exists"*) echo EEXIST ;;
	*"Not a directory"*) echo ENOTDIR ;;
	*) echo "?($1)" ;;
	esac
}

# wr FILE VALUE: one write(2) of VALUE (no newline); prints 0 or the errno.
wr() {
	local e
	e=$({ printf '%s' "$2" >"$1"; } 2>&1)
	errno_of "$e"
}

# rd FILE: prints the content, or the errno of the failure ("!EACCES").
rd() {
	local out e
	out=$(cat "$1" 2>/dev/null) && { echo "$out"; return; }
	e=$(cat "$1" 2>&1 >/dev/null)
	echo "!$(errno_of "$e")"
}

# ---------------------------------------------------------------------------
# inside the runner (the tree is /sys)
# ---------------------------------------------------------------------------

SYSDEV=/sys/bus/dax/devices
MB=$((1024 * 1024))
GB=$((1024 * MB))

# dx ARGS...: run daxctl; OUT, ERR, RC.
dx() {
	local f
	f=$(mktemp)
	OUT=$(daxctl "$@" 2>"$f")
	RC=$?
	ERR=$(cat "$f")
	rm -f "$f"
}

# The last write of the model path PATH (whose value starts with VALUE, if
# given) in the server log: "= -EINVAL".
lastlog() {
	grep -F "write $1 \"${2:-}" "$WLOG" | tail -n 1 | sed 's/.* = /= /'
}

avail() { daxctl list -r "$R" | jq -r '.[0].available_size // 0'; }
has_avail() { daxctl list -r "$R" | jq -r '.[0] | has("available_size")'; }
dsize() { cat "$SYSDEV/$1/size"; }
exists() { [[ -e $SYSDEV/$1 ]]; }
enabled() { [[ -L $SYSDEV/$1/driver ]]; }
mode_of() { daxctl list -d "$1" | jq -r '.[0].mode'; }
devices() { (cd "$SYSDEV" && ls -d dax"$R".* 2>/dev/null | sort -V | tr '\n' ' '); }
idle_devices() {
	daxctl list -Di -r "$R" | jq -r --arg d "dax$R.0" \
		'[.[] | select(.size == 0 and .chardev != $d) | .chardev] | sort | join(" ")'
}

# maps DEV: "OFF+LEN@PGOFF" (region offsets, bytes) per mappingK, K order.
maps() {
	local dir k=0 s e p out=""
	dir=$(readlink -f "$SYSDEV/$1")
	while [[ -d $dir/mapping$k ]]; do
		s=$(cat "$dir/mapping$k/start")
		e=$(cat "$dir/mapping$k/end")
		p=$(cat "$dir/mapping$k/page_offset")
		out+="$((s - START))+$((e - s + 1))@$((p * 4096)) "
		k=$((k + 1))
	done
	echo "${out% }"
}
span() { echo "$1+$2@$3"; }

# nmaps_ok DEV: ndctl's daxctl_get_nr_mappings (0 unless Σ == size).
nr_mappings() {
	local dir k=0 sum=0 s e
	dir=$(readlink -f "$SYSDEV/$1")
	while [[ -d $dir/mapping$k ]]; do
		s=$(cat "$dir/mapping$k/start")
		e=$(cat "$dir/mapping$k/end")
		sum=$((sum + e - s + 1))
		k=$((k + 1))
	done
	if [[ $sum -ne $(daxctl list -d "$1" | jq -r '.[0].size') ]]; then echo 0; else echo $k; fi
}

# create [daxctl create-device options]: CREATED = the new chardev or "".
create() {
	dx create-device -r "$R" "$@"
	CREATED=$(jq -r '.[0].chardev // empty' <<<"$OUT" 2>/dev/null)
}

disable() { daxctl disable-device "$1" >/dev/null 2>&1; }
destroy() { daxctl destroy-device "$@" >/dev/null 2>&1; }
resize() { daxctl reconfigure-device -s "$2" "$1" >/dev/null 2>&1; }
clear_dev() {
	check "$1 clear_dev: disable dax$R.0" disable "dax$R.0"
	check "$1 clear_dev: dax$R.0 size 0" resize "dax$R.0" 0
}
test_pass() { eq "$1 available_size back to A" "$(avail)" "$A"; }

# destroy-device -r R all: daxctl 76.1 returns the rc of the last device it
# visits; libdaxctl prepends, so that is the first of readdir order, and
# daxR.0 answers EBUSY (ndctl.md correction DC-15).
destroy_all_rc_want() {
	local first
	# readdir order is the point here: ls -f does not sort
	# shellcheck disable=SC2010
	first=$(ls -f "$(readlink -f "$SYSDEV/dax$R.0")/.." | grep "^dax$R\." | head -n 1)
	if [[ $first == "dax$R.0" ]]; then echo 240; else echo 0; fi
}

destroy_all() {
	local want
	check "$1 disable-device -r $R all" daxctl disable-device -r "$R" all
	want=$(destroy_all_rc_want)
	DESTROY_ALL_WANT=$want
	daxctl destroy-device -r "$R" all >/dev/null 2>&1
	eq "$1 destroy-device -r $R all exits as the kernel order says" "$?" "$want"
}

# Test 4's layout (s = A/8): daxR.0 and daxR.1 grown alternately to 4s,
# each disabled before it is resized, as the script does: on 6.1 the new_id
# write of every enable binds all unbound devices that have a size.
interleave() {
	local s=$((A / 8)) i k w0="" w1=""
	check "DC-21 disable daxR.0" disable "dax$R.0"
	check "DC-21 daxR.0 -> s" resize "dax$R.0" $s
	eq "DC-21 daxR.0 [0,s)" "$(maps dax$R.0)" "$(span 0 $s 0)"
	check "DC-21 disable daxR.0" disable "dax$R.0"
	create -s $s
	eq "DC-21 create -s s" "$RC:$CREATED" "0:dax$R.1"
	eq "DC-21 daxR.1 [s,2s)" "$(maps dax$R.1)" "$(span $s $s 0)"
	if [[ $PROFILE == 6.1 ]]; then
		check "DC-21 6.1: the new_id write also bound daxR.0 (driver_attach)" enabled "dax$R.0"
	else
		check "DC-21 6.12: new_id binds only the listed daxR.1" eval "! enabled dax$R.0"
	fi
	check "DC-21 disable daxR.1" disable "dax$R.1"
	check "DC-21 daxR.1 disabled" eval "! enabled dax$R.1"
	check "DC-22 disable daxR.0" disable "dax$R.0"
	check "DC-22 daxR.0 -> 2s" resize "dax$R.0" $((2 * s))
	eq "DC-22 a new range, not an extension into daxR.1" "$(maps dax$R.0)" \
		"$(span 0 $s 0) $(span $((2 * s)) $s $s)"
	check "DC-23 disable daxR.1" disable "dax$R.1"
	check "DC-23 daxR.1 -> 2s" resize "dax$R.1" $((2 * s))
	for i in 3 4; do
		disable "dax$R.0"
		check "DC-23 daxR.0 -> ${i}s" resize "dax$R.0" $((i * s))
		disable "dax$R.1"
		check "DC-23 daxR.1 -> ${i}s" resize "dax$R.1" $((i * s))
	done
	for k in 0 1 2 3; do
		w0+="$(span $((2 * k * s)) $s $((k * s))) "
		w1+="$(span $(((2 * k + 1) * s)) $s $((k * s))) "
	done
	eq "DC-23 daxR.0 interleaved, 4 mappings" "$(maps dax$R.0)" "${w0% }"
	eq "DC-23 daxR.1 interleaved, 4 mappings" "$(maps dax$R.1)" "${w1% }"
	eq "DC-24 nr_mappings daxR.0" "$(nr_mappings dax$R.0)" 4
	eq "DC-24 nr_mappings daxR.1" "$(nr_mappings dax$R.1)" 4
	eq "DC-24 sizes 4s" "$(dsize dax$R.0) $(dsize dax$R.1)" "$((4 * s)) $((4 * s))"
	eq "DC-25 full: no available_size" "$(has_avail)" false
}

inner_create() {
	local s name want size align
	R=0
	A=$REGION_SIZE
	echo "== create: profile $PROFILE, region $((A / MB)) MiB at $(printf %#x "$START")"

	# Setup (DC-01..DC-03)
	eq "DC-01 region path has hmem" "$(daxctl list -r $R | jq -r '.[0].path')" "/platform/hmem.$R"
	check "DC-01 dax$R.0 is not idle" test "$(nr_mappings dax$R.0)" -ge 1
	check "DC-01 dax$R.0 size > 0" test "$(dsize dax$R.0)" -gt 0
	check "DC-02 reconfigure-device -m devdax -f" daxctl reconfigure-device -m devdax -f "dax$R.0"
	eq "DC-02 mode devdax" "$(mode_of dax$R.0)" devdax
	clear_dev DC-03
	eq "DC-03 available = A" "$(avail)" "$A"
	eq "DC-03 dax$R.0 hidden from list -D" "$(daxctl list -D -r $R | jq -r '[.[]?.chardev] | join(" ")')" ""
	eq "DC-03 dax$R.0 idle, disabled" "$(daxctl list -Di -d dax$R.0 | jq -r '.[0] | "\(.size) \(.state)"')" "0 disabled"

	# Test 0 (DC-04)
	check "DC-04 disable a disabled device" disable "dax$R.0"
	check "DC-04 resize a 0-size device to 0" resize "dax$R.0" 0
	test_pass DC-04

	# Test 1 (DC-05..DC-08)
	create
	eq "DC-05 create-device (no -s)" "$RC:$CREATED" "0:dax$R.1"
	eq "DC-05 one device, size A, devdax, enabled" \
		"$(jq -r 'length, .[0].size, .[0].mode, (.[0] | has("state"))' <<<"$OUT" | tr '\n' ' ')" \
		"1 $A devdax false "
	check "DC-05 stderr: created 1 device" grep -q "created 1 device" <<<"$ERR"
	eq "DC-06 one mapping over the region" "$(maps dax$R.1)" "$(span 0 "$A" 0)"
	eq "DC-07 full: no available_size" "$(has_avail)" false
	check "DC-08 disable" disable "dax$R.1"
	check "DC-08 destroy" destroy "dax$R.1"
	check "DC-08 gone" eval "! exists dax$R.1"
	test_pass DC-08

	# Test 2 (DC-09..DC-16), s = A/4
	s=$((A / 4))
	check "DC-09 reconfigure daxR.0 -s s" resize "dax$R.0" $s
	eq "DC-09 daxR.0 [0,s)" "$(maps dax$R.0)" "$(span 0 $s 0)"
	check "DC-09 daxR.0 stays disabled" eval "! enabled dax$R.0"
	create -s $s
	eq "DC-10 create -s s" "$RC:$CREATED" "0:dax$R.1"
	eq "DC-10 [s,2s)" "$(maps dax$R.1)" "$(span $s $s 0)"
	create -s $s
	eq "DC-11 create -s s" "$RC:$CREATED" "0:dax$R.2"
	eq "DC-11 [2s,3s)" "$(maps dax$R.2)" "$(span $((2 * s)) $s 0)"
	check "DC-12 disable-device R.1 (short form)" disable "$R.1"
	check "DC-12 destroy-device R.1 (short form)" destroy "$R.1"
	check "DC-12 daxR.1 gone" eval "! exists dax$R.1"
	eq "DC-12 available 2s" "$(avail)" $((2 * s))
	create -s $((2 * s))
	eq "DC-13 create -s 2s: lowest free id" "$RC:$CREATED" "0:dax$R.1"
	eq "DC-13 two mappings: the hole and the end" "$(maps dax$R.1)" \
		"$(span $s $s 0) $(span $((3 * s)) $s $s)"
	eq "DC-13 nr_mappings" "$(nr_mappings dax$R.1)" 2
	eq "DC-14 full" "$(has_avail)" false
	destroy_all DC-15
	eq "DC-15 only daxR.0 left" "$(devices)" "dax$R.0 "
	eq "DC-15 daxR.0 shrunk to 0" "$(dsize dax$R.0)" 0
	eq "DC-15 the kernel keeps id 0 (EBUSY)" "$(lastlog region$R/delete dax$R.0)" "= -EBUSY"
	clear_dev DC-16
	test_pass DC-16

	# Test 3 (DC-17..DC-20)
	for i in 1 2 3; do
		create -s $s
		eq "DC-17 create #$i" "$RC:$CREATED" "0:dax$R.$i"
		eq "DC-17 dax$R.$i one mapping" "$(maps dax$R.$i)" "$(span $(((i - 1) * s)) $s 0)"
	done
	check "DC-18 destroy -f R.1" destroy -f "dax$R.1"
	eq "DC-18 available 2s" "$(avail)" $((2 * s))
	create -s $((2 * s))
	eq "DC-19 create -s 2s" "$RC:$CREATED" "0:dax$R.1"
	eq "DC-19 the beginning first, then the end" "$(maps dax$R.1)" \
		"$(span 0 $s 0) $(span $((3 * s)) $s $s)"
	eq "DC-19 full" "$(has_avail)" false
	destroy_all DC-20
	clear_dev DC-20
	test_pass DC-20
	eq "DC-20 only daxR.0 left" "$(devices)" "dax$R.0 "

	# Test 4 (DC-21..DC-26)
	interleave
	check "DC-26 destroy daxR.1" destroy -f "dax$R.1"
	clear_dev DC-26
	test_pass DC-26

	# Test 5 (DC-27..DC-32), s = A/4
	for i in 1 2 3 4; do
		create -s $s
		eq "DC-27 create #$i" "$RC:$CREATED" "0:dax$R.$i"
		eq "DC-27 dax$R.$i one mapping" "$(maps dax$R.$i)" "$(span $(((i - 1) * s)) $s 0)"
	done
	eq "DC-28 list -d by name" "$(daxctl list -d dax$R.1 | jq -r '.[].chardev')" "dax$R.1"
	check "DC-29 destroy -f daxR.1" destroy -f "dax$R.1"
	check "DC-29 destroy -f daxR.4" destroy -f "dax$R.4"
	eq "DC-29 available 2s" "$(avail)" $((2 * s))
	check "DC-30 disable daxR.2" disable "dax$R.2"
	check "DC-30 daxR.2 -> 2s" resize "dax$R.2" $((2 * s))
	eq "DC-30 the beginning hole as a second range" "$(maps dax$R.2)" \
		"$(span $s $s 0) $(span 0 $s $s)"
	check "DC-31 disable daxR.3" disable "dax$R.3"
	check "DC-31 daxR.3 -> 2s" resize "dax$R.3" $((2 * s))
	eq "DC-31 extended in place" "$(maps dax$R.3)" "$(span $((2 * s)) $((2 * s)) 0)"
	eq "DC-32 full" "$(has_avail)" false
	check "DC-32 destroy daxR.3" destroy "dax$R.3"
	check "DC-32 destroy daxR.2" destroy "dax$R.2"
	clear_dev DC-32
	test_pass DC-32

	# Test 6 (DC-33..DC-34)
	if [[ $A -ge $GB ]]; then size=$GB align=$GB; else size=$A align=$((2 * MB)); fi
	create -s "$size" -a "$align"
	eq "DC-33 create -s $size -a $align" "$RC" 0
	name=$CREATED
	eq "DC-33 align" "$(jq -r '.[0].align' <<<"$OUT")" "$align"
	eq "DC-33 size" "$(dsize "$name")" "$size"
	eq "DC-33 one mapping at the start" "$(maps "$name")" "$(span 0 "$size" 0)"
	check "DC-33 enabled" enabled "$name"
	check "DC-34 disable" disable "$name"
	check "DC-34 destroy" destroy "$name"
	clear_dev DC-34
	test_pass DC-34

	# Test 7 (DC-35..DC-38)
	interleave
	daxctl list -M -d "dax$R.1" | jq '.[]' >"$TMPD/input.json"
	eq "DC-35 saved layout: 4 mappings, A/2" \
		"$(jq -r '"\(.chardev) \(.size) \(.mappings | length)"' "$TMPD/input.json")" \
		"dax$R.1 $((A / 2)) 4"
	eq "DC-35 full" "$(has_avail)" false
	check "DC-36 destroy daxR.1" destroy -f "dax$R.1"
	dx create-device --input "$TMPD/input.json"
	CREATED=$(jq -r '.[0].chardev // empty' <<<"$OUT" 2>/dev/null)
	eq "DC-36 create-device --input (no -r)" "$RC:$CREATED" "0:dax$R.1"
	eq "DC-36 the same 4 ranges" \
		"$(daxctl list -M -d dax$R.1 | jq -c '.[0].mappings | sort_by(.page_offset)')" \
		"$(jq -c '.mappings | sort_by(.page_offset)' "$TMPD/input.json")"
	eq "DC-36 size A/2, same align" "$(dsize dax$R.1) $(cat $SYSDEV/dax$R.1/align)" \
		"$((A / 2)) $(jq -r .align "$TMPD/input.json")"
	check "DC-37 no 'allocated ... but specified size'" eval "! grep -q allocated <<<\"\$ERR\""
	check "DC-37 enabled" enabled "dax$R.1"
	check "DC-38 destroy -f daxR.1" destroy -f "dax$R.1"
	clear_dev DC-38
	check "DC-38 disable daxR.0" disable "dax$R.0"
	check "DC-38 reconfigure -s A daxR.0" resize "dax$R.0" "$A"
	check "DC-38 enable-device daxR.0" daxctl enable-device "dax$R.0"
	eq "DC-38 daxR.0 owns the region" "$(maps dax$R.0)" "$(span 0 "$A" 0)"
	check "DC-38 enabled" enabled "dax$R.0"
	eq "DC-38 full" "$(has_avail)" false

	# SD-01..SD-03: seed and ids
	clear_dev SD
	local region_dir
	region_dir=$(readlink -f "$SYSDEV/dax$R.0/..")
	eq "SD-01 create" "$(wr "$region_dir/dax_region/create" 1)" 0
	eq "SD-01 the seed is the new device" "$(cat "$region_dir/dax_region/seed")" "dax$R.1"
	eq "SD-01 it is idle" "$(idle_devices)" "dax$R.1"
	eq "SD-01 hidden without -i" "$(daxctl list -D -r $R | jq -r '[.[]?.chardev] | join(" ")')" ""
	check "SD-02 size it" resize "dax$R.1" $((A / 2))
	check "SD-02 enable it" daxctl enable-device "dax$R.1"
	eq "SD-02 no seed after the enable" "$(cat "$region_dir/dax_region/seed")" ""
	check "SD-02 destroy -f" destroy -f "dax$R.1"
	eq "SD-02 no idle devices remain" "$(idle_devices)" ""
	eq "SD-02 only daxR.0" "$(devices)" "dax$R.0 "
	create -s $((2 * MB))
	eq "SD-03 the destroyed id is handed out again" "$RC:$CREATED" "0:dax$R.1"
	# daxR.0 and daxR.1: readdir gives daxR.0 first, daxctl visits it last
	# shellcheck disable=SC2010
	eq "SD-03 daxR.0 comes first in readdir" \
		"$(ls -f "$region_dir" | grep "^dax$R\." | head -n 1)" "dax$R.0"
	destroy_all SD-03
	eq "SD-03 ... so destroy-device -r R all exits EBUSY (daxctl 76.1)" "$DESTROY_ALL_WANT" 240

	# SD-04: failed creates leave idle seeds
	create -s $((3 * MB))
	eq "SD-04 create -s 3M fails (daxctl: ENXIO)" "$RC" 250
	check "SD-04 daxctl says failed to set size" grep -q "failed to set size" <<<"$ERR"
	eq "SD-04 the kernel's errno" "$(lastlog dax$R.1/size)" "= -EINVAL"
	eq "SD-04 dax$R.1 left idle" "$(idle_devices)" "dax$R.1"
	create -s $((2 * MB)) -a 12345
	check "SD-04 create -a 12345 fails" test "$RC" -ne 0
	eq "SD-04 align write refused EINVAL" "$(lastlog dax$R.1/align)" "= -EINVAL"
	eq "SD-04 one more idle device" "$(idle_devices)" "dax$R.1 dax$R.2"
	eq "SD-04 seed still the first" "$(cat "$region_dir/dax_region/seed")" "dax$R.1"
	eq "SD-04 create reads the youngest" "$(cat "$region_dir/dax_region/create")" "dax$R.2"
	create -s $((4 * MB))
	eq "SD-04 the older seed gets sized" "$RC:$CREATED" "0:dax$R.1"
	eq "SD-04 size 4M" "$(dsize dax$R.1)" $((4 * MB))
	eq "SD-04 idle" "$(idle_devices)" "dax$R.2 dax$R.3"
	eq "SD-04 seed cleared by the enable" "$(cat "$region_dir/dax_region/seed")" ""
	create -s $((2 * MB))
	eq "SD-04 a create with no seed sets it" "$RC:$CREATED" "0:dax$R.4"
	eq "SD-04 idle" "$(idle_devices)" "dax$R.2 dax$R.3"
	destroy_all SD-04
	clear_dev SD-04
	test_pass SD-04

	# NF-01: full region
	create
	eq "NF-01 whole-region device" "$RC:$CREATED" "0:dax$R.1"
	local before
	before=$(devices)
	create -s $((2 * MB))
	eq "NF-01 create-device on a full region (ENOSPC)" "$RC" 228
	check "NF-01 stderr" grep -q "No space left on device" <<<"$ERR"
	eq "NF-01 kernel create ENOSPC" "$(lastlog region$R/create)" "= -ENOSPC"
	eq "NF-01 nothing left behind" "$(devices)" "$before"
	eq "NF-01 write create: ENOSPC" "$(wr "$region_dir/dax_region/create" 1)" ENOSPC
	check "NF-01 cleanup" destroy -f "dax$R.1"

	# NF-02..NF-03: resize errors
	create -s $((4 * MB))
	name=$CREATED
	eq "NF-02 created" "$RC" 0
	dx reconfigure-device -s $((8 * MB)) "$name"
	eq "NF-02 resize an enabled device fails (daxctl: ENXIO)" "$RC" 250
	eq "NF-02 kernel EBUSY" "$(lastlog "$name/size")" "= -EBUSY"
	eq "NF-02 even the current size" "$(wr "$SYSDEV/$name/size" $((4 * MB)))" EBUSY
	check "NF-03 disable" disable "$name"
	dx reconfigure-device -s $((5 * MB)) "$name"
	eq "NF-03 reconfigure -s 5M fails" "$RC" 250
	eq "NF-03 kernel EINVAL" "$(lastlog "$name/size")" "= -EINVAL"
	eq "NF-03 align 4K" "$(wr "$SYSDEV/$name/align" 4096)" 0
	eq "NF-03 2 MiB granularity with align 4K" "$(wr "$SYSDEV/$name/size" $((4 * MB + 4096)))" EINVAL
	eq "NF-03 beyond available: ENOSPC" "$(wr "$SYSDEV/$name/size" $((A + 2 * MB)))" ENOSPC
	eq "NF-03 the exact fit" "$(wr "$SYSDEV/$name/size" "$A")" 0
	check "NF-03 cleanup" destroy "$name"
	eq "NF-03 only daxR.0" "$(devices)" "dax$R.0 "

	# NF-04..NF-05: destroy and delete of busy devices
	create -s $((2 * MB))
	name=$CREATED
	dx destroy-device "$name"
	eq "NF-04 destroy an active device without --force" "$RC" 250
	check "NF-04 'is active, specify --force'" grep -q "is active, specify --force" <<<"$ERR"
	check "NF-04 untouched" eval "enabled $name && [[ \$(dsize $name) == $((2 * MB)) ]]"
	eq "NF-05 delete a bound device: EBUSY" "$(wr "$region_dir/dax_region/delete" "$name")" EBUSY
	check "NF-05 disable" disable "$name"
	eq "NF-05 delete a sized device: EBUSY" "$(wr "$region_dir/dax_region/delete" "$name")" EBUSY
	eq "NF-05 delete id 0: EBUSY" "$(wr "$region_dir/dax_region/delete" "dax$R.0")" EBUSY
	eq "NF-05 size 0" "$(wr "$SYSDEV/$name/size" 0)" 0
	eq "NF-05 delete" "$(wr "$region_dir/dax_region/delete" "$name")" 0
	eq "NF-05 delete an unknown device: ENXIO" "$(wr "$region_dir/dax_region/delete" "dax$R.77")" ENXIO

	# NF-06..NF-07: enable a 0-size device; align errors
	dx enable-device "dax$R.0"
	eq "NF-06 enable a 0-size device fails" "$RC" 250
	eq "NF-06 kernel bind ENXIO" "$(lastlog device_dax/bind)" "= -ENXIO"
	create -s $((2 * MB))
	name=$CREATED
	eq "NF-07 align on an enabled device: EBUSY" "$(wr "$SYSDEV/$name/align" 4096)" EBUSY
	eq "NF-07 unsupported, even enabled: EINVAL" "$(wr "$SYSDEV/$name/align" 12345)" EINVAL
	eq "NF-07 8192: EINVAL" "$(wr "$SYSDEV/$name/align" 8192)" EINVAL
	check "NF-07 disable" disable "$name"
	eq "NF-07 1 GiB does not divide 2 MiB: EINVAL" "$(wr "$SYSDEV/$name/align" $GB)" EINVAL
	eq "NF-07 the old align stays" "$(cat "$SYSDEV/$name/align")" $((2 * MB))
	eq "NF-07 4K" "$(wr "$SYSDEV/$name/align" 4096)" 0

	# A 0-length mapping write on a device with ranges: the kernel's EBUSY,
	# and the kernel WARN it reaches, shown under the write in the log.
	local first
	first=$(cat "$SYSDEV/$name/mapping0/start")
	eq "WARN 0-length mapping: EBUSY" \
		"$(wr "$SYSDEV/$name/mapping" "$(printf '%#x-%#x' $((first)) $((first - 1)))")" EBUSY
	check "WARN shown under the write in the log" eval \
		"grep -A1 -F 'write $name/mapping' '$WLOG' | grep -q '^  warning: $name: kernel WARN at drivers/dax/bus.c:[0-9]* alloc_dev_dax_range: dax $name: 0-size allocation must be first'"

	# NF-08: a mapping over an allocated range
	eq "NF-08 create" "$(wr "$region_dir/dax_region/create" 1)" 0
	local seed
	seed=$(cat "$region_dir/dax_region/seed")
	eq "NF-08 overlapping mapping: ENOMEM (daxctl: ENXIO)" \
		"$(wr "$SYSDEV/$seed/mapping" "$(printf '%x-%x' "$START" $((START + 2 * MB - 1)))")" ENOMEM
	destroy_all NF-08
	clear_dev NF-08
	test_pass NF-08

	# NF-09: static regions have no create
	check "NF-09 no create on a static region" test ! -e /sys/devices/platform/pmem.1/dax_region/create
	dx create-device -r 1 -s $((2 * MB))
	eq "NF-09 create-device on a static region (daxctl: ENOSPC)" "$RC" 228
	eq "NF-09 write create: EACCES (no such file, no creating)" \
		"$(wr /sys/devices/platform/pmem.1/dax_region/create 1)" EACCES
}

# The layouts the list test compares: holes, several mappings, disabled and
# idle devices, a static region and a sparse region with tagged devices.
inner_layout() {
	R=0
	A=$REGION_SIZE
	local s=$((A / 8))
	disable dax0.0
	resize dax0.0 $s
	disable dax0.0
	create -s $s
	create -s $((2 * s))
	disable dax0.0
	disable dax0.1
	resize dax0.0 $((2 * s))
	resize dax0.1 $((2 * s))
	create -s $s -a $((2 * MB))
	destroy -f dax0.2
	create -s $((3 * s)) >/dev/null
	wr "$(readlink -f $SYSDEV/dax0.0/..)/dax_region/create" 1 >/dev/null
	# the sparse region 2: tag a device, size it, leave one idle
	echo "$TAG_A" >/sys/bus/dax/devices/dax2.0/tag
	resize dax2.0 $((64 * MB))
	daxctl enable-device dax2.0 >/dev/null 2>&1
	wr /sys/devices/platform/cxl_dcd.2/dax_region/create 1 >/dev/null
	echo untagged >/sys/bus/dax/devices/dax2.1/tag
	resize dax2.1 $((32 * MB))
	disable dax0.0
	disable dax0.1
	daxctl list -RDMi >"$TMPD/list-inner.json"
	check "list: daxctl list -RDMi ran" test -s "$TMPD/list-inner.json"
}

inner_sparse() {
	R=1
	local reg=/sys/devices/platform/cxl_dcd.1 e k t off len seen
	echo "== sparse: profile $PROFILE"
	eq "sparse: available = the extents (640 MiB)" "$(avail)" $((640 * MB))
	eq "sparse: daxR.0 starts idle" "$(dsize dax1.0)" 0
	create -s $((64 * MB))
	check "sparse: create-device -s fails" test "$RC" -ne 0
	check "sparse: daxctl says failed to set size" grep -q "failed to set size" <<<"$ERR"
	eq "sparse: the size write got EOPNOTSUPP" "$(lastlog dax1.1/size)" "= -EOPNOTSUPP"
	eq "sparse: dax1.1 left idle" "$(dsize dax1.1)" 0
	eq "sparse: no tag selected" "$(cat $SYSDEV/dax1.1/tag)" ""
	eq "sparse: write tag B" "$(wr $SYSDEV/dax1.1/tag "$TAG_B")" 0
	eq "sparse: tag reads back" "$(cat $SYSDEV/dax1.1/tag)" "$TAG_B"
	check "sparse: reconfigure-device -s 64M dax1.1" resize dax1.1 $((64 * MB))
	eq "sparse: size" "$(dsize dax1.1)" $((64 * MB))
	check "sparse: enable-device dax1.1" daxctl enable-device dax1.1
	check "sparse: enabled" enabled dax1.1
	# every range inside tag B's extent [256M, 512M)
	for m in $(maps dax1.1); do
		off=${m%%+*}
		len=${m#*+}
		len=${len%@*}
		check "sparse: dax1.1 range $m inside tag B" \
			test "$off" -ge $((256 * MB)) -a $((off + len)) -le $((512 * MB))
	done
	eq "sparse: available dropped by 64M" "$(avail)" $((576 * MB))
	seen=""
	for e in "$reg"/extent*; do
		t=$(cat "$e/tag")
		k=$(cat "$e/refcount")
		seen+="$(printf '%d' "$(cat "$e/offset")")/$k "
		[[ $t == "$TAG_B" ]] && check "sparse: tag B's extent referenced" test "$k" -ge 1
		[[ $t != "$TAG_B" ]] && eq "sparse: other extents unreferenced" "$k" 0
		eq "sparse: $(basename "$e") accepted" "$(cat "$e/state")" accepted
	done
	eq "sparse: three extents" "$(wc -w <<<"$seen")" 3

	create -s $((32 * MB))
	eq "sparse: a new seed has no tag either" "$(lastlog dax1.2/size)" "= -EOPNOTSUPP"
	eq "sparse: tag A" "$(wr $SYSDEV/dax1.2/tag "$TAG_A")" 0
	dx reconfigure-device -s $((512 * MB)) dax1.2
	check "sparse: more than tag A has fails" test "$RC" -ne 0
	eq "sparse: ENOSPC though other tags are free" "$(lastlog dax1.2/size)" "= -ENOSPC"
	check "sparse: all of tag A" resize dax1.2 $((256 * MB))
	for m in $(maps dax1.2); do
		off=${m%%+*}
		len=${m#*+}
		len=${len%@*}
		check "sparse: dax1.2 range $m inside tag A" \
			test "$off" -ge 0 -a $((off + len)) -le $((256 * MB))
	done
	check "sparse: enable-device dax1.2 (clears the seed)" daxctl enable-device dax1.2
	eq "sparse: the tag cannot change while sized" "$(wr $SYSDEV/dax1.2/tag "$TAG_B")" EBUSY
	eq "sparse: mapping writes are refused" \
		"$(wr $SYSDEV/dax1.2/mapping "$(printf '%x-%x' $((START + 600 * MB)) $((START + 602 * MB - 1)))")" EOPNOTSUPP
	create -s $((128 * MB))
	eq "sparse: untagged" "$(wr $SYSDEV/dax1.3/tag untagged)" 0
	check "sparse: the untagged extent" resize dax1.3 $((128 * MB))
	eq "sparse: dax1.3 in the untagged extent" "$(maps dax1.3)" "$(span $((512 * MB)) $((128 * MB)) 0)"
	eq "sparse: what is left is tag B's" "$(avail)" $((192 * MB))
	eq "sparse: the untagged extent is referenced" \
		"$(for e in "$reg"/extent*; do [[ $(cat "$e/tag") == 00000000-0000-0000-0000-000000000000 ]] && cat "$e/refcount"; done)" 1
	check "sparse: destroy -f dax1.1" destroy -f dax1.1
	eq "sparse: tag B's 64M back" "$(avail)" $((256 * MB))
	eq "sparse: claim all of tag B through dax1.0/uuid" \
		"$(wr $SYSDEV/dax1.0/uuid "$TAG_B")" 0
	eq "sparse: dax1.0 owns tag B whole" "$(dsize dax1.0)" $((256 * MB))
	eq "sparse: full" "$(has_avail)" false
}

inner_robust() {
	R=0
	local reg f v i pids="" n
	reg=$(readlink -f $SYSDEV/dax0.0/..)
	echo "== robust"
	disable dax0.0
	resize dax0.0 0
	for i in 1 2 3; do wr "$reg/dax_region/create" 1 >/dev/null; done
	# kernfs order (kernfs_name_hash), as the real /sys lists these names
	eq "robust: readdir in kernfs hash order" "$(ls -f $SYSDEV | tr '\n' ' ')" \
		". .. dax0.2 dax0.0 dax0.3 dax2.0 dax0.1 dax1.0 "
	eq "robust: the root too" "$(ls -f /sys | tr '\n' ' ')" ". .. devices dev bus module "

	# kernel parsing and errnos through the tree
	eq "robust: size overflow: ERANGE" "$(wr $SYSDEV/dax0.1/size 99999999999999999999999)" ERANGE
	eq "robust: size 2M: EINVAL" "$(wr $SYSDEV/dax0.1/size 2M)" EINVAL
	eq "robust: size -1: EINVAL" "$(wr $SYSDEV/dax0.1/size -1)" EINVAL
	eq "robust: align garbage: ENXIO" "$(wr $SYSDEV/dax0.1/align zz)" ENXIO
	eq "robust: mapping garbage: EINVAL" "$(wr $SYSDEV/dax0.1/mapping zz)" EINVAL
	eq "robust: create 2: EINVAL" "$(wr "$reg/dax_region/create" 2)" EINVAL
	eq "robust: bind of nothing: ENODEV" "$(wr /sys/bus/dax/drivers/device_dax/bind dax9.9)" ENODEV
	eq "robust: new_id garbage: EINVAL" "$(wr /sys/bus/dax/drivers/device_dax/new_id xyz)" EINVAL
	eq "robust: value cut at the first NUL" \
		"$({ printf '0x200000\0junk' >$SYSDEV/dax0.1/size; } 2>&1)$(cat $SYSDEV/dax0.1/size)" 2097152
	eq "robust: value with a newline" "$(wr $SYSDEV/dax0.1/size $'0x400000\n')" 0
	eq "robust: two newlines: EINVAL" "$(wr $SYSDEV/dax0.1/size $'0x400000\n\n')" EINVAL
	v=$(head -c 1048576 /dev/zero | tr '\0' '1')
	eq "robust: a 1 MiB value (one page per store): ERANGE" "$(wr $SYSDEV/dax0.1/size "$v")" ERANGE
	eq "robust: the log shows one page" "$(grep -c '(4096 bytes)' "$WLOG")" 1

	# modes and refusals
	eq "robust: read a 0200 file: EACCES" "$(rd "$reg/dax_region/delete")" "!EACCES"
	eq "robust: read mapping: EACCES" "$(rd $SYSDEV/dax0.1/mapping)" "!EACCES"
	eq "robust: write a 0444 file: EACCES" "$(wr "$reg/dax_region/available_size" 1)" EACCES
	eq "robust: write a 0400 file: EACCES" "$(wr $SYSDEV/dax0.1/mapping0/start 1)" EACCES
	eq "robust: write a new file: EACCES" "$(wr /sys/bus/dax/newfile 1)" EACCES
	check "robust: mkdir: EPERM" eval "mkdir /sys/bus/dax/x 2>&1 | grep -q 'not permitted'"
	check "robust: rm: EPERM" eval "rm -f $SYSDEV/dax0.1 2>&1 | grep -q 'not permitted'"
	check "robust: chmod: EPERM" eval "chmod 666 $SYSDEV/dax0.1/size 2>&1 | grep -q 'not permitted'"
	eq "robust: modes" "$(stat -L -c '%a' "$reg/dax_region/align" "$reg/dax_region/delete" \
		$SYSDEV/dax0.1/size $SYSDEV/dax0.1/mapping $SYSDEV/dax0.1/resource \
		$SYSDEV/dax0.1/mapping0/start "$reg/dax_region/available_size" | tr '\n' ' ')" \
		"400 200 644 200 400 400 444 "
	check "robust: /dev/dax0.1 is a char node" test -c /dev/dax0.1
	eq "robust: /dev nodes match dev/char" "$(stat -c '%t:%T' /dev/dax0.1)" \
		"$(IFS=: read -r ma mi <$SYSDEV/dax0.1/dev; printf '%x:%x' "$ma" "$mi")"
	check "robust: dev/char link resolves to the device" \
		test "$(readlink -f "/sys/dev/char/$(cat $SYSDEV/dax0.1/dev)")" = "$reg/dax0.1"
	# never opened: the private /dev is nodev, so they could not be anyway
	check "robust: the private /dev is nodev" \
		eval "grep ' /dev ' /proc/self/mountinfo | tail -n 1 | grep -q nodev"

	# an fd held across a delete answers ENODEV, not the new device
	exec 7>$SYSDEV/dax0.3/size
	wr "$SYSDEV/dax0.3/size" 0 >/dev/null
	eq "robust: delete dax0.3" "$(wr "$reg/dax_region/delete" dax0.3)" 0
	eq "robust: re-create dax0.3" "$(wr "$reg/dax_region/create" 1)" 0
	check "robust: dax0.3 is back" exists dax0.3
	eq "robust: write through the old fd: ENODEV" \
		"$(errno_of "$({ printf 0x200000 >&7; } 2>&1)")" ENODEV
	exec 7>&-
	eq "robust: the new dax0.3 untouched" "$(dsize dax0.3)" 0

	# garbage into every writable file
	for f in "$reg/dax_region/create" "$reg/dax_region/delete" $SYSDEV/dax0.1/size \
		$SYSDEV/dax0.1/align $SYSDEV/dax0.1/mapping /sys/bus/dax/drivers/device_dax/bind \
		/sys/bus/dax/drivers/device_dax/unbind /sys/bus/dax/drivers/device_dax/new_id \
		/sys/bus/dax/drivers/device_dax/remove_id $SYSDEV/dax1.0/tag $SYSDEV/dax1.0/uuid \
		/sys/devices/platform/cxl_dcd.1/extent0/tag; do
		for v in "" "garbage" "-1" "0x" "18446744073709551616" "1-" "-" "untagged" \
			"00000000-0000-0000-0000-00000000000g" "$(head -c 300 /dev/urandom | tr -d '\0')"; do
			wr "$f" "$v" >/dev/null
		done
		head -c 5000 /dev/urandom >"$f" 2>/dev/null
	done
	check "robust: alive after garbage" test -d $SYSDEV
	check "robust: daxctl list after garbage" eval "daxctl list -RDMi >/dev/null"

	# concurrent writers: creates, sizes, binds, deletes, reads, listings
	for n in 1 2 3 4 5 6; do
		(
			for i in $(seq 1 40); do
				d=dax0.$((RANDOM % 8 + 1))
				if [[ $((i % 8)) -eq $n ]]; then
					wr "$reg/dax_region/create" 1
					d=$(cat "$reg/dax_region/seed" 2>/dev/null)
					[[ -n $d ]] || d=dax0.1
				fi
				wr "$SYSDEV/$d/size" $(((RANDOM % 4) * 2 * MB))
				wr /sys/bus/dax/drivers/device_dax/new_id "$d"
				wr /sys/bus/dax/drivers/device_dax/bind "$d"
				rd "$SYSDEV/$d/mapping0/start"
				wr /sys/bus/dax/drivers/device_dax/remove_id "$d"
				wr /sys/bus/dax/drivers/device_dax/unbind "$d"
				wr "$SYSDEV/$d/size" 0
				[[ $((i % 5)) -eq 0 ]] && wr "$reg/dax_region/delete" "$d"
				ls -f $SYSDEV >/dev/null
			done >/dev/null 2>&1
		) &
		pids+=" $!"
	done
	(
		for i in $(seq 1 20); do daxctl list -RDMi >/dev/null 2>&1; done
	) &
	pids+=" $!"
	# shellcheck disable=SC2086
	wait $pids
	check "robust: alive after concurrent writers" test -d $SYSDEV
	# The region adds up: Σ device sizes + available = size.
	n=0
	for f in "$reg"/dax0.*/size; do n=$((n + $(cat "$f"))); done
	eq "robust: sizes add up" "$((n + $(cat "$reg/dax_region/available_size")))" \
		"$(cat "$reg/dax_region/size")"
	eq "robust: every device has its node" \
		"$(cd $SYSDEV && ls -d dax* | sort | tr '\n' ' ')" \
		"$(cd /dev && ls -d dax* | sort | tr '\n' ' ')"
	daxctl list -RDMi >"$TMPD/list-inner.json"
	check "robust: final listing" test -s "$TMPD/list-inner.json"
}

if [[ ${1:-} == --inner ]]; then
	case $2 in
	create) inner_create ;;
	layout) inner_layout ;;
	sparse) inner_sparse ;;
	robust) inner_robust ;;
	*) echo "unknown inner test $2" >&2; exit 2 ;;
	esac
	[[ $NFAIL -eq 0 ]]
	exit
fi

# ---------------------------------------------------------------------------
# outside: drive the runs
# ---------------------------------------------------------------------------

if [[ $# -ne 1 ]]; then
	echo "usage: $0 DAXM_SYSFS" >&2
	exit 2
fi
BIN=$(readlink -f "$1")
SELF=$(readlink -f "$0")

if [[ ! -e /dev/fuse ]]; then
	echo "###############################################################" >&2
	echo "### SKIPPED: /dev/fuse does not exist: FUSE is unavailable,  ###" >&2
	echo "### so daxm-sysfs cannot be tested here. NOTHING WAS TESTED. ###" >&2
	echo "###############################################################" >&2
	exit 77
fi
missing=""
[[ -x $BIN ]] || missing+=" $1(not executable)"
command -v daxctl >/dev/null || missing+=" daxctl(apt: daxctl)"
command -v jq >/dev/null || missing+=" jq(apt: jq)"
[[ $(id -u) -eq 0 ]] || missing+=" root(the runner needs CAP_SYS_ADMIN)"
if [[ -n $missing ]]; then
	echo "test-daxctl.sh: cannot run, missing:$missing" >&2
	exit 1
fi

TMPD=$(mktemp -d /tmp/daxm-sysfs-test.XXXXXX)
MNT_PID=""
cleanup() {
	if [[ -n $MNT_PID ]]; then
		umount "$TMPD/mnt" 2>/dev/null
		kill "$MNT_PID" 2>/dev/null
	fi
	rm -rf "$TMPD"
}
trap cleanup EXIT
export TMPD RESULTS="$TMPD/results" TAG_A=5b2c6d1e-0f3a-4c8b-9d7e-112233445566 \
	TAG_B=a1b2c3d4-e5f6-4a7b-8c9d-0e1f20304050
: >"$RESULTS"
host_dax_nodes() { find /dev -maxdepth 1 -name 'dax*' | wc -l; }
HOST_DAX_BEFORE=$(host_dax_nodes)

# host_clean WHAT: nothing of ours is left in the host's namespace.
host_clean() {
	check "$1: no daxm-sysfs mount left on the host" \
		eval "! grep -q daxm-sysfs /proc/self/mountinfo"
	eq "$1: host /dev untouched" "$(host_dax_nodes)" "$HOST_DAX_BEFORE"
	check "$1: host /sys is still sysfs" eval "grep -q ' /sys .* - sysfs ' /proc/self/mountinfo"
}

# normalize FILE: regions by id, devices by name, mappings by page_offset.
normalize() {
	jq -S 'sort_by(.id) | map(if has("devices") then .devices |= (sort_by(.chardev)
		| map(if has("mappings") then .mappings |= sort_by(.page_offset) else . end))
		else . end)' "$1"
}

# runner NAME ARGS...: daxm-sysfs ARGS with a timeout; stderr to NAME.err.
runner() {
	local name=$1
	shift
	timeout -k 10 600 "$BIN" --log "$TMPD/$name.log" "$@" 2>"$TMPD/$name.err"
}

T0=$SECONDS
for PROFILE in 6.1 6.12; do
	export PROFILE
	P="--profile $PROFILE"

	# 1. list
	rm -f "$TMPD/list.json" "$TMPD/list-inner.json"
	export REGION_SIZE=$((2 * 1024 * 1024 * 1024)) START=$((0x1000000000)) WLOG="$TMPD/list.log"
	# shellcheck disable=SC2086
	runner list $P --state "$TMPD/list.json" \
		--region dynamic,id=0,start=0x1000000000,size=2G,target_node=0 \
		--region static,id=1,start=0x2000000000,size=1G,target_node=1 \
		--region sparse,id=2,start=0x3000000000,size=1G \
		--extent 2,offset=0,length=256M,tag=$TAG_A --extent 2,offset=512M,length=128M \
		--run -- bash "$SELF" --inner layout
	eq "list $PROFILE: runner exit" "$?" 0
	"$BIN" --state "$TMPD/list.json" --list >"$TMPD/list-model.json"
	eq "list $PROFILE: daxctl list -RDMi equals the model's listing" \
		"$(normalize "$TMPD/list-inner.json")" "$(normalize "$TMPD/list-model.json")"
	eq "list $PROFILE: three regions" "$(jq length "$TMPD/list-inner.json")" 3
	eq "list $PROFILE: several mappings and disabled devices shown" \
		"$(jq '[.[].devices[]? | select(.state == "disabled")] | length >= 2' "$TMPD/list-inner.json") $(jq '[.[].devices[]? | .mappings | length] | max >= 2' "$TMPD/list-inner.json")" \
		"true true"
	host_clean "list $PROFILE"

	# 2. create, on two regions
	for spec in "0x1000000000 2G $((2 * 1024 * 1024 * 1024))" "0x120000000 512M $((512 * 1024 * 1024))"; do
		read -r start size bytes <<<"$spec"
		export REGION_SIZE=$bytes START=$((start)) WLOG="$TMPD/create.log"
		rm -f "$WLOG"
		# shellcheck disable=SC2086
		runner create $P --region dynamic,id=0,start=$start,size=$size,target_node=0 \
			--region static,id=1,start=0x7000000000,size=1G \
			--run -- bash "$SELF" --inner create
		eq "create $PROFILE $size: inner run" "$?" 0
		host_clean "create $PROFILE $size"
	done

	# 3. sparse
	export START=$((0x4000000000)) WLOG="$TMPD/sparse.log"
	rm -f "$WLOG"
	# shellcheck disable=SC2086
	DAXM_LOG=err runner sparse $P --region sparse,id=1,start=0x4000000000,size=1G \
		--extent 1,offset=0,length=256M,tag=$TAG_A \
		--extent 1,offset=256M,length=256M,tag=$TAG_B \
		--extent 1,offset=512M,length=128M \
		--run -- bash "$SELF" --inner sparse
	eq "sparse $PROFILE: inner run" "$?" 0
	check "sparse $PROFILE: the library logged that a tag is required" \
		grep -q "libdaxmodel: .*dax1.1: sparse region region1 allocates by tag; select one first" "$TMPD/sparse.err"
	host_clean "sparse $PROFILE"
done

# 4. robust (6.12), then the state round trip
export START=$((0x1000000000)) WLOG="$TMPD/robust.log" REGION_SIZE=$((1024 * 1024 * 1024))
rm -f "$TMPD/robust.json" "$TMPD/list-inner.json"
runner robust --state "$TMPD/robust.json" \
	--region dynamic,id=0,start=0x1000000000,size=1G,target_node=0 \
	--region sparse,id=1,start=0x2000000000,size=1G \
	--extent 1,offset=0,length=128M,tag=$TAG_A \
	--region static,id=2,start=0x3000000000,size=1G \
	--run -- bash "$SELF" --inner robust
eq "robust: inner run" "$?" 0
check "robust: the state was saved" test -s "$TMPD/robust.json"
"$BIN" --state "$TMPD/robust.json" --list >"$TMPD/robust-model.json"
eq "robust: the saved state lists as daxctl saw it" \
	"$(normalize "$TMPD/list-inner.json")" "$(normalize "$TMPD/robust-model.json")"
cp "$TMPD/robust.json" "$TMPD/robust-1.json"
runner reload --state "$TMPD/robust.json" --run -- daxctl list -RDMi >"$TMPD/list-reload.json"
eq "robust: reloaded state serves" "$?" 0
check "robust: load + save gives the same file" cmp -s "$TMPD/robust-1.json" "$TMPD/robust.json"
eq "robust: daxctl on the reloaded state sees the same" \
	"$(normalize "$TMPD/list-reload.json")" "$(normalize "$TMPD/list-inner.json")"
host_clean robust

# system-ram is refused with a message naming the limitation
runner kmem --region dynamic,id=0,start=0x1000000000,size=1G,target_node=0 \
	--run -- sh -c 'daxctl disable-device dax0.0 && daxctl reconfigure-device -m system-ram -f dax0.0'
check "kmem: reconfigure-device -m system-ram fails" test $? -ne 0
check "kmem: the server names the limitation" \
	grep -q "system-ram (kmem) mode is not supported" "$TMPD/kmem.err"

# plain mount mode on a directory (never on /sys)
mkdir "$TMPD/mnt" "$TMPD/devdir"
"$BIN" --region dynamic,id=0,start=0x1000000000,size=1G --devdir "$TMPD/devdir" \
	"$TMPD/mnt" 2>"$TMPD/mount.err" &
MNT_PID=$!
for i in $(seq 1 100); do
	[[ -e $TMPD/mnt/bus/dax/devices/dax0.0 ]] && break
	sleep 0.1
done
check "mount: the tree is served at a directory" test -L "$TMPD/mnt/bus/dax/devices/dax0.0"
eq "mount: reads" "$(cat "$TMPD/mnt/devices/platform/hmem.0/dax_region/size")" 1073741824
check "mount: --devdir node" test -c "$TMPD/devdir/dax0.0"
umount "$TMPD/mnt"
wait "$MNT_PID"
eq "mount: exits 0 once unmounted" "$?" 0
MNT_PID=""
check "mount: its nodes removed" test ! -e "$TMPD/devdir/dax0.0"
"$BIN" --region dynamic,id=0,start=0x1000000000,size=1G --dry-run /sys >"$TMPD/dry.out" 2>&1
eq "mount: refuses /sys in the initial namespace (--dry-run)" "$?:$(grep -c refusing "$TMPD/dry.out")" 1:1
"$BIN" --region dynamic,id=0,start=0x1000000000,size=1G --dry-run /sys/kernel >"$TMPD/dry.out" 2>&1
eq "mount: refuses under /sys too" "$?:$(grep -c refusing "$TMPD/dry.out")" 1:1
"$BIN" --region dynamic,id=0,start=0x1000000000,size=1G --devdir /dev --dry-run "$TMPD/mnt" >"$TMPD/dry.out" 2>&1
eq "mount: refuses nodes in the host /dev" "$?:$(grep -c refusing "$TMPD/dry.out")" 1:1
host_clean mount

PASSED=$(grep -c '^ok ' "$RESULTS")
FAILED=$(grep -c '^FAIL ' "$RESULTS")
echo
grep '^FAIL ' "$RESULTS" | sed 's/^/  /'
echo "test-daxctl.sh ($((SECONDS - T0)) s):"
echo "daxm-sysfs: $PASSED passed, $FAILED failed"
[[ $FAILED -eq 0 ]]
