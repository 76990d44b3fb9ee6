#!/usr/bin/env bash
# Boots a real arm64 Linux (Debian's cloud-arm64 kernel) under qemu-system-aarch64 (TCG) with an
# initramfs holding the arm64 enforcer, the arm64 probes and busybox, and runs
# test/arm64-vm/init.sh there; the serial console goes to stdout. Used by
# test/arm64-vm/arm64-vm.test.ts. The kernel and busybox .debs are fetched from Debian once
# (cached in /var/cache/vigil/arm64-vm).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
cache=/var/cache/vigil/arm64-vm
mkdir -p "$cache"

fetch() { # package glob-of-deb
  if ! ls "$cache"/$2 >/dev/null 2>&1; then
    (cd "$cache" && apt-get download "$1" >/dev/null 2>&1) || { echo "arm64-vm: cannot download $1 from Debian" >&2; exit 1; }
  fi
}
kernel_pkg=$(apt-cache search --names-only '^linux-image-[0-9.]+-[0-9]+-cloud-arm64$' | awk '{print $1}' | sort -V | tail -1)
[[ -n "$kernel_pkg" ]] || { echo "arm64-vm: no linux-image-*-cloud-arm64 package known to apt (is the arm64 architecture added? scripts/setup.sh does it)" >&2; exit 1; }
fetch "$kernel_pkg:arm64" "${kernel_pkg}_*_arm64.deb"
fetch "busybox-static:arm64" "busybox-static_*_arm64.deb"

work=$(mktemp -d /tmp/vigil-arm64-vm.XXXXXX)
trap 'rm -rf "$work"' EXIT
dpkg -x "$(ls "$cache"/${kernel_pkg}_*_arm64.deb | head -1)" "$work/k"
root=$work/root
mkdir -p "$root"/{bin,usr/bin,proc,sys,dev,tmp,vigil,probes,srv}
dpkg -x "$(ls "$cache"/busybox-static_*_arm64.deb | head -1)" "$work/bb"
cp "$work/bb/bin/busybox" "$root/bin/busybox"
cp dist/enforcer/linux-arm64/vigil-enforcer "$root/vigil/enforcer"
make -s -C enforcer/tests/probes CC=aarch64-linux-gnu-gcc OUT="$repo/build/probes-arm64"
cp build/probes-arm64/* "$root/probes/"
cp test/arm64-vm/init.sh "$root/init"
chmod 755 "$root/init"
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) > "$work/initrd.gz"

timeout 600 qemu-system-aarch64 -M virt -cpu max -smp 2 -m 1024 -nographic -no-reboot -nic none \
  -kernel "$(ls "$work"/k/boot/vmlinuz-* | head -1)" -initrd "$work/initrd.gz" \
  -append "console=ttyAMA0 rdinit=/init panic=-1 quiet loglevel=3 lsm=landlock,lockdown,yama,bpf"
