// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * NUMA placement of region memory (patch 0044 refuses mbind();
 * Documentation/filesystems/msharefs.rst, "NUMA placement").  A region's
 * pages are placed by the region: the shared policy of the file mapped
 * there, else the task policy of the process whose fault allocates them.
 * A policy on an attachment would never apply, so mbind() refuses it.
 * Each case runs beside a plain shared mapping, the kernel's reference.
 */
#include "selftest.h"

#include <linux/mempolicy.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#define NUMA_PAGES 64

static long sys_mbind(void *addr, size_t len, int mode,
		      const unsigned long *nodes)
{
	return syscall(SYS_mbind, addr, len, mode, nodes,
		       nodes ? 8 * sizeof(*nodes) : 0, 0);
}

static long sys_set_mempolicy(int mode, const unsigned long *nodes)
{
	return syscall(SYS_set_mempolicy, mode, nodes, 8 * sizeof(*nodes));
}

/* The node of the page at ADDR (faulted in), or -1 with errno. */
static int node_of(const void *addr)
{
	int node = -1;

	if (syscall(SYS_get_mempolicy, &node, NULL, 0, addr,
		    MPOL_F_NODE | MPOL_F_ADDR) != 0)
		return -1;
	return node;
}

/* Two nodes or more, else false after st_skip (or a failure when asked). */
static bool two_nodes(const char *test)
{
	const char *want = getenv("MSHARE_EXPECT_NUMA");

	if (access("/sys/devices/system/node/node1", F_OK) == 0)
		return true;
	ck_assert_msg(!want || strcmp(want, "1") != 0,
		      "booted with NUMA nodes, but node1: %s", strerror(errno));
	st_skip(test, "one NUMA node (no CONFIG_NUMA, or one node here)");
	return false;
}

/* Counts the pages of [P, P + NUMA_PAGES pages) on nodes 0 and 1. */
static void count_nodes(const unsigned char *p, int count[2])
{
	count[0] = count[1] = 0;
	for (int i = 0; i < NUMA_PAGES; i++) {
		int node = node_of(p + i * ST_PAGE);

		ck_assert_msg(node >= 0, "get_mempolicy of page %d: %s", i,
			      strerror(errno));
		if (node < 2)
			count[node]++;
	}
}

/* mbind() on an attachment fails and changes nothing; a plain one works */
START_TEST(numa_mbind_refused_on_attachment)
{
	const unsigned long node1 = 1UL << 1;
	char path[ST_PATH_MAX];
	unsigned char *p, *plain;
	int fd;

	if (!two_nodes("numa_mbind_refused_on_attachment"))
		return;
	plain = mmap(NULL, NUMA_PAGES * ST_PAGE, PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(plain, MAP_FAILED);
	ST_ASSERT_SYSCALL_OK(sys_mbind(plain, NUMA_PAGES * ST_PAGE, MPOL_BIND, &node1));

	fd = st_region_anon(path, "numa-mbind", NUMA_PAGES * ST_PAGE);
	p = st_attach(fd, PROT_READ | PROT_WRITE);
	ST_ASSERT_ERRNO(sys_mbind(p, NUMA_PAGES * ST_PAGE, MPOL_BIND, &node1),
			EINVAL);
	ST_ASSERT_ERRNO(sys_mbind(p, NUMA_PAGES * ST_PAGE, MPOL_DEFAULT, NULL),
			EINVAL);
	/* A range over both refuses before it changes the plain mapping */
	if ((uintptr_t)plain + NUMA_PAGES * ST_PAGE <= (uintptr_t)p) {
		size_t span = (size_t)((uintptr_t)p - (uintptr_t)plain) + ST_PAGE;

		ST_ASSERT_ERRNO(sys_mbind(plain, span, MPOL_DEFAULT, NULL),
				EINVAL);
	}
	memset(plain, 1, NUMA_PAGES * ST_PAGE);
	for (int i = 0; i < NUMA_PAGES; i++)
		ck_assert_int_eq(node_of(plain + i * ST_PAGE), 1);

	ck_assert_int_eq(munmap(p, st_align()), 0);
	munmap(plain, NUMA_PAGES * ST_PAGE);
	ck_assert_int_eq(unlink(path), 0);
	close(fd);
}
END_TEST

/* Faults in P's first pages in a child under an interleave policy. */
static void fill_interleaved(unsigned char *p)
{
	const unsigned long both = 3;
	pid_t pid = fork();
	int status;

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		if (sys_set_mempolicy(MPOL_INTERLEAVE, &both) != 0)
			_exit(2);
		for (int i = 0; i < NUMA_PAGES; i++)
			p[i * ST_PAGE] = 1;
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "the interleaving child: status 0x%x", status);
}

