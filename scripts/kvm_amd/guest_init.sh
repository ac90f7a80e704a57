#!/bin/busybox sh
# guest_init.sh - /init of the kvm_amd rig's initramfs (runs inside QEMU).
# Mounts the kernel file systems, loads kvm_amd (npt=1), runs
# /vtb/guest_plan.sh with the plan named on the kernel command line
# (vtb.plan=smoke|full), sends /vtb/out back to the host as a base64 tar on
# the second serial port between two marker lines, and powers off.
/bin/busybox --install -s /bin
export PATH=/bin:/sbin:/usr/bin HOME=/root
mkdir -p /root
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t debugfs debugfs /sys/kernel/debug
mount -t tmpfs tmpfs /tmp
depmod
plan=smoke
for w in $(cat /proc/cmdline); do
  case $w in vtb.plan=*) plan=${w#vtb.plan=} ;; esac
done
echo "vtb-rig: plan $plan, kernel $(uname -r), $(grep -c ^processor /proc/cpuinfo) CPU(s)"
cd /vtb || poweroff -f
sh /vtb/guest_plan.sh "$plan" 2>&1 | tee /vtb/out/rig.log
stty -F /dev/ttyS1 raw -echo 2>/dev/null
{
  echo "VTB-RIG-BEGIN"
  tar c -C /vtb out | gzip | base64
  echo "VTB-RIG-END"
} >/dev/ttyS1
sync
poweroff -f
