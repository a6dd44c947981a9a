# SPDX-License-Identifier: LGPL-2.1-or-later
# debian/: the libmshare-shim and mshare-tools packages.  `make
# check-packages` builds them from `make dist`'s tarball with
# dpkg-buildpackage (nocheck: the suites run elsewhere), runs lintian and
# checks their contents; run-all-tests runs it.  Not part of make check: it
# needs debhelper and lintian, and about a minute.
EXTRA_DIST += \
	debian/changelog \
	debian/control \
	debian/copyright \
	debian/libmshare-shim.install \
	debian/libmshare-shim.lintian-overrides \
	debian/mshare-tools.install \
	debian/rules \
	debian/source/format \
	debian/local.mk \
	debian/test-packages.sh

check-packages: dist
	$(SHELL) $(srcdir)/debian/test-packages.sh '$(abs_top_builddir)/$(PACKAGE)-$(VERSION).tar.gz'
.PHONY: check-packages
