/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * shmat(SHM_SHARE_MMU): a SysV segment attached through the page tables of
 * a region the kernel keeps for it (UAPI.md "SysV segments: one memory").
 * The segment's memory stays its own: each test compares a shared
 * attachment with a plain one of the same segment, made without the flag,
 * which is what a process without the shim gets.
 */
#include "selftest.h"
#include "selftest-sysv.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <unistd.h>

/* Skips the test (true) where the kernel has no SHM_SHARE_MMU. */
bool no_share_mmu(const char *test)
{
	if (access(SHM_SHARE_MMU_SYSCTL, F_OK) == 0)
		return false;
	st_skip(test, "%s is absent: a kernel without SHM_SHARE_MMU",
		SHM_SHARE_MMU_SYSCTL);
	return true;
}

int new_segment(size_t size, int mode)
{
	int id = shmget(IPC_PRIVATE, size, IPC_CREAT | mode);

	ck_assert_msg(id >= 0, "shmget %zu bytes: %s", size, strerror(errno));
	return id;
}

void remove_segment(int id)
{
	ck_assert_int_eq(shmctl(id, IPC_RMID, NULL), 0);
}

unsigned char *attach(int id, int flags)
{
	void *p = shmat(id, NULL, flags);

	ck_assert_msg(p != (void *)-1, "shmat(%d, NULL, 0%o): %s", id, flags,
		      strerror(errno));
	return p;
}

bool is_shared_attachment(const void *p)
{
	int shared = smaps_shares_tables(p);

	ck_assert_msg(shared >= 0, "no VMA starts at %p", p);
	return shared;
}

unsigned long nattch(int id)
{
	struct shmid_ds ds;

	ck_assert_int_eq(shmctl(id, IPC_STAT, &ds), 0);
	return ds.shm_nattch;
}

/* The resident bytes /proc/sysvipc/shm (ipcs -m -u) shows for ID. */
static long sysvipc_rss(int id)
{
	char line[512];
	long rss = -1;
	FILE *f = fopen("/proc/sysvipc/shm", "re");

	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f)) {
		long key, shmid, fields[14];

		/* key shmid perms size cpid lpid nattch uid gid cuid cgid */
		/* atime dtime ctime rss swap */
		if (sscanf(line, "%ld %ld %ld %ld %ld %ld %ld %ld %ld %ld %ld %ld %ld %ld %ld %ld",
			   &key, &shmid, &fields[0], &fields[1], &fields[2],
			   &fields[3], &fields[4], &fields[5], &fields[6],
			   &fields[7], &fields[8], &fields[9], &fields[10],
			   &fields[11], &fields[12], &fields[13]) == 16 &&
		    shmid == id)
			rss = fields[12];
	}
	fclose(f);
	return rss;
}

/* ---- one memory ---- */

START_TEST(sysv_shared_and_plain_see_the_same_bytes)
{
	const size_t size = 4 * MIB;
	unsigned char *shared, *plain;
	char name[ST_PATH_MAX];
	unsigned long end;
	int id;

	if (no_share_mmu("sysv_shared_and_plain_see_the_same_bytes"))
		return;
	id = new_segment(size, 0600);
	shared = attach(id, SHM_SHARE_MMU);
	plain = attach(id, 0);
	ck_assert_msg(is_shared_attachment(shared),
		      "shmat(SHM_SHARE_MMU) gave a plain attachment");
	ck_assert_msg(!is_shared_attachment(plain),
		      "shmat() without the flag shares tables");
	ck_assert_uint_eq(nattch(id), 2);
	ck_assert_int_eq(maps_lookup(shared, &end, name, sizeof(name)), 0);
	ck_assert_msg(strncmp(name, "/SYSV00000000", 13) == 0,
		      "the attachment is named %s", name);
	/*
	 * Its file, reachable by root through map_files, cannot be written
	 * or truncated: it must never get pages of its own.
	 */
	if (geteuid() == 0) {
		char link[ST_PATH_MAX];
		int fd;

		snprintf(link, sizeof(link), "/proc/self/map_files/%lx-%lx",
			 (unsigned long)shared, end);
		fd = open(link, O_RDWR);
		ck_assert_msg(fd < 0 && errno == EPERM,
			      "open(%s, O_RDWR): fd %d, %s", link, fd,
			      fd < 0 ? strerror(errno) : "opened");
	}

	fill_pattern(shared, size / 2, 11);
	fill_pattern(plain + size / 2, size / 2, 12);
	ck_assert_uint_eq(pattern_mismatches(plain, size / 2, 11), 0);
	ck_assert_uint_eq(pattern_mismatches(shared + size / 2, size / 2, 12),
			  0);
	/* ipcs -m -u: each page once, written through either attachment */
	ck_assert_int_eq(sysvipc_rss(id), (long)size);

	ck_assert_int_eq(shmdt(shared), 0);
	ck_assert_uint_eq(nattch(id), 1);
	ck_assert_uint_eq(pattern_mismatches(plain, size / 2, 11), 0);
	ck_assert_int_eq(shmdt(plain), 0);
	ck_assert_uint_eq(nattch(id), 0);
	remove_segment(id);
}
END_TEST

