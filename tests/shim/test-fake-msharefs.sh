#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Runs vm-shim-tests.sh on this host against fake-msharefs.so: a tmpfs
# directory that passes for msharefs.  It checks the shim's whole backed
# path (regions, attach by id, nattch, RMID, IPC_SET, planted files, races,
# unprivileged use) everywhere; what only the kernel can show (shared page
# tables, aligned addresses, file mappings: see fake-msharefs.c) is left to
# the VM run.  As root it also switches to uid 65534; as any other user
# those few tests are skipped.

set -u
builddir=${top_builddir:-.}
builddir=$(cd "$builddir" && pwd)
fake_so=$builddir/tests/shim/fake-msharefs.so

# Not root: the suite skips its tests of another user (uid 65534).
if ! command -v ipcmk >/dev/null ||
   { [ "$(id -u)" = 0 ] && ! command -v setpriv >/dev/null; }; then
	echo "1..0 # SKIP needs ipcmk (and as root setpriv) from util-linux"
	exit 0
fi
dir=$(mktemp -d /dev/shm/fake-msharefs.XXXXXX) || exit 99
# The shim's path calls beneath the mount, by the fake (fake-msharefs.c):
# it reaches every name there through a descriptor of the mount's root.
pathlog=$(mktemp /dev/shm/fake-msharefs-paths.XXXXXX) || exit 99
chmod 0666 "$pathlog"
trap 'rm -rf "$dir" "$pathlog"' EXIT
chmod 1777 "$dir"
# The real alignment: the shim's arithmetic is exercised as in the VM.
echo 549755813888 >"$dir/mshare_info"
chmod 0444 "$dir/mshare_info"

FAKE_MSHAREFS_DIR=$dir FAKE_MSHAREFS_PATH_LOG=$pathlog SHIM_TEST_MOUNT=$dir \
SHIM_TEST_PRELOAD=$fake_so SHIM_TEST_FAKE=1 top_builddir=$builddir \
	sh "$(dirname "$0")/vm-shim-tests.sh"
rc=$?
# The suite printed its plan first: a path call fails the script instead.
if [ -s "$pathlog" ]; then
	echo "# the shim named files on the mount by path, not through its root's descriptor:"
	sort -k2,2 -u "$pathlog" | head -10 | sed 's/^/#   /'
	exit 1
fi
exit $rc
