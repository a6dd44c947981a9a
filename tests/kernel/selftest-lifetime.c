/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * How long regions, mappings and attachments live: across fork, after the
 * creator exits, after MSHAREFS_UNMAP, after unlink (UAPI.md "Lifetime",
 * "MSHAREFS_UNMAP", "Attaching").
 */
#include "selftest.h"

#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static void drop_region(const char *path, int fd)
{
	ck_assert_int_eq(unlink(path), 0);
	close(fd);
}

static void assert_child(int status, const char *what)
{
	char buf[64];

	ck_assert_msg(exited_ok(status), "%s: child ended with %s", what,
		      describe_status(status, buf, sizeof(buf)));
}

/* ---- fork ---- */

static int child_reads_writes_unmaps(void *arg)
{
	unsigned char *p = arg;

	if (p[0] != 0x11)
		return 1;
	p[1] = 0x22;
	/* The child's detach must leave the parent's attachment alone. */
	if (munmap(p, st_align()) != 0)
		return 2;
	return probe_access(p, false) == SIGSEGV ? 0 : 3;
}

START_TEST(fork_child_inherits_attachment)
{
	char path[ST_PATH_MAX];
	int fd = st_region_anon(path, "fork", ST_PAGE);
	unsigned char *p = st_attach(fd, PROT_READ | PROT_WRITE);

	p[0] = 0x11;
	assert_child(run_child(child_reads_writes_unmaps, p), "inheriting child");
	ck_assert_uint_eq(p[1], 0x22);
	p[2] = 0x33;
	ck_assert_uint_eq(p[2], 0x33);
	ck_assert_int_eq(munmap(p, st_align()), 0);
	drop_region(path, fd);
}
END_TEST

static int child_must_not_have(void *arg)
{
	unsigned long end;
	char name[ST_PATH_MAX];

	if (maps_lookup(arg, &end, name, sizeof(name)) == 0)
		return 1;
	return probe_access(arg, false) == SIGSEGV ? 0 : 2;
}

START_TEST(fork_madv_dontfork)
{
	char path[ST_PATH_MAX];
	int fd = st_region_anon(path, "dontfork", ST_PAGE);
	unsigned char *p = st_attach(fd, PROT_READ | PROT_WRITE);

	p[0] = 1;
	ck_assert_int_eq(madvise(p, st_align(), MADV_DONTFORK), 0);
	assert_child(run_child(child_must_not_have, p), "MADV_DONTFORK child");
	ck_assert_uint_eq(p[0], 1);
	ck_assert_int_eq(madvise(p, st_align(), MADV_DOFORK), 0);
	ck_assert_int_eq(run_child(child_must_not_have, p) != 0, 1);
	ck_assert_int_eq(munmap(p, st_align()), 0);
	drop_region(path, fd);
}
END_TEST

static int child_touches_then_execs(void *arg)
{
	unsigned char *p = arg;

	p[ST_PAGE] = 0x44;
	execl("/bin/true", "true", (char *)NULL);
	return 99;	/* exec failed */
}

START_TEST(exec_drops_attachment_cleanly)
{
	char path[ST_PATH_MAX], buf[64];
	int fd = st_region_anon(path, "exec", 2 * ST_PAGE), status;
	unsigned char *p = st_attach(fd, PROT_READ | PROT_WRITE);

	p[0] = 0x43;
	/* exec unlinks the child from the shared tables; they stay intact. */
	status = run_child(child_touches_then_execs, p);
	ck_assert_msg(exited_ok(status), "child that exec'd: %s",
		      describe_status(status, buf, sizeof(buf)));
	ck_assert_uint_eq(p[0], 0x43);
	ck_assert_uint_eq(p[ST_PAGE], 0x44);
	ck_assert_int_eq(munmap(p, st_align()), 0);
	drop_region(path, fd);
}
END_TEST

/* ---- the creator leaves ---- */

static int creator_main(void *arg)
{
	const char *path = arg;
	unsigned char *p;
	int fd = mshare_create(path, 0600);

	if (fd < 0 || ftruncate(fd, (off_t)st_align()) != 0)
		return 1;
	if (mshare_map_anon(fd, 0, 16 * ST_PAGE, PROT_READ | PROT_WRITE) != 0)
		return 2;
	p = mshare_attach(fd, st_align(), PROT_READ | PROT_WRITE);
	if (p == MAP_FAILED)
		return 3;
	fill_pattern(p, 16 * ST_PAGE, 21);
	return 0;	/* exits attached, with the fd open: both go away */
}

