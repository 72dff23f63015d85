#!/usr/bin/env bash
# The environment's own check, before any ha runs in it: both VMs boot, DRBD connects over ring 0 and
# syncs, a filesystem written on node1 is read back on node2 after a switchover. Destroys the VMs at the
# end, also on failure. Needs root.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
export VAGRANT_CWD=$here
started=$(date +%s)
bash "$here/scripts/install-host.sh"
bash "$here/scripts/libvirtd-up.sh"
bash "$here/scripts/build-box.sh"
trap 'vagrant destroy -f >/dev/null 2>&1 || true' EXIT
vagrant up --provider libvirt
on() { local node=$1; shift; vagrant ssh "$node" -c "sudo bash -c '$*'" 2>/dev/null; }
until on node1 "drbdadm cstate pg" | grep -q Connected; do sleep 1; done
sync_started=$(date +%s.%N)
on node1 "drbdadm primary --force pg"
until on node1 "drbdadm dstate pg" | grep -q "UpToDate/UpToDate"; do sleep 0.5; done
synced=$(printf "%.1f" "$(echo "$(date +%s.%N) - $sync_started" | bc)")
on node1 "mkfs.ext4 -q /dev/drbd0 && mkdir -p /srv/pg && mount /dev/drbd0 /srv/pg && head -c 8M /dev/urandom > /srv/pg/data && md5sum /srv/pg/data > /root/sum && umount /srv/pg && drbdadm secondary pg"
expected=$(on node1 "cut -d\" \" -f1 /root/sum")
on node2 "drbdadm primary pg && mkdir -p /srv/pg && mount /dev/drbd0 /srv/pg"
actual=$(on node2 "md5sum /srv/pg/data | cut -d\" \" -f1")
[ "$expected" = "$actual" ] || { echo "switchover lost data: $expected != $actual" >&2; exit 1; }
echo "vagrant smoke: DRBD synced in ${synced} s, switchover verified, $(( ($(date +%s) - started) / 60 )) min"
