# SPDX-License-Identifier: LGPL-2.1-or-later
# conf/: ready profiles for mshare-run --profile and MSHARE_SHIM_CONFIG,
# installed in $(pkgdatadir); mshare-run looks in $(sysconfdir)/libmshare-shim
# first, where local profiles go.  The systemd drop-in example is not a
# profile: it goes to $(pkgdatadir)/systemd, with the installed paths.
dist_pkgdata_DATA = \
	conf/README \
	conf/postgresql-sysv.conf \
	conf/postgresql-mmap.conf \
	conf/oracle-sga.conf \
	conf/oracle-amm.conf

systemdexampledir = $(pkgdatadir)/systemd
systemdexample_DATA = conf/installed/postgresql@.service.d-mshare.conf
EXTRA_DIST += conf/postgresql@.service.d-mshare.conf
CLEANFILES += $(systemdexample_DATA)
conf/installed/postgresql@.service.d-mshare.conf: $(srcdir)/conf/postgresql@.service.d-mshare.conf Makefile
	$(AM_V_GEN)$(installed_paths_recipe)
