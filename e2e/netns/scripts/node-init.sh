#!/bin/bash
# PID 1 of a namespace node (its own pid, mount, uts and ipc namespaces, inside its network namespace).
# Makes the node's runtime and state directories private, then idles as a reaping init (tini).
# Killing this process is pulling the node's power cord: the kernel kills every process of the node
# and its mounts disappear with its mount namespace.
# Usage: node-init.sh NODE_DIR NODE_NAME
set -euo pipefail
dir=$1 name=$2
hostname "$name"
mount --make-rprivate /
mount -t tmpfs -o mode=755 tmpfs /run
mkdir -p /run/lock /run/resource-agents /run/postgresql /run/ha
chown postgres:postgres /run/postgresql 2>/dev/null || true
# pid-named shared memory of one node must not meet another node's
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
mkdir -p "$dir/state" /var/lib/ha
mount --bind "$dir/state" /var/lib/ha
echo ok > "$dir/ready"
exec tini -s -- sleep infinity