struct writer_job {
	int id;
	int flags;		/* for shmat() */
	unsigned int slot;
};

#define SLOT_SIZE (64 * 1024UL)

/* Child: attaches on its own and fills its slot with its pattern. */
static int write_slot(void *arg)
{
	const struct writer_job *job = arg;
	unsigned char *p = shmat(job->id, NULL, job->flags);

	if (p == (void *)-1)
		return 10;
	fill_pattern(p + job->slot * SLOT_SIZE, SLOT_SIZE, 100 + job->slot);
	return shmdt(p) == 0 ? 0 : 11;
}

/*
 * Four shared and four plain attachers write a slot each, all at once, the
 * first shared ones racing to make the region; every slot is then there
 * for both kinds of reader.
 */
START_TEST(sysv_mixed_attachers_write_one_memory)
{
	struct writer_job jobs[8];
	pid_t pids[8];
	unsigned char *shared, *plain;
	unsigned int i;
	int id;

	if (no_share_mmu("sysv_mixed_attachers_write_one_memory"))
		return;
	id = new_segment(8 * SLOT_SIZE, 0600);
	for (i = 0; i < 8; i++) {
		jobs[i] = (struct writer_job){ id, i % 2 ? 0 : SHM_SHARE_MMU,
					       i };
		pids[i] = spawn_child(write_slot, &jobs[i]);
		ck_assert_int_gt(pids[i], 0);
	}
	for (i = 0; i < 8; i++) {
		char buf[64];
		int status = wait_child(pids[i]);

		ck_assert_msg(exited_ok(status), "writer %u: %s", i,
			      describe_status(status, buf, sizeof(buf)));
	}
	shared = attach(id, SHM_SHARE_MMU | SHM_RDONLY);
	plain = attach(id, SHM_RDONLY);
	ck_assert(is_shared_attachment(shared));
	for (i = 0; i < 8; i++) {
		ck_assert_msg(pattern_mismatches(shared + i * SLOT_SIZE,
						 SLOT_SIZE, 100 + i) == 0,
			      "slot %u differs through the shared attachment",
			      i);
		ck_assert_msg(pattern_mismatches(plain + i * SLOT_SIZE,
						 SLOT_SIZE, 100 + i) == 0,
			      "slot %u differs through the plain attachment",
			      i);
	}
	ck_assert_int_eq(shmdt(shared), 0);
	ck_assert_int_eq(shmdt(plain), 0);
	remove_segment(id);
}
END_TEST

/* ---- page tables ---- */

/* Child: attaches ARG's way, reads every page; exits with VmPTE growth in kB. */
static int read_all_pte_kb(void *arg)
{
	const struct writer_job *job = arg;
	long before = proc_self_status_kb("VmPTE"), after;
	volatile unsigned char *p = shmat(job->id, NULL, job->flags);
	unsigned long sum = 0;
	size_t off;

	if (p == (void *)-1 || before < 0)
		return 255;
	for (off = 0; off < job->slot * MIB; off += ST_PAGE)
		sum += p[off];
	after = proc_self_status_kb("VmPTE");
	(void)sum;
	if (after < before)
		return 254;
	return after - before > 250 ? 250 : (int)(after - before);
}

/*
 * A shared attacher reading 64 MiB that another process faulted in costs
 * no PTE table of its own; a plain one costs 128 kB (8 bytes per page).
 */
