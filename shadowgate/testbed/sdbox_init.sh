#!/bin/bash
# PID 1 of a SystemdBox (shadowgate/testbed/sdbox.py): prepares a root for systemd, then becomes
# systemd.
#
# Usage (done by SystemdBox.up, inside fresh pid/mount/uts/ipc/cgroup namespaces):
#     bash sdbox_init.sh STATE_DIR [BIND_DIR ...]
#
# The root is the host's / seen through an overlay whose upper layer is a tmpfs, so nothing the
# box writes reaches the host, except in the BIND_DIRs (bound read-write at the same path).
# Everything mounted here lives in the box's private mount namespace and vanishes with it.
set -eu

state=$1
shift
root=$state/root
units=$root/etc/systemd/system

# The overlay root: lower = host /, upper = tmpfs (host files are never written).
mount -t tmpfs -o mode=755 sdbox-upper "$state/ovl"
mkdir -p "$state/ovl/upper" "$state/ovl/work"
mount -t overlay sdbox-root \
    -o "lowerdir=/,upperdir=$state/ovl/upper,workdir=$state/ovl/work" "$root"

# API filesystems systemd expects. /proc/sys and /sys are read-only: the box must not tune the
# host's kernel. cgroup2 is mounted inside the new cgroup namespace, so its root is the box's
# own cgroup (created by SystemdBox.up), even on a cgroup-v1/hybrid host.
mount -t proc -o nosuid,nodev,noexec proc "$root/proc"
mount --bind "$root/proc/sys" "$root/proc/sys"
mount -o remount,bind,ro "$root/proc/sys"
mount -t sysfs -o ro,nosuid,nodev,noexec sysfs "$root/sys"
mount -t cgroup2 -o nosuid,nodev,noexec cgroup2 "$root/sys/fs/cgroup"

# A minimal /dev: a few host device nodes bound in, a private devpts, shm and mqueue. The console
# is /dev/null: systemd's status output would otherwise go to the caller's terminal.
mount -t tmpfs -o mode=755,nosuid dev "$root/dev"
for node in null zero full random urandom tty; do
    touch "$root/dev/$node"
    mount --bind "/dev/$node" "$root/dev/$node"
done
touch "$root/dev/console"
mount --bind /dev/null "$root/dev/console"
mkdir -p "$root/dev/pts" "$root/dev/shm" "$root/dev/mqueue"
mount -t devpts -o newinstance,ptmxmode=0666,mode=620,gid=5 devpts "$root/dev/pts"
ln -s pts/ptmx "$root/dev/ptmx"
mount -t tmpfs -o mode=1777,nosuid,nodev shm "$root/dev/shm"
mount -t mqueue mqueue "$root/dev/mqueue"
ln -s /proc/self/fd "$root/dev/fd"
ln -s fd/0 "$root/dev/stdin"
ln -s fd/1 "$root/dev/stdout"
ln -s fd/2 "$root/dev/stderr"
mount -t tmpfs -o mode=755,nosuid,nodev run "$root/run"

# The directories the tests write to (repo, venv, tmp dirs): shared with the host, read-write.
for dir in "$@"; do
    mkdir -p "$root$dir"
    mount --bind "$dir" "$root$dir"
done

# Boot a small target instead of multi-user/graphical, and mask the units that would touch the
# (shared) kernel or hardware, or that fail in a container and only slow the boot down.
printf '[Unit]\nRequires=sysinit.target\nWants=systemd-journald.service\nAfter=sysinit.target\n' \
    > "$units/sdbox.target"
for unit in \
    systemd-tmpfiles-setup.service systemd-tmpfiles-setup-dev.service systemd-sysctl.service \
    systemd-modules-load.service systemd-binfmt.service systemd-timesyncd.service \
    systemd-pstore.service systemd-random-seed.service systemd-firstboot.service \
    systemd-repart.service systemd-hwdb-update.service systemd-machine-id-commit.service \
    systemd-remount-fs.service systemd-journal-flush.service systemd-update-utmp.service \
    systemd-sysusers.service systemd-pcrphase-sysinit.service kmod-static-nodes.service \
    systemd-tmpfiles-clean.timer systemd-journald-audit.socket \
    proc-sys-fs-binfmt_misc.automount systemd-ask-password-console.path \
    systemd-ask-password-wall.path sys-kernel-config.mount sys-kernel-debug.mount \
    sys-kernel-tracing.mount sys-fs-fuse-connections.mount dev-hugepages.mount; do
    ln -sf /dev/null "$units/$unit"
done

# A volatile journal (in the box's /run) that never drops a test's lines.
mkdir -p "$root/etc/systemd/journald.conf.d"
printf '[Journal]\nStorage=volatile\nRateLimitBurst=0\n' \
    > "$root/etc/systemd/journald.conf.d/sdbox.conf"
echo sdbox > "$root/etc/hostname"

# Make the overlay the root, drop the host's old root from view, and become systemd. The bounding
# set removes capabilities that would let the box change the (shared) host kernel or clock.
cd "$root"
mkdir -p .oldroot
pivot_root . .oldroot
cd /
umount -l /.oldroot
rmdir /.oldroot
exec env -i container=sdbox PATH=/usr/sbin:/usr/bin:/sbin:/bin \
    setpriv --bounding-set -sys_module,-sys_time,-sys_boot,-sys_rawio,-syslog,-wake_alarm \
    /lib/systemd/systemd --unit=sdbox.target --show-status=no
