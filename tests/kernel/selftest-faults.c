// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Error paths reached by making the Nth allocation of a call fail
 * (/proc/thread-self/fail-nth, CONFIG_FAULT_INJECTION with FAILSLAB and
 * FAIL_PAGE_ALLOC).  Each test repeats its call with N = 1, 2, ... until
 * the call makes fewer than N allocations, so every allocation of the path
 * fails once.  The calls may fail; they must leave nothing reachable that
 * should not be, and the kernel must not splat (the VM run fails on one).
 */
#include "selftest.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

#define FAIL_NTH "/proc/thread-self/fail-nth"
#define DEBUGFS "/sys/kernel/debug"
/* Past this, a loop is taken to be stuck rather than still finding paths. */
#define MAX_NTH 4000

/*
 * Makes fail-nth reach GFP_KERNEL allocations too (by default the
 * injectors skip those that may reclaim).  False after st_skip when this
 * kernel or user cannot inject.
 */
static bool injection_ready(const char *test)
{
	static const char *const knobs[] = {
		DEBUGFS "/failslab/ignore-gfp-wait",
		DEBUGFS "/fail_page_alloc/ignore-gfp-wait",
	};

	if (access(FAIL_NTH, W_OK) != 0) {
		st_skip(test, "%s: %s (no CONFIG_FAULT_INJECTION, or not root)",
			FAIL_NTH, strerror(errno));
		return false;
	}
	if (access(knobs[0], W_OK) != 0)
		(void)mount("debugfs", DEBUGFS, "debugfs", 0, NULL);
	for (size_t i = 0; i < sizeof(knobs) / sizeof(knobs[0]); i++) {
		if (!write_text_file(knobs[i], "N")) {
			st_skip(test, "%s: %s (no FAILSLAB or FAIL_PAGE_ALLOC)",
				knobs[i], strerror(errno));
			return false;
		}
	}
	/* Single pages too (page tables, mmu_gather batches) */
	ck_assert(write_text_file(DEBUGFS "/fail_page_alloc/min-order", "0"));
	return true;
}

/*
 * Open before arming: an armed count stays until an allocation consumes
 * it, and opening the file allocates.  Reads and writes of it do not.
 */
static int fail_nth_fd = -1;

/* Arms the Nth allocation of this thread to fail. */
static void fail_nth_arm(unsigned int n)
{
	char text[16];
	int len = snprintf(text, sizeof(text), "%u", n);

	if (fail_nth_fd < 0)
		fail_nth_fd = open(FAIL_NTH, O_RDWR | O_CLOEXEC);
	ck_assert_msg(fail_nth_fd >= 0, "open %s: %s", FAIL_NTH,
		      strerror(errno));
	ck_assert_msg(pwrite(fail_nth_fd, text, (size_t)len, 0) == len,
		      "arm %s: %s", FAIL_NTH, strerror(errno));
}

/* Disarms; true if the armed allocation happened (the call reached it). */
static bool fail_nth_fired(void)
{
	char text[16] = "";
	ssize_t len = pread(fail_nth_fd, text, sizeof(text) - 1, 0);

	ck_assert_msg(len > 0, "read %s: %s", FAIL_NTH, strerror(errno));
	ck_assert_int_eq(pwrite(fail_nth_fd, "0", 1, 0), 1);
	return atoi(text) == 0;
}

/* 0 if a child's load from P completes, else the signal that killed it. */
static int load_in_child(const volatile unsigned char *p)
{
	int status;
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		(void)p[0];
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	if (WIFSIGNALED(status))
		return WTERMSIG(status);
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	return 0;
}

/*
 * CREATE_MAPPING of secret memory is refused after the file's ->mmap()
 * mapped it (patch 0032), so the mapping is unmapped again, and that
 * unmap can fail for memory.  Whatever fails, secret memory must never be
 * reachable through an attachment (patch 0038).
 */
START_TEST(faults_refused_mapping_stays_unreachable)
{
	const struct mshare_create anon_noreplace = {
		.region_offset = 0, .size = ST_PAGE,
		.prot = PROT_READ | PROT_WRITE,
		.flags = MAP_SHARED | MAP_FIXED_NOREPLACE | MAP_ANONYMOUS,
		.fd = (__u32)-1,
	};
	const char *test = "faults_refused_mapping_stays_unreachable";
	unsigned int n, stayed = 0;
	char path[ST_PATH_MAX];
	unsigned char *p;
	int fd, secret, rc, sig;
	bool fired = true;

	if (!injection_ready(test))
		return;
	secret = (int)syscall(SYS_memfd_secret, 0);
	if (secret < 0) {
		st_skip(test, "memfd_secret: %s", strerror(errno));
		return;
	}
	ck_assert_int_eq(ftruncate(secret, ST_PAGE), 0);
	fd = st_region_sized(path, "inject-secret");
	p = st_attach(fd, PROT_READ | PROT_WRITE);

	for (n = 1; fired && n < MAX_NTH; n++) {
		fail_nth_arm(n);
		rc = mshare_map_file(fd, 0, ST_PAGE, PROT_READ | PROT_WRITE,
				     secret, 0);
		fired = fail_nth_fired();
		ck_assert_msg(rc == ENODEV || rc == ENOMEM,
			      "allocation %u failing: CREATE_MAPPING of secret memory returned %s",
			      n, rc ? strerrorname_np(rc) : "0");
		sig = load_in_child(p);
		ck_assert_msg(sig == SIGSEGV || sig == SIGBUS,
			      "allocation %u failing: a load through the attachment %s",
			      n, sig ? strsignal(sig) : "read the refused memory");
		/* Either the range is free, or the refused VMA stayed. */
		fprintf(stderr, "# allocation %u failing: CREATE_MAPPING %s\n",
			n, strerrorname_np(rc));
		rc = mshare_map_raw(fd, &anon_noreplace);
		if (rc == EEXIST) {
			stayed++;
			ST_ASSERT_RC(mshare_unmap(fd, 0, ST_PAGE), 0);
			rc = mshare_map_raw(fd, &anon_noreplace);
		}
		ST_ASSERT_RC(rc, 0);
		ST_ASSERT_RC(mshare_unmap(fd, 0, ST_PAGE), 0);
	}
	ck_assert_msg(!fired, "still failing at allocation %u", n);
	fprintf(stderr, "# %s: %u allocations failed in turn, the refused mapping stayed %u times\n",
		test, n - 1, stayed);

	ck_assert_int_eq(munmap(p, st_align()), 0);
	close(secret);
	ck_assert_int_eq(unlink(path), 0);
	close(fd);
}
END_TEST

