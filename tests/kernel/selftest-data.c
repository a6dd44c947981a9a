/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Data through regions: what one process writes another sees, for anonymous
 * memory, tmpfs files and hugetlb memory; and the protection an attachment
 * enforces (UAPI.md "MSHAREFS_CREATE_MAPPING", "Attaching").
 */
#include "selftest.h"

#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#define DATA_BYTES (64 * ST_PAGE)

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

static void assert_child_segv(int status, const char *what)
{
	char buf[64];

	ck_assert_msg(killed_by(status, SIGSEGV),
		      "%s: want SIGSEGV, child ended with %s", what,
		      describe_status(status, buf, sizeof(buf)));
}

/* ---- a process that attaches on its own, after the fork ---- */

struct peer {
	const char *path;
	int go_fd;	/* parent -> peer: "pattern 1 is written" */
	int done_fd;	/* peer -> parent: "pattern 2 is written" */
};

/* Exit codes tell the parent which step failed. */
static int peer_main(void *arg)
{
	const struct peer *peer = arg;
	struct stat st;
	unsigned char *p;
	int fd = open(peer->path, O_RDWR | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st) != 0)
		return 10;
	p = mshare_attach(fd, (uint64_t)st.st_size, PROT_READ | PROT_WRITE);
	if (p == MAP_FAILED)
		return 11;
	if (recv_token(peer->go_fd) != 0)
		return 12;
	if (pattern_mismatches(p, DATA_BYTES, 1) != 0)
		return 13;
	fill_pattern(p, DATA_BYTES, 2);
	if (send_token(peer->done_fd) != 0)
		return 14;
	return munmap(p, (size_t)st.st_size) == 0 ? 0 : 15;
}

START_TEST(data_anon_between_unrelated_processes)
{
	char path[ST_PATH_MAX];
	int go[2], done[2], fd;
	struct peer peer;
	unsigned char *p;
	pid_t pid;

	fd = st_region_anon(path, "anon-peer", DATA_BYTES);
	ck_assert_int_eq(pipe(go), 0);
	ck_assert_int_eq(pipe(done), 0);
	peer.path = path;
	peer.go_fd = go[0];
	peer.done_fd = done[1];
	/* The peer opens and attaches by name: it inherits no mapping. */
	pid = spawn_child(peer_main, &peer);
	ck_assert_int_gt(pid, 0);

	p = st_attach(fd, PROT_READ | PROT_WRITE);
	fill_pattern(p, DATA_BYTES, 1);
	ck_assert_int_eq(send_token(go[1]), 0);
	ck_assert_msg(recv_token(done[0]) == 0, "peer did not answer");
	ck_assert_uint_eq(pattern_mismatches(p, DATA_BYTES, 2), 0);
	assert_child(wait_child(pid), "unrelated peer");
	ck_assert_int_eq(munmap(p, st_align()), 0);
	drop_region(path, fd);
}
END_TEST

static int child_checks_and_answers(void *arg)
{
	unsigned char *p = arg;

	if (pattern_mismatches(p, DATA_BYTES, 3) != 0)
		return 1;
	fill_pattern(p, DATA_BYTES, 4);
	return 0;
}

START_TEST(data_anon_with_child)
{
	char path[ST_PATH_MAX];
	int fd = st_region_anon(path, "anon-child", DATA_BYTES);
	unsigned char *p = st_attach(fd, PROT_READ | PROT_WRITE);

	fill_pattern(p, DATA_BYTES, 3);
	assert_child(run_child(child_checks_and_answers, p), "child");
	ck_assert_uint_eq(pattern_mismatches(p, DATA_BYTES, 4), 0);
	ck_assert_int_eq(munmap(p, st_align()), 0);
	drop_region(path, fd);
}
END_TEST

