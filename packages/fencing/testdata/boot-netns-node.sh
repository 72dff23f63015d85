#!/bin/bash
# Boots a bare namespace test node, as e2e/netns will (../shared/lab/netns/node-up.sh, cut down):
# a long-lived init in new pid + mount namespaces inside netns $1, with one extra process so that
# "every process of the node dies" can be checked. Writes the init's host pid to $2.
# Usage: boot-netns-node.sh NETNS PIDFILE
set -euo pipefail
ns=$1 pidfile=$2
rm -f "$pidfile"
# A powered-off NIC forgets its addresses: flush before the links come back up.
ip -n "$ns" addr flush dev eth0 2>/dev/null || true
setsid ip netns exec "$ns" unshare --pid --mount --fork --mount-proc \
  /bin/sh -c 'sleep 100000 & exec sleep 100000' </dev/null >/dev/null 2>&1 &
launcher=$!
for _ in $(seq 100); do
  child=$(cat "/proc/$launcher/task/$launcher/children" 2>/dev/null | awk '{print $1}')
  if [ -n "$child" ]; then echo "$child" > "$pidfile"; exit 0; fi
  sleep 0.05
done
echo "boot-netns-node: no init appeared under $launcher" >&2
exit 1
