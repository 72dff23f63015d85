#!/bin/bash
# Powers a namespace node on: forgets what a power cycle forgets (floating addresses, fault rules),
# then starts a fresh init (node-init.sh) and writes its host pid to NODE_DIR/init.pid.
# The caller brings the host-side links up afterwards (fence-netns does the same).
# Usage: boot-node.sh NODE_DIR NETNS [PRIVATE_DIR...]   (see node-init.sh)
set -euo pipefail
dir=$1 ns=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)
rm -f "$dir/ready" "$dir/init.pid"
ip -n "$ns" -4 -o addr show | awk '/ secondary / {print $4, $2}' | while read -r address dev; do
  ip -n "$ns" addr del "$address" dev "$dev"
done
ip netns exec "$ns" iptables -F
setsid ip netns exec "$ns" unshare --mount --uts --ipc --pid --fork --mount-proc \
  "$here/node-init.sh" "$dir" "$ns" "$@" </dev/null >"$dir/init.log" 2>&1 &
launcher=$!
for _ in $(seq 100); do
  [ -e "$dir/ready" ] && break
  sleep 0.05
done
if [ ! -e "$dir/ready" ]; then cat "$dir/init.log" >&2; exit 1; fi
awk '{print $1}' "/proc/$launcher/task/$launcher/children" > "$dir/init.pid"