START_TEST(lifetime_creator_exit)
{
	char path[ST_PATH_MAX];
	unsigned char *p;
	int fd;

	(void)st_align();	/* read it here: the creator must not fail on it */
	st_region_path(path, sizeof(path), "creator-exit");
	assert_child(run_child(creator_main, path), "creator");

	fd = open(path, O_RDWR | O_CLOEXEC);
	ck_assert_msg(fd >= 0, "region is gone with its creator: %s",
		      strerror(errno));
	p = st_attach(fd, PROT_READ | PROT_WRITE);
	ck_assert_uint_eq(pattern_mismatches(p, 16 * ST_PAGE, 21), 0);
	/* Still a live mapping, not a snapshot. */
	fill_pattern(p, 16 * ST_PAGE, 22);
	ck_assert_uint_eq(pattern_mismatches(p, 16 * ST_PAGE, 22), 0);
	ck_assert_int_eq(munmap(p, st_align()), 0);
	drop_region(path, fd);
}
END_TEST

/* ---- MSHAREFS_UNMAP reaches every attached process ---- */

#define UNMAP_BYTES (32 * ST_PAGE)

enum attacher_kind {
	ATTACH_AND_WRITE,	/* own attachment, wrote every page */
	ATTACH_AND_READ,	/* own attachment, read every page */
	ATTACH_UNTOUCHED,	/* own attachment, never touched */
	INHERITED,		/* the parent's attachment via fork */
	SPINNER,		/* reads in a loop while UNMAP runs */
};

struct attacher {
	enum attacher_kind kind;
	const char *path;
	unsigned char *inherited;	/* INHERITED, SPINNER */
	int ready_fd, go_fd;
	_Atomic unsigned long *reads;	/* SPINNER: successful reads so far */
};

/* Ends by SIGSEGV when it works; exit codes name the step that did not. */
static int attacher_main(void *arg)
{
	const struct attacher *a = arg;
	volatile unsigned char *p = a->inherited;
	unsigned sum = 0;
	size_t off;

	if (!p) {
		int fd = open(a->path, O_RDWR | O_CLOEXEC);

		if (fd < 0)
			return 10;
		p = mshare_attach(fd, st_align(), PROT_READ | PROT_WRITE);
		if (p == MAP_FAILED)
			return 11;
	}
	for (off = 0; off < UNMAP_BYTES; off += ST_PAGE) {
		if (a->kind == ATTACH_AND_WRITE)
			p[off] = (unsigned char)(off / ST_PAGE);
		else if (a->kind == ATTACH_AND_READ || a->kind == SPINNER)
			sum += p[off];
	}
	if (send_token(a->ready_fd) != 0)
		return 12;
	if (a->kind == SPINNER) {
		for (;;) {
			sum += p[UNMAP_BYTES - ST_PAGE];
			atomic_fetch_add(a->reads, 1);
		}
	}
	if (recv_token(a->go_fd) != 0)
		return 13;
	sum += p[0];
	p[ST_PAGE] = 1;
	return 20 + (int)(sum & 1);	/* still alive: the UNMAP missed us */
}

