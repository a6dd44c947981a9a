/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Where a log line may go when standard error is no longer what it was at
 * start: pure decisions, unit-tested (test-core), used by log.c.
 */
#ifndef SHIM_LOG_TARGET_H
#define SHIM_LOG_TARGET_H

#include <stdbool.h>
#include <sys/types.h>

/*
 * fd 2 now names another file than at start (st_mode and the open flags
 * of what is there now).  Programs redirect their standard error with
 * dup2() onto fd 2: to a pipe (PostgreSQL's logging collector), a socket
 * (a journal), a terminal or /dev/null; the shim follows them there.  A
 * regular file is not followed: a program that closed fd 2 and opened its
 * own data file got that number, and a line of the shim's would corrupt
 * it.  Neither is anything not open for writing.
 */
bool shim_stderr_follows(mode_t mode, int open_flags);

#endif