START_TEST(data_tmpfs_file_coherent)
{
	char path[ST_PATH_MAX], file[ST_PATH_MAX];
	/* File bytes [FILE_OFF, +LEN) appear at region [REGION_OFF, +LEN). */
	const uint64_t file_off = 8 * ST_PAGE, region_off = 256 * ST_PAGE;
	const size_t len = 16 * ST_PAGE;
	unsigned char *p, *buf = malloc(len);
	int fd = st_region_sized(path, "tmpfs");
	int file_fd = st_tmpfile(file, "tmpfs", (off_t)(file_off + len));

	ck_assert_ptr_nonnull(buf);
	fill_pattern(buf, len, 5);
	ck_assert_int_eq(pwrite(file_fd, buf, len, (off_t)file_off),
			 (ssize_t)len);
	ST_ASSERT_RC(mshare_map_file(fd, region_off, len, PROT_READ | PROT_WRITE,
				     file_fd, file_off), 0);
	p = st_attach(fd, PROT_READ | PROT_WRITE);

	/* pwrite before the attach shows through the region... */
	ck_assert_uint_eq(pattern_mismatches(p + region_off, len, 5), 0);
	/* ...writes through the region show in pread... */
	fill_pattern(p + region_off, len, 6);
	ck_assert_int_eq(pread(file_fd, buf, len, (off_t)file_off),
			 (ssize_t)len);
	ck_assert_uint_eq(pattern_mismatches(buf, len, 6), 0);
	/* ...and a later pwrite shows through the region again. */
	fill_pattern(buf, len, 7);
	ck_assert_int_eq(pwrite(file_fd, buf, len, (off_t)file_off),
			 (ssize_t)len);
	ck_assert_uint_eq(pattern_mismatches(p + region_off, len, 7), 0);
	/* The file is not mapped outside its range. */
	ck_assert_int_eq(probe_access(p + region_off - ST_PAGE, false), SIGSEGV);
	ck_assert_int_eq(probe_access(p + region_off + len, false), SIGSEGV);

	ck_assert_int_eq(munmap(p, st_align()), 0);
	close(file_fd);
	free(buf);
	drop_region(path, fd);
}
END_TEST

/* ---- hugetlb ---- */

/*
 * Returns the huge page size if huge pages can be used, else 0 after
 * printing why (the VM suite reserves some; a bare host usually has none).
 */
static size_t usable_hugepage_size(const char *test)
{
	long reserved = nr_hugepages(), free_pages = meminfo_kb("HugePages_Free");
	size_t size = default_hugepage_size();

	if (reserved <= 0 || size == 0) {
		st_skip(test, "/proc/sys/vm/nr_hugepages is %ld: no huge pages reserved",
			reserved);
		return 0;
	}
	if (free_pages < 2) {
		st_skip(test, "HugePages_Free is %ld, need 2", free_pages);
		return 0;
	}
	return size;
}

/* A writable hugetlbfs directory: an existing mount, or (as root) a private one. */
static int hugetlbfs_dir(const char *test, char *dir, size_t len)
{
	if (find_hugetlbfs_mount(dir, len) == 0 && access(dir, W_OK) == 0)
		return 0;
	if (geteuid() != 0) {
		st_skip(test, "no writable hugetlbfs mount and not root to mount one");
		return -1;
	}
	/* Only this test process sees the mount. */
	ck_assert_msg(unshare(CLONE_NEWNS) == 0, "unshare: %s", strerror(errno));
	ck_assert_int_eq(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0);
	snprintf(dir, len, "%s/hugetlbfs-%ld", st_tmpdir(), (long)getpid());
	ck_assert_int_eq(mkdir(dir, 0700), 0);
	ck_assert_msg(mount("hugetlbfs", dir, "hugetlbfs", 0, NULL) == 0,
		      "mount hugetlbfs: %s", strerror(errno));
	return 0;
}

