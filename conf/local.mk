# SPDX-License-Identifier: LGPL-2.1-or-later
# conf/: ready profiles for mshare-run --profile and MSHARE_SHIM_CONFIG, and
# a systemd drop-in example.  Installed in $(pkgdatadir); mshare-run looks in
# $(sysconfdir)/libmshare-shim first, where local profiles go.
dist_pkgdata_DATA = \
	conf/README \
	conf/postgresql-sysv.conf \
	conf/postgresql-mmap.conf \
	conf/oracle-sga.conf \
	conf/oracle-amm.conf \
	conf/postgresql@.service.d-mshare.conf
