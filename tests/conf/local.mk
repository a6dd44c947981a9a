# SPDX-License-Identifier: LGPL-2.1-or-later
# conf/'s systemd units and PostgreSQL environment files, checked on the host
# (the VM proves them with a real cluster: tests/vm/pg-debian-guest.sh).
TESTS += tests/conf/test-conf.sh
dist_noinst_SCRIPTS += tests/conf/test-conf.sh
# The test compares the environment files with the configured paths.
AM_TESTS_ENVIRONMENT += \
	conf_libdir='$(libdir)' conf_pkgdatadir='$(pkgdatadir)'; \
	export conf_libdir conf_pkgdatadir;
