/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "support/log.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/errtext.h"
#include "core/log-target.h"
#include "core/textfmt.h"
#include "support/mmap-raw.h"

#define LOG_LINE_MAX 1024
#define PROGNAME_MAX 64

static enum shim_log_level log_level = SHIM_LOG_WARN;

/*
 * Where lines go, and what that was when the shim opened (or found) it.  A
 * program may close every descriptor and open its own files under the
 * same numbers: before each line the descriptor must still be the same
 * file, else the log file is opened again (stderr: the line is dropped).
 */
static int log_fd = STDERR_FILENO;
static dev_t log_dev;
static ino_t log_ino;
static bool log_known;			/* dev/ino recorded */
static char log_path[PATH_MAX];		/* "" = stderr */

/*
 * Optional copy of each line to syslog: a datagram socket connected to
 * MSHARE_SHIM_SYSLOG (/dev/log), one send() of a line prepared on the
 * stack; no libc syslog() inside interposed calls.  Kept identified like
 * log_fd: a descriptor that changed is connected again.
 */
static int syslog_fd = -1;
static dev_t syslog_dev;
static ino_t syslog_ino;
static char syslog_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
static char log_progname[PROGNAME_MAX] = "?";
/*
 * "Said once" flags, shared by the whole process tree: from the first fork
 * on, a shared anonymous page, which fork children inherit as shared
 * memory, so that 1500 forked backends meeting the same fallback print one
 * line, not 1500, whichever of them meets it first.  An exec'd program
 * starts a new tree (it may be configured differently).  Before the first
 * fork, or if the page cannot be had, the process's own flags.
 */
static int said_here[SHIM_REASON_COUNT];
static int *said_already = said_here;

static const char *const level_names[] = {
	[SHIM_LOG_ERROR] = "error",
	[SHIM_LOG_WARN] = "warn",
	[SHIM_LOG_INFO] = "info",
	[SHIM_LOG_DEBUG] = "debug",
};

/*
 * Append-only, never through a symbolic link, not inherited by exec'd
 * programs, readable by the user alone: the lines may name files and
 * segments.  Moved to a number of at least 100, out of the way of
 * programs that dup2() onto low numbers.
 */
static int open_log_file(const char *path)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC |
		      O_NOFOLLOW | O_NOCTTY, 0600);

	if (fd < 0)
		return -1;

	int high = fcntl(fd, F_DUPFD_CLOEXEC, 100);

	if (high >= 0) {
		close(fd);
		fd = high;
	}
	return fd;
}

static void remember_identity(void)
{
	struct stat st;

	log_known = fstat(log_fd, &st) == 0;
	if (log_known) {
		log_dev = st.st_dev;
		log_ino = st.st_ino;
	}
}

static bool same_identity(void)
{
	struct stat st;

	return log_known && fstat(log_fd, &st) == 0 && st.st_dev == log_dev &&
	       st.st_ino == log_ino;
}

/*
 * Standard error that changed since start: followed if the program
 * redirected it to a pipe, socket or terminal (see log-target.h).
 */
static bool stderr_followed(void)
{
	struct stat st;
	int fl = fcntl(STDERR_FILENO, F_GETFL);

	if (fl < 0 || fstat(STDERR_FILENO, &st) != 0 ||
	    !shim_stderr_follows(st.st_mode, fl))
		return false;
	remember_identity();
	return log_known;
}

/* Is log_fd still ours to write?  Reopens the log file if need be. */
static bool log_target_ok(void)
{
	if (same_identity())
		return true;
	if (!log_path[0])
		return stderr_followed();	/* gone, or a file: dropped */
	/* Do not close log_fd: the number may be the program's by now. */
	log_fd = open_log_file(log_path);
	remember_identity();
	return log_fd >= 0 && log_known;
}

static void syslog_connect(void)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct stat st;
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	syslog_fd = -1;
	if (fd < 0)
		return;
	shim_format(addr.sun_path, sizeof(addr.sun_path), "%s", syslog_path);
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0 ||
	    fstat(fd, &st) != 0) {
		close(fd);
		return;
	}

	int high = fcntl(fd, F_DUPFD_CLOEXEC, 100);

	if (high >= 0) {
		close(fd);
		fd = high;
	}
	syslog_fd = fd;
	syslog_dev = st.st_dev;
	syslog_ino = st.st_ino;
}

