#!/bin/busybox sh
# shellcheck shell=dash
# /init of the kernel-referee guest (Tests/kernel/run.sh puts it into the
# initramfs): load the dax modules, replay the scenarios with sysfs-replay,
# report kernel warnings, print the exit status, power off. Every line the
# host reads starts with "@@".
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
echo; echo "@@LAB init reached uptime=$(cut -d' ' -f1 /proc/uptime) kernel=$(uname -r)"
while read -r m; do
	insmod "/modules/$m.ko" || echo "@@LAB insmod $m failed"
done </modules.list
# keep kernel messages out of the record (they go to dmesg, checked below)
echo 1 >/proc/sys/kernel/printk
echo "@@LAB modules loaded uptime=$(cut -d' ' -f1 /proc/uptime)"
# daxm.noreload=1 (DAXM_KERNEL_RELOAD=0): resets by writes only, no dax_hmem reload
reload="-m /modules/dax_hmem.ko"
grep -q 'daxm.noreload=1' /proc/cmdline && reload=
# shellcheck disable=SC2086 # $reload is two words or none
/bin/sysfs-replay $reload /scenarios/*.scn
rc=$?
# what the kernel said about dax during the run (warnings and failed probes)
dmesg | grep -E 'WARNING:|BUG:|Oops|general protection|dax' | grep -v -E 'insmod|Command line' |
	head -n 300 | sed 's/^/@@LAB dmesg: /'
echo "@@LAB kernel log end"
# daxm.dmesg=1 on the kernel command line (DAXM_KERNEL_DMESG=1): all of it
if grep -q 'daxm.dmesg=1' /proc/cmdline; then
	dmesg | sed 's/^/@@LAB log: /'
fi
echo "@@LAB GUEST_RC=$rc uptime=$(cut -d' ' -f1 /proc/uptime)"
poweroff -f