START_TEST(sysv_shared_attacher_pays_no_ptes)
{
	const size_t size = 64 * MIB;
	struct writer_job shared_job, plain_job;
	unsigned char *p;
	int id, shared_kb, plain_kb, status;

	if (no_share_mmu("sysv_shared_attacher_pays_no_ptes"))
		return;
	id = new_segment(size, 0600);
	p = attach(id, SHM_SHARE_MMU);
	memset(p, 0x5a, size);
	shared_job = (struct writer_job){ id, SHM_SHARE_MMU | SHM_RDONLY,
					  size / MIB };
	plain_job = (struct writer_job){ id, SHM_RDONLY, size / MIB };
	status = run_child(read_all_pte_kb, &shared_job);
	ck_assert(WIFEXITED(status));
	shared_kb = WEXITSTATUS(status);
	status = run_child(read_all_pte_kb, &plain_job);
	ck_assert(WIFEXITED(status));
	plain_kb = WEXITSTATUS(status);
	ck_assert_msg(plain_kb >= 120 && plain_kb < 250,
		      "plain attacher's VmPTE grew by %d kB, want about 128",
		      plain_kb);
	ck_assert_msg(shared_kb <= 16,
		      "shared attacher's VmPTE grew by %d kB (plain: %d kB)",
		      shared_kb, plain_kb);
	ck_assert_int_eq(shmdt(p), 0);
	remove_segment(id);
}
END_TEST

/* ---- the flag is a request ---- */