/* syslog severities for the shim's levels; notice is 5. */
static const int severity[] = {
	[SHIM_LOG_ERROR] = 3, [SHIM_LOG_WARN] = 4,
	[SHIM_LOG_INFO] = 6, [SHIM_LOG_DEBUG] = 7,
};

/* line: "mshare-shim[...]: level: text\n"; one datagram, facility user. */
static void send_to_syslog(int sev, const char *line, size_t n)
{
	char datagram[LOG_LINE_MAX + 16];
	struct stat st;

	if (!syslog_path[0])
		return;
	if (syslog_fd < 0 || fstat(syslog_fd, &st) != 0 ||
	    st.st_dev != syslog_dev || st.st_ino != syslog_ino)
		syslog_connect();
	if (syslog_fd < 0)
		return;

	size_t head = shim_format(datagram, sizeof(datagram), "<%d>", 8 + sev);

	if (n > sizeof(datagram) - head)
		n = sizeof(datagram) - head;
	memcpy(datagram + head, line, n);
	/* Without the newline: syslog adds its own framing. */
	if (n && datagram[head + n - 1] == '\n')
		n--;
	send(syslog_fd, datagram, head + n, MSG_DONTWAIT | MSG_NOSIGNAL);
}

void shim_log_syslog_init(const char *socket_path)
{
	if (!socket_path || !socket_path[0] ||
	    strlen(socket_path) >= sizeof(syslog_path))
		return;
	shim_format(syslog_path, sizeof(syslog_path), "%s", socket_path);
	syslog_connect();
}

/*
 * Mapped at the first fork, not at setup: a page mapped at setup sits
 * among the program's own mappings, and the instruction-clock benchmark
 * measured every unrelated mmap+munmap and shmat+shmdt 6-7 % slower with
 * it (the kernel's placement and merging of the program's mappings), in
 * programs that never fork as well.
 */
void shim_log_share_before_fork(void)
{
	void *page;

	if (said_already != said_here)
		return;
	page = raw_mmap(NULL, sizeof(said_here), PROT_READ | PROT_WRITE,
			MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (page == MAP_FAILED)
		return;
	memcpy(page, said_here, sizeof(said_here));
	said_already = page;
}

void shim_log_init(enum shim_log_level level, const char *log_file,
		   const char *progname)
{
	log_level = level;
	shim_format(log_progname, sizeof(log_progname), "%s", progname);
	remember_identity();	/* stderr, for now */
	if (log_file && log_file[0]) {
		int fd = open_log_file(log_file);

		if (fd >= 0) {
			log_fd = fd;
			shim_format(log_path, sizeof(log_path), "%s", log_file);
			remember_identity();
		} else {
			int saved = errno;

			shim_log(SHIM_LOG_ERROR,
				 "cannot open MSHARE_SHIM_LOG_FILE=%s (%s): logging to stderr",
				 log_file, shim_errno_text(saved));
		}
	}
}

bool shim_log_enabled(enum shim_log_level level)
{
	return level <= log_level;
}

static void write_line(int sev, const char *level_name, const char *fmt,
		       va_list ap) __attribute__((format(printf, 3, 0)));

static void write_line(int sev, const char *level_name, const char *fmt,
		       va_list ap)
{
	char line[LOG_LINE_MAX];
	int saved_errno = errno;	/* callers log between a failure and return */
	size_t n = shim_format(line, sizeof(line), "mshare-shim[%s:%d]: %s: ",
			       log_progname, (int)getpid(), level_name);

	if (n < sizeof(line))
		n += shim_vformat(line + n, sizeof(line) - n, fmt, ap);
	if (n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';

	send_to_syslog(sev, line, n);
	if (!log_target_ok()) {
		errno = saved_errno;
		return;
	}
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
	write_line(severity[level], level_names[level], fmt, ap);
	va_end(ap);
}

void shim_log_notice(const char *fmt, ...)
{
	va_list ap;

	if (!shim_log_enabled(SHIM_LOG_WARN))
		return;
	va_start(ap, fmt);
	write_line(5, "notice", fmt, ap);
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
	write_line(severity[level], level_names[level], fmt, ap);
	va_end(ap);
}
