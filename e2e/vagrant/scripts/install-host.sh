#!/usr/bin/env bash
# What the host needs to build the box and run the VMs: QEMU (TCG works everywhere, KVM where /dev/kvm
# runs stock kernels), debootstrap, Vagrant with its libvirt provider, and tini (libvirtd's reaper where
# there is no systemd).
set -euo pipefail
packages=(qemu-system-x86 qemu-utils debootstrap vagrant vagrant-libvirt libvirt-daemon-system
  libvirt-daemon-driver-qemu libvirt-clients dnsmasq-base ebtables tini openssh-client)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
