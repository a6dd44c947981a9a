/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Shared declarations of msharefs-selftest: the test registry, per-run
 * names and scratch places, and assertion shorthands for "fails with errno".
 *
 * Tests run in Check's forked children.  A failed ck_assert leaves the child
 * at once, so every region a test creates carries the runner's prefix and the
 * runner sweeps leftovers after each test case (selftest-main.c).  Helper
 * processes a test forks must report through their exit status and never call
 * ck_assert themselves.
 */
#ifndef SELFTEST_H
#define SELFTEST_H

#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "mshare-child.h"
#include "mshare-procfs.h"
#include "mshare-region.h"

#define ST_PATH_MAX 512
#define ST_PAGE ((uint64_t)4096)

/* A group becomes one Check TCase, with one timeout for its tests. */
struct selftest_group {
	const char *name;
	double timeout_s;	/* real time under QEMU TCG, before CK_TIMEOUT_MULTIPLIER */
};

void selftest_add(const struct selftest_group *group, const TTest *test);

/* Each test file registers its tests here (called once from main). */
void register_info_tests(void);
void register_generation_tests(void);
void register_fs_tests(void);
void register_size_tests(void);
void register_ioctl_tests(void);
void register_attach_tests(void);
void register_data_tests(void);
void register_lifetime_tests(void);
void register_perm_tests(void);
void register_concurrency_tests(void);
void register_ptflat_tests(void);
void register_rights_tests(void);
void register_safety_tests(void);
void register_secondary_tests(void);
void register_killable_tests(void);
void register_numa_tests(void);
void register_fault_tests(void);
void register_cgroup_tests(void);
void register_sysv_tests(void);
void register_sysv_plain_tests(void);

/* Prefix "st-<runner pid>-" that marks regions of this run for cleanup. */
extern pid_t st_runner_pid;

/* The mount's alignment (mshare_info), read once per test process. */
uint64_t st_align(void);

/* "<mount>/st-<runner>-<pid>-<n>-<tag>": unique per call. */
void st_region_path(char *buf, size_t len, const char *tag);

/* Creates a fresh region (mode 0600), unsized; fills PATH. Returns the fd. */
int st_region_new(char *path, const char *tag);

/* st_region_new() + size set to one alignment unit. */
int st_region_sized(char *path, const char *tag);

/* st_region_sized() + anonymous read/write memory at [0, MAP_SIZE). */
int st_region_anon(char *path, const char *tag, uint64_t map_size);

/* The files the mount makes (mshare_info, mshare_generation), by NAME: */
/* a regular file of root's, mode 0444, */
void st_check_fixed_file_mode(const char *name);
/* that cannot be unlinked, renamed away or replaced by a rename onto it. */
void st_check_fixed_file_stays(const char *name);

/* Attaches the whole region (size from fstat) with PROT, or fails the test. */
void *st_attach(int fd, int prot);

/* Scratch directory of this run on $TMPDIR (default /tmp), and a new file in it. */
const char *st_tmpdir(void);
int st_tmpfile(char *path, const char *tag, off_t size);

/*
 * Reports that (part of) a test could not run here and why: a line on
 * stderr, and one in ST_SKIP_LOG that the runner copies into the TAP stream
 * as a comment (Check itself has no "skipped" result; the test passes).
 */
#define ST_SKIP_LOG "skips.log"
void st_skip(const char *test, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The rest of the line FIELD ("VmFlags:", "Rss:") of ADDR's VMA in smaps. */
void st_smaps_field(const void *addr, const char *field, char *value,
		    size_t len);

/* Drops to uid and gid 65534 with no groups; 0 or -1. */
#define ST_NOBODY 65534
int st_become_nobody(void);

/* Code that returns 42 (mov $42, %eax; ret), and a child that calls ARG: */
/* exit 0 if it ran and returned 42. */
extern const unsigned char st_code_ret42[6];
int st_call_code(void *arg);

/* Fills LEN bytes with a pattern that depends on SEED and the position. */
void fill_pattern(void *p, size_t len, uint32_t seed);
/* Number of 8-byte words in [P, P+LEN) that differ from fill_pattern(SEED). */
size_t pattern_mismatches(const void *p, size_t len, uint32_t seed);

/* EXPR must return -1 with errno ERR. */
#define ST_ASSERT_ERRNO(expr, err)					\
	do {								\
		long st_rc_;						\
		int st_errno_;						\
		errno = 0;						\
		st_rc_ = (long)(expr);					\
		st_errno_ = errno;					\
		ck_assert_msg(st_rc_ == -1 && st_errno_ == (err),	\
			      "%s: want -1 errno %s, got %ld errno %s",	\
			      #expr, strerrorname_np(err), st_rc_,	\
			      st_errno_ ? strerrorname_np(st_errno_) : "0"); \
	} while (0)

/* EXPR returns a positive errno (the mshare_* wrappers); it must be ERR. */
#define ST_ASSERT_RC(expr, err)						\
	do {								\
		int st_rc_ = (expr);					\
		ck_assert_msg(st_rc_ == (err), "%s: want %s, got %s",	\
			      #expr, (err) ? strerrorname_np(err) : "0", \
			      st_rc_ ? strerrorname_np(st_rc_) : "0");	\
	} while (0)

/* mmap-like EXPR must return MAP_FAILED with errno ERR (and unmap a success). */
#define ST_ASSERT_MMAP_ERRNO(expr, len, err)				\
	do {								\
		void *st_p_;						\
		int st_errno_;						\
		errno = 0;						\
		st_p_ = (expr);						\
		st_errno_ = errno;					\
		if (st_p_ != MAP_FAILED)				\
			munmap(st_p_, (len));				\
		ck_assert_msg(st_p_ == MAP_FAILED && st_errno_ == (err), \
			      "%s: want MAP_FAILED errno %s, got %p errno %s", \
			      #expr, strerrorname_np(err), st_p_,	\
			      st_errno_ ? strerrorname_np(st_errno_) : "0"); \
	} while (0)

/* EXPR (a syscall returning -1/errno) must succeed. */
#define ST_ASSERT_SYSCALL_OK(expr)					\
	do {								\
		long st_rc_;						\
		errno = 0;						\
		st_rc_ = (long)(expr);					\
		ck_assert_msg(st_rc_ != -1, "%s failed: %s", #expr,	\
			      strerror(errno));				\
	} while (0)

#endif /* SELFTEST_H */
