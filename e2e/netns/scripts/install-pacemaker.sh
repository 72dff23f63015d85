#!/usr/bin/env bash
# The reference stack for `npm run bench:failover`: Pacemaker and Corosync from Debian. Only the
# benchmark needs them; installing them starts nothing (no systemd here, and nodes start their own).
set -euo pipefail
bash "$(dirname "$0")/../../../scripts/apt-ensure.sh" pacemaker corosync
