#!/usr/bin/env bash
# Starts libvirt's daemons where no init system does (no systemd here). libvirtd runs under `tini -s`,
# a subreaper: otherwise the short-lived qemu probes it double-forks become zombies of a PID 1 that does
# not reap them, and libvirt waits for them on every domain start (vagrant up: 5.5 min instead of 1.6).
set -euo pipefail
if virsh -c qemu:///system version >/dev/null 2>&1; then exit 0; fi
pgrep -x virtlogd >/dev/null || virtlogd -d
pgrep -x libvirtd >/dev/null || (setsid tini -s -- libvirtd </dev/null >/var/log/ha-libvirtd.log 2>&1 &)
for _ in $(seq 100); do
  virsh -c qemu:///system version >/dev/null 2>&1 && exit 0
  sleep 0.2
done
echo "libvirtd did not come up (see /var/log/ha-libvirtd.log)" >&2
exit 1
