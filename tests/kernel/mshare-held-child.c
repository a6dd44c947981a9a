/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Held children; see mshare-held-child.h. */
#include "mshare-held-child.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/resource.h>
#include <unistd.h>

#include "mshare-child.h"

/* What the child needs from its parent's stack (fork copies it). */
struct held_start {
	int (*fn)(void *arg, const struct held_child_io *io);
	void *arg;
	struct held_child_io io;
};

/*
 * Closes every descriptor above stderr except KEEP_A and KEEP_B.  Without
 * this a child would hold the release pipes of the children started before
 * it, and they would never see EOF.
 */
static void close_other_fds(int keep_a, int keep_b)
{
	unsigned int lo = (unsigned int)(keep_a < keep_b ? keep_a : keep_b);
	unsigned int hi = (unsigned int)(keep_a < keep_b ? keep_b : keep_a);

	if (lo > 3)
		close_range(3, lo - 1, 0);
	if (hi > lo + 1)
		close_range(lo + 1, hi - 1, 0);
	close_range(hi + 1, ~0u, 0);
}

static int held_child_main(void *arg)
{
	const struct held_start *start = arg;

	close_other_fds(start->io.result_fd, start->io.release_fd);
	return start->fn(start->arg, &start->io);
}

int held_child_start(struct held_child *child,
		     int (*fn)(void *arg, const struct held_child_io *io),
		     void *arg)
{
	struct held_start start = { .fn = fn, .arg = arg };
	int result[2], release[2];

	if (pipe2(result, O_CLOEXEC) != 0)
		return -1;
	if (pipe2(release, O_CLOEXEC) != 0) {
		close(result[0]);
		close(result[1]);
		return -1;
	}
	start.io.result_fd = result[1];
	start.io.release_fd = release[0];
	child->pid = spawn_child(held_child_main, &start);
	/* The child's ends: only the child may hold them, or EOF never comes. */
	close(result[1]);
	close(release[0]);
	child->result_fd = result[0];
	child->release_fd = release[1];
	if (child->pid < 0) {
		close(result[0]);
		close(release[1]);
		return -1;
	}
	return 0;
}

int held_child_result(struct held_child *child, void *buf, size_t len)
{
	ssize_t n;

	/* One read: a write of at most PIPE_BUF bytes arrives whole. */
	do
		n = read(child->result_fd, buf, len);
	while (n < 0 && errno == EINTR);
	close(child->result_fd);
	child->result_fd = -1;
	return n == (ssize_t)len ? 0 : -1;
}

int held_child_release(struct held_child *child)
{
	if (child->result_fd >= 0)
		close(child->result_fd);
	close(child->release_fd);
	return wait_child(child->pid);
}

int held_child_send(const struct held_child_io *io, const void *buf,
		    size_t len)
{
	return write(io->result_fd, buf, len) == (ssize_t)len ? 0 : -1;
}

void held_child_wait(const struct held_child_io *io)
{
	char c;

	while (read(io->release_fd, &c, 1) > 0)
		;
}

int held_child_reserve_fds(int children, const char *who)
{
	struct rlimit lim;
	rlim_t want = (rlim_t)children + 64;

	if (getrlimit(RLIMIT_NOFILE, &lim) != 0)
		return -1;
	if (lim.rlim_cur >= want)
		return 0;
	if (lim.rlim_max != RLIM_INFINITY && lim.rlim_max < want) {
		fprintf(stderr, "%s: %d processes need %llu descriptors, the hard limit is %llu\n",
			who, children, (unsigned long long)want,
			(unsigned long long)lim.rlim_max);
		return -1;
	}
	lim.rlim_cur = want;
	if (setrlimit(RLIMIT_NOFILE, &lim) != 0) {
		fprintf(stderr, "%s: setrlimit(RLIMIT_NOFILE): %m\n", who);
		return -1;
	}
	return 0;
}