START_TEST(unmap_segv_in_every_attacher)
{
	static const enum attacher_kind kinds[] = {
		ATTACH_AND_WRITE, ATTACH_AND_READ, ATTACH_UNTOUCHED, INHERITED,
		SPINNER,
	};
	static const char *const names[] = {
		"attached+wrote", "attached+read", "attached, untouched",
		"inherited", "spinning reader",
	};
	enum { N = sizeof(kinds) / sizeof(kinds[0]) };
	char path[ST_PATH_MAX], buf[64];
	struct attacher att[N];
	pid_t pids[N];
	int ready[2], go[2], fd, i;
	_Atomic unsigned long *reads;
	unsigned long reads_at_return;
	unsigned char *p;

	fd = st_region_anon(path, "unmap-all", UNMAP_BYTES);
	p = st_attach(fd, PROT_READ | PROT_WRITE);
	memset(p, 0x5c, UNMAP_BYTES);	/* the parent touched everything too */
	reads = mmap(NULL, ST_PAGE, PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(reads, MAP_FAILED);
	ck_assert_int_eq(pipe(ready), 0);
	ck_assert_int_eq(pipe(go), 0);

	for (i = 0; i < N; i++) {
		att[i] = (struct attacher){
			.kind = kinds[i], .path = path, .ready_fd = ready[1],
			.go_fd = go[0], .reads = reads,
			.inherited = (kinds[i] == INHERITED ||
				      kinds[i] == SPINNER) ? p : NULL,
		};
		pids[i] = spawn_child(attacher_main, &att[i]);
		ck_assert_int_gt(pids[i], 0);
	}
	close(ready[1]);	/* EOF instead of a hang if they all die */
	for (i = 0; i < N; i++)
		ck_assert_msg(recv_token_within(ready[0], 60) == 0,
			      "an attacher died or hung before it was ready");
	/* Let the spinner run with warm TLB entries for a moment. */
	usleep(100 * 1000);

	ST_ASSERT_RC(mshare_unmap(fd, 0, UNMAP_BYTES), 0);
	reads_at_return = atomic_load(reads);
	for (i = 0; i < N; i++)
		ck_assert_int_eq(send_token(go[1]), 0);

	for (i = 0; i < N; i++) {
		int status = wait_child_within(pids[i], 20);

		ck_assert_msg(killed_by(status, SIGSEGV),
			      "%s attacher: want SIGSEGV after UNMAP, got %s",
			      names[i], describe_status(status, buf, sizeof(buf)));
	}
	/*
	 * A read that began before the UNMAP returned may be counted after
	 * it; any more means a stale translation outlived the call.
	 */
	ck_assert_msg(atomic_load(reads) <= reads_at_return + 1,
		      "spinner read %lu times after UNMAP returned",
		      atomic_load(reads) - reads_at_return);
	ck_assert_int_eq(probe_access(p, false), SIGSEGV);
	ck_assert_int_eq(probe_access(p + UNMAP_BYTES - 1, true), SIGSEGV);

	/* The range can be mapped again and holds fresh memory. */
	ST_ASSERT_RC(mshare_map_anon(fd, 0, ST_PAGE, PROT_READ | PROT_WRITE), 0);
	ck_assert_uint_eq(p[0], 0);
	ck_assert_int_eq(munmap(p, st_align()), 0);
	munmap(reads, ST_PAGE);
	drop_region(path, fd);
}
END_TEST

/* ---- unlink while attached ---- */

static int child_uses_unlinked(void *arg)
{
	unsigned char *p = arg;

	if (p[0] != 0x61)
		return 1;
	p[1] = 0x62;
	return 0;
}

START_TEST(unlink_while_attached)
{
	char path[ST_PATH_MAX];
	struct stat new_st;
	int fd = st_region_anon(path, "unlink", 4 * ST_PAGE), fresh;
	unsigned char *p = st_attach(fd, PROT_READ | PROT_WRITE), *q;

	p[0] = 0x61;
	ck_assert_int_eq(unlink(path), 0);
	close(fd);	/* only the mapping holds the region now */

	ST_ASSERT_ERRNO(open(path, O_RDWR | O_CLOEXEC), ENOENT);
	ck_assert_uint_eq(p[0], 0x61);
	assert_child(run_child(child_uses_unlinked, p), "child after unlink");
	ck_assert_uint_eq(p[1], 0x62);
	p[3 * ST_PAGE] = 0x63;	/* a page never touched before unlink */
	ck_assert_uint_eq(p[3 * ST_PAGE], 0x63);

	/* The same name now creates a different, fresh region. */
	fresh = mshare_create(path, 0600);
	ck_assert_msg(fresh >= 0, "re-create: %s", strerror(errno));
	ck_assert_int_eq(fstat(fresh, &new_st), 0);
	ck_assert_int_eq(new_st.st_size, 0);
	ck_assert_int_eq(ftruncate(fresh, (off_t)st_align()), 0);
	ST_ASSERT_RC(mshare_map_anon(fresh, 0, ST_PAGE, PROT_READ | PROT_WRITE), 0);
	q = st_attach(fresh, PROT_READ | PROT_WRITE);
	ck_assert_uint_eq(q[0], 0);
	q[0] = 0x71;
	ck_assert_uint_eq(p[0], 0x61);
	ck_assert_int_eq(munmap(q, st_align()), 0);
	ck_assert_int_eq(munmap(p, st_align()), 0);
	drop_region(path, fresh);
}
END_TEST

void register_lifetime_tests(void)
{
	static const struct selftest_group group = { "lifetime", 120 };

	selftest_add(&group, fork_child_inherits_attachment);
	selftest_add(&group, fork_madv_dontfork);
	selftest_add(&group, exec_drops_attachment_cleanly);
	selftest_add(&group, lifetime_creator_exit);
	selftest_add(&group, unmap_segv_in_every_attacher);
	selftest_add(&group, unlink_while_attached);
}
