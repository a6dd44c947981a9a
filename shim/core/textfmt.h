/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A tiny formatter into caller-supplied buffers.  The shim formats log lines
 * and region paths with it instead of stdio because its callers may run in
 * any context (inside a program's malloc, after fork in a multi-threaded
 * parent): it never allocates, takes no locks and touches no FILE.
 *
 * Supported: %s %c %d %i %u %o %x %X %p %%, the length modifiers l ll z, a
 * '0' flag and a field width (as in %08x).  Output is always NUL-terminated
 * and silently truncated to the buffer.
 */
#ifndef SHIM_TEXTFMT_H
#define SHIM_TEXTFMT_H

#include <stdarg.h>
#include <stddef.h>

/* Returns the length the full text would have had (like snprintf). */
size_t shim_vformat(char *buf, size_t size, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));
size_t shim_format(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