START_TEST(data_hugetlbfs_file)
{
	char path[ST_PATH_MAX], dir[ST_PATH_MAX], file[ST_PATH_MAX + 32];
	size_t huge = usable_hugepage_size("data_hugetlbfs_file");
	unsigned char *p, *direct;
	long free_before;
	int fd, file_fd;

	if (huge == 0 || hugetlbfs_dir("data_hugetlbfs_file", dir, sizeof(dir)))
		return;
	snprintf(file, sizeof(file), "%s/st-%ld-%ld", dir, (long)st_runner_pid,
		 (long)getpid());
	file_fd = open(file, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	ck_assert_msg(file_fd >= 0, "create %s: %s", file, strerror(errno));
	unlink(file);	/* the descriptor keeps it */
	ck_assert_int_eq(ftruncate(file_fd, (off_t)huge), 0);

	fd = st_region_sized(path, "hugetlbfs");
	/*
	 * Huge page alignment applies to where it goes in the region.  (A
	 * short size is not tested: plain mmap rounds hugetlbfs lengths up,
	 * and UAPI.md does not say whether CREATE_MAPPING does too.)
	 */
	ST_ASSERT_RC(mshare_map_file(fd, ST_PAGE, huge, PROT_READ | PROT_WRITE,
				     file_fd, 0), EINVAL);
	ST_ASSERT_RC(mshare_map_file(fd, huge, huge, PROT_READ | PROT_WRITE,
				     file_fd, 0), 0);

	free_before = meminfo_kb("HugePages_Free");
	p = st_attach(fd, PROT_READ | PROT_WRITE);
	fill_pattern(p + huge, huge, 8);
	fprintf(stderr, "# data_hugetlbfs_file: HugePages_Free %ld -> %ld\n",
		free_before, meminfo_kb("HugePages_Free"));
	ck_assert_int_eq(meminfo_kb("HugePages_Free"), free_before - 1);

	direct = mmap(NULL, huge, PROT_READ | PROT_WRITE, MAP_SHARED, file_fd, 0);
	ck_assert_msg(direct != MAP_FAILED, "mmap hugetlbfs file: %s",
		      strerror(errno));
	ck_assert_uint_eq(pattern_mismatches(direct, huge, 8), 0);
	fill_pattern(direct, huge, 9);
	ck_assert_uint_eq(pattern_mismatches(p + huge, huge, 9), 0);

	ck_assert_int_eq(munmap(direct, huge), 0);
	ck_assert_int_eq(munmap(p, st_align()), 0);
	close(file_fd);
	drop_region(path, fd);
}
END_TEST

static int child_checks_huge(void *arg)
{
	unsigned char *p = arg;

	return pattern_mismatches(p, default_hugepage_size(), 10) == 0 ? 0 : 1;
}

START_TEST(data_hugetlb_anonymous)
{
	char path[ST_PATH_MAX];
	size_t huge = usable_hugepage_size("data_hugetlb_anonymous");
	struct mshare_create req = {
		.region_offset = 0,
		.prot = PROT_READ | PROT_WRITE,
		.flags = MAP_SHARED | MAP_FIXED | MAP_ANONYMOUS | MAP_HUGETLB,
		.fd = (__u32)-1,
	};
	unsigned char *p;
	long free_before;
	int fd;

	if (huge == 0)
		return;
	fd = st_region_sized(path, "hugetlb-anon");
	/*
	 * Not huge page aligned.  (A short size is not tested: plain mmap
	 * rounds MAP_HUGETLB lengths up, and UAPI.md does not say whether
	 * CREATE_MAPPING does too.)
	 */
	req.size = huge;
	req.region_offset = ST_PAGE;
	ST_ASSERT_RC(mshare_map_raw(fd, &req), EINVAL);
	req.region_offset = 0;
	/* The explicit size bits name the default size here. */
	req.flags |= (__u32)(__builtin_ctzl(huge) << MAP_HUGE_SHIFT);
	ST_ASSERT_RC(mshare_map_raw(fd, &req), 0);

	free_before = meminfo_kb("HugePages_Free");
	p = st_attach(fd, PROT_READ | PROT_WRITE);
	fill_pattern(p, huge, 10);
	fprintf(stderr, "# data_hugetlb_anonymous: HugePages_Free %ld -> %ld\n",
		free_before, meminfo_kb("HugePages_Free"));
	ck_assert_int_eq(meminfo_kb("HugePages_Free"), free_before - 1);
	assert_child(run_child(child_checks_huge, p), "hugetlb child");
	ck_assert_int_eq(munmap(p, st_align()), 0);
	drop_region(path, fd);
}
END_TEST

/* ---- protection ---- */

static int child_writes(void *arg)
{
	*(volatile unsigned char *)arg = 0x99;
	return 0;	/* reaching this means the write went through */
}

static int child_reads(void *arg)
{
	return *(volatile unsigned char *)arg == 0x99 ? 3 : 0;
}

START_TEST(data_readonly_attach)
{
	char path[ST_PATH_MAX];
	int fd = st_region_anon(path, "readonly", ST_PAGE), ro;
	unsigned char *rw = st_attach(fd, PROT_READ | PROT_WRITE), *r;

	rw[0] = 0x42;
	ro = open(path, O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(ro, 0);
	r = st_attach(ro, PROT_READ);
	ck_assert_uint_eq(r[0], 0x42);
	/* The region's mapping is writable, the attachment is not. */
	assert_child_segv(run_child(child_writes, r), "write via read-only attach");
	ck_assert_uint_eq(rw[0], 0x42);
	ck_assert_int_eq(probe_access(r, true), SIGSEGV);
	/* The writable attachment in the same process still writes. */
	rw[0] = 0x43;
	ck_assert_uint_eq(r[0], 0x43);
	ck_assert_int_eq(munmap(r, st_align()), 0);
	ck_assert_int_eq(munmap(rw, st_align()), 0);
	close(ro);
	drop_region(path, fd);
}
END_TEST

START_TEST(data_readonly_region_mapping)
{
	char path[ST_PATH_MAX];
	int fd = st_region_sized(path, "ro-mapping");
	unsigned char *p;

	/* The converse: a writable attachment of a read-only mapping. */
	ST_ASSERT_RC(mshare_map_anon(fd, 0, ST_PAGE, PROT_READ), 0);
	p = st_attach(fd, PROT_READ | PROT_WRITE);
	ck_assert_uint_eq(p[0], 0);
	assert_child_segv(run_child(child_writes, p), "write to PROT_READ mapping");
	ck_assert_int_eq(munmap(p, st_align()), 0);
	drop_region(path, fd);
}
END_TEST

#if defined(__x86_64__)
static int child_calls(void *arg)
{
	int (*fn)(void) = (int (*)(void))arg;

	return fn();
}

START_TEST(data_exec_follows_region_mapping)
{
	/* mov eax, 7; ret */
	static const unsigned char code[] = { 0xb8, 7, 0, 0, 0, 0xc3 };
	char path[ST_PATH_MAX];
	int fd = st_region_sized(path, "exec");
	unsigned char *rw, *rx;

	/* Page 0 is mapped executable in the region, page 1 is not. */
	ST_ASSERT_RC(mshare_map_anon(fd, 0, ST_PAGE,
				     PROT_READ | PROT_WRITE | PROT_EXEC), 0);
	ST_ASSERT_RC(mshare_map_anon(fd, ST_PAGE, ST_PAGE,
				     PROT_READ | PROT_WRITE), 0);
	rw = st_attach(fd, PROT_READ | PROT_WRITE);
	memcpy(rw, code, sizeof(code));
	memcpy(rw + ST_PAGE, code, sizeof(code));
	rx = st_attach(fd, PROT_READ | PROT_EXEC);
	{
		int status = run_child(child_calls, rx);

		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 7,
			      "code in a PROT_EXEC region mapping did not run");
	}
	assert_child_segv(run_child(child_calls, rx + ST_PAGE),
			  "exec of a region mapping without PROT_EXEC");
	ck_assert_int_eq(munmap(rx, st_align()), 0);
	ck_assert_int_eq(munmap(rw, st_align()), 0);
	drop_region(path, fd);
}
END_TEST
#endif

START_TEST(data_unmapped_part_segv)
{
	char path[ST_PATH_MAX];
	const uint64_t mapped = 256 * ST_PAGE;
	int fd = st_region_anon(path, "hole", mapped);
	unsigned char *p = st_attach(fd, PROT_READ | PROT_WRITE);

	p[mapped - 1] = 1;
	ck_assert_uint_eq(run_child(child_reads, p + mapped - 1), 0);
	assert_child_segv(run_child(child_reads, p + mapped), "read past the mapping");
	assert_child_segv(run_child(child_writes, p + mapped), "write past the mapping");
	assert_child_segv(run_child(child_reads, p + (2u << 20)), "read at 2 MiB");
	assert_child_segv(run_child(child_reads, p + st_align() / 2), "read in the middle");
	assert_child_segv(run_child(child_reads, p + st_align() - 1), "read of the last byte");
	ck_assert_int_eq(munmap(p, st_align()), 0);
	drop_region(path, fd);
}
END_TEST

void register_data_tests(void)
{
	static const struct selftest_group group = { "data", 120 };

	selftest_add(&group, data_anon_between_unrelated_processes);
	selftest_add(&group, data_anon_with_child);
	selftest_add(&group, data_tmpfs_file_coherent);
	selftest_add(&group, data_hugetlbfs_file);
	selftest_add(&group, data_hugetlb_anonymous);
	selftest_add(&group, data_readonly_attach);
	selftest_add(&group, data_readonly_region_mapping);
#if defined(__x86_64__)
	selftest_add(&group, data_exec_follows_region_mapping);
#endif
	selftest_add(&group, data_unmapped_part_segv);
}
