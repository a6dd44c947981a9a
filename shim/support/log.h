/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Logging without stdio or malloc: each message is formatted on the stack
 * and written with one write(2), so lines from several processes appending
 * to one file do not interleave.  Format of every line:
 *   mshare-shim[PROGNAME:PID]: LEVEL: text
 */
#ifndef SHIM_LOG_H
#define SHIM_LOG_H

#include <stdbool.h>

#include "core/config.h"
#include "core/plan.h"

/*
 * Opens MSHARE_SHIM_LOG_FILE (append, 0600, no symbolic link) if given,
 * else logs to stderr.  Each line first checks that the descriptor is
 * still the file it was (reopening the log file, or dropping the line for
 * stderr), so a program that closed it and opened its own data under the
 * number never gets the shim's lines in its data.
 */
void shim_log_init(enum shim_log_level level, const char *log_file,
		   const char *progname);

/*
 * MSHARE_SHIM_SYSLOG: each line is also sent to this datagram socket
 * (/dev/log), facility user, in one send().
 */
void shim_log_syslog_init(const char *socket_path);

bool shim_log_enabled(enum shim_log_level level);

void shim_log(enum shim_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * Success worth knowing without asking for it (a region made, its page
 * tables shared): printed at the default level, warn, and above, with the
 * label "notice"; MSHARE_SHIM_LOG=error silences it.
 */
void shim_log_notice(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * "Say why once": the first message for a reason kind is logged, later
 * ones for the same kind are dropped, in the whole tree of processes the
 * program forks (before or after the message): the flags live in shared
 * memory mapped at the first fork.  An exec'd program starts afresh.
 */
void shim_log_once(enum shim_reason reason, enum shim_log_level level,
		   const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Moves the "said once" flags to shared memory; before each fork. */
void shim_log_share_before_fork(void);

#endif
