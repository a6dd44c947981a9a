/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A request that shared page tables cannot serve makes an SHM_SHARE_MMU
 * attachment the plain attachment of the same memory at the same address,
 * and is then served as for a plain one (patch 0051).  Each case runs the
 * same call on a plain attachment, the kernel's reference, and on a
 * shared one of the same segment, and compares result, errno, the bytes
 * and what the attachment then is.
 */
#include "selftest.h"
#include "selftest-sysv.h"

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include <unistd.h>

#define SEG_PAGES 8

#ifndef PR_SET_MDWE
#define PR_SET_MDWE 65
#define PR_MDWE_REFUSE_EXEC_GAIN 1
#endif
#ifndef __NR_mseal
#define __NR_mseal 462
#endif

/* A call on an attachment P of SEG_PAGES pages; DEST is free space. */
struct plain_case {
	const char *name;
	long (*call)(unsigned char *p, unsigned char *dest);
	/* where the segment's first page is mapped after the call */
	bool moves;
};

static long unmap_middle(unsigned char *p, unsigned char *dest)
{
	return munmap(p + 2 * ST_PAGE, ST_PAGE);
}

static long protect_read_only(unsigned char *p, unsigned char *dest)
{
	return mprotect(p, SEG_PAGES * ST_PAGE, PROT_READ);
}

static long protect_one_page(unsigned char *p, unsigned char *dest)
{
	return mprotect(p + ST_PAGE, ST_PAGE, PROT_NONE);
}

static long remap_elsewhere(unsigned char *p, unsigned char *dest)
{
	void *q = mremap(p, SEG_PAGES * ST_PAGE, SEG_PAGES * ST_PAGE,
			 MREMAP_MAYMOVE | MREMAP_FIXED, dest);

	return q == MAP_FAILED ? -1 : (long)(q == dest);
}

/* Advice that drops the read lock and takes it again (shmem) */
static long remove_page(unsigned char *p, unsigned char *dest)
{
	return madvise(p + ST_PAGE, ST_PAGE, MADV_REMOVE);
}

static long lock_pages(unsigned char *p, unsigned char *dest)
{
	return mlock(p, SEG_PAGES * ST_PAGE);
}

static long drop_pages(unsigned char *p, unsigned char *dest)
{
	return madvise(p, SEG_PAGES * ST_PAGE, MADV_DONTNEED);
}

static long map_over_one_page(unsigned char *p, unsigned char *dest)
{
	void *q = mmap(p + 3 * ST_PAGE, ST_PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);

	return q == MAP_FAILED ? -1 : (long)(q == p + 3 * ST_PAGE);
}

/* The segment of the case being run, for shmat() over an attachment */
static int case_segment;

static long reattach_in_place(unsigned char *p, unsigned char *dest)
{
	void *q = shmat(case_segment, p, SHM_REMAP);

	return q == (void *)-1 ? -1 : (long)(q == p);
}

static long advise_random_page(unsigned char *p, unsigned char *dest)
{
	return madvise(p + ST_PAGE, ST_PAGE, MADV_RANDOM);
}

static const struct plain_case plain_cases[] = {
	{ "munmap of a page", unmap_middle, false },
	{ "mprotect PROT_READ", protect_read_only, false },
	{ "mprotect of a page", protect_one_page, false },
	{ "mremap MREMAP_FIXED", remap_elsewhere, true },
	{ "mlock", lock_pages, false },
	{ "madvise MADV_DONTNEED", drop_pages, false },
	{ "mmap MAP_FIXED over a page", map_over_one_page, false },
	{ "shmat SHM_REMAP in place", reattach_in_place, false },
	{ "madvise MADV_RANDOM of a page", advise_random_page, false },
	{ "madvise MADV_REMOVE of a page", remove_page, false },
};

/* What a process sees of an attachment at P after the call. */
struct outcome {
	long ret;
	int err;
	size_t mismatches;	/* in the pages still the segment's */
	int store_signal;	/* of a store to the first page */
	char locked[32];	/* smaps Locked: of the first page's VMA */
};