/*
 * numactl --interleave on the process that fills the region spreads the
 * region's pages as it spreads a plain shared mapping's; get_mempolicy()
 * and move_pages() see them through the attachment, and move_pages()
 * cannot move them from there.
 */
START_TEST(numa_task_policy_places_region_pages)
{
	char path[ST_PATH_MAX];
	unsigned char *p, *plain;
	int fd, plain_count[2], region_count[2];
	void *pages[NUMA_PAGES];
	int nodes[NUMA_PAGES], status[NUMA_PAGES];

	if (!two_nodes("numa_task_policy_places_region_pages"))
		return;
	plain = mmap(NULL, NUMA_PAGES * ST_PAGE, PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(plain, MAP_FAILED);
	fill_interleaved(plain);
	count_nodes(plain, plain_count);

	fd = st_region_anon(path, "numa-interleave", NUMA_PAGES * ST_PAGE);
	p = st_attach(fd, PROT_READ | PROT_WRITE);
	fill_interleaved(p);
	count_nodes(p, region_count);
	fprintf(stderr, "# interleaved: plain mapping %d + %d pages, region %d + %d pages on nodes 0 + 1\n",
		plain_count[0], plain_count[1], region_count[0],
		region_count[1]);
	ck_assert_msg(plain_count[0] > 0 && plain_count[1] > 0,
		      "the kernel's reference did not interleave");
	ck_assert_msg(region_count[0] > NUMA_PAGES / 4 &&
		      region_count[1] > NUMA_PAGES / 4,
		      "region pages: %d on node 0, %d on node 1",
		      region_count[0], region_count[1]);

	/* Query mode reports the pages' nodes through the attachment */
	for (int i = 0; i < NUMA_PAGES; i++)
		pages[i] = p + i * ST_PAGE;
	ST_ASSERT_SYSCALL_OK(syscall(SYS_move_pages, 0, NUMA_PAGES, pages, NULL,
			     status, 0));
	for (int i = 0; i < NUMA_PAGES; i++)
		ck_assert_int_eq(status[i], node_of(pages[i]));
	/* Moving through the attachment fails page by page; nothing moves */
	for (int i = 0; i < NUMA_PAGES; i++)
		nodes[i] = 1 - status[i];
	ST_ASSERT_SYSCALL_OK(syscall(SYS_move_pages, 0, NUMA_PAGES, pages, nodes,
			     status, 0));
	for (int i = 0; i < NUMA_PAGES; i++) {
		ck_assert_int_eq(status[i], -EFAULT);
		ck_assert_int_eq(node_of(pages[i]), 1 - nodes[i]);
	}

	ck_assert_int_eq(munmap(p, st_align()), 0);
	munmap(plain, NUMA_PAGES * ST_PAGE);
	ck_assert_int_eq(unlink(path), 0);
	close(fd);
}
END_TEST

/*
 * A memfd's shared policy, set through a plain mapping of it, places the
 * pages that faults through an attachment allocate.
 */
START_TEST(numa_file_policy_places_region_pages)
{
	const unsigned long node1 = 1UL << 1;
	const size_t size = NUMA_PAGES * ST_PAGE;
	char path[ST_PATH_MAX];
	unsigned char *p, *plain;
	int fd, memfd, count[2];

	if (!two_nodes("numa_file_policy_places_region_pages"))
		return;
	memfd = memfd_create("st-numa", MFD_CLOEXEC);
	ck_assert_int_ge(memfd, 0);
	ck_assert_int_eq(ftruncate(memfd, (off_t)size), 0);
	plain = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	ck_assert_ptr_ne(plain, MAP_FAILED);
	ST_ASSERT_SYSCALL_OK(sys_mbind(plain, size, MPOL_BIND, &node1));

	fd = st_region_sized(path, "numa-file");
	ST_ASSERT_RC(mshare_map_file(fd, 0, size, PROT_READ | PROT_WRITE,
				     memfd, 0), 0);
	p = st_attach(fd, PROT_READ | PROT_WRITE);
	memset(p, 1, size);
	count_nodes(p, count);
	ck_assert_msg(count[1] == NUMA_PAGES,
		      "a file bound to node 1: %d of %d region pages there",
		      count[1], NUMA_PAGES);
	ck_assert_int_eq(plain[size - 1], 1);

	ck_assert_int_eq(munmap(p, st_align()), 0);
	munmap(plain, size);
	close(memfd);
	ck_assert_int_eq(unlink(path), 0);
	close(fd);
}
END_TEST

void register_numa_tests(void)
{
	static const struct selftest_group group = { "numa", 120 };

	selftest_add(&group, numa_mbind_refused_on_attachment);
	selftest_add(&group, numa_task_policy_places_region_pages);
	selftest_add(&group, numa_file_policy_places_region_pages);
}