/* The PFN of the page at ADDR of this process (mapped, root only). */
static uint64_t pfn_of(const void *addr)
{
	uint64_t entry = 0;
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pread(fd, &entry, 8,
			       (off_t)((uintptr_t)addr / ST_PAGE * 8)), 8);
	close(fd);
	ck_assert_msg(entry >> 63, "page at %p not present", addr);
	return entry & ((1ULL << 55) - 1);
}

/* How many mappings the page at PFN has (/proc/kpagecount). */
static uint64_t mappings_of(uint64_t pfn)
{
	uint64_t count = 0;
	int fd = open("/proc/kpagecount", O_RDONLY | O_CLOEXEC);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pread(fd, &count, 8, (off_t)(pfn * 8)), 8);
	close(fd);
	return count;
}

/*
 * The last munmap of a region with memory and page tables frees the
 * region (patch 0023: exit_mmap(), which cannot fail).  With each of its
 * allocations failing in turn, the region's mapping of a file must still
 * go: the file's pages end up mapped by this process's plain mapping
 * only (/proc/kpagecount).  Before 0023, a failed munmap of the region's
 * mappings freed their page tables anyway and left the pages mapped for
 * ever.  Nothing may be freed twice either: the kernel reports that as
 * "non-zero pgtables_bytes", a bad page or a leaked mm (the VM run fails).
 */
START_TEST(faults_teardown)
{
	const uint64_t gig = (uint64_t)1 << 30;
	const char *test = "faults_teardown";
	char path[ST_PATH_MAX];
	unsigned char *p, *plain;
	uint64_t pfn[4];
	unsigned int n, leaked = 0;
	bool fired = true;
	int fd, memfd, rc;

	if (!injection_ready(test))
		return;
	if (access("/proc/kpagecount", R_OK) != 0) {
		st_skip(test, "/proc/kpagecount: %s", strerror(errno));
		return;
	}
	memfd = memfd_create("st-teardown", MFD_CLOEXEC);
	ck_assert_int_ge(memfd, 0);
	ck_assert_int_eq(ftruncate(memfd, 4 * ST_PAGE), 0);
	plain = mmap(NULL, 4 * ST_PAGE, PROT_READ | PROT_WRITE, MAP_SHARED,
		     memfd, 0);
	ck_assert_ptr_ne(plain, MAP_FAILED);
	memset(plain, 3, 4 * ST_PAGE);
	for (int i = 0; i < 4; i++)
		pfn[i] = pfn_of(plain + i * ST_PAGE);

	for (n = 1; fired && n < MAX_NTH; n++) {
		fd = st_region_sized(path, "inject-teardown");
		ST_ASSERT_RC(mshare_map_file(fd, 0, 4 * ST_PAGE,
					     PROT_READ | PROT_WRITE, memfd, 0),
			     0);
		ST_ASSERT_RC(mshare_map_anon(fd, gig, ST_PAGE,
					     PROT_READ | PROT_WRITE), 0);
		p = st_attach(fd, PROT_READ | PROT_WRITE);
		memset(p, 1, 4 * ST_PAGE);
		p[gig] = 2;
		/* Leaves a page table in a gap */
		ST_ASSERT_RC(mshare_unmap(fd, gig, ST_PAGE), 0);
		ck_assert_int_eq(unlink(path), 0);
		close(fd);
		ck_assert_uint_ge(mappings_of(pfn[0]), 2);
		fail_nth_arm(n);
		rc = munmap(p, st_align());
		fired = fail_nth_fired();
		/* munmap of a whole VMA needs no split: it cannot fail here */
		ck_assert_msg(rc == 0 || errno == ENOMEM,
			      "allocation %u failing: munmap: %s", n,
			      strerror(errno));
		if (rc != 0)
			ck_assert_int_eq(munmap(p, st_align()), 0);
		for (int i = 0; i < 4; i++) {
			uint64_t count = mappings_of(pfn[i]);

			if (count != 1) {
				fprintf(stderr, "# allocation %u failing: page %d of the file still has %llu mappings after the region went\n",
					n, i, (unsigned long long)count);
				leaked++;
			}
		}
	}
	ck_assert_msg(!fired, "still failing at allocation %u", n);
	fprintf(stderr, "# %s: %u allocations failed in turn, %u pages left mapped\n",
		test, n - 1, leaked);
	ck_assert_msg(leaked == 0,
		      "%u times a page stayed mapped by a freed region", leaked);
	munmap(plain, 4 * ST_PAGE);
	close(memfd);
}
END_TEST

void register_fault_tests(void)
{
	static const struct selftest_group group = { "faults", 600 };

	selftest_add(&group, faults_refused_mapping_stays_unreachable);
	selftest_add(&group, faults_teardown);
}