/* A free, 2 MiB-aligned address of LEN bytes, left unmapped. */
void *free_address(size_t len)
{
	unsigned char *p = mmap(NULL, len + 2 * MIB, PROT_NONE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	unsigned char *aligned;

	ck_assert_ptr_ne(p, MAP_FAILED);
	aligned = (unsigned char *)(((unsigned long)p + 2 * MIB - 1) &
				    ~(2 * MIB - 1));
	ck_assert_int_eq(munmap(p, len + 2 * MIB), 0);
	return aligned;
}

START_TEST(sysv_address_gets_plain_attachment)
{
	const size_t size = 2 * MIB;
	unsigned char *want, *p, *q, *shared;
	int id, plain_errno;

	if (no_share_mmu("sysv_address_gets_plain_attachment"))
		return;
	id = new_segment(size, 0600);
	shared = attach(id, SHM_SHARE_MMU);
	want = free_address(size);
	p = shmat(id, want, SHM_SHARE_MMU);
	ck_assert_ptr_eq(p, want);
	ck_assert_msg(!is_shared_attachment(p),
		      "an attachment at an address shares tables");
	/* Unaligned with SHM_RND: rounded down, as without the flag */
	ck_assert_int_eq(shmdt(p), 0);
	p = shmat(id, want + 100, SHM_SHARE_MMU | SHM_RND);
	ck_assert_ptr_eq(p, want);
	ck_assert(!is_shared_attachment(p));
	p[0] = 0x42;
	ck_assert_uint_eq(shared[0], 0x42);
	ck_assert_int_eq(shmdt(p), 0);
	/*
	 * SHM_RND rounds an address below SHMLBA down to 0, and the kernel
	 * still maps at 0 (MAP_FIXED: EPERM below mmap_min_addr, or address 0
	 * with CAP_SYS_RAWIO): the flag changes neither answer.
	 */
	errno = 0;
	p = shmat(id, (void *)1, SHM_RND);
	plain_errno = errno;
	if (p != (void *)-1)
		ck_assert_int_eq(shmdt(p), 0);
	errno = 0;
	q = shmat(id, (void *)1, SHM_RND | SHM_SHARE_MMU);
	ck_assert_msg(q == p && (q != (void *)-1 || errno == plain_errno),
		      "shmat((void *)1, SHM_RND): %p errno %d without the flag, %p errno %d with it",
		      p, plain_errno, q, errno);
	if (q != (void *)-1) {
		ck_assert(!is_shared_attachment(q));
		ck_assert_int_eq(shmdt(q), 0);
	}
	p = shmat(id, want, SHM_SHARE_MMU);
	ck_assert_ptr_eq(p, want);
	/* The plain attachment splits, as always */
	ck_assert_int_eq(munmap(p + ST_PAGE, ST_PAGE), 0);
	ck_assert_int_eq(shmdt(p), 0);
	ck_assert_uint_eq(nattch(id), 1);
	ck_assert_int_eq(shmdt(shared), 0);
	remove_segment(id);
}
END_TEST

/* The kernel's own checks come first (CVE-2017-5669, SHM_REMAP alone). */
START_TEST(sysv_kernel_checks_come_first)
{
	struct shmid_ds before, after;
	int id;

	if (no_share_mmu("sysv_kernel_checks_come_first"))
		return;
	id = new_segment(ST_PAGE, 0600);
	ck_assert_int_eq(shmctl(id, IPC_STAT, &before), 0);
	ST_ASSERT_ERRNO((long)shmat(id, NULL, SHM_SHARE_MMU | SHM_REMAP),
			EINVAL);
	ST_ASSERT_ERRNO((long)shmat(id, (void *)1,
				    SHM_SHARE_MMU | SHM_RND | SHM_REMAP),
			EINVAL);
	ST_ASSERT_ERRNO((long)shmat(id, (void *)100, SHM_SHARE_MMU), EINVAL);
	ck_assert_int_eq(shmctl(id, IPC_STAT, &after), 0);
	ck_assert_int_eq(after.shm_nattch, 0);
	ck_assert_int_eq(after.shm_lpid, before.shm_lpid);
	ck_assert_int_eq(after.shm_atime, before.shm_atime);
	remove_segment(id);
}
END_TEST

/* Child: under mlockall(MCL_FUTURE) the attachment is plain and locked. */
static int attach_under_mlockall(void *arg)
{
	int id = *(int *)arg;
	unsigned char *p;

	if (mlockall(MCL_FUTURE) != 0)
		return 10;
	p = shmat(id, NULL, SHM_SHARE_MMU);
	if (p == (void *)-1)
		return 11;
	if (is_shared_attachment(p))
		return 12;
	if (proc_self_status_kb("VmLck") < (long)(ST_PAGE >> 10))
		return 13;
	return p[0] == 0x17 ? 0 : 14;
}

START_TEST(sysv_mlockall_future_gets_plain_attachment)
{
	unsigned char *p;
	char buf[64];
	int id, status;

	if (no_share_mmu("sysv_mlockall_future_gets_plain_attachment"))
		return;
	id = new_segment(ST_PAGE, 0600);
	p = attach(id, SHM_SHARE_MMU);
	p[0] = 0x17;
	status = run_child(attach_under_mlockall, &id);
	ck_assert_msg(exited_ok(status), "child: %s",
		      describe_status(status, buf, sizeof(buf)));
	ck_assert_int_eq(shmdt(p), 0);
	remove_segment(id);
}
END_TEST

START_TEST(sysv_sysctl_off_gets_plain_attachment)
{
	unsigned char *p;
	int id;

	if (no_share_mmu("sysv_sysctl_off_gets_plain_attachment"))
		return;
	if (geteuid() != 0) {
		st_skip("sysv_sysctl_off_gets_plain_attachment",
			"writing %s needs root", SHM_SHARE_MMU_SYSCTL);
		return;
	}
	id = new_segment(ST_PAGE, 0600);
	ck_assert(write_text_file(SHM_SHARE_MMU_SYSCTL, "0"));
	p = shmat(id, NULL, SHM_SHARE_MMU);
	ck_assert(write_text_file(SHM_SHARE_MMU_SYSCTL, "1"));
	ck_assert_ptr_ne(p, (void *)-1);
	ck_assert_msg(!is_shared_attachment(p),
		      "shared tables with kernel.shm_share_mmu = 0");
	ST_ASSERT_ERRNO(write_text_file(SHM_SHARE_MMU_SYSCTL, "2") ? 0 : -1,
			EINVAL);
	ck_assert_int_eq(shmdt(p), 0);
	remove_segment(id);
}
END_TEST

/* Child: NATTCH must count the inherited attachment too. */
static int count_after_fork(void *arg)
{
	const struct writer_job *job = arg;
	struct shmid_ds ds;

	if (shmctl(job->id, IPC_STAT, &ds) != 0)
		return 10;
	return ds.shm_nattch == job->slot ? 0 : 11;
}

START_TEST(sysv_fork_exit_exec_count_attachments)
{
	struct writer_job job;
	unsigned char *p;
	char buf[64];
	pid_t pid;
	int id, status;

	if (no_share_mmu("sysv_fork_exit_exec_count_attachments"))
		return;
	id = new_segment(ST_PAGE, 0600);
	p = attach(id, SHM_SHARE_MMU);
	job = (struct writer_job){ id, 0, 2 };
	status = run_child(count_after_fork, &job);
	ck_assert_msg(exited_ok(status), "child: %s",
		      describe_status(status, buf, sizeof(buf)));
	ck_assert_uint_eq(nattch(id), 1);

	/* exec drops the attachment */
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		execl("/bin/true", "true", (char *)NULL);
		_exit(127);
	}
	status = wait_child(pid);
	ck_assert(exited_ok(status));
	ck_assert_uint_eq(nattch(id), 1);

	/* kill -9 of an attached child */
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		p[0] = 9;
		pause();
		_exit(0);
	}
	while (nattch(id) != 2)
		usleep(1000);
	ck_assert_int_eq(kill(pid, SIGKILL), 0);
	status = wait_child(pid);
	ck_assert(killed_by(status, SIGKILL));
	ck_assert_uint_eq(nattch(id), 1);
	ck_assert_int_eq(shmdt(p), 0);
	remove_segment(id);
}
END_TEST

