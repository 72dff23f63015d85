#!/usr/bin/env bash
# Builds the offline Vagrant box `local/ha-debian12` (libvirt provider) from Debian packages with
# debootstrap: Debian 12 with its kernel, DRBD utilities, resource-agents, fence-agents, PostgreSQL, ssh
# and sudo, a `vagrant` user with Vagrant's public insecure key (replaced at first `vagrant up`), and this
# host's Node.js (Debian 12 ships Node 18; ha needs 20). No bootloader: the VMs boot the kernel directly.
# The result is cached in .cache/vagrant; the box is registered with `vagrant box add`.
# Usage: build-box.sh [--force]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=$(cd "$here/../../.." && pwd)/.cache/vagrant
box=$cache/ha-debian12.box
mirror=${HA_DEBIAN_MIRROR:-http://deb.debian.org/debian}
if [ -f "$box" ] && [ "${1:-}" != "--force" ]; then
  vagrant box list 2>/dev/null | grep -q '^local/ha-debian12 ' || vagrant box add --force --name local/ha-debian12 "$box"
  echo "box: $box (cached)"; exit 0
fi
mkdir -p "$cache"; work=$(mktemp -d "$cache/build.XXXX"); trap 'umount -q "$work/rootfs/proc" 2>/dev/null || true; rm -rf "$work"' EXIT
rootfs=$work/rootfs
# a minimal system first (debootstrap cannot configure the big python stacks of fence-agents itself),
# then the cluster's packages with apt inside it
debootstrap --variant=minbase \
  --include=linux-image-amd64,systemd-sysv,udev,kmod,iproute2,iputils-ping,drbd-utils,openssh-server,sudo,procps,netbase,e2fsprogs,psmisc \
  bookworm "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 || { tail -20 "$work/debootstrap.log"; exit 1; }
cp /etc/resolv.conf "$rootfs/etc/resolv.conf"
mount -t proc proc "$rootfs/proc"
chroot "$rootfs" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
  resource-agents fence-agents postgresql python3 >"$work/apt.log" 2>&1 || { tail -20 "$work/apt.log"; exit 1; }
umount "$rootfs/proc"
install -m755 "$(command -v node)" "$rootfs/usr/local/bin/node"
chroot "$rootfs" useradd -m -s /bin/bash vagrant
echo 'vagrant ALL=(ALL) NOPASSWD:ALL' > "$rootfs/etc/sudoers.d/vagrant"; chmod 440 "$rootfs/etc/sudoers.d/vagrant"
install -d -m700 "$rootfs/home/vagrant/.ssh"
insecure=$(find /usr/share/rubygems-integration /usr/lib/ruby -path '*vagrant*/keys/vagrant.pub' 2>/dev/null | head -1)
install -m600 "$insecure" "$rootfs/home/vagrant/.ssh/authorized_keys"
chroot "$rootfs" chown -R vagrant:vagrant /home/vagrant/.ssh
# DHCP on the management network; an empty machine-id and the MAC as client id, or every clone asks for
# the same address
printf '[Match]\nName=eth0\n[Network]\nDHCP=ipv4\n[DHCPv4]\nClientIdentifier=mac\n' > "$rootfs/etc/systemd/network/50-mgmt.network"
chroot "$rootfs" systemctl enable systemd-networkd >/dev/null 2>&1
: > "$rootfs/etc/machine-id"; rm -f "$rootfs/var/lib/dbus/machine-id"
printf '/dev/vda / ext4 defaults 0 1\n' > "$rootfs/etc/fstab"
echo 'UseDNS no' >> "$rootfs/etc/ssh/sshd_config"
echo ha-box > "$rootfs/etc/hostname"
# the database runs under the cluster, not at boot
chroot "$rootfs" systemctl disable postgresql >/dev/null 2>&1 || true
# a small initrd: the few drivers a virtio guest needs
sed -i 's/^MODULES=.*/MODULES=list/' "$rootfs/etc/initramfs-tools/initramfs.conf"
printf 'virtio_pci\nvirtio_blk\nvirtio_net\next4\n' >> "$rootfs/etc/initramfs-tools/modules"
mount -t proc proc "$rootfs/proc"; chroot "$rootfs" update-initramfs -u >/dev/null 2>&1; umount "$rootfs/proc"
for unit in apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer fstrim.timer; do
  chroot "$rootfs" systemctl mask "$unit" >/dev/null 2>&1 || true
done
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
# the box: disk image, metadata, the kernel it boots, and a Vagrantfile that boots it
mkdir -p /var/lib/libvirt/boot
cp "$rootfs"/boot/vmlinuz-* /var/lib/libvirt/boot/ha-vmlinuz
cp "$rootfs"/boot/initrd.img-* /var/lib/libvirt/boot/ha-initrd.img
chmod 644 /var/lib/libvirt/boot/ha-*
truncate -s 4G "$work/root.raw"; mkfs.ext4 -q -F -L root -d "$rootfs" "$work/root.raw"
qemu-img convert -O qcow2 "$work/root.raw" "$work/box.img"; rm "$work/root.raw"
echo '{"provider":"libvirt","format":"qcow2","virtual_size":4}' > "$work/metadata.json"
cat > "$work/Vagrantfile" <<'EOV'
Vagrant.configure("2") do |config|
  config.vm.provider :libvirt do |lv|
    lv.kernel = "/var/lib/libvirt/boot/ha-vmlinuz"
    lv.initrd = "/var/lib/libvirt/boot/ha-initrd.img"
    lv.cmd_line = "root=/dev/vda rw console=ttyS0 net.ifnames=0 quiet"
  end
end
EOV
tar -C "$work" -czf "$box.tmp" metadata.json Vagrantfile box.img && mv "$box.tmp" "$box"
vagrant box add --force --name local/ha-debian12 "$box" >/dev/null
echo "box: $box ($(du -h "$box" | cut -f1)), registered as local/ha-debian12"
