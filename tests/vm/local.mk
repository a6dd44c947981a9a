# SPDX-License-Identifier: LGPL-2.1-or-later
# The VM suite: builds the patched kernel (kernel/build.sh), boots it in QEMU
# (kernel/vm-run.sh) and runs the kernel selftests, the shim's VM tests, a
# subset of the kernel's own mm selftests and the VmPTE demo inside it, on the
# default and on the debug kernel. It is one TAP producer; skip it with
# `./configure --disable-vm-tests` or `make check MSHARE_VM_TESTS=0`.
#
# automake builds check_PROGRAMS (msharefs-selftest, mshare-ptdemo) before it
# runs TESTS, so the guest programs exist when this suite starts.

TESTS += tests/vm/kernel-suite.sh

dist_noinst_SCRIPTS += \
	tests/vm/kernel-suite.sh \
	tests/vm/mm-selftests.sh \
	tests/vm/mm-selftests-guest.sh \
	tests/vm/main-job-guest.sh \
	tests/vm/pg-debian-guest.sh

EXTRA_DIST += \
	tests/vm/mm-selftests.list \
	run-all-tests \
	run-main-job \
	.ci/run \
	README.md \
	COPYING
