/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include "textfmt.h"

#define LOG_LINE_MAX 1024
#define PROGNAME_MAX 64

static enum shim_log_level log_level = SHIM_LOG_WARN;
static int log_fd = STDERR_FILENO;
static char log_progname[PROGNAME_MAX] = "?";
static int said_already[SHIM_REASON_COUNT];

static const char *const level_names[] = {
	[SHIM_LOG_ERROR] = "error",
	[SHIM_LOG_WARN] = "warn",
	[SHIM_LOG_INFO] = "info",
	[SHIM_LOG_DEBUG] = "debug",
};

void shim_log_init(enum shim_log_level level, const char *log_file,
		   const char *progname)
{
	log_level = level;
	shim_format(log_progname, sizeof(log_progname), "%s", progname);
	if (log_file && log_file[0]) {
		int fd = open(log_file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
			      0644);

		if (fd >= 0) {
			log_fd = fd;
		} else {
			int saved = errno;

			shim_log(SHIM_LOG_ERROR,
				 "cannot open MSHARE_SHIM_LOG_FILE=%s (%s): logging to stderr",
				 log_file, strerror(saved));
		}
	}
}

bool shim_log_enabled(enum shim_log_level level)
{
	return level <= log_level;
}

static void write_line(enum shim_log_level level, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

static void write_line(enum shim_log_level level, const char *fmt, va_list ap)
{
	char line[LOG_LINE_MAX];
	int saved_errno = errno;	/* callers log between a failure and return */
	size_t n = shim_format(line, sizeof(line), "mshare-shim[%s:%d]: %s: ",
			       log_progname, (int)getpid(), level_names[level]);

	if (n < sizeof(line))
		n += shim_vformat(line + n, sizeof(line) - n, fmt, ap);
	if (n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';

	for (size_t done = 0; done < n;) {
		ssize_t w = write(log_fd, line + done, n - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		done += (size_t)w;
	}
	errno = saved_errno;
}

void shim_log(enum shim_log_level level, const char *fmt, ...)
{
	va_list ap;

	if (!shim_log_enabled(level))
		return;
	va_start(ap, fmt);
	write_line(level, fmt, ap);
	va_end(ap);
}

void shim_log_once(enum shim_reason reason, enum shim_log_level level,
		   const char *fmt, ...)
{
	va_list ap;

	if (!shim_log_enabled(level) || reason >= SHIM_REASON_COUNT)
		return;
	if (__atomic_exchange_n(&said_already[reason], 1, __ATOMIC_RELAXED))
		return;
	va_start(ap, fmt);
	write_line(level, fmt, ap);
	va_end(ap);
}
