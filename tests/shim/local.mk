# SPDX-License-Identifier: LGPL-2.1-or-later
# Tests of libmshare-shim.  test-core and test-passthrough run on any host;
# vm-shim-tests.sh needs msharefs and is run by the VM suite inside QEMU.

# Every Check program here ends in the same runner.
tests_shim_check_runner = tests/shim/check-runner.c tests/shim/check-runner.h
# The core tests load configurations from a made-up environment.
tests_shim_fake_env = tests/shim/fake-env.c tests/shim/fake-env.h

check_PROGRAMS += tests/shim/test-core
tests_shim_test_core_SOURCES = tests/shim/test-core.c $(tests_shim_check_runner) $(tests_shim_fake_env)
tests_shim_test_core_CPPFLAGS = $(AM_CPPFLAGS) $(shim_cppflags)
tests_shim_test_core_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_shim_test_core_LDADD = shim/libmshare-shim-core.la $(CHECK_LIBS)
TESTS += tests/shim/test-core

check_PROGRAMS += tests/shim/test-mmap-core
tests_shim_test_mmap_core_SOURCES = tests/shim/test-mmap-core.c $(tests_shim_check_runner) $(tests_shim_fake_env)
tests_shim_test_mmap_core_CPPFLAGS = $(AM_CPPFLAGS) $(shim_cppflags)
tests_shim_test_mmap_core_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_shim_test_mmap_core_LDADD = shim/libmshare-shim-core.la $(CHECK_LIBS)
TESTS += tests/shim/test-mmap-core

check_PROGRAMS += tests/shim/test-unbacked-cache
tests_shim_test_unbacked_cache_SOURCES = tests/shim/test-unbacked-cache.c $(tests_shim_check_runner)
tests_shim_test_unbacked_cache_CPPFLAGS = $(AM_CPPFLAGS) $(shim_cppflags)
tests_shim_test_unbacked_cache_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) -pthread
tests_shim_test_unbacked_cache_LDFLAGS = -pthread
tests_shim_test_unbacked_cache_LDADD = shim/libmshare-shim-core.la $(CHECK_LIBS)
TESTS += tests/shim/test-unbacked-cache

# A SysV program whose output must not change under the shim.
check_PROGRAMS += tests/shim/shm-ops
tests_shim_shm_ops_SOURCES = tests/shim/shm-ops.c
TESTS += tests/shim/test-passthrough.sh
dist_noinst_SCRIPTS += tests/shim/test-passthrough.sh

# The in-VM suite and its helper program.
check_PROGRAMS += tests/shim/shim-vm-helper
tests_shim_shim_vm_helper_SOURCES = tests/shim/shim-vm-helper.c \
	tests/kernel/mshare-procfs.c tests/kernel/mshare-procfs.h
tests_shim_shim_vm_helper_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/tests/kernel
tests_shim_shim_vm_helper_CFLAGS = $(AM_CFLAGS) -pthread
tests_shim_shim_vm_helper_LDFLAGS = -pthread
dist_noinst_SCRIPTS += tests/shim/vm-shim-tests.sh
dist_noinst_SCRIPTS += tests/shim/vm-unbacked-cache-tests.sh
dist_noinst_SCRIPTS += tests/shim/vm-shim-kernel-tables.sh
dist_noinst_SCRIPTS += tests/shim/vm-shim-kernel-rights.sh
dist_noinst_SCRIPTS += tests/shim/vm-kernel-sysv-common.sh

# The in-VM suite of the mmap paths (MSHARE_SHIM_FILES / MSHARE_SHIM_ANON).
check_PROGRAMS += tests/shim/mmap-helper
tests_shim_mmap_helper_SOURCES = tests/shim/mmap-helper.c
tests_shim_mmap_helper_LDADD = -lrt
dist_noinst_SCRIPTS += tests/shim/vm-mmap-tests.sh
TESTS += tests/shim/test-mmap-passthrough.sh
dist_noinst_SCRIPTS += tests/shim/test-mmap-passthrough.sh

