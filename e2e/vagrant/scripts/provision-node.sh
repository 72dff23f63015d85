#!/usr/bin/env bash
# Runs inside each VM (as root, by `vagrant up`): names the node, makes sure the packages are there
# (an online box gets them from Debian), and configures the DRBD resource `pg` on /dev/vdb over ring 0.
# Usage: provision-node.sh NAME
set -euo pipefail
name=$1
hostname "$name"; echo "$name" > /etc/hostname
printf '127.0.0.1 localhost\n10.99.1.11 node1\n10.99.1.12 node2\n' > /etc/hosts
need=()
for p in drbd-utils resource-agents fence-agents postgresql; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
if ((${#need[@]})); then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
cat > /etc/drbd.d/pg.res <<'RES'
resource pg {
  protocol C;
  device /dev/drbd0; disk /dev/vdb; meta-disk internal;
  disk { resync-rate 400M; c-max-rate 400M; c-min-rate 100M; }
  on node1 { address 10.99.1.11:7789; }
  on node2 { address 10.99.1.12:7789; }
}
RES
modprobe drbd
# answers its questions; `yes` then dies of SIGPIPE, which is not a failure
{ yes yes || true; } | drbdadm create-md --force pg >/dev/null
drbdadm up pg
