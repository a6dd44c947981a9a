# SPDX-License-Identifier: LGPL-2.1-or-later
# conf/: ready profiles for mshare-run --profile and MSHARE_SHIM_CONFIG, the
# environment files that load the shim into a Debian PostgreSQL cluster, and
# the systemd units. Profiles go in $(pkgdatadir); mshare-run looks in
# $(sysconfdir)/libmshare-shim first, where local profiles go.
dist_pkgdata_DATA = \
	conf/README \
	conf/postgresql-sysv.conf \
	conf/postgresql-mmap.conf \
	conf/oracle-sga.conf \
	conf/oracle-amm.conf

# One environment file per PostgreSQL profile, with the installed paths.
pg_environment_files = \
	conf/postgresql-sysv.environment \
	conf/postgresql-mmap.environment
pkgdata_DATA = $(pg_environment_files)
CLEANFILES += $(pg_environment_files)
EXTRA_DIST += conf/postgresql.environment.in
pg_environment_gen = $(MKDIR_P) conf && sed \
	-e 's|@libdir[@]|$(libdir)|g' \
	-e 's|@pkgdatadir[@]|$(pkgdatadir)|g' \
	-e "s|@profile[@]|$$profile|g" \
	$(srcdir)/conf/postgresql.environment.in >$@.tmp && mv $@.tmp $@
conf/postgresql-sysv.environment: conf/postgresql.environment.in Makefile
	$(AM_V_GEN)profile=postgresql-sysv && $(pg_environment_gen)
conf/postgresql-mmap.environment: conf/postgresql.environment.in Makefile
	$(AM_V_GEN)profile=postgresql-mmap && $(pg_environment_gen)

# msharefs mounted at boot, and every PostgreSQL cluster ordered after it.
systemdunitdir = $(systemdsystemunitdir)
dist_systemdunit_DATA = conf/systemd/sys-fs-mshare.mount
pgdropindir = $(systemdsystemunitdir)/postgresql@.service.d
dist_pgdropin_DATA = conf/systemd/postgresql@.service.d/mshare.conf
