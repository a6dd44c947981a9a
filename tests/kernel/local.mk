# SPDX-License-Identifier: LGPL-2.1-or-later
# Kernel-side tests of msharefs.  Both programs only make sense on the
# patched kernel, so they are built by "make check" but not listed in TESTS:
# the VM suite (tests/vm) runs them inside QEMU.  On a host without msharefs
# they skip with a reason (selftest: TAP "# SKIP", exit 0; ptdemo: exit 77).

# Process and /proc helpers; tests/bench/local.mk uses them too.
tests_kernel_process_sources = \
	tests/kernel/mshare-child.c \
	tests/kernel/mshare-child.h \
	tests/kernel/mshare-held-child.c \
	tests/kernel/mshare-held-child.h \
	tests/kernel/mshare-procfs.c \
	tests/kernel/mshare-procfs.h

# Helpers shared by both programs.
tests_kernel_common_sources = \
	$(tests_kernel_process_sources) \
	tests/kernel/mshare-ptmeasure.c \
	tests/kernel/mshare-ptmeasure.h \
	tests/kernel/mshare-region.c \
	tests/kernel/mshare-region.h

check_PROGRAMS += tests/kernel/msharefs-selftest
tests_kernel_msharefs_selftest_SOURCES = \
	$(tests_kernel_common_sources) \
	tests/kernel/selftest.h \
	tests/kernel/selftest-main.c \
	tests/kernel/selftest-util.c \
	tests/kernel/selftest-info.c \
	tests/kernel/selftest-generation.c \
	tests/kernel/selftest-fs.c \
	tests/kernel/selftest-size.c \
	tests/kernel/selftest-ioctl.c \
	tests/kernel/selftest-attach.c \
	tests/kernel/selftest-data.c \
	tests/kernel/selftest-lifetime.c \
	tests/kernel/selftest-perm.c \
	tests/kernel/selftest-concurrency.c \
	tests/kernel/selftest-ptflat.c \
	tests/kernel/selftest-rights.c \
	tests/kernel/selftest-safety.c \
	tests/kernel/selftest-secondary.c \
	tests/kernel/selftest-killable.c \
	tests/kernel/selftest-numa.c \
	tests/kernel/stalled-fuse.c \
	tests/kernel/stalled-fuse.h \
	tests/kernel/selftest-faults.c \
	tests/kernel/selftest-cgroup.c \
	tests/kernel/selftest-sysv.c \
	tests/kernel/selftest-sysv.h \
	tests/kernel/selftest-sysv-plain.c
tests_kernel_msharefs_selftest_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_kernel_msharefs_selftest_LDADD = $(CHECK_LIBS)

check_PROGRAMS += tests/kernel/mshare-ptdemo
tests_kernel_mshare_ptdemo_SOURCES = \
	$(tests_kernel_common_sources) \
	tests/kernel/mshare-ptdemo.c

# Moving the kernel pin: kernel/update-debian-version.sh, on the host.
TESTS += tests/kernel/test-update-debian-version.sh
dist_noinst_SCRIPTS += tests/kernel/test-update-debian-version.sh

# Data integrity under reclaim and compaction, run by the VM suite.
check_PROGRAMS += tests/kernel/mshare-torture
tests_kernel_mshare_torture_SOURCES = \
	tests/kernel/mshare-procfs.c \
	tests/kernel/mshare-procfs.h \
	tests/kernel/mshare-region.c \
	tests/kernel/mshare-region.h \
	tests/kernel/mshare-torture.c \
	tests/kernel/torture-pressure.c \
	tests/kernel/torture-pressure.h
