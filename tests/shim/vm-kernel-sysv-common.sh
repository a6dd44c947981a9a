# SPDX-License-Identifier: LGPL-2.1-or-later
# Sourced by the VM scripts that test the shim on the kernel's
# shmat(SHM_SHARE_MMU) path (vm-shim-kernel-tables.sh,
# vm-shim-kernel-rights.sh), with "here" set to their directory:
#   kernel_sysv_start TAG   skips unless root on such a kernel, makes the
#                           scratch directory $work and loads tap.sh
#   kernel_sysv_tools       copies the helper and the shim into $work,
#                           where uid 65534 can run them (Bail out! if
#                           they are not built); call it once the
#                           script's cleanup trap is set
#   plain ARGS...           the helper without the shim
#   as_nobody COMMAND...    COMMAND as uid and gid 65534, no groups
#   files_of_mount          the number of regions and directories on $mount

builddir=${top_builddir:-$(cd "$here/../.." && pwd)}
mount=/sys/fs/mshare
sysctl=/proc/sys/kernel/shm_share_mmu

kernel_sysv_start() {
	if [ "$(id -u)" != 0 ]; then
		echo "1..0 # SKIP must run as root (it switches to uid 65534 itself)"
		exit 0
	fi
	if [ ! -e "$sysctl" ]; then
		echo "1..0 # SKIP this kernel has no shmat(SHM_SHARE_MMU) ($sysctl)"
		exit 0
	fi
	work=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX") || exit 99
	chmod 755 "$work"
	. "$here/../tap.sh"
}

kernel_sysv_tools() {
	if ! cp "$builddir/tests/shim/shim-vm-helper" "$work/helper" ||
	   ! cp "$builddir/shim/.libs/libmshare-shim.so" "$work/libmshare-shim.so"; then
		echo "Bail out! helper or shim not built in $builddir"
		exit 1
	fi
	chmod 755 "$work/helper" "$work/libmshare-shim.so"
}

plain() { "$work/helper" "$@"; }
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
files_of_mount() {
	find "$mount" -maxdepth 1 ! -name mshare_info ! -name mshare_generation \
	     ! -path "$mount" | wc -l
}
