# SPDX-License-Identifier: LGPL-2.1-or-later
# kernel/: the msharefs patch series for Debian's linux-source-6.12 and the
# scripts that build it and run commands in a QEMU guest with it. Nothing here
# is compiled by make; it is shipped in the tarball.

dist_noinst_SCRIPTS += \
	kernel/build.sh \
	kernel/update-debian-version.sh \
	kernel/vm-run.sh \
	kernel/guest-init.sh \
	scripts/install-deps.sh

EXTRA_DIST += \
	kernel/UAPI.md \
	kernel/debian-version \
	kernel/config/qemu-guest.config \
	kernel/config/debug.config \
	kernel/config/deb.config

# The patch series, applied by kernel/build.sh in name order: the whole
# directory is distributed, so a renamed or added patch needs no edit here.
EXTRA_DIST += kernel/patches