/*
 * After IPC_RMID, attached processes still reach the segment by id, shared
 * or plain, and the memory goes with the last detach.
 */
START_TEST(sysv_rmid_while_attached)
{
	const size_t size = 16 * MIB;
	unsigned char *p, *again, *plain;
	long shmem_before, shmem_after = 0;
	int id, i;

	if (no_share_mmu("sysv_rmid_while_attached"))
		return;
	shmem_before = meminfo_kb("Shmem");
	id = new_segment(size, 0600);
	p = attach(id, SHM_SHARE_MMU);
	memset(p, 0x3c, size);
	remove_segment(id);
	again = attach(id, SHM_SHARE_MMU);
	plain = attach(id, 0);
	ck_assert(is_shared_attachment(again));
	ck_assert_uint_eq(again[size - 1], 0x3c);
	ck_assert_uint_eq(plain[size / 2], 0x3c);
	ck_assert_uint_eq(nattch(id), 3);
	ck_assert_int_eq(shmdt(p), 0);
	ck_assert_int_eq(shmdt(again), 0);
	ck_assert_int_eq(shmdt(plain), 0);
	ST_ASSERT_ERRNO(shmctl(id, IPC_STAT, &(struct shmid_ds){ 0 }),
			EINVAL);
	/* The region goes from a work item: allow it a few seconds */
	for (i = 0; i < 100; i++) {
		shmem_after = meminfo_kb("Shmem");
		if (shmem_after < shmem_before + (long)(size >> 10) / 2)
			break;
		usleep(50 * 1000);
	}
	ck_assert_msg(shmem_after < shmem_before + (long)(size >> 10) / 2,
		      "Shmem %ld kB before, %ld kB after the last detach",
		      shmem_before, shmem_after);
}
END_TEST

/* ---- rights ---- */

struct rights_job {
	int id;
	int flags;
	int to_child;		/* read end: a token means "attach again" */
	int to_parent;		/* write end: a token means "tried once" */
};

/*
 * Child, as uid 65534: attaches with FLAGS twice and reports the results
 * as its exit code's bits (1: the first attach failed with EACCES, 2: the
 * second one, after the owner's IPC_SET, worked, shared, and read 0x66).
 */
static int attach_as_nobody(void *arg)
{
	const struct rights_job *job = arg;
	unsigned char *p;
	int result = 0;

	if (st_become_nobody() != 0)
		return 100;
	p = shmat(job->id, NULL, job->flags);
	if (p == (void *)-1 && errno == EACCES)
		result |= 1;
	if (send_token(job->to_parent) != 0 || recv_token(job->to_child) != 0)
		return 101;
	p = shmat(job->id, NULL, job->flags);
	if (p != (void *)-1 && is_shared_attachment(p) && p[0] == 0x66)
		result |= 2;
	return result;
}

/*
 * Rights follow ipcperms() at each attach, whoever changed them: the owner
 * opens the segment to another uid with a plain IPC_SET, and that uid's
 * next shared attach works.
 */