static int store_first_page(void *arg)
{
	return probe_access(arg, true);
}

static void run_case(const struct plain_case *c, int id, int flags,
		     struct outcome *out)
{
	unsigned char *p = attach(id, flags);
	unsigned char *dest = free_address(SEG_PAGES * ST_PAGE);
	unsigned char *seg = c->moves ? dest : p;
	int status;

	errno = 0;
	out->ret = c->call(p, dest);
	out->err = out->ret < 0 ? errno : 0;
	/* Pages 0, 4 and 5 stay the segment's in every case */
	out->mismatches = pattern_mismatches(seg, ST_PAGE, 7) +
			  pattern_mismatches(seg + 4 * ST_PAGE, 2 * ST_PAGE,
					     8);
	status = run_child(store_first_page, seg);
	out->store_signal = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	st_smaps_field(seg, "Locked:", out->locked, sizeof(out->locked));
	ck_assert_msg(!is_shared_attachment(seg),
		      "%s: the attachment still shares tables", c->name);
	ck_assert_msg(shmdt(seg) == 0, "%s: shmdt: %s", c->name,
		      strerror(errno));
	/* The rest of a split attachment, if any */
	shmdt(seg + 4 * ST_PAGE);
	munmap(seg, SEG_PAGES * ST_PAGE);
}

static void check_case(const char *test, const struct plain_case *c)
{
	struct outcome plain, shared;
	unsigned char *keep;
	int id;

	if (no_share_mmu(test))
		return;
	id = new_segment(SEG_PAGES * ST_PAGE, 0600);
	case_segment = id;
	/* A third attachment keeps the segment, and checks the bytes */
	keep = attach(id, 0);
	fill_pattern(keep, ST_PAGE, 7);
	fill_pattern(keep + 4 * ST_PAGE, 2 * ST_PAGE, 8);

	run_case(c, id, 0, &plain);
	ck_assert_uint_eq(nattch(id), 1);
	run_case(c, id, SHM_SHARE_MMU, &shared);
	ck_assert_uint_eq(nattch(id), 1);

	ck_assert_msg(shared.ret == plain.ret && shared.err == plain.err,
		      "%s: %ld (%s) on a plain attachment, %ld (%s) on a shared one",
		      c->name, plain.ret, strerror(plain.err), shared.ret,
		      strerror(shared.err));
	ck_assert_msg(plain.ret >= 0, "%s failed on a plain attachment: %s",
		      c->name, strerror(plain.err));
	ck_assert_uint_eq(plain.mismatches, 0);
	ck_assert_uint_eq(shared.mismatches, 0);
	ck_assert_msg(shared.store_signal == plain.store_signal,
		      "%s: a store gives signal %d after a plain call, %d after a shared one",
		      c->name, plain.store_signal, shared.store_signal);
	ck_assert_msg(strcmp(shared.locked, plain.locked) == 0,
		      "%s: Locked:%s after a plain call,%s after a shared one",
		      c->name, plain.locked, shared.locked);
	ck_assert_uint_eq(pattern_mismatches(keep, ST_PAGE, 7), 0);
	ck_assert_int_eq(shmdt(keep), 0);
	remove_segment(id);
}