# Makes a tmpfs directory pass for msharefs, so the suite's logic also runs
# on hosts without our kernel (test-fake-msharefs.sh).  A preloadable
# object, built as a "program" linked -shared.
check_PROGRAMS += tests/shim/fake-msharefs.so
tests_shim_fake_msharefs_so_SOURCES = tests/shim/fake-msharefs.c
tests_shim_fake_msharefs_so_CFLAGS = $(AM_CFLAGS) -fPIC -fvisibility=hidden
tests_shim_fake_msharefs_so_LDFLAGS = -Xcompiler -shared
tests_shim_fake_msharefs_so_LDADD = -ldl
TESTS += tests/shim/test-fake-msharefs.sh
dist_noinst_SCRIPTS += tests/shim/test-fake-msharefs.sh

# Threads and signal handlers against the mmap paths (fake and VM).
check_PROGRAMS += tests/shim/mmap-race
tests_shim_mmap_race_SOURCES = tests/shim/mmap-race.c
tests_shim_mmap_race_CFLAGS = $(AM_CFLAGS) -pthread
tests_shim_mmap_race_LDFLAGS = -pthread
TESTS += tests/shim/test-fake-mmap.sh
dist_noinst_SCRIPTS += tests/shim/test-fake-mmap.sh

# The shim's own descriptors in a program that takes over every fd number.
check_PROGRAMS += tests/shim/fd-reuse
tests_shim_fd_reuse_SOURCES = tests/shim/fd-reuse.c
check_PROGRAMS += tests/shim/syslog-sink
tests_shim_syslog_sink_SOURCES = tests/shim/syslog-sink.c
TESTS += tests/shim/test-shim-fds.sh
dist_noinst_SCRIPTS += tests/shim/test-shim-fds.sh

# mmap(MAP_FIXED) over backed mappings with one of the shim's steps failing.
check_PROGRAMS += tests/shim/mmap-fixed-fail
tests_shim_mmap_fixed_fail_SOURCES = tests/shim/mmap-fixed-fail.c

# Calls whose results must be the kernel's, with and without the shim.
check_PROGRAMS += tests/shim/mmap-fidelity
tests_shim_mmap_fidelity_SOURCES = tests/shim/mmap-fidelity.c

# Secure execution: a set-user-ID copy of a program linked with the shim.
check_PROGRAMS += tests/shim/secure-probe
tests_shim_secure_probe_SOURCES = tests/shim/secure-probe.c
tests_shim_secure_probe_LDADD = shim/libmshare-shim.la
tests_shim_secure_probe_LDFLAGS = -no-install
# The same shim, but its trusted secure.conf is in the build tree, where
# the test can put one owned by root: the path is compiled in, and the
# installed one ($(sysconfdir)) is no test's to write.
check_LTLIBRARIES += tests/shim/libmshare-shim-securetest.la
tests_shim_libmshare_shim_securetest_la_SOURCES = $(shim_libmshare_shim_la_SOURCES)
tests_shim_libmshare_shim_securetest_la_CFLAGS = $(shim_libmshare_shim_la_CFLAGS)
tests_shim_libmshare_shim_securetest_la_CPPFLAGS = $(AM_CPPFLAGS) $(shim_cppflags) \
	-DSHIM_SECURE_CONFIG='"$(abs_top_builddir)/tests/shim/secure-etc/secure.conf"'
tests_shim_libmshare_shim_securetest_la_LDFLAGS = $(shim_libmshare_shim_la_LDFLAGS) -rpath /nowhere
tests_shim_libmshare_shim_securetest_la_LIBADD = $(shim_libmshare_shim_la_LIBADD)
check_PROGRAMS += tests/shim/secure-probe-trusted
tests_shim_secure_probe_trusted_SOURCES = tests/shim/secure-probe.c
tests_shim_secure_probe_trusted_LDADD = tests/shim/libmshare-shim-securetest.la
tests_shim_secure_probe_trusted_LDFLAGS = -no-install
TESTS += tests/shim/test-shim-secure.sh
dist_noinst_SCRIPTS += tests/shim/test-shim-secure.sh

# No libc function that allocates or translates is imported by the shim.
TESTS += tests/shim/test-shim-imports.sh
dist_noinst_SCRIPTS += tests/shim/test-shim-imports.sh

# shim/'s layers depend one way: sources and built objects.
TESTS += tests/shim/test-shim-layering.sh
dist_noinst_SCRIPTS += tests/shim/test-shim-layering.sh
