/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Process helpers; see mshare-child.h. */
#include "mshare-child.h"

#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

pid_t spawn_child(int (*fn)(void *), void *arg)
{
	pid_t parent = getpid();
	pid_t pid;

	fflush(NULL);	/* don't let the child replay buffered output */
	pid = fork();
	if (pid != 0)
		return pid;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)	/* parent died before prctl() */
		_exit(127);
	_exit(fn(arg));
}

int wait_child(pid_t pid)
{
	int status;

	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			return -1;
	}
	return status;
}

int wait_child_within(pid_t pid, int seconds)
{
	int status, waited_ms;

	for (waited_ms = 0; waited_ms < seconds * 1000; waited_ms += 10) {
		pid_t got = waitpid(pid, &status, WNOHANG);

		if (got == pid)
			return status;
		if (got < 0 && errno != EINTR)
			return -1;
		usleep(10 * 1000);
	}
	kill(pid, SIGKILL);
	return wait_child(pid);
}

int run_child(int (*fn)(void *), void *arg)
{
	pid_t pid = spawn_child(fn, arg);

	return pid < 0 ? -1 : wait_child(pid);
}

bool exited_ok(int status)
{
	return status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

bool killed_by(int status, int sig)
{
	return status != -1 && WIFSIGNALED(status) && WTERMSIG(status) == sig;
}

const char *describe_status(int status, char *buf, size_t len)
{
	if (status == -1)
		snprintf(buf, len, "wait failed");
	else if (WIFEXITED(status))
		snprintf(buf, len, "exit %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, len, "signal %d (%s)", WTERMSIG(status),
			 strsignal(WTERMSIG(status)));
	else
		snprintf(buf, len, "status 0x%x", status);
	return buf;
}

static sigjmp_buf probe_env;

static void probe_handler(int sig)
{
	siglongjmp(probe_env, sig);
}

int probe_access(volatile unsigned char *p, bool write)
{
	struct sigaction sa, old_segv, old_bus;
	int sig;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = probe_handler;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, &old_segv);
	sigaction(SIGBUS, &sa, &old_bus);
	sig = sigsetjmp(probe_env, 1);
	if (sig == 0) {
		if (write)
			*p = *p;	/* keeps the data, needs write access */
		else
			(void)*p;
	}
	sigaction(SIGSEGV, &old_segv, NULL);
	sigaction(SIGBUS, &old_bus, NULL);
	return sig;
}

int send_token(int fd)
{
	char c = 'x';
	ssize_t n;

	do
		n = write(fd, &c, 1);
	while (n < 0 && errno == EINTR);
	return n == 1 ? 0 : -1;
}

int recv_token(int fd)
{
	char c;
	ssize_t n;

	do
		n = read(fd, &c, 1);
	while (n < 0 && errno == EINTR);
	return n == 1 ? 0 : -1;
}

int recv_token_within(int fd, int seconds)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	int n;

	do
		n = poll(&pfd, 1, seconds * 1000);
	while (n < 0 && errno == EINTR);
	return n == 1 ? recv_token(fd) : -1;
}
