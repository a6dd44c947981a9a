/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A held child: a child process that sends its caller one fixed-size result
 * over a pipe and then stays alive until released.  The page-table
 * measurements use it so that every child still holds its mapping while
 * the caller reads system-wide counters such as PageTables.
 */
#ifndef MSHARE_HELD_CHILD_H
#define MSHARE_HELD_CHILD_H

#include <stddef.h>
#include <sys/types.h>

/* The caller's end. */
struct held_child {
	pid_t pid;
	int result_fd;		/* the child writes its one result here */
	int release_fd;		/* closing it lets the child finish */
};

/* The child's end, handed to its function. */
struct held_child_io {
	int result_fd, release_fd;
};

/*
 * Starts FN(ARG, IO) in a child (spawn_child()) that keeps no descriptor
 * above stderr but its two pipe ends, so it cannot hold the release pipes
 * of children started before it open.  FN sends its result with
 * held_child_send(), waits with held_child_wait() and returns the exit
 * status.  Returns 0, or -1 (errno set) with nothing left to clean up.
 */
int held_child_start(struct held_child *child,
		     int (*fn)(void *arg, const struct held_child_io *io),
		     void *arg);

/*
 * Reads the child's result of LEN bytes into BUF and closes the result
 * pipe.  LEN must not exceed PIPE_BUF, so that the child's one write
 * arrives whole.  Returns 0, or -1 if the child died (or failed) before
 * sending it.
 */
int held_child_result(struct held_child *child, void *buf, size_t len);

/* Lets the child finish; returns its wait status (see wait_child()). */
int held_child_release(struct held_child *child);

/* In the child: sends the result.  Returns 0, or -1 on a short write. */
int held_child_send(const struct held_child_io *io, const void *buf,
		    size_t len);

/* In the child: blocks until the caller releases it (EOF on the pipe). */
void held_child_wait(const struct held_child_io *io);

/*
 * The caller keeps one release pipe per held child: N children need N
 * descriptors at once, more than the usual soft limit of 1024 allows.
 * Raises the soft RLIMIT_NOFILE to N plus some slack; returns 0, or -1
 * with a message on stderr (prefixed by WHO) when the hard limit is lower.
 */
int held_child_reserve_fds(int children, const char *who);

#endif /* MSHARE_HELD_CHILD_H */