#define PLAIN_CASE_TEST(test, index)					\
	START_TEST(test)						\
	{								\
		check_case(#test, &plain_cases[index]);			\
	}								\
	END_TEST

PLAIN_CASE_TEST(sysv_plain_munmap_part, 0)
PLAIN_CASE_TEST(sysv_plain_mprotect_whole, 1)
PLAIN_CASE_TEST(sysv_plain_mprotect_part, 2)
PLAIN_CASE_TEST(sysv_plain_mremap_fixed, 3)
PLAIN_CASE_TEST(sysv_plain_mlock, 4)
PLAIN_CASE_TEST(sysv_plain_madvise_dontneed, 5)
PLAIN_CASE_TEST(sysv_plain_mmap_fixed_over_part, 6)
PLAIN_CASE_TEST(sysv_plain_shm_remap_in_place, 7)
PLAIN_CASE_TEST(sysv_plain_madvise_random_part, 8)
PLAIN_CASE_TEST(sysv_plain_madvise_remove, 9)

/* Advice that only sets flags, on all of it, keeps the tables shared. */
START_TEST(sysv_plain_flag_advice_keeps_sharing)
{
	unsigned long end;
	unsigned char *p;
	char flags[256];
	size_t len;
	int id;

	if (no_share_mmu("sysv_plain_flag_advice_keeps_sharing"))
		return;
	id = new_segment(SEG_PAGES * ST_PAGE, 0600);
	p = attach(id, SHM_SHARE_MMU);
	ck_assert_int_eq(maps_lookup(p, &end, NULL, 0), 0);
	len = end - (unsigned long)p;
	ck_assert_int_eq(madvise(p, len, MADV_RANDOM), 0);
	ck_assert_int_eq(madvise(p, len, MADV_DONTFORK), 0);
	ck_assert_int_eq(madvise(p, SEG_PAGES * ST_PAGE, MADV_POPULATE_WRITE),
			 0);
	ck_assert(is_shared_attachment(p));
	/* ... and those flags carry over to the plain attachment */
	ck_assert_int_eq(mprotect(p, ST_PAGE, PROT_READ), 0);
	ck_assert(!is_shared_attachment(p));
	st_smaps_field(p, "VmFlags:", flags, sizeof(flags));
	ck_assert_msg(strstr(flags, " dc") && strstr(flags, " rr"),
		      "MADV_DONTFORK and MADV_RANDOM lost: VmFlags:%s", flags);
	ck_assert_int_eq(shmdt(p), 0);
	ck_assert_uint_eq(nattch(id), 0);
	remove_segment(id);
}
END_TEST

/*
 * The only attachment of a removed segment: the segment lives on through
 * the replacement, and goes with the last piece.
 */
START_TEST(sysv_plain_removed_segment_survives)
{
	struct shmid_ds ds;
	unsigned char *p;
	int id;

	if (no_share_mmu("sysv_plain_removed_segment_survives"))
		return;
	id = new_segment(SEG_PAGES * ST_PAGE, 0600);
	p = attach(id, SHM_SHARE_MMU);
	fill_pattern(p, ST_PAGE, 3);
	fill_pattern(p + 2 * ST_PAGE, ST_PAGE, 4);
	remove_segment(id);
	ck_assert_int_eq(munmap(p + ST_PAGE, ST_PAGE), 0);
	ck_assert(!is_shared_attachment(p));
	ck_assert_uint_eq(pattern_mismatches(p, ST_PAGE, 3), 0);
	ck_assert_uint_eq(pattern_mismatches(p + 2 * ST_PAGE, ST_PAGE, 4), 0);
	/* Two pieces now, as for a plain attachment */
	ck_assert_int_eq(shmctl(id, IPC_STAT, &ds), 0);
	ck_assert_uint_eq(ds.shm_nattch, 2);
	/* shmdt() detaches both */
	ck_assert_int_eq(shmdt(p), 0);
	ST_ASSERT_ERRNO(shmctl(id, IPC_STAT, &ds), EINVAL);
}
END_TEST

/* Uid 65534, from root or already (the suite runs the tests as both). */
static int become_nobody(void)
{
	return geteuid() == ST_NOBODY ? 0 : st_become_nobody();
}

static rlim_t memlock_hard_limit(void)
{
	struct rlimit lim;

	return getrlimit(RLIMIT_MEMLOCK, &lim) == 0 ? lim.rlim_max : 0;
}

/*
 * mlockall(MCL_CURRENT) locks the segment's pages, within RLIMIT_MEMLOCK
 * as counted for the plain attachment (not the region's 512 GiB).
 */
static int lock_all_as_nobody(void *arg)
{
	unsigned char *p = arg;
	struct rlimit lim = { 256 * MIB, 256 * MIB };
	char locked[32];

	/* Already uid 65534 (the suite's nobody run): the soft limit only */
	if (geteuid() != 0)
		lim.rlim_max = memlock_hard_limit();
	if (setrlimit(RLIMIT_MEMLOCK, &lim) != 0 || become_nobody() != 0)
		return 10;
	if (mlockall(MCL_CURRENT) != 0)
		return 11;
	if (is_shared_attachment(p))
		return 12;
	st_smaps_field(p, "Locked:", locked, sizeof(locked));
	return atol(locked) * 1024 == SEG_PAGES * ST_PAGE ? 0 : 13;
}

START_TEST(sysv_plain_mlockall_current)
{
	unsigned char *p;
	char buf[64];
	int id, status;

	if (no_share_mmu("sysv_plain_mlockall_current"))
		return;
	if (geteuid() != 0 && memlock_hard_limit() < 256 * MIB) {
		st_skip("sysv_plain_mlockall_current",
			"RLIMIT_MEMLOCK's hard limit is below 256 MiB and only root may raise it");
		return;
	}
	id = new_segment(SEG_PAGES * ST_PAGE, 0666);
	p = attach(id, SHM_SHARE_MMU);
	status = run_child(lock_all_as_nobody, p);
	ck_assert_msg(exited_ok(status), "mlockall(MCL_CURRENT): %s",
		      describe_status(status, buf, sizeof(buf)));
	ck_assert(is_shared_attachment(p));
	ck_assert_int_eq(shmdt(p), 0);
	remove_segment(id);
}
END_TEST

/*
 * Child, uid 65534 with RLIMIT_MEMLOCK below the segment: after
 * mlockall(MCL_FUTURE), munmap() of a page of an attachment made before
 * it works and locks nothing, with the flag (ARG) as without it.
 */
static int unmap_under_mlockall_future(void *arg)
{
	int flags = *(int *)arg, id;
	struct rlimit lim = { 4 * ST_PAGE, 4 * ST_PAGE };
	char locked[32];
	unsigned char *p;

	if (setrlimit(RLIMIT_MEMLOCK, &lim) != 0 || become_nobody() != 0)
		return 10;
	id = shmget(IPC_PRIVATE, SEG_PAGES * ST_PAGE, IPC_CREAT | 0600);
	p = shmat(id, NULL, flags);
	if (id < 0 || p == (void *)-1)
		return 11;
	shmctl(id, IPC_RMID, NULL);
	p[0] = 1;
	if (mlockall(MCL_FUTURE) != 0)
		return 12;
	if (munmap(p + ST_PAGE, ST_PAGE) != 0)
		return 13;
	if (p[0] != 1)
		return 14;
	st_smaps_field(p, "Locked:", locked, sizeof(locked));
	return atol(locked) == 0 ? 0 : 15;
}

START_TEST(sysv_plain_after_mlockall_future)
{
	int flags[] = { 0, SHM_SHARE_MMU };
	char buf[64];

	if (no_share_mmu("sysv_plain_after_mlockall_future"))
		return;
	for (unsigned int i = 0; i < 2; i++) {
		int status = run_child(unmap_under_mlockall_future, &flags[i]);

		ck_assert_msg(exited_ok(status), "shmat flags 0%o: %s",
			      flags[i],
			      describe_status(status, buf, sizeof(buf)));
	}
}
END_TEST

/*
 * Child: PR_SET_MDWE after a writable executable shared attach refuses
 * the plain one, EACCES, and the attachment stays as it was.
 */
static int unmap_under_mdwe(void *arg)
{
	int id = *(int *)arg;
	unsigned char *p = shmat(id, NULL, SHM_SHARE_MMU | SHM_EXEC);

	if (p == (void *)-1)
		return 10;
	p[0] = 2;
	if (prctl(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN, 0, 0, 0) != 0)
		return 20;
	if (munmap(p + ST_PAGE, ST_PAGE) == 0 || errno != EACCES)
		return 11;
	if (p[0] != 2 || p[ST_PAGE] != 0)
		return 12;
	return is_shared_attachment(p) ? 0 : 13;
}

START_TEST(sysv_plain_refused_under_mdwe)
{
	char buf[64];
	int id, status;

	if (no_share_mmu("sysv_plain_refused_under_mdwe"))
		return;
	id = new_segment(SEG_PAGES * ST_PAGE, 0700);
	status = run_child(unmap_under_mdwe, &id);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 20)
		st_skip("sysv_plain_refused_under_mdwe",
			"PR_SET_MDWE not supported");
	else
		ck_assert_msg(exited_ok(status), "under PR_SET_MDWE: %s",
			      describe_status(status, buf, sizeof(buf)));
	remove_segment(id);
}
END_TEST

