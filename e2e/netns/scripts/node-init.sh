#!/bin/bash
# PID 1 of a namespace node (its own pid, mount, uts and ipc namespaces, inside its network namespace).
# Makes the node's runtime and state directories private, then idles as a reaping init (tini).
# Killing this process is pulling the node's power cord: the kernel kills every process of the node
# and its mounts disappear with its mount namespace.
# Extra PRIVATE_DIRs (e.g. /var/lib/pacemaker) get a per-node copy of their directory skeleton
# (ownership included, no files) bind-mounted over them, kept under NODE_DIR/private across power cycles.
# The harness's bin/ is overlaid on /usr/sbin, so its fence agent is where fencing daemons look.
# Usage: node-init.sh NODE_DIR NODE_NAME [PRIVATE_DIR...]
set -euo pipefail
dir=$1 name=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)
hostname "$name"
mount --make-rprivate /
mount -t tmpfs -o mode=755 tmpfs /run
mkdir -p /run/lock /run/resource-agents /run/postgresql /run/ha
chown postgres:postgres /run/postgresql 2>/dev/null || true
# pid-named shared memory of one node must not meet another node's
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
mkdir -p "$dir/state" /var/lib/ha
mount --bind "$dir/state" /var/lib/ha
if id hacluster >/dev/null 2>&1; then mkdir -p /run/crm && chown hacluster:haclient /run/crm; fi
for private in "$@"; do
  copy=$dir/private$private
  if [ ! -e "$copy/.seeded" ]; then
    mkdir -p "$copy"
    (cd "$private" && find . -type d -print0) | while IFS= read -r -d '' sub; do
      mkdir -p "$copy/$sub"
      chown --reference="$private/$sub" "$copy/$sub"
      chmod --reference="$private/$sub" "$copy/$sub"
    done
    touch "$copy/.seeded"
  fi
  mount --bind "$copy" "$private"
done
mount -t overlay overlay -o "lowerdir=$here/../bin:/usr/sbin" /usr/sbin
echo ok > "$dir/ready"
exec tini -s -- sleep infinity
