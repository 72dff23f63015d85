#!/usr/bin/env bash
# What the host needs to build the box and run the VMs: QEMU (TCG works everywhere, KVM where /dev/kvm
# runs stock kernels), debootstrap, Vagrant with its libvirt provider, and tini (libvirtd's reaper where
# there is no systemd).
set -euo pipefail
packages=(qemu-system-x86 qemu-utils debootstrap vagrant vagrant-libvirt libvirt-daemon-system
  libvirt-daemon-driver-qemu libvirt-clients dnsmasq-base ebtables tini openssh-client)
bash "$(dirname "$0")/../../../scripts/apt-ensure.sh" "${packages[@]}"