/* A sealed attachment stays shared, and mlock() skips it as before. */
START_TEST(sysv_plain_sealed_stays)
{
	unsigned long end;
	unsigned char *p;
	int id;

	if (no_share_mmu("sysv_plain_sealed_stays"))
		return;
	id = new_segment(SEG_PAGES * ST_PAGE, 0600);
	p = attach(id, SHM_SHARE_MMU);
	remove_segment(id);
	ck_assert_int_eq(maps_lookup(p, &end, NULL, 0), 0);
	if (syscall(__NR_mseal, p, end - (unsigned long)p, 0) != 0) {
		st_skip("sysv_plain_sealed_stays", "mseal: %s",
			strerror(errno));
		return;
	}
	ck_assert_int_eq(mlock(p, ST_PAGE), 0);
	/* Whole-process locking needs root's RLIMIT_MEMLOCK */
	if (geteuid() == 0) {
		ck_assert_int_eq(mlockall(MCL_CURRENT), 0);
		ck_assert_int_eq(munlockall(), 0);
	}
	ST_ASSERT_ERRNO(munmap(p + ST_PAGE, ST_PAGE), EPERM);
	ck_assert(is_shared_attachment(p));
}
END_TEST

/* Calls refused for their own arguments leave the attachment shared. */
START_TEST(sysv_plain_refused_calls_keep_sharing)
{
	unsigned char *p, *other;
	int id;

	if (no_share_mmu("sysv_plain_refused_calls_keep_sharing"))
		return;
	id = new_segment(SEG_PAGES * ST_PAGE, 0600);
	p = attach(id, SHM_SHARE_MMU);
	other = mmap(NULL, ST_PAGE, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(other, MAP_FAILED);
	/* An unaligned target */
	ck_assert_ptr_eq(mremap(other, ST_PAGE, ST_PAGE,
				MREMAP_MAYMOVE | MREMAP_FIXED, p + ST_PAGE + 1),
			 MAP_FAILED);
	ck_assert_int_eq(errno, EINVAL);
	/* MAP_FIXED_NOREPLACE over it */
	ck_assert_ptr_eq(mmap(p + ST_PAGE, ST_PAGE, PROT_READ,
			      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED |
			      MAP_FIXED_NOREPLACE, -1, 0), MAP_FAILED);
	ck_assert_int_eq(errno, EEXIST);
	ck_assert(is_shared_attachment(p));
	ck_assert_int_eq(munmap(other, ST_PAGE), 0);
	ck_assert_int_eq(shmdt(p), 0);
	remove_segment(id);
}
END_TEST

/*
 * Threads read an attachment while another thread makes it plain: a
 * fault in the replaced range waits for the mmap_lock and then finds the
 * plain attachment, so no reader faults or reads a stale byte.
 */
#define RACE_READERS 3
#define RACE_ROUNDS 40

struct race {
	_Atomic(unsigned char *) cur;	/* what the readers read */
	atomic_uint round;		/* bumped to retire an attachment */
	atomic_uint seen[RACE_READERS];	/* the round each reader is past */
	atomic_bool stop;
	atomic_ulong bad;
};

struct race_reader {
	struct race *race;
	unsigned int index;
};

static void *race_read(void *arg)
{
	struct race_reader *me = arg;
	struct race *race = me->race;

	while (!atomic_load(&race->stop)) {
		unsigned int round = atomic_load(&race->round);
		unsigned char *p = atomic_load(&race->cur);

		if (pattern_mismatches(p, ST_PAGE, 5) ||
		    pattern_mismatches(p + 8 * ST_PAGE, ST_PAGE, 6))
			atomic_fetch_add(&race->bad, 1);
		atomic_store(&race->seen[me->index], round);
	}
	return NULL;
}

/* Waits until every reader has started a read after round was bumped. */
static void race_retire(struct race *race, unsigned char *keep)
{
	unsigned int round;

	atomic_store(&race->cur, keep);
	round = atomic_fetch_add(&race->round, 1) + 1;
	for (unsigned int i = 0; i < RACE_READERS; i++)
		while (atomic_load(&race->seen[i]) < round)
			sched_yield();
	/* Each has re-read cur once more, so none still holds the old one */
	round = atomic_fetch_add(&race->round, 1) + 1;
	for (unsigned int i = 0; i < RACE_READERS; i++)
		while (atomic_load(&race->seen[i]) < round)
			sched_yield();
}

START_TEST(sysv_plain_racing_readers)
{
	struct race_reader readers[RACE_READERS];
	pthread_t threads[RACE_READERS];
	struct race race = { 0 };
	unsigned char *keep, *p;
	int id;

	if (no_share_mmu("sysv_plain_racing_readers"))
		return;
	id = new_segment(16 * ST_PAGE, 0600);
	keep = attach(id, 0);
	fill_pattern(keep, ST_PAGE, 5);
	fill_pattern(keep + 8 * ST_PAGE, ST_PAGE, 6);
	atomic_store(&race.cur, keep);
	for (unsigned int i = 0; i < RACE_READERS; i++) {
		readers[i] = (struct race_reader){ &race, i };
		ck_assert_int_eq(pthread_create(&threads[i], NULL, race_read,
						&readers[i]), 0);
	}
	for (unsigned int round = 0; round < RACE_ROUNDS; round++) {
		p = attach(id, SHM_SHARE_MMU);
		ck_assert(is_shared_attachment(p));
		atomic_store(&race.cur, p);
		usleep(1000);
		/* Pages 0 and 8 stay; the readers read them throughout */
		ck_assert_int_eq(munmap(p + 4 * ST_PAGE, ST_PAGE), 0);
		usleep(1000);
		race_retire(&race, keep);
		ck_assert_int_eq(shmdt(p), 0);
	}
	atomic_store(&race.stop, true);
	for (unsigned int i = 0; i < RACE_READERS; i++)
		pthread_join(threads[i], NULL);
	ck_assert_msg(atomic_load(&race.bad) == 0,
		      "%lu reads saw other bytes while attachments were replaced",
		      atomic_load(&race.bad));
	ck_assert_uint_eq(nattch(id), 1);
	ck_assert_int_eq(shmdt(keep), 0);
	remove_segment(id);
}
END_TEST

void register_sysv_plain_tests(void)
{
	static const struct selftest_group group = { "sysv_plain", 240 };

	selftest_add(&group, sysv_plain_munmap_part);
	selftest_add(&group, sysv_plain_mprotect_whole);
	selftest_add(&group, sysv_plain_mprotect_part);
	selftest_add(&group, sysv_plain_mremap_fixed);
	selftest_add(&group, sysv_plain_mlock);
	selftest_add(&group, sysv_plain_madvise_dontneed);
	selftest_add(&group, sysv_plain_mmap_fixed_over_part);
	selftest_add(&group, sysv_plain_shm_remap_in_place);
	selftest_add(&group, sysv_plain_madvise_random_part);
	selftest_add(&group, sysv_plain_madvise_remove);
	selftest_add(&group, sysv_plain_flag_advice_keeps_sharing);
	selftest_add(&group, sysv_plain_removed_segment_survives);
	selftest_add(&group, sysv_plain_mlockall_current);
	selftest_add(&group, sysv_plain_racing_readers);
	selftest_add(&group, sysv_plain_after_mlockall_future);
	selftest_add(&group, sysv_plain_refused_under_mdwe);
	selftest_add(&group, sysv_plain_sealed_stays);
	selftest_add(&group, sysv_plain_refused_calls_keep_sharing);
}
