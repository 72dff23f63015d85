#!/usr/bin/env bash
# The reference stack for `npm run bench:failover`: Pacemaker and Corosync from Debian. Only the
# benchmark needs them; installing them starts nothing (no systemd here, and nodes start their own).
set -euo pipefail
packages=(pacemaker corosync)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
