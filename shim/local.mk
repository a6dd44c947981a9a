# SPDX-License-Identifier: LGPL-2.1-or-later
# libmshare-shim: the LD_PRELOAD interposer and its pure, unit-tested core.

# The core decides and parses; it makes no interposed calls, so the unit
# tests link it directly.
noinst_LTLIBRARIES += shim/libmshare-shim-core.la
shim_libmshare_shim_core_la_SOURCES = \
	shim/config.c shim/config.h \
	shim/errtext.c shim/errtext.h \
	shim/keymatch.c shim/keymatch.h \
	shim/log-target.c shim/log-target.h \
	shim/mmap-plan.c shim/mmap-plan.h \
	shim/number.c shim/number.h \
	shim/pathglob.c shim/pathglob.h \
	shim/plan.c shim/plan.h \
	shim/size.c shim/size.h \
	shim/textfmt.c shim/textfmt.h \
	shim/unbacked-cache.c shim/unbacked-cache.h
shim_libmshare_shim_core_la_CFLAGS = $(AM_CFLAGS) -fvisibility=hidden

# Installed as $(libdir)/libmshare-shim.so; built as shim/.libs/libmshare-shim.so.
# Only the interposed SysV and mmap functions are exported (see SHIM_EXPORT).
lib_LTLIBRARIES += shim/libmshare-shim.la
shim_libmshare_shim_la_SOURCES = \
	shim/attach-table.c shim/attach-table.h \
	shim/interpose.c \
	shim/interpose-mmap.c shim/interpose-mmap.h \
	shim/log.c shim/log.h \
	shim/mmap-backed.c shim/mmap-backed.h \
	shim/mmap-raw.h \
	shim/mmap-region.c shim/mmap-region.h \
	shim/mmap-table.c shim/mmap-table.h \
	shim/region.c shim/region.h \
	shim/shim-state.h \
	shim/sysv-attach.c \
	shim/sysv-common.h \
	shim/sysv-control.c \
	shim/sysv-create.c \
	shim/sysv-kernel.c \
	shim/sysv.h \
	shim/uncancellable.c shim/uncancellable.h
shim_libmshare_shim_la_CFLAGS = $(AM_CFLAGS) -fvisibility=hidden -pthread
# The only configuration a set-user-ID program reads (see interpose.c).
shim_libmshare_shim_la_CPPFLAGS = $(AM_CPPFLAGS) \
	-DSHIM_SECURE_CONFIG='"$(sysconfdir)/libmshare-shim/secure.conf"'
shim_libmshare_shim_la_LDFLAGS = -module -avoid-version -shared -pthread
shim_libmshare_shim_la_LIBADD = shim/libmshare-shim-core.la -ldl

EXTRA_DIST += shim/README.md

# The preload library is loaded by path, never linked against through
# libtool, so its .la file is not installed; without it libtool's uninstall
# cannot find the .so, hence the hook.
install-exec-hook: install-exec-drop-la
install-exec-drop-la:
	rm -f '$(DESTDIR)$(libdir)/libmshare-shim.la'
uninstall-hook: uninstall-shim-so
uninstall-shim-so:
	rm -f '$(DESTDIR)$(libdir)/libmshare-shim.so'
.PHONY: install-exec-drop-la uninstall-shim-so
