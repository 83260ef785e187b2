#!/bin/busybox sh
# shellcheck shell=dash
# /init of the kernel-referee guest (tests/kernel/run.sh puts it into the
# initramfs). Two modes, chosen on the kernel command line:
#   daxm.mode=replay (default)  load the dax modules, replay the scenarios
#                               with sysfs-replay (which also captures the
#                               sysfs trees)
#   daxm.mode=panic             with panic_on_warn=1: replay only the
#                               scenarios in /scenarios/panic (the first
#                               kernel WARN panics the guest; the host
#                               checks it happens at the step the model
#                               names)
#   daxm.mode=gib               as replay, on a 3 GiB region: only the
#                               scenarios in /scenarios/gib; reports the
#                               CPU's pdpe1gb flag and the direct map's
#                               page sizes (@@LAB cpu)
#   daxm.mode=devmem            real device memory: devmem.sh runs the
#                               project's examples on /dev/daxR.N and on a
#                               memory-only NUMA node (needs the devmem
#                               payload: daxctl, ndctl, numactl, dax-map...)
# Then: report kernel warnings, print the exit status, power off. Every
# line the host reads starts with "@@".
/bin/busybox --install -s /bin
export PATH=/bin:/usr/bin:/usr/local/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
# clear_warn_once (sysfs-replay's resets forget which WARN_ONCE sites fired)
mount -t debugfs debugfs /sys/kernel/debug
mode=replay
grep -q 'daxm.mode=devmem' /proc/cmdline && mode=devmem
grep -q 'daxm.mode=panic' /proc/cmdline && mode=panic
grep -q 'daxm.mode=gib' /proc/cmdline && mode=gib
echo; echo "@@LAB init reached uptime=$(cut -d' ' -f1 /proc/uptime) kernel=$(uname -r) mode=$mode"
mods=/lib/modules/$(uname -r)
modlist=/modules.$mode
[ "$mode" = panic ] && modlist=/modules.replay
[ "$mode" = gib ] && modlist=/modules.replay
# 1 GiB pages in the kernel's direct map need the CPU's pdpe1gb
directmap() { grep '^DirectMap' /proc/meminfo | tr -s ' ' | tr '\n' ' '; }
if [ "$mode" = gib ]; then
	gb=no
	grep -qw pdpe1gb /proc/cpuinfo && gb=yes
	echo "@@LAB cpu pdpe1gb=$gb model=$(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //') at boot: $(directmap)"
fi
while read -r m; do
	insmod "$mods/$m" || echo "@@LAB insmod $m failed"
done <"$modlist"
# keep kernel messages out of the record (sysfs-replay reads each step's
# from /dev/kmsg); the panic boot wants the WARN and the panic on the console
echo 1 >/proc/sys/kernel/printk
[ "$mode" = panic ] && echo 8 >/proc/sys/kernel/printk
echo "@@LAB modules loaded uptime=$(cut -d' ' -f1 /proc/uptime)"
if [ "$mode" = devmem ]; then
	/devmem.sh
	rc=$?
else
	# daxm.noreload=1 (DAXM_KERNEL_RELOAD=0): resets by writes only, no dax_hmem reload
	reload="-m $mods/$(grep 'dax_hmem.ko$' /modules.replay)"
	grep -q 'daxm.noreload=1' /proc/cmdline && reload=
	scns=/scenarios/*.scn
	[ "$mode" = panic ] && scns=/scenarios/panic/*.scn
	[ "$mode" = gib ] && scns=/scenarios/gib/*.scn
	# shellcheck disable=SC2086 # $reload is two words or none; $scns a glob
	/bin/sysfs-replay $reload $scns
	rc=$?
	# with panic_on_warn=1 the kernel panics inside a step: not reached
	[ "$mode" = panic ] && echo "@@LAB no panic"
	[ "$mode" = gib ] && echo "@@LAB cpu after the scenarios: $(directmap)"

fi
# what the kernel said about dax during the run: warnings with their
# message (the line after "cut here"), failed probes
dmesg | awk '/cut here/ { msg = 1; next }
	msg && !/WARNING:/ { print; msg = 0; next }
	{ msg = 0 }
	/WARNING:|BUG:|Oops|general protection|dax|kmem/ && !/insmod|Command line/ { print }' |
	head -n 300 | sed 's/^/@@LAB dmesg: /'
echo "@@LAB kernel log end"
# daxm.dmesg=1 on the kernel command line (DAXM_KERNEL_DMESG=1): all of it
if grep -q 'daxm.dmesg=1' /proc/cmdline; then
	dmesg | sed 's/^/@@LAB log: /'
fi
echo "@@LAB GUEST_RC=$rc uptime=$(cut -d' ' -f1 /proc/uptime)"
poweroff -f