START_TEST(sysv_rights_follow_ipc_set)
{
	struct rights_job job;
	int down[2], up[2], id, status;
	struct shmid_ds ds;
	unsigned char *p;
	char buf[64];
	pid_t pid;

	if (no_share_mmu("sysv_rights_follow_ipc_set"))
		return;
	if (geteuid() != 0) {
		st_skip("sysv_rights_follow_ipc_set",
			"becoming uid %d needs root", ST_NOBODY);
		return;
	}
	id = new_segment(ST_PAGE, 0600);
	p = attach(id, SHM_SHARE_MMU);
	p[0] = 0x66;
	ck_assert_int_eq(pipe(down), 0);
	ck_assert_int_eq(pipe(up), 0);
	job = (struct rights_job){ id, SHM_SHARE_MMU | SHM_RDONLY, down[0],
				   up[1] };
	pid = spawn_child(attach_as_nobody, &job);
	ck_assert_int_gt(pid, 0);
	ck_assert_int_eq(recv_token_within(up[0], 60), 0);
	ck_assert_int_eq(shmctl(id, IPC_STAT, &ds), 0);
	ds.shm_perm.mode = 0644;
	ck_assert_int_eq(shmctl(id, IPC_SET, &ds), 0);
	ck_assert_int_eq(send_token(down[1]), 0);
	status = wait_child(pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 3,
		      "uid %d: %s (want exit 3: refused at 0600, attached "
		      "read-only at 0644)", ST_NOBODY,
		      describe_status(status, buf, sizeof(buf)));
	close(down[0]);
	close(down[1]);
	close(up[0]);
	close(up[1]);
	ck_assert_int_eq(shmdt(p), 0);
	remove_segment(id);
}
END_TEST

/* Child: a store through a read-only shared attachment must fault. */
static int store_faults(void *arg)
{
	unsigned char *p = arg;

	if (p[0] != 0x21)
		return 10;
	return probe_access(p, true) == SIGSEGV ? 0 : 11;
}

/*
 * SHM_RDONLY and SHM_EXEC hold in the shared tables: a writer made the
 * page's PTE writable and the code page present, yet the read-only
 * attachment cannot store, and code runs only under SHM_EXEC.
 */
START_TEST(sysv_rdonly_and_exec_hold)
{
	unsigned char *w, *ro, *rx;
	char buf[64];
	int id, status;

	if (no_share_mmu("sysv_rdonly_and_exec_hold"))
		return;
	/* SHM_EXEC needs the x bit (CAP_IPC_OWNER aside) */
	id = new_segment(2 * ST_PAGE, 0700);
	w = attach(id, SHM_SHARE_MMU);
	w[0] = 0x21;
	memcpy(w + ST_PAGE, st_code_ret42, sizeof(st_code_ret42));
	ro = attach(id, SHM_SHARE_MMU | SHM_RDONLY);
	ck_assert(is_shared_attachment(ro));
	status = run_child(store_faults, ro);
	ck_assert_msg(exited_ok(status), "store through SHM_RDONLY: %s",
		      describe_status(status, buf, sizeof(buf)));
	status = run_child(st_call_code, ro + ST_PAGE);
	ck_assert_msg(killed_by(status, SIGSEGV),
		      "code ran without SHM_EXEC: %s",
		      describe_status(status, buf, sizeof(buf)));
	rx = attach(id, SHM_SHARE_MMU | SHM_RDONLY | SHM_EXEC);
	ck_assert(is_shared_attachment(rx));
	status = run_child(st_call_code, rx + ST_PAGE);
	ck_assert_msg(exited_ok(status), "code under SHM_EXEC: %s",
		      describe_status(status, buf, sizeof(buf)));
	ck_assert_int_eq(shmdt(w), 0);
	ck_assert_int_eq(shmdt(ro), 0);
	ck_assert_int_eq(shmdt(rx), 0);
	remove_segment(id);
}
END_TEST

void register_sysv_tests(void)
{
	static const struct selftest_group group = { "sysv", 240 };

	selftest_add(&group, sysv_shared_and_plain_see_the_same_bytes);
	selftest_add(&group, sysv_mixed_attachers_write_one_memory);
	selftest_add(&group, sysv_shared_attacher_pays_no_ptes);
	selftest_add(&group, sysv_address_gets_plain_attachment);
	selftest_add(&group, sysv_kernel_checks_come_first);
	selftest_add(&group, sysv_mlockall_future_gets_plain_attachment);
	selftest_add(&group, sysv_sysctl_off_gets_plain_attachment);
	selftest_add(&group, sysv_fork_exit_exec_count_attachments);
	selftest_add(&group, sysv_rmid_while_attached);
	selftest_add(&group, sysv_rights_follow_ipc_set);
	selftest_add(&group, sysv_rdonly_and_exec_hold);
}
