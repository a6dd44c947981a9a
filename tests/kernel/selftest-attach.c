/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Attaching a region with mmap() and what an attachment allows
 * (UAPI.md "Attaching").
 */
#include "selftest.h"

#include <fcntl.h>
#include <limits.h>
#include <linux/userfaultfd.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

static void drop_region(const char *path, int fd)
{
	ck_assert_int_eq(unlink(path), 0);
	close(fd);
}

/*
 * An aligned address whose next TWO region sizes are free right now, so a
 * wrongly accepted MAP_FIXED a little above it cannot clobber anything.
 */
static unsigned char *free_aligned_range(void)
{
	size_t align = (size_t)st_align();
	unsigned char *reserve, *base;

	reserve = mmap(NULL, 3 * align, PROT_NONE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	ck_assert_msg(reserve != MAP_FAILED, "reserve address space: %s",
		      strerror(errno));
	base = (unsigned char *)(((uintptr_t)reserve + align - 1) &
				 ~(uintptr_t)(align - 1));
	ck_assert_int_eq(munmap(reserve, 3 * align), 0);
	return base;
}

START_TEST(attach_bad_requests_einval)
{
	char path[ST_PATH_MAX];
	size_t align = (size_t)st_align();
	int fd = st_region_anon(path, "attach-einval", ST_PAGE);

	ST_ASSERT_MMAP_ERRNO(mmap(NULL, align, PROT_READ, MAP_PRIVATE, fd, 0),
			     align, EINVAL);
	ST_ASSERT_MMAP_ERRNO(mmap(NULL, align - ST_PAGE, PROT_READ, MAP_SHARED,
				  fd, 0), align - ST_PAGE, EINVAL);
	ST_ASSERT_MMAP_ERRNO(mmap(NULL, align / 2, PROT_READ, MAP_SHARED, fd,
				  0), align / 2, EINVAL);
	ST_ASSERT_MMAP_ERRNO(mmap(NULL, 2 * align, PROT_READ, MAP_SHARED, fd,
				  0), 2 * align, EINVAL);
	ST_ASSERT_MMAP_ERRNO(mmap(NULL, align, PROT_READ, MAP_SHARED, fd,
				  ST_PAGE), align, EINVAL);
	ST_ASSERT_MMAP_ERRNO(mmap(NULL, align, PROT_READ, MAP_SHARED, fd,
				  (off_t)align), align, EINVAL);
	drop_region(path, fd);
}
END_TEST

START_TEST(attach_unsized_einval)
{
	char path[ST_PATH_MAX];
	size_t align = (size_t)st_align();
	int fd = st_region_new(path, "attach-unsized");

	ST_ASSERT_MMAP_ERRNO(mmap(NULL, align, PROT_READ, MAP_SHARED, fd, 0),
			     align, EINVAL);
	drop_region(path, fd);
}
END_TEST

START_TEST(attach_readonly_fd_prot_write_eacces)
{
	char path[ST_PATH_MAX];
	size_t align = (size_t)st_align();
	int fd = st_region_anon(path, "attach-eacces", ST_PAGE), ro;
	void *p;

	ro = open(path, O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(ro, 0);
	ST_ASSERT_MMAP_ERRNO(mmap(NULL, align, PROT_READ | PROT_WRITE,
				  MAP_SHARED, ro, 0), align, EACCES);
	p = mmap(NULL, align, PROT_READ, MAP_SHARED, ro, 0);
	ck_assert_msg(p != MAP_FAILED, "read-only attach: %s", strerror(errno));
	ck_assert_int_eq(munmap(p, align), 0);
	close(ro);
	drop_region(path, fd);
}
END_TEST

START_TEST(attach_address_is_aligned)
{
	char path[ST_PATH_MAX];
	uint64_t align = st_align();
	int fd = st_region_anon(path, "attach-aligned", ST_PAGE);
	unsigned char *p, *q;

	p = st_attach(fd, PROT_READ | PROT_WRITE);
	ck_assert_msg((uintptr_t)p % align == 0, "attach at %p, not aligned", p);
	/* A hint that is not aligned is rounded, not refused. */
	q = mmap(p + align + 5 * ST_PAGE, align, PROT_READ, MAP_SHARED, fd, 0);
	ck_assert_msg(q != MAP_FAILED, "attach with hint: %s", strerror(errno));
	ck_assert_msg((uintptr_t)q % align == 0, "hinted attach at %p", q);
	/* Two attachments of one region in one process see the same memory. */
	p[0] = 0x77;
	ck_assert_uint_eq(q[0], 0x77);
	ck_assert_int_eq(munmap(q, align), 0);
	ck_assert_int_eq(munmap(p, align), 0);
	drop_region(path, fd);
}
END_TEST

START_TEST(attach_fixed)
{
	char path[ST_PATH_MAX];
	size_t align = (size_t)st_align();
	int fd = st_region_anon(path, "attach-fixed", ST_PAGE);
	unsigned char *base = free_aligned_range(), *p;

	ST_ASSERT_MMAP_ERRNO(mmap(base + 512 * ST_PAGE, align, PROT_READ,
				  MAP_SHARED | MAP_FIXED, fd, 0), align, EINVAL);
	ST_ASSERT_MMAP_ERRNO(mmap(base + ST_PAGE, align, PROT_READ,
				  MAP_SHARED | MAP_FIXED_NOREPLACE, fd, 0),
			     align, EINVAL);
	p = mmap(base, align, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
		 fd, 0);
	ck_assert_msg(p == base, "MAP_FIXED at %p gave %p (%s)", base, p,
		      p == MAP_FAILED ? strerror(errno) : "moved");
	p[0] = 1;
	ST_ASSERT_MMAP_ERRNO(mmap(base, align, PROT_READ,
				  MAP_SHARED | MAP_FIXED_NOREPLACE, fd, 0),
			     align, EEXIST);
	ck_assert_uint_eq(p[0], 1);	/* the refused attach left it alone */
	ck_assert_int_eq(munmap(p, align), 0);
	drop_region(path, fd);
}
END_TEST

START_TEST(attach_shows_in_proc_maps)
{
	char path[ST_PATH_MAX], shown[ST_PATH_MAX + 32], real[PATH_MAX];
	int fd = st_region_anon(path, "maps", ST_PAGE);
	unsigned char *p = st_attach(fd, PROT_READ);
	unsigned long end = 0;

	ck_assert_msg(maps_lookup(p, &end, shown, sizeof(shown)) == 0,
		      "no /proc/self/maps line starts at %p", p);
	ck_assert_uint_eq(end, (unsigned long)p + st_align());
	ck_assert_ptr_nonnull(realpath(path, real));
	ck_assert_str_eq(shown, real);
	ck_assert_int_eq(munmap(p, st_align()), 0);
	drop_region(path, fd);
}
END_TEST

static void smaps_vmflags(const void *addr, char *flags, size_t len)
{
	st_smaps_field(addr, "VmFlags:", flags, len);
}

/* The kB of FIELD for ADDR's VMA in smaps; -1 if absent. */
static long smaps_kb(const void *addr, const char *field)
{
	char value[128];

	st_smaps_field(addr, field, value, sizeof(value));
	return value[0] ? strtol(value, NULL, 10) : -1;
}

static bool has_vmflag(const char *flags, const char *name)
{
	char word[8];

	snprintf(word, sizeof(word), " %s ", name);
	if (strstr(flags, word))
		return true;
	snprintf(word, sizeof(word), " %s\n", name);
	return strstr(flags, word) != NULL;
}

/*
 * smaps names the attachment's flag ("st", shared tables), which a plain
 * shared mapping lacks, and shows no "??" for an unknown bit.  (Until
 * session 7 the flag was "ms", which is also VM_MAYSHARE's: every shared
 * mapping showed it.)
 */
START_TEST(attach_smaps_names_its_flag)
{
	char path[ST_PATH_MAX], flags[512];
	int fd = st_region_anon(path, "smaps", ST_PAGE);
	unsigned char *p = st_attach(fd, PROT_READ);
	void *plain = mmap(NULL, ST_PAGE, PROT_READ, MAP_SHARED | MAP_ANONYMOUS,
			   -1, 0);

	smaps_vmflags(p, flags, sizeof(flags));
	ck_assert_msg(flags[0], "no VmFlags for the attachment at %p", p);
	ck_assert_msg(has_vmflag(flags, "st"), "VmFlags:%s lacks st", flags);
	ck_assert_msg(!strstr(flags, "??"), "VmFlags:%s has an unnamed flag",
		      flags);
	ck_assert_ptr_ne(plain, MAP_FAILED);
	smaps_vmflags(plain, flags, sizeof(flags));
	ck_assert_msg(has_vmflag(flags, "ms") && !has_vmflag(flags, "st"),
		      "a plain shared mapping's VmFlags:%s", flags);
	ck_assert_int_eq(munmap(plain, ST_PAGE), 0);
	ck_assert_int_eq(munmap(p, st_align()), 0);
	drop_region(path, fd);
}
END_TEST

/*
 * smaps agrees with VmRSS: an attachment's pages are the region's, counted
 * in no process (before patch 0045, smaps walked the process's link into the
 * region's tables and counted every page as the process's private memory).
 */
START_TEST(attach_smaps_counts_no_pages)
{
	char path[ST_PATH_MAX];
	int fd = st_region_anon(path, "smaps-rss", 64 * ST_PAGE);
	unsigned char *p = st_attach(fd, PROT_READ | PROT_WRITE);

	memset(p, 7, 64 * ST_PAGE);
	ck_assert_int_eq(smaps_kb(p, "Size:"), (long)(st_align() >> 10));
	ck_assert_msg(smaps_kb(p, "Rss:") == 0 && smaps_kb(p, "Pss:") == 0 &&
		      smaps_kb(p, "Private_Dirty:") == 0,
		      "smaps of an attachment: Rss %ld kB, Pss %ld kB, Private_Dirty %ld kB, want 0",
		      smaps_kb(p, "Rss:"), smaps_kb(p, "Pss:"),
		      smaps_kb(p, "Private_Dirty:"));
	ck_assert_int_eq(munmap(p, st_align()), 0);
	drop_region(path, fd);
}
END_TEST

/*
 * An attachment reserves a whole alignment unit of address space and locks
 * nothing.  The kernel's generic limits apply to it as to any mapping of
 * that size: RLIMIT_AS counts it (ENOMEM without the headroom), and under
 * mlockall(MCL_FUTURE) RLIMIT_MEMLOCK is checked before the mapping exists
 * (EAGAIN), as for hugetlb or device mappings that are never locked
 * either.  Each child compares the attachment with a plain anonymous
 * mapping of the same size; exit status 0 when both end alike.
 */
struct limits_arg {
	int fd;
	size_t size;
	int which;	/* 0: RLIMIT_AS, 1: MCL_FUTURE under RLIMIT_MEMLOCK */
};

static int limits_child(void *p)
{
	const struct limits_arg *a = p;
	struct rlimit lim = { 64 << 10, 64 << 10 };
	void *plain, *att;
	int plain_errno, att_errno;

	if (a->which == 0) {
		lim.rlim_cur = lim.rlim_max = (rlim_t)1 << 32;
		if (setrlimit(RLIMIT_AS, &lim) != 0)
			return 10;
	} else if (setrlimit(RLIMIT_MEMLOCK, &lim) != 0 ||
		   mlockall(MCL_FUTURE) != 0) {
		return 11;
	}
	errno = 0;
	plain = mmap(NULL, a->size, PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	plain_errno = errno;
	errno = 0;
	att = mmap(NULL, a->size, PROT_READ | PROT_WRITE, MAP_SHARED, a->fd, 0);
	att_errno = errno;
	if (plain != MAP_FAILED || att != MAP_FAILED)
		return 12;
	if (plain_errno != (a->which == 0 ? ENOMEM : EAGAIN))
		return 13;
	return att_errno == plain_errno ? 0 : 14;
}

static void expect_limit_like_plain(int which, const char *what)
{
	char path[ST_PATH_MAX], buf[64];
	int fd = st_region_anon(path, "limits", ST_PAGE), status;
	struct limits_arg a = { fd, st_align(), which };

	status = run_child(limits_child, &a);
	ck_assert_msg(exited_ok(status), "%s: the child's %s", what,
		      describe_status(status, buf, sizeof(buf)));
	drop_region(path, fd);
}

START_TEST(attach_rlimit_as_counts_it)
{
	expect_limit_like_plain(0, "RLIMIT_AS of 4 GiB");
}
END_TEST

START_TEST(attach_mlock_future_checks_it)
{
	if (geteuid() == 0) {
		/* CAP_IPC_LOCK lifts RLIMIT_MEMLOCK for root */
		st_skip("attach_mlock_future_checks_it",
			"root has CAP_IPC_LOCK; the unprivileged run covers it");
		return;
	}
	expect_limit_like_plain(1, "MCL_FUTURE under RLIMIT_MEMLOCK of 64 KiB");
}
END_TEST

START_TEST(attach_whole_only)
{
	char path[ST_PATH_MAX];
	size_t align = (size_t)st_align();
	int fd = st_region_anon(path, "whole", 4 * ST_PAGE);
	unsigned char *p = st_attach(fd, PROT_READ | PROT_WRITE);
	unsigned char *elsewhere;
	static const int allowed[] = {
		MADV_NORMAL, MADV_RANDOM, MADV_SEQUENTIAL, MADV_DONTFORK,
		MADV_DOFORK, MADV_DONTDUMP,
	};
	size_t i;

	p[0] = 9;
	ST_ASSERT_ERRNO(munmap(p, ST_PAGE), EINVAL);
	ST_ASSERT_ERRNO(munmap(p + ST_PAGE, ST_PAGE), EINVAL);
	ST_ASSERT_ERRNO(munmap(p + align - ST_PAGE, ST_PAGE), EINVAL);
	ST_ASSERT_ERRNO(mprotect(p, align, PROT_READ), EINVAL);
	ST_ASSERT_ERRNO(mprotect(p, ST_PAGE, PROT_READ), EINVAL);
	ST_ASSERT_ERRNO(mprotect(p, align, PROT_READ | PROT_WRITE), EINVAL);
	ST_ASSERT_MMAP_ERRNO(mremap(p, align, align / 2, 0), 0, EINVAL);
	ST_ASSERT_MMAP_ERRNO(mremap(p, align, 2 * align, MREMAP_MAYMOVE), 0,
			     EINVAL);
	elsewhere = free_aligned_range();
	ST_ASSERT_MMAP_ERRNO(mremap(p, align, align,
				    MREMAP_MAYMOVE | MREMAP_FIXED, elsewhere),
			     0, EINVAL);
	ST_ASSERT_ERRNO(madvise(p, ST_PAGE, MADV_DONTNEED), EINVAL);
	ST_ASSERT_ERRNO(madvise(p, align, MADV_DONTNEED), EINVAL);
	ST_ASSERT_ERRNO(madvise(p, align, MADV_FREE), EINVAL);
	ST_ASSERT_ERRNO(madvise(p, align, MADV_HUGEPAGE), EINVAL);
	ST_ASSERT_ERRNO(madvise(p, align, MADV_WILLNEED), EINVAL);
	/* Not dumped, like other VM_DONTEXPAND mappings. */
	ST_ASSERT_ERRNO(madvise(p, align, MADV_DODUMP), EINVAL);
	for (i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
		ck_assert_msg(madvise(p, align, allowed[i]) == 0,
			      "madvise advice %d: %s", allowed[i],
			      strerror(errno));
	/* None of the refusals touched the memory or the mapping. */
	ck_assert_uint_eq(p[0], 9);
	ck_assert_int_eq(probe_access(p + 4 * ST_PAGE, false), SIGSEGV);

	ck_assert_int_eq(munmap(p, align), 0);
	ck_assert_int_eq(probe_access(p, false), SIGSEGV);
	drop_region(path, fd);
}
END_TEST

START_TEST(attach_msync_file_backed)
{
	char path[ST_PATH_MAX], file[ST_PATH_MAX];
	size_t align = (size_t)st_align();
	int fd = st_region_sized(path, "msync");
	int file_fd = st_tmpfile(file, "msync", 4 * ST_PAGE);
	unsigned char *p, byte = 0;

	ST_ASSERT_RC(mshare_map_file(fd, 0, 4 * ST_PAGE, PROT_READ | PROT_WRITE,
				     file_fd, 0), 0);
	p = st_attach(fd, PROT_READ | PROT_WRITE);
	p[3 * ST_PAGE] = 0xab;
	ck_assert_msg(msync(p, align, MS_SYNC) == 0, "msync: %s",
		      strerror(errno));
	ck_assert_msg(msync(p, align, MS_ASYNC) == 0, "msync async: %s",
		      strerror(errno));
	ck_assert_int_eq(pread(file_fd, &byte, 1, 3 * ST_PAGE), 1);
	ck_assert_uint_eq(byte, 0xab);
	ck_assert_int_eq(munmap(p, align), 0);
	close(file_fd);
	drop_region(path, fd);
}
END_TEST

/* Reads a whole /proc file; returns the bytes read or -1. */
static long slurp(const char *path)
{
	char buf[4096];
	long total = 0;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		total += n;
	close(fd);
	return n < 0 ? -1 : total;
}

/*
 * Copies the byte at ADDR through the remote-access paths (GUP on our own
 * mm, so no ptrace restrictions apply).  Each may work or fail cleanly;
 * returns 0 unless one of them produced wrong data.
 */
static int remote_reads_agree(unsigned char *addr, unsigned char want)
{
	unsigned char byte = 0;
	struct iovec local = { &byte, 1 }, remote = { addr, 1 };
	int fd;

	if (process_vm_readv(getpid(), &local, 1, &remote, 1, 0) == 1 &&
	    byte != want)
		return 1;
	byte = 0;
	fd = open("/proc/self/mem", O_RDONLY | O_CLOEXEC);
	if (fd >= 0 && pread(fd, &byte, 1, (off_t)(uintptr_t)addr) == 1 &&
	    byte != want)
		return 2;
	if (fd >= 0)
		close(fd);
	return 0;
}

/*
 * The kernel's page-table walkers for /proc, GUP and plain user copies must
 * cope with an attachment (v3 review: walkers wandering into the region's
 * tables).  Plain copies must work; the rest must work or fail cleanly.
 */
START_TEST(attach_kernel_walkers_survive)
{
	char path[ST_PATH_MAX];
	int fd = st_region_anon(path, "walkers", 16 * ST_PAGE), pipes[2];
	unsigned char *p = st_attach(fd, PROT_READ | PROT_WRITE);
	uint64_t entry;
	int pagemap;

	p[0] = 0x3c;
	ck_assert_int_gt(slurp("/proc/self/smaps"), 0);
	ck_assert_int_gt(slurp("/proc/self/smaps_rollup"), 0);
	ck_assert_int_gt(slurp("/proc/self/status"), 0);
	slurp("/proc/self/numa_maps");	/* absent without NUMA */
	pagemap = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(pagemap, 0);
	ck_assert_int_eq(pread(pagemap, &entry, 8, (off_t)((uintptr_t)p / ST_PAGE * 8)), 8);
	ck_assert_int_eq(pread(pagemap, &entry, 8,
			       (off_t)(((uintptr_t)p + st_align() / 2) / ST_PAGE * 8)), 8);
	close(pagemap);

	/* copy_to_user / copy_from_user into and out of the attachment. */
	ck_assert_int_eq(pipe(pipes), 0);
	ck_assert_int_eq(write(pipes[1], p, 1), 1);
	ck_assert_int_eq(read(pipes[0], p + ST_PAGE, 1), 1);
	ck_assert_uint_eq(p[ST_PAGE], 0x3c);
	close(pipes[0]);
	close(pipes[1]);

	ck_assert_int_eq(remote_reads_agree(p, 0x3c), 0);
	ck_assert_uint_eq(p[0], 0x3c);
	ck_assert_int_eq(munmap(p, st_align()), 0);
	drop_region(path, fd);
}
END_TEST

START_TEST(attach_mlock_skips_it)
{
	char path[ST_PATH_MAX];
	int fd;
	unsigned char *p;

	if (geteuid() != 0) {
		/* RLIMIT_MEMLOCK refuses 512 GiB before msharefs is asked. */
		st_skip("attach_mlock_skips_it", "needs CAP_IPC_LOCK (running as uid %ld)",
			(long)geteuid());
		return;
	}
	fd = st_region_anon(path, "mlock", 16 * ST_PAGE);
	p = st_attach(fd, PROT_READ | PROT_WRITE);
	ck_assert_msg(mlock(p, st_align()) == 0, "mlock: %s", strerror(errno));
	ck_assert_msg(proc_self_status_kb("VmLck") < 1024 * 1024,
		      "VmLck is %ld kB: the attachment was locked",
		      proc_self_status_kb("VmLck"));
	p[0] = 1;
	ck_assert_int_eq(munlock(p, st_align()), 0);
	ck_assert_int_eq(munmap(p, st_align()), 0);
	drop_region(path, fd);
}
END_TEST

START_TEST(attach_userfaultfd_refused)
{
	char path[ST_PATH_MAX];
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg;
	unsigned char *p;
	int fd, uffd, rc;

	/* User-mode-only handling needs no privilege. */
	uffd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | UFFD_USER_MODE_ONLY);
	if (uffd < 0) {
		st_skip("attach_userfaultfd_refused", "userfaultfd: %s",
			strerror(errno));
		return;
	}
	ck_assert_int_eq(ioctl(uffd, UFFDIO_API, &api), 0);
	fd = st_region_anon(path, "uffd", 16 * ST_PAGE);
	p = st_attach(fd, PROT_READ | PROT_WRITE);
	memset(&reg, 0, sizeof(reg));
	reg.range.start = (uintptr_t)p;
	reg.range.len = st_align();
	reg.mode = UFFDIO_REGISTER_MODE_MISSING;
	errno = 0;
	rc = ioctl(uffd, UFFDIO_REGISTER, &reg);
	ck_assert_msg(rc == -1, "UFFDIO_REGISTER on an attachment succeeded");
	fprintf(stderr, "# attach_userfaultfd_refused: UFFDIO_REGISTER -> %s\n",
		strerrorname_np(errno));
	p[0] = 1;	/* and the attachment still works */
	ck_assert_uint_eq(p[0], 1);
	close(uffd);
	ck_assert_int_eq(munmap(p, st_align()), 0);
	drop_region(path, fd);
}
END_TEST

void register_attach_tests(void)
{
	static const struct selftest_group group = { "attach", 60 };

	selftest_add(&group, attach_bad_requests_einval);
	selftest_add(&group, attach_unsized_einval);
	selftest_add(&group, attach_smaps_names_its_flag);
	selftest_add(&group, attach_smaps_counts_no_pages);
	selftest_add(&group, attach_rlimit_as_counts_it);
	selftest_add(&group, attach_mlock_future_checks_it);
	selftest_add(&group, attach_readonly_fd_prot_write_eacces);
	selftest_add(&group, attach_address_is_aligned);
	selftest_add(&group, attach_fixed);
	selftest_add(&group, attach_shows_in_proc_maps);
	selftest_add(&group, attach_whole_only);
	selftest_add(&group, attach_msync_file_backed);
	selftest_add(&group, attach_kernel_walkers_survive);
	selftest_add(&group, attach_mlock_skips_it);
	selftest_add(&group, attach_userfaultfd_refused);
}
