#!/usr/bin/env bash
# test-daxm.sh - end-to-end test of the daxm command-line tool.
#
#   tools/daxm/test-daxm.sh /path/to/daxm
#
# Every command runs against a state file in a temporary directory: its
# JSON output is checked with python3, refusals by their errno name on
# stderr and their exit status (1; usage errors 2). Covered: persistence
# across invocations, damaged state files (refused, left untouched), the
# $DAXM_STATE / --state / ./daxm-state.json choice, concurrent invocations,
# the dynamic-region device flows and the DCD flow (a group built over
# several invocations, tag-bounded allocation, deferred and completed
# releases, forced releases, revocation, events).
set -euo pipefail

if [[ $# -ne 1 || ! -x $1 ]]; then
	echo "usage: $0 /path/to/daxm" >&2
	exit 2
fi
DAXM=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
# python3 checks the JSON; without it the test is skipped (77, as ctest is told).
command -v python3 >/dev/null || { echo "$0: skipped: python3 is needed" >&2; exit 77; }

T=$(mktemp -d "${TMPDIR:-/tmp}/test-daxm.XXXXXX")
trap 'rm -rf "$T"' EXIT
export DAXM_STATE=$T/state.json
unset DAXM_LOG

MiB=$((1024 * 1024))
TA=a0a0a0a0-0000-4000-8000-00000000000a   # two extents, one group
TB=b0b0b0b0-0000-4000-8000-00000000000b   # a misaligned extent: rejected
TC=c0c0c0c0-0000-4000-8000-00000000000c   # closed by `extent close`
TD=d0d0d0d0-0000-4000-8000-00000000000d   # on the revoking region
ZERO=00000000-0000-0000-0000-000000000000
checks=0

fail() {
	echo "FAIL (line ${BASH_LINENO[${#BASH_LINENO[@]} - 2]}): $*" >&2
	[[ -n ${OUT-} ]] && echo "--- stdout:" >&2 && echo "$OUT" >&2
	[[ -n ${ERR-} ]] && echo "--- stderr:" >&2 && echo "$ERR" >&2
	exit 1
}

# run STATUS ARGS...: daxm ARGS must exit with STATUS; stdout in $OUT,
# stderr in $ERR.
run() {
	local want=$1 rc=0
	shift
	OUT=$("$DAXM" "$@" 2>"$T/stderr") || rc=$?
	ERR=$(<"$T/stderr")
	checks=$((checks + 1))
	((rc == want)) || fail "daxm $*: exit $rc, expected $want"
}

ok() { run 0 "$@"; }

# refused ERRNO ARGS...: exit 1, "daxm CMD: ERRNO: message" on stderr and
# nothing on stdout.
refused() {
	local errno=$1
	shift
	run 1 "$@"
	[[ $ERR == *": $errno: "* ]] || fail "daxm $*: stderr does not name $errno"
	[[ -z $OUT ]] || fail "daxm $*: a refusal printed on stdout"
}

# usage ARGS...: exit 2 with a usage line, nothing on stdout.
usage() {
	run 2 "$@"
	[[ $ERR == *usage:* || $ERR == *"daxm: "* ]] || fail "daxm $*: no usage message"
	[[ -z $OUT ]] || fail "daxm $*: a usage error printed on stdout"
}

# jcheck EXPR: the Python expression EXPR is true of j, the JSON in $OUT
# (which must be an array: daxm never prints a bare object).
jcheck() {
	checks=$((checks + 1))
	python3 - "$OUT" "$1" <<-'EOF' || fail "check: $1"
	import json, sys
	j = json.loads(sys.argv[1])
	assert isinstance(j, list), "not an array"
	MiB = 1 << 20
	def dev(name, devs=None):
	    found = [d for d in (j if devs is None else devs) if d["chardev"] == name]
	    return found[0] if len(found) == 1 else None
	def region(rid):
	    found = [r for r in j if r["id"] == rid]
	    return found[0] if len(found) == 1 else None
	sys.exit(0 if eval(sys.argv[2]) else 1)
	EOF
}

# ocheck EXPR: as jcheck, for the one object `fabric list` prints; hosts
# and tags are found with host(N) and tag(UUID).
ocheck() {
	checks=$((checks + 1))
	python3 - "$OUT" "$1" <<-'EOF' || fail "check: $1"
	import json, sys
	j = json.loads(sys.argv[1])
	assert isinstance(j, dict), "not an object"
	MiB = 1 << 20
	def host(n):
	    found = [h for h in j["hosts"] if h["host_id"] == n]
	    return found[0] if len(found) == 1 else None
	def tag(t):
	    found = [x for x in j["tags"] if x["tag"] == t]
	    return found[0] if len(found) == 1 else None
	sys.exit(0 if eval(sys.argv[2]) else 1)
	EOF
}

# cxl NAME ARGS...: a fabric command the device refuses: exit 1, the CXL
# return code by name on stderr, nothing on stdout.
cxl() {
	local name=$1
	shift
	run 1 "$@"
	[[ $ERR == *": $name: "* ]] || fail "daxm $*: stderr does not name '$name'"
	[[ -z $OUT ]] || fail "daxm $*: a refusal printed on stdout"
}

# The state file must exist and parse as the library's document.
state_ok() {
	[[ -f $DAXM_STATE ]] || fail "no state file"
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["format"]=="libdaxmodel-state"' \
		"$DAXM_STATE" || fail "state file is not a state document"
}

# ---- no state yet --------------------------------------------------------------
ok list
[[ $OUT == "[]" ]] || fail "empty model: list printed '$OUT', expected []"
[[ ! -e $DAXM_STATE ]] || fail "a read-only command created the state file"
ok list -RDMEi
[[ $OUT == "[]" ]] || fail "empty model: list -RDMEi printed '$OUT'"
ok help
[[ $OUT == *"create-device"* && $OUT == *"extent release"* ]] || fail "help is incomplete"
ok version
[[ $OUT == "daxm (libdaxmodel "*")" ]] || fail "version: $OUT"
usage
usage bogus-command
usage --bogus list
usage --state
usage --state '' list
usage --state= list

# ---- region add --------------------------------------------------------------------
ok region add --kind dynamic --start 0x100000000 --size 1g --idle --target-node 1
jcheck 'len(j) == 1 and j[0]["id"] == 0 and j[0]["path"] == "/platform/hmem.0"'
jcheck 'j[0]["size"] == 1 << 30 and j[0]["available_size"] == 1 << 30 and j[0]["align"] == 2 * MiB'
jcheck 'list(j[0]) == ["path", "id", "size", "available_size", "align", "devices"]'
jcheck '[d["chardev"] for d in j[0]["devices"]] == ["dax0.0"]'
jcheck 'j[0]["devices"][0] == {"chardev": "dax0.0", "size": 0, "target_node": 1, "align": 2 * MiB, "mode": "devdax", "state": "disabled"}'
[[ $ERR == "added region0" ]] || fail "region add: stderr '$ERR'"
state_ok
refused EEXIST region add --kind dynamic --start 0x800000000 --size 1g --id 0
refused EBUSY region add --kind dynamic --start 0x120000000 --size 1g
refused EINVAL region add --kind dynamic --start 0x100001000 --size 1g
refused EINVAL region add --kind dynamic --start 0x800000000 --size 1g --align 8k
usage region add --kind dynamic --start 0x800000000
usage region add --kind bogus --start 0x800000000 --size 1g
usage region add --kind dynamic --start -1 --size 1g
usage region add --kind dynamic --start 0 --size 99999999999999999999999
usage region add --kind dynamic --start 0 --size 16777216t
usage region add --kind dynamic --start 0 --size 1q
usage region add --kind dynamic --start 0 --size 1g --id 99999999999
usage region add --kind dynamic --start 0 --size 1g --profile 5.10
usage region add --kind dynamic --start 0 --size 1g extra
usage region
usage region remove

# ---- list: defaults, filters, shapes --------------------------------------------
ok list
[[ $OUT == "[]" ]] || fail "idle devices are listed without -i"
ok list -i
jcheck 'len(j) == 1 and j[0]["chardev"] == "dax0.0"'
ok list -R
jcheck 'len(j) == 1 and "devices" not in j[0]'
ok list -r region0
jcheck 'len(j) == 1 and j[0]["id"] == 0'
ok list -r 0 -R -D -i
jcheck 'len(j) == 1 and j[0]["id"] == 0 and len(j[0]["devices"]) == 1'
ok list -r 0 -D -i
jcheck 'len(j) == 1 and j[0]["chardev"] == "dax0.0"'
ok list -r 7
[[ $OUT == "[]" ]] || fail "list -r 7 printed '$OUT'"
ok list -d dax9.9 -i
[[ $OUT == "[]" ]] || fail "list -d dax9.9 printed '$OUT'"
usage list -r nope
usage list -d 0
usage list extra
usage list --bogus

# ---- create-device, read, write -----------------------------------------------------
ok create-device -r 0 -s 4m
jcheck 'j == [{"chardev": "dax0.1", "size": 4 * MiB, "target_node": 1, "align": 2 * MiB, "mode": "devdax"}]'
[[ $ERR == "created 1 device" ]] || fail "create-device: stderr '$ERR'"
# Persistence: a new invocation sees the device.
ok list
jcheck 'len(j) == 1 and j[0]["chardev"] == "dax0.1" and "state" not in j[0]'
ok read region0/available_size
[[ $OUT == $(((1024 - 4) * MiB)) ]] || fail "available_size: '$OUT'"
ok read dax0.1/mapping0/start
[[ $OUT == 0x100000000 ]] || fail "mapping0/start: '$OUT'"
refused ENOENT read dax0.1/nope
refused EACCES read region0/delete
usage read
usage read a b

refused EINVAL write dax0.1/size 2M
[[ $ERR == *"dax0.1/size"* ]] || fail "write: the message does not come from the library"
refused EBUSY write dax0.1/size 0x200000
refused EINVAL write dax0.1/size -1
refused ERANGE write -- dax0.1/size 99999999999999999999999
refused ENOENT write dax7.7/size 0x200000
usage write dax0.1/size
usage write

ok disable-device dax0.1
[[ $ERR == "disabled 1 device" ]] || fail "disable-device: stderr '$ERR'"
refused ENODEV disable-device dax0.1
ok write dax0.1/size 0x600000
ok read dax0.1/size
[[ $OUT == 6291456 ]] || fail "dax0.1/size: '$OUT'"
ok list -d 0.1
jcheck 'j[0]["size"] == 6 * MiB and j[0]["state"] == "disabled"'

# A device made of three ranges: mappings come in page_offset order.
ok create-device -r 0 -s 2m -a 4k
jcheck 'j[0]["chardev"] == "dax0.2" and j[0]["align"] == 4096 and "mappings" not in j[0]'
ok write dax0.1/size 0x200000
ok disable-device dax0.2
ok write dax0.2/size 0xa00000
ok list -M -d dax0.2
jcheck '[m["page_offset"] for m in j[0]["mappings"]] == [0, 512, 1536]'
jcheck '[m["start"] for m in j[0]["mappings"]] == [0x100600000, 0x100200000, 0x100800000]'
jcheck 'all(m["end"] == m["start"] + m["size"] - 1 for m in j[0]["mappings"])'
jcheck 'list(j[0]["mappings"][0]) == ["page_offset", "start", "end", "size"]'
ok list -RDMi
jcheck '[d["chardev"] for d in j[0]["devices"]] == ["dax0.0", "dax0.1", "dax0.2"]'
jcheck '"mappings" not in dev("dax0.0", j[0]["devices"])'

# A write the kernel answers with a WARN: the warning is shown next to it,
# the errno stays the kernel's, the warning is an event; the second time
# the _ONCE site is quiet.
refused EBUSY write dax0.2/mapping 0x100600000-0x1005fffff
[[ $ERR == *"daxm: warning: dax0.2: kernel WARN at drivers/dax/bus.c:"*" alloc_dev_dax_range: dax dax0.2: 0-size allocation must be first"* ]] ||
	fail "no warning shown: '$ERR'"
ok events
jcheck '[e["warning"]["function"] for e in j if e["type"] == "kernel_warning"] == ["alloc_dev_dax_range"]'
jcheck '[e["device"] for e in j if e["type"] == "kernel_warning"] == ["dax0.2"] and j[-1]["warning"]["once"]'
refused EBUSY write dax0.2/mapping 0x100600000-0x1005fffff
[[ $ERR != *"warning:"* ]] || fail "an _ONCE warning was shown twice: '$ERR'"

# create-device failures leave nothing behind.
refused ENOSPC create-device -r 0 -s 2g
refused EINVAL create-device -r 0 -s 3m
refused EINVAL create-device -r 0 -s 2m -a 8k
refused ENOENT create-device -r 5
ok list -i
jcheck '[d["chardev"] for d in j] == ["dax0.0", "dax0.1", "dax0.2"]'
usage create-device
usage create-device -r 0 -s lots
usage create-device -r 0 --claim 0 -s 2m
usage create-device -r 0 --tag nope
usage create-device -r 0 extra

# ---- reconfigure-device --------------------------------------------------------------
ok reconfigure-device dax0.2 -a 2m
jcheck 'j[0]["align"] == 2 * MiB and j[0]["size"] == 10 * MiB'
[[ $ERR == "reconfigured 1 device" ]] || fail "reconfigure-device: stderr '$ERR'"
ok reconfigure-device 0.2 -s 8m
jcheck 'j[0]["size"] == 8 * MiB'
# -a then -s refused: the align is put back.
refused EINVAL reconfigure-device dax0.2 -a 4k -s 3m
ok list -d dax0.2
jcheck 'j[0]["align"] == 2 * MiB and j[0]["size"] == 8 * MiB'
refused EINVAL reconfigure-device dax0.2 -a 1g
usage reconfigure-device dax0.2
usage reconfigure-device -s 2m
usage reconfigure-device dax0.2 dax0.1 -s 2m

# ---- enable / disable / destroy -----------------------------------------------------
ok enable-device dax0.2
[[ $ERR == "enabled 1 device" ]] || fail "enable-device: stderr '$ERR'"
refused EBUSY enable-device dax0.2
refused EBUSY reconfigure-device dax0.2 -s 2m
refused ENXIO enable-device dax0.0
refused ENOENT enable-device dax0.9
usage enable-device
usage enable-device nope
usage disable-device dax0.1 dax0.2
refused ENXIO destroy-device dax0.2
[[ $ERR == *"is active, specify --force"* ]] || fail "destroy-device: '$ERR'"
ok destroy-device dax0.2 --force
[[ $ERR == "destroyed 1 device" ]] || fail "destroy-device: stderr '$ERR'"
ok list -i -d dax0.2
[[ $OUT == "[]" ]] || fail "dax0.2 survived destroy-device"
ok destroy-device dax0.1
refused EBUSY destroy-device dax0.0
refused ENOENT destroy-device dax0.1
usage destroy-device
ok list -R
jcheck 'j[0]["available_size"] == 1 << 30'

# ---- concurrent invocations are serialized (none is lost) ----------------------------
pids=()
for _ in 1 2 3 4 5 6; do
	"$DAXM" create-device -r 0 -s 2m >/dev/null 2>&1 &
	pids+=($!)
done
for pid in "${pids[@]}"; do
	wait "$pid" || fail "a concurrent create-device failed"
done
ok list -r 0 -RD
jcheck 'len(j[0]["devices"]) == 6 and j[0]["available_size"] == (1024 - 12) * MiB'

# ---- a static region ---------------------------------------------------------------
ok region add --kind static --start 0x40000000 --size 256m --id 1 --profile 6.1
jcheck 'j[0]["id"] == 1 and "available_size" not in j[0] and j[0]["devices"][0]["size"] == 256 * MiB'
refused EOPNOTSUPP create-device -r 1
refused EACCES write dax1.0/size 0
refused EOPNOTSUPP destroy-device dax1.0 --force
refused EOPNOTSUPP extent add -r 1 --offset 0 --length 2m

# ---- DCD: a sparse region --------------------------------------------------------------
ok region add --kind sparse --start 0x200000000 --size 1g --target-node 2
jcheck 'j[0]["id"] == 2 and "available_size" not in j[0] and j[0]["extents"] == []'
# A group built over two invocations: staged extents stay invisible.
ok extent add -r 2 --offset 0 --length 64m --tag $TA --more
[[ $ERR == *"group open"* ]] || fail "extent add --more: stderr '$ERR'"
ok list -E
jcheck 'region(2)["extents"] == [] and "available_size" not in region(2)'
jcheck '"extents" not in region(0)'
ok events
[[ $OUT == "[]" ]] || fail "an open group was answered"
ok extent add -r region2 --offset 128m --length 64m --tag $TA
ok extent add -r 2 --offset 256m --length 32m
ok extent add -r 2 --offset 1m --length 2m --tag $TB
ok extent add -r 2 --offset 320m --length 2m --tag $TA
ok extent add -r 2 --offset 512m --length 2m --tag $TC --more
ok extent close -r 2
ok events
jcheck '[e["type"] for e in j] == ["group"] * 5 and all(e["region"] == 2 for e in j)'
jcheck '[e["request_id"] for e in j] == sorted(e["request_id"] for e in j)'
jcheck '[r["offset"] for r in j[0]["records"]] == [0, 128 * MiB] and all(r["result"] == "ok" for r in j[0]["records"])'
jcheck 'all(r["tag"] == "'$TA'" and r["length"] == 64 * MiB for r in j[0]["records"])'
jcheck 'list(j[0]) == ["type", "region", "request_id", "records"]'
jcheck 'list(j[0]["records"][0]) == ["offset", "length", "tag", "sequence", "result", "reason"]'
jcheck 'j[1]["records"][0]["tag"] == "'$ZERO'" and j[1]["records"][0]["result"] == "ok"'
jcheck 'j[2]["records"][0]["result"] == "EINVAL" and j[2]["records"][0]["reason"] != ""'
jcheck 'j[3]["records"][0]["result"] == "EEXIST"'
jcheck 'j[4]["records"][0]["tag"] == "'$TC'" and j[4]["records"][0]["result"] == "ok"'
ok events
[[ $OUT == "[]" ]] || fail "events were not drained"
ok list -RE -r 2
jcheck 'j[0]["available_size"] == 162 * MiB'
jcheck '[(e["offset"], e["length"], e["state"], e["refcount"]) for e in j[0]["extents"]] == [(0, 64 * MiB, "accepted", 0), (128 * MiB, 64 * MiB, "accepted", 0), (256 * MiB, 32 * MiB, "accepted", 0), (512 * MiB, 2 * MiB, "accepted", 0)]'
jcheck 'list(j[0]["extents"][0]) == ["id", "offset", "length", "tag", "sequence", "refcount", "state"]'
usage extent add -r 2 --offset 0
usage extent add -r 2 --offset 0 --length 2m --seq 70000
usage extent add -r 2 --offset 0 --length 2m --tag nope
usage extent add --offset 0 --length 2m
usage extent release -r 2 --length 2m
usage extent
usage extent remove -r 2
refused ENOENT extent add -r 9 --offset 0 --length 2m

# Allocation is bounded by tag: no tag selected fails loudly, and leaves
# no device behind.
refused EOPNOTSUPP create-device -r 2
refused EOPNOTSUPP write dax2.0/size 0x200000
ok list -i -r 2 -D
jcheck '[d["chardev"] for d in j] == ["dax2.0"]'
ok create-device -r 2 --tag $TA -s 32m
jcheck 'j[0]["chardev"] == "dax2.1" and j[0]["size"] == 32 * MiB and j[0]["tag"] == "'$TA'" and j[0]["target_node"] == 2'
# Without -s: all the free capacity of the tag (not the untagged extent's).
ok create-device -r 2 --tag $TA
jcheck 'j[0]["chardev"] == "dax2.2" and j[0]["size"] == 96 * MiB'
refused ENOSPC create-device -r 2 --tag $TA
ok create-device -r 2 --claim 0
jcheck 'j[0]["chardev"] == "dax2.3" and j[0]["size"] == 32 * MiB and j[0]["tag"] == "'$ZERO'"'
# An unknown tag: ENOENT, and no device is left behind.
refused ENOENT create-device -r 2 --claim $TB
ok create-device -r 2 --claim $TC
jcheck 'j[0]["chardev"] == "dax2.4" and j[0]["size"] == 2 * MiB'
refused ENOSPC create-device -r 2 --claim $TB
ok list -DEM -r 2
jcheck '[d["chardev"] for d in j] == ["dax2.1", "dax2.2", "dax2.3", "dax2.4"]'
jcheck 'dev("dax2.2")["mappings"][0]["page_offset"] == 0 and dev("dax2.2")["mappings"][1]["page_offset"] == 8192'
jcheck 'all(m["start"] >= 0x200000000 for d in j for m in d["mappings"])'
ok list -D -r 2
jcheck 'all("tag" not in d and "mappings" not in d for d in j)'
ok read dax2.1/tag
[[ $OUT == "$TA" ]] || fail "dax2.1/tag: '$OUT'"
ok list -R -r 2
jcheck '"available_size" not in j[0]'

# Release of a tag group in use: deferred; a wrong tag is refused.
refused EINVAL extent release -r 2 --offset 256m --length 2m --tag $TA
ok extent release -r 2 --offset 0 --length 2m --tag $TA
[[ $ERR == *"1 event waiting"* ]] || fail "extent release: stderr '$ERR'"
ok events
jcheck 'len(j) == 1 and j[0]["type"] == "release_deferred"'
jcheck 'sorted(r["offset"] for r in j[0]["records"]) == [0, 128 * MiB]'
ok list -E -r 2
jcheck '[e["state"] for e in j[0]["extents"][:2]] == ["releasing", "releasing"]'
jcheck '[e["refcount"] for e in j[0]["extents"][:2]] == [2, 1]'
# The first device still shares extent 0 with dax2.2: no release yet.
ok destroy-device dax2.1 --force
ok events
[[ $OUT == "[]" ]] || fail "a release completed while dax2.2 held the extent"
# Events wait in the state file between invocations.
ok destroy-device dax2.2 --force
ok list -R
ok events
# Both extents of the request come back in this one call: one event.
jcheck '[e["type"] for e in j] == ["released"]'
jcheck 'sorted(r["offset"] for r in j[0]["records"]) == [0, 128 * MiB]'
ok list -E -r 2
jcheck '[e["offset"] for e in j[0]["extents"]] == [256 * MiB, 512 * MiB]'

# A forced release is logged and ignored on this region.
ok extent release -r 2 --offset 256m --length 32m --forced
ok events
jcheck '[e["type"] for e in j] == ["forced_ignored"]'
ok list -E -r 2
jcheck 'len(j[0]["extents"]) == 2'

# A revoking region: a forced release takes the memory from the device.
ok region add --kind sparse --start 0x300000000 --size 1g --revoke
jcheck 'j[0]["id"] == 3'
ok extent add -r 3 --offset 64m --length 4m --tag $TD --seq 0 --shareable --more
ok extent add -r 3 --offset 128m --length 4m --tag $TD --seq 1 --shareable
ok events
jcheck 'all(r["result"] == "ok" for r in j[0]["records"]) and [r["sequence"] for r in j[0]["records"]] == [0, 1]'
ok create-device -r 3 --claim $TD
jcheck 'j[0]["chardev"] == "dax3.1" and j[0]["size"] == 8 * MiB'
ok extent release -r 3 --offset 64m --length 2m --tag $TD --forced
ok events
# (then one "released" listing the revoked extents: one event per request)
jcheck '[e["type"] for e in j] == ["forced_applied", "dev_lost_memory", "released"] and len(j[2]["records"]) == 2'
jcheck 'j[1]["device"] == "dax3.1" and "device" not in j[0] and len(j[1]["records"]) == 2'
jcheck 'len(set(e["request_id"] for e in j)) == 1'
ok list -i -d dax3.1
jcheck 'j[0]["size"] == 0'

# ---- state persistence ------------------------------------------------------------------
ok list -RDMEi
before=$OUT
ok list -RDMEi
[[ $OUT == "$before" ]] || fail "two listings of one state differ"
cp "$DAXM_STATE" "$T/copy.json"
ok --state "$T/copy.json" list -RDMEi
[[ $OUT == "$before" ]] || fail "a copy of the state lists differently"

# --state beats $DAXM_STATE, which beats ./daxm-state.json.
mkdir "$T/cwd"
(cd "$T/cwd" && env -u DAXM_STATE "$DAXM" region add --kind dynamic --start 0 --size 2m >/dev/null 2>&1) ||
	fail "region add with the default state file"
[[ -f $T/cwd/daxm-state.json ]] || fail "./daxm-state.json was not created"
ok --state "$T/cwd/daxm-state.json" list -R
jcheck 'len(j) == 1 and j[0]["size"] == 2 * MiB'
ok --state="$T/other.json" list -R
[[ $OUT == "[]" ]] || fail "--state=FILE was not used"
ok list -R
jcheck 'len(j) == 4'

# Saving fails loudly (and prints nothing) when the file cannot be written.
refused ENOENT --state "$T/no/such/dir/state.json" region add --kind dynamic --start 0 --size 2m

# ---- damaged state files: refused, never overwritten ------------------------------------
head -c 200 "$DAXM_STATE" >"$T/truncated.json"
cp "$T/truncated.json" "$T/truncated.orig"
refused EINVAL --state "$T/truncated.json" list
refused EINVAL --state "$T/truncated.json" region add --kind dynamic --start 0x900000000 --size 1g
refused EINVAL --state "$T/truncated.json" events
cmp -s "$T/truncated.json" "$T/truncated.orig" || fail "a damaged state file was changed"
python3 - "$DAXM_STATE" "$T/edited.json" <<'EOF'
import json, sys
doc = json.load(open(sys.argv[1]))
doc["regions"][0]["size"] = "lots"
json.dump(doc, open(sys.argv[2], "w"))
EOF
cp "$T/edited.json" "$T/edited.orig"
refused EINVAL --state "$T/edited.json" create-device -r 0 -s 2m
cmp -s "$T/edited.json" "$T/edited.orig" || fail "a hand-edited state file was changed"
printf 'not json' >"$T/garbage.json"
refused EINVAL --state "$T/garbage.json" list
[[ $(<"$T/garbage.json") == "not json" ]] || fail "a garbage state file was changed"
refused EISDIR --state "$T" list

# ---- daxctl-create.sh test 2 (ndctl.md §3.2/§3.3, DC-09..DC-14) --------------------
# A region of 4s, s = 256 MiB, in its own state file: dax0.0 takes [0,s);
# two created devices take [s,2s) and [2s,3s); destroying dax0.1 leaves a
# hole; a 2s device then reuses the name dax0.1 and is split over the hole
# and the tail, with page offsets 0 and s/4096. The region is then full.
(
	export DAXM_STATE="$T/create-test2.json"
	s=$((256 * MiB))
	ok region add --kind dynamic --start 0x100000000 --size 1g --idle --unbound
	ok reconfigure-device dax0.0 -s $s
	ok create-device -r 0 -s $s
	jcheck 'j[0]["chardev"] == "dax0.1"'
	ok create-device -r 0 -s $s
	jcheck 'j[0]["chardev"] == "dax0.2"'
	ok disable-device dax0.1
	ok destroy-device dax0.1
	ok list -R
	jcheck 'j[0]["available_size"] == 512 * MiB'
	ok create-device -r 0 -s $((2 * s))
	jcheck 'j[0]["chardev"] == "dax0.1" and j[0]["size"] == 512 * MiB'
	ok list -M -d dax0.1
	jcheck '[(m["start"], m["end"], m["page_offset"]) for m in j[0]["mappings"]] == [(0x110000000, 0x11fffffff, 0), (0x130000000, 0x13fffffff, 256 * MiB // 4096)]'
	ok list -R
	jcheck '"available_size" not in j[0]'
	echo "$checks" >"$T/checks"
)
checks=$(<"$T/checks")

# ---- fabric: a DCD shared by hosts, its manager, the hosts' contexts -------------
(
	export DAXM_FABRIC="$T/fabric.json"
	R0=$((0x1000000000))  # DC region 0 (Sharable), 1 GiB
	R1=$((0x1040000000))  # DC region 1, 1 GiB, 2 and 4 MiB blocks
	FA=fa000000-0000-4000-8000-00000000000a
	FB=fb000000-0000-4000-8000-00000000000b
	FC=fc000000-0000-4000-8000-00000000000c
	FD=fd000000-0000-4000-8000-00000000000d
	fabric_ok() {
		python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["format"]=="libdaxmodel-fabric-state"' \
			"$DAXM_FABRIC" || fail "the fabric file is not a fabric state document"
	}

	refused ENOENT fabric list
	[[ $ERR == *"daxm fabric create"* ]] || fail "fabric list without a file: '$ERR'"
	[[ ! -e $DAXM_FABRIC ]] || fail "fabric list created the fabric file"
	usage fabric
	usage fabric bogus
	usage fabric create --hosts 2
	usage fabric create --region 1g
	usage fabric create --region $R0,1g,bogus
	usage fabric create --region $R0,1g,sizes=3m
	usage fabric create --region $R0,1g --hosts 0
	usage fabric create --region $R0,1g --profile cxl9
	refused EINVAL fabric create --region $((R0 + 4096)),1g
	refused EINVAL fabric create --region $R0,1g --hosts 9 --profile mhsld
	[[ ! -e $DAXM_FABRIC ]] || fail "a refused create made the fabric file"
	ok fabric create --region $R0,1g,sharable --region $R1,1g,sizes=2m+4m --hosts 3
	[[ $ERR == "created a fabric of 3 hosts" ]] || fail "fabric create: stderr '$ERR'"
	fabric_ok
	ocheck 'list(j) == ["device", "hosts", "tags_generation_num", "tags"] and j["tags"] == []'
	ocheck 'j["device"]["num_hosts"] == 3 and [h["host_id"] for h in j["hosts"]] == [0, 1, 2]'
	ocheck '[r["base"] for r in j["device"]["regions"]] == ['$R0', '$R1'] and j["device"]["total_dynamic_capacity"] == 2 << 30'
	ocheck 'j["device"]["regions"][0]["sharable"] and not j["device"]["regions"][1]["sharable"]'
	ocheck 'j["device"]["regions"][1]["supported_blk_sz"] == [2 * MiB, 4 * MiB] and j["device"]["regions"][1]["block_size"] == 2 * MiB'
	ocheck 'j["device"]["capacity_selection_policies"] == ["free", "contiguous", "prescriptive"]'
	ocheck 'j["device"]["capacity_removal_policies"] == ["tag_based", "prescriptive"] and j["device"]["events"] == 0'
	ocheck 'host(0)["extents"] == [] and host(0)["list_generation_num"] == 0 and host(0)["num_extents_available"] == 512'
	ocheck 'host(0)["region"]["size"] == 2 << 30 and host(0)["region"]["extents"] == [] and "devices" not in host(0)["region"]'
	refused EEXIST fabric create --region $R0,1g
	cp "$DAXM_FABRIC" "$T/fabric.empty"

	# Initiate Dynamic Capacity Add: the offer waits for a delivery.
	ok fabric add --host 0 --policy free --region 1 --length 8m --tag $FA
	[[ $ERR == *"offered to host 0"* ]] || fail "fabric add: stderr '$ERR'"
	ok fabric list --host 0
	ocheck 'list(j) == ["hosts"] and host(0)["extents"] == [] and host(0)["region"]["extents"] == []'
	ok fabric list --tags
	ocheck 'list(j) == ["tags_generation_num", "tags"]'
	ocheck 'j["tags"] == [{"tag": "'$FA'", "fm_holds_reference": False, "ref_hosts": [], "pending_ref_hosts": [0]}]'
	cxl "Invalid Input" fabric add --host 0 --policy free --region 1 --length 8m --tag $FA
	[[ $ERR == *"daxm fabric add: Invalid Input: "*"already names capacity"* ]] || fail "fabric add: '$ERR'"
	cxl "Invalid Input" fabric add --host 7 --policy free --length 2m
	cxl "Invalid Input" fabric add --host 0 --policy free --length 3m
	cxl "Resources Exhausted" fabric add --host 1 --policy contiguous --region 1 --length 1020m
	cxl "Invalid Extent List" fabric add --host 1 --policy prescriptive --extent $((R0 + 4096)),2m
	usage fabric add --host 0 --policy free
	usage fabric add --host 0 --policy prescriptive
	usage fabric add --host 0 --policy free --length 2m --extent $R0,2m
	usage fabric add --host 0 --policy bogus --length 2m
	usage fabric add --policy free --length 2m
	usage fabric add --host 300 --policy free --length 2m
	usage fabric add --host 0 --policy free --length 2m --tag nope
	ok fabric deliver --host 0
	[[ $ERR == "host 0 sent 1 answer; 1 manager record waiting (daxm fabric events)" ]] || fail "deliver: '$ERR'"
	usage fabric deliver
	refused ENOENT fabric deliver --host 5
	ok fabric events
	jcheck 'len(j) == 1 and j[0]["event_type"] == "add_capacity_response" and j[0]["host_id"] == 0 and not j[0]["more"]'
	jcheck 'j[0]["extent"] == {"start_dpa": '$R1', "len": 8 * MiB, "tag": "'$FA'", "shared_seq": 0} and j[0]["region_index"] == 1'
	jcheck 'list(j[0]) == ["event_type", "host_id", "region_index", "more", "extent", "num_avail_extents", "num_avail_tags"]'
	jcheck 'j[0]["num_avail_extents"] == 511 and j[0]["num_avail_tags"] == 63'
	ok fabric events
	[[ $OUT == "[]" ]] || fail "the manager's queue was not drained"
	ok fabric list --host 0
	ocheck 'host(0)["extents"] == [{"start_dpa": '$R1', "len": 8 * MiB, "tag": "'$FA'", "shared_seq": 0}] and host(0)["list_generation_num"] == 1'
	ocheck 'host(0)["region"]["available_size"] == 8 * MiB and host(0)["region"]["extents"][0]["offset"] == 1 << 30'

	# Ordinary daxm commands on a host's context, saved into the fabric.
	ok fabric host 0 create-device -r 0 --tag $FA -s 4m
	jcheck 'j == [{"chardev": "dax0.1", "size": 4 * MiB, "align": 2 * MiB, "mode": "devdax", "tag": "'$FA'"}]'
	ok fabric host 0 list -RDME
	jcheck 'region(0)["available_size"] == 4 * MiB and dev("dax0.1", region(0)["devices"])["mappings"][0]["start"] == '$R1
	ok fabric host 0 read dax0.1/tag
	[[ $OUT == "$FA" ]] || fail "fabric host 0 read: '$OUT'"
	ok fabric list --hosts --host 0
	ocheck '[d["chardev"] for d in host(0)["region"]["devices"]] == ["dax0.1"] and host(0)["events"] == 1'
	ok fabric list -i --host 0
	ocheck '[d["chardev"] for d in host(0)["region"]["devices"]] == ["dax0.0", "dax0.1"]'
	refused EPERM fabric host 0 extent add -r 0 --offset 0 --length 2m
	refused EPERM fabric host 0 region add --kind dynamic --start 0 --size 1g
	refused ENOENT fabric host 5 list
	refused ENOSPC fabric host 0 create-device -r 0 --tag $FA -s 8m
	usage fabric host 0 bogus
	usage fabric host 0 fabric list
	usage fabric host 0
	usage fabric host x list
	usage fabric list --host 999
	refused ENOENT fabric list --host 3

	# A Sharable tag: prescriptive add on region 0, shared, referenced.
	ok fabric add --host 1 --policy prescriptive --extent $R0,4m,$FB --extent $((R0 + 8 * MiB)),2m --tag $FB
	ok fabric run
	[[ $ERR == "the hosts sent 1 answer; 2 manager records waiting (daxm fabric events)" ]] || fail "run: '$ERR'"
	ok fabric share --host 2 --tag $FB
	[[ $ERR == *"offered the tag to host 2"* ]] || fail "share: '$ERR'"
	ok fabric run
	ok fabric reference add --tag $FB
	ok fabric list --tags
	ocheck 'tag("'$FB'") == {"tag": "'$FB'", "fm_holds_reference": True, "ref_hosts": [1, 2], "pending_ref_hosts": []}'
	ok fabric list --hosts
	ocheck '[(e["len"], e["tag"], e["shared_seq"]) for e in host(2)["extents"]] == [(4 * MiB, "'$FB'", 0), (2 * MiB, "'$FB'", 1)]'
	ocheck '[e["start_dpa"] for e in host(1)["extents"]] == ['$R0', '$((R0 + 8 * MiB))']'
	cxl "Invalid Input" fabric share --host 2 --tag $FB
	cxl "Invalid Input" fabric share --host 0 --tag $FC
	cxl "Invalid Input" fabric reference add --tag $FC
	cxl "Invalid Input" fabric reference remove --tag $FC
	usage fabric reference --tag $FB
	usage fabric reference add
	usage fabric share --host 0
	ok fabric events
	jcheck '[(e["event_type"], e["host_id"]) for e in j] == [("add_capacity_response", 1)] * 2 + [("add_capacity_response", 2)] * 2'
	jcheck '[e["more"] for e in j] == [True, False, True, False]'

	# Tag-based release: deferred while host 0 maps the tag.
	ok fabric release --host 0 --tag $FA
	[[ $ERR == *"asked host 0"* ]] || fail "release: '$ERR'"
	ok fabric deliver --host 0
	[[ $ERR == "host 0 sent 0 answers; 0 manager records waiting (daxm fabric events)" ]] || fail "deliver: '$ERR'"
	ok fabric host 0 events
	jcheck '[e["type"] for e in j] == ["group", "release_deferred"]'
	ok fabric host 0 destroy-device dax0.1 --force
	ok fabric list --host 0
	ocheck 'len(host(0)["extents"]) == 1 and host(0)["region"]["extents"] == []'
	ok fabric run
	ok fabric events
	jcheck '[e["event_type"] for e in j] == ["capacity_released"] and j[0]["extent"]["len"] == 8 * MiB and j[0]["host_id"] == 0'
	ok fabric list --host 0
	ocheck 'host(0)["extents"] == [] and host(0)["list_generation_num"] == 2'
	cxl "Invalid Input" fabric release --host 0 --tag $FA
	cxl "Invalid Input" fabric release --host 1 --extent $R0,4m --forced
	cxl "Invalid Physical Address" fabric release --host 0 --extent $R1,2m
	usage fabric release --host 0
	usage fabric release --host 0 --tag $FA --extent $R0,2m
	usage fabric release --host 0 --extent $R0
	usage fabric release --host 0 --extent bogus,2m
	usage fabric release --tag $FA

	# A forced release with sanitize: the device revokes; host 2 keeps
	# its view (Linux ignores Forced Capacity Release).
	ok fabric release --host 2 --tag $FB --forced --sanitize
	[[ $ERR == "released by force from host 2" ]] || fail "forced release: '$ERR'"
	ok fabric deliver --host 2
	ok fabric list --host 2
	ocheck 'host(2)["extents"] == [] and len(host(2)["region"]["extents"]) == 2'
	ok fabric list --tags
	ocheck 'tag("'$FB'")["ref_hosts"] == [1] and tag("'$FB'")["fm_holds_reference"]'
	ok fabric reference remove --tag $FB
	[[ $ERR == "the manager holds no reference on the tag" ]] || fail "reference remove: '$ERR'"
	ok fabric list --tags
	ocheck 'tag("'$FB'")["ref_hosts"] == [1] and not tag("'$FB'")["fm_holds_reference"]'

	# A host may not re-tag capacity the device gave it (EPERM from the
	# library): refused, the file unchanged.
	ok fabric add --host 1 --policy free --region 1 --length 2m --tag $FC
	ok fabric run
	cp "$DAXM_FABRIC" "$T/fabric.before"
	refused EPERM fabric host 1 write region0/extent2/tag $FD
	cmp -s "$DAXM_FABRIC" "$T/fabric.before" || fail "an unloadable fabric was saved"
	ok fabric host 1 read region0/extent2/tag
	[[ $OUT == "$FC" ]] || fail "the refused retag stayed: '$OUT'"

	# The fabric file: --fabric beats $DAXM_FABRIC, which beats
	# ./daxm-fabric.json; damaged files and a context's state are refused
	# and left as they were.
	ok fabric list
	before=$OUT
	cp "$DAXM_FABRIC" "$T/fabric-copy.json"
	ok --fabric "$T/fabric-copy.json" fabric list
	[[ $OUT == "$before" ]] || fail "a copy of the fabric lists differently"
	ok --fabric="$T/fabric.empty" fabric list --tags
	ocheck 'j["tags"] == []'
	mkdir "$T/fcwd"
	(cd "$T/fcwd" && env -u DAXM_FABRIC "$DAXM" fabric create --region $R0,1g >/dev/null 2>&1) ||
		fail "fabric create with the default fabric file"
	[[ -f $T/fcwd/daxm-fabric.json ]] || fail "./daxm-fabric.json was not created"
	usage --fabric
	usage --fabric= fabric list
	refused EINVAL --fabric "$DAXM_STATE" fabric list
	[[ $ERR == *daxm_ctx_load* ]] || fail "a context's state as --fabric: '$ERR'"
	refused EINVAL --state "$DAXM_FABRIC" list
	[[ $ERR == *daxm_fabric_load* ]] || fail "a fabric as --state: '$ERR'"
	head -c 300 "$DAXM_FABRIC" >"$T/fabric-cut.json"
	cp "$T/fabric-cut.json" "$T/fabric-cut.orig"
	refused EINVAL --fabric "$T/fabric-cut.json" fabric run
	[[ $ERR == *"was not changed"* ]] || fail "a damaged fabric: '$ERR'"
	cmp -s "$T/fabric-cut.json" "$T/fabric-cut.orig" || fail "a damaged fabric file was changed"
	refused ENOENT --fabric "$T/no/such/dir/fabric.json" fabric create --region $R0,1g

	# Another profile: qemu (one host, prescriptive only, no List Tags).
	export DAXM_FABRIC="$T/qemu.json"
	ok fabric create --profile qemu --region $R0,1g --log-depth 8
	ocheck '"tags" not in j and j["device"]["capacity_selection_policies"] == ["prescriptive"]'
	cxl "Invalid Input" fabric add --host 0 --policy free --length 2m
	cxl "Unsupported" fabric reference add --tag $FA
	ok fabric add --host 0 --policy prescriptive --extent $R0,2m,$FA
	ok fabric run
	ok fabric events
	[[ $OUT == "[]" ]] || fail "qemu reported to the manager: '$OUT'"
	ok fabric list
	ocheck 'host(0)["extents"][0]["tag"] == "00000000-0000-0000-0000-000000000000" and host(0)["region"]["extents"][0]["tag"] == "'$FA'"'
	echo "$checks" >"$T/checks"
)
checks=$(<"$T/checks")

echo "test-daxm.sh: $checks checks passed"
