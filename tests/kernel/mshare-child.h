/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Process helpers for tests that need other processes: run a function in a
 * child, decode its wait status, and probe whether an access faults without
 * killing the caller.
 */
#ifndef MSHARE_CHILD_H
#define MSHARE_CHILD_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/*
 * Forks; the child gets SIGKILL if the caller dies (so a timed-out test
 * leaves nothing behind) and leaves with _exit(FN(ARG)), never exit(), so it
 * runs none of the parent's atexit handlers.  Returns the pid or -1.
 */
pid_t spawn_child(int (*fn)(void *), void *arg);

/* waitpid() that retries on EINTR; returns the wait status or -1. */
int wait_child(pid_t pid);

/*
 * wait_child() that gives up after SECONDS: the child is then killed with
 * SIGKILL and its status (killed by signal 9) returned, so a child that
 * should have died but did not cannot hang the test.
 */
int wait_child_within(pid_t pid, int seconds);

/* spawn_child() + wait_child(). */
int run_child(int (*fn)(void *), void *arg);

bool exited_ok(int status);
bool killed_by(int status, int sig);

/* "exit 3", "signal 11 (Segmentation fault)", ... into BUF. */
const char *describe_status(int status, char *buf, size_t len);

/*
 * Reads (or writes, if WRITE) the byte at P with SIGSEGV/SIGBUS caught.
 * Returns 0 if the access worked, else the signal number it raised.
 */
int probe_access(volatile unsigned char *p, bool write);

/* One-byte pipe handshakes between a test and its children. */
int send_token(int fd);
int recv_token(int fd);	/* 0 on a byte, -1 on EOF or error */
int recv_token_within(int fd, int seconds);	/* -1 also on timeout */

#endif /* MSHARE_CHILD_H */
