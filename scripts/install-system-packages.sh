#!/usr/bin/env bash
# Installs the Debian packages the tests use as real parts (never by hand: CI and fresh machines run this).
set -euo pipefail
packages=(
  pacemaker-cli-utils # crm_simulate: the scheduler oracle for ha plan tests
  resource-agents     # OCF agents: Dummy, IPaddr2, Filesystem, pgsql
  fence-agents        # fence_* programs
  postgresql          # the database of the seed stack
  iproute2 iputils-ping psmisc util-linux e2fsprogs
  iptables            # e2e: link faults that keep carrier (drop), like a broken switch
  tini                # e2e: the reaping init of each namespace node
  kmod                # modprobe: the Filesystem agent refuses to run without it
)
bash "$(dirname "$0")/apt-ensure.sh" "${packages[@]}"
echo "system packages: ${#packages[@]} present"
