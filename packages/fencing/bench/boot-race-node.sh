#!/bin/bash
# Boots one node of the fence race benchmark (the power switch's "on"): flushes the addresses a
# powered-off node left in its netns, gives its two ring interfaces their addresses, then starts a
# long-lived init in new pid + mount namespaces that runs the node's program. Writes the init's
# host pid to PIDFILE; the program's output goes to LOG.
# Usage: boot-race-node.sh NETNS PIDFILE LOG ADDR0/LEN ADDR1/LEN WORKDIR -- PROGRAM [ARGS...]
set -euo pipefail
ns=$1 pidfile=$2 log=$3 addr0=$4 addr1=$5 workdir=$6
shift 7
rm -f "$pidfile"
ip -n "$ns" addr flush dev eth0
ip -n "$ns" addr flush dev eth1
ip -n "$ns" addr add "$addr0" dev eth0
ip -n "$ns" addr add "$addr1" dev eth1
cd "$workdir"
setsid ip netns exec "$ns" unshare --pid --mount --fork --mount-proc \
  /bin/sh -c '"$@" >"$0" 2>&1 & exec sleep 1000000' "$log" "$@" </dev/null >/dev/null 2>&1 &
launcher=$!
for _ in $(seq 200); do
  child=$(cat "/proc/$launcher/task/$launcher/children" 2>/dev/null | awk '{print $1}')
  if [ -n "$child" ]; then echo "$child" > "$pidfile"; exit 0; fi
  sleep 0.05
done
echo "boot-race-node: no init appeared under $launcher" >&2
exit 1
