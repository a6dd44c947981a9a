/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What no user may do to the kernel through a region (issue 10, "Crashes
 * and memory safety", device memory, uAPI fidelity): reuse page tables for
 * another page size, map 1 GiB pages or device memory into a region, map a
 * region privately.  Each test failed (or crashed the kernel) on the series
 * before the fix it checks.
 */
#include "selftest.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define HUGE_2M ((uint64_t)2 << 20)
#define HUGE_1G ((uint64_t)1 << 30)
#define HUGE_SIZE_FLAGS(size) ((__u32)__builtin_ctzll(size) << MAP_HUGE_SHIFT)
/* A child that touches a region must be done by then, or it hangs. */
#define TOUCH_SECONDS 60

static void assert_child_ok(int status, const char *what)
{
	char buf[64];

	ck_assert_msg(exited_ok(status), "%s: child ended with %s", what,
		      describe_status(status, buf, sizeof(buf)));
}

/* True if 2 MiB huge pages are the default and two are free, else skips. */
static bool have_free_2m_pages(const char *test)
{
	long free_pages = meminfo_kb("HugePages_Free");

	if (default_hugepage_size() != HUGE_2M) {
		st_skip(test, "the default huge page size is not 2 MiB");
		return false;
	}
	if (free_pages < 2) {
		st_skip(test, "HugePages_Free is %ld, need 2", free_pages);
		return false;
	}
	return true;
}

static int map_hugetlb_anon(int fd, uint64_t offset, uint64_t size,
			    __u32 fixed)
{
	struct mshare_create req = {
		.region_offset = offset,
		.size = size,
		.prot = PROT_READ | PROT_WRITE,
		.flags = MAP_SHARED | fixed | MAP_ANONYMOUS | MAP_HUGETLB |
			 MAP_NORESERVE | HUGE_SIZE_FLAGS(size),
		.fd = (__u32)-1,
	};

	return mshare_map_raw(fd, &req);
}

struct touch {
	unsigned char *p;
	size_t len;
	uint32_t seed;
};

/* Writes a pattern over [p, p+len) and reads it back. */
static int child_fills(void *arg)
{
	const struct touch *t = arg;

	fill_pattern(t->p, t->len, t->seed);
	return pattern_mismatches(t->p, t->len, t->seed) == 0 ? 0 : 1;
}

static void touch_in_child(unsigned char *p, size_t len, uint32_t seed,
			   const char *what)
{
	struct touch t = { .p = p, .len = len, .seed = seed };
	pid_t pid = spawn_child(child_fills, &t);

	ck_assert_int_gt(pid, 0);
	assert_child_ok(wait_child_within(pid, TOUCH_SECONDS), what);
	/* The parent sees what the child wrote, through the same tables. */
	ck_assert_uint_eq(pattern_mismatches(p, len, seed), 0);
}

/*
 * Small pages leave a PTE table below the region's PMD entry when they are
 * unmapped; a hugetlb mapping at the same place must not meet it (it was a
 * kernel BUG in huge_pte_alloc(), with the region's locks held for good).
 */
START_TEST(safety_hugetlb_after_small_pages_unmapped)
{
	char path[ST_PATH_MAX];
	unsigned char *p;
	int fd;

	if (!have_free_2m_pages("safety_hugetlb_after_small_pages_unmapped"))
		return;
	fd = st_region_sized(path, "huge-after-unmap");
	ST_ASSERT_RC(mshare_map_anon(fd, 0, ST_PAGE, PROT_READ | PROT_WRITE),
		     0);
	p = st_attach(fd, PROT_READ | PROT_WRITE);
	touch_in_child(p, ST_PAGE, 21, "small page");
	ST_ASSERT_RC(mshare_unmap(fd, 0, ST_PAGE), 0);

	ST_ASSERT_RC(map_hugetlb_anon(fd, 0, HUGE_2M, MAP_FIXED), 0);
	touch_in_child(p, HUGE_2M, 22, "2 MiB page after the small one");

	/* And back: small pages where the huge page was, then huge again. */
	ST_ASSERT_RC(mshare_unmap(fd, 0, HUGE_2M), 0);
	ST_ASSERT_RC(mshare_map_anon(fd, 0, ST_PAGE, PROT_READ | PROT_WRITE),
		     0);
	touch_in_child(p, ST_PAGE, 23, "small page after the huge one");
	ST_ASSERT_RC(mshare_unmap(fd, 0, ST_PAGE), 0);
	ST_ASSERT_RC(map_hugetlb_anon(fd, 0, HUGE_2M, MAP_FIXED_NOREPLACE), 0);
	touch_in_child(p, HUGE_2M, 24, "2 MiB page again");

	ck_assert_int_eq(munmap(p, st_align()), 0);
	ck_assert_int_eq(unlink(path), 0);
	close(fd);
}
END_TEST

/* The same when CREATE_MAPPING replaces the small pages (MAP_FIXED). */
START_TEST(safety_hugetlb_replacing_small_pages)
{
	char path[ST_PATH_MAX];
	unsigned char *p;
	int fd;

	if (!have_free_2m_pages("safety_hugetlb_replacing_small_pages"))
		return;
	fd = st_region_sized(path, "huge-replace");
	/* Small pages in the middle of the second 2 MiB unit. */
	ST_ASSERT_RC(mshare_map_anon(fd, HUGE_2M + 16 * ST_PAGE, 4 * ST_PAGE,
				     PROT_READ | PROT_WRITE), 0);
	p = st_attach(fd, PROT_READ | PROT_WRITE);
	touch_in_child(p + HUGE_2M + 16 * ST_PAGE, 4 * ST_PAGE, 25,
		       "small pages");

	ST_ASSERT_RC(map_hugetlb_anon(fd, HUGE_2M, HUGE_2M, MAP_FIXED), 0);
	touch_in_child(p + HUGE_2M, HUGE_2M, 26, "2 MiB page replacing them");

	ck_assert_int_eq(munmap(p, st_align()), 0);
	ck_assert_int_eq(unlink(path), 0);
	close(fd);
}
END_TEST

static bool have_1g_hstate(void)
{
	return access("/sys/kernel/mm/hugepages/hugepages-1048576kB", F_OK) == 0;
}

/*
 * 1 GiB pages through an attachment are refused (UAPI.md): anonymous
 * MAP_HUGETLB with MAP_HUGE_1GB and a hugetlbfs file of 1 GiB pages.
 * MAP_NORESERVE: no 1 GiB page needs to be reserved for the call to be
 * checked.
 */
START_TEST(safety_hugetlb_1g_refused)
{
	char path[ST_PATH_MAX], dir[ST_PATH_MAX / 2], file[ST_PATH_MAX];
	int fd, file_fd;

	if (!have_1g_hstate()) {
		st_skip("safety_hugetlb_1g_refused",
			"no 1 GiB huge page size (needs pdpe1gb and hugepagesz=1G)");
		return;
	}
	fd = st_region_sized(path, "huge-1g");
	ST_ASSERT_RC(map_hugetlb_anon(fd, 0, HUGE_1G, MAP_FIXED), EINVAL);
	/* The same range in 2 MiB pages is fine. */
	ST_ASSERT_RC(map_hugetlb_anon(fd, 0, HUGE_2M, MAP_FIXED), 0);
	ST_ASSERT_RC(map_hugetlb_anon(fd, HUGE_1G, HUGE_1G, MAP_FIXED),
		     EINVAL);

	if (geteuid() != 0) {
		st_skip("safety_hugetlb_1g_refused",
			"not root: no hugetlbfs mount with pagesize=1G");
	} else {
		snprintf(dir, sizeof(dir), "%s/huge-1g-%ld", st_tmpdir(),
			 (long)getpid());
		ck_assert_int_eq(mkdir(dir, 0700), 0);
		ck_assert_msg(mount("hugetlbfs", dir, "hugetlbfs", 0,
				    "pagesize=1G") == 0,
			      "mount hugetlbfs pagesize=1G: %s",
			      strerror(errno));
		snprintf(file, sizeof(file), "%s/f", dir);
		file_fd = open(file, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		ck_assert_int_ge(file_fd, 0);
		ST_ASSERT_RC(mshare_map_file(fd, HUGE_1G, HUGE_1G,
					     PROT_READ | PROT_WRITE, file_fd,
					     0), EINVAL);
		close(file_fd);
		ck_assert_int_eq(unlink(file), 0);
		ck_assert_int_eq(umount(dir), 0);
		ck_assert_int_eq(rmdir(dir), 0);
	}
	ck_assert_int_eq(unlink(path), 0);
	close(fd);
}
END_TEST

/*
 * MAP_PRIVATE of a region is EINVAL, whatever the protection, and before
 * the kernel accounts 512 GiB of private memory (which failed first with
 * another errno under the default overcommit heuristic).
 */
START_TEST(safety_private_attach_einval)
{
	char path[ST_PATH_MAX];
	int fd = st_region_anon(path, "private", ST_PAGE);
	size_t size = st_align();

	ST_ASSERT_MMAP_ERRNO(mmap(NULL, size, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE, fd, 0), size, EINVAL);
	ST_ASSERT_MMAP_ERRNO(mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0),
			     size, EINVAL);
	ST_ASSERT_MMAP_ERRNO(mmap(NULL, size, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_NORESERVE, fd, 0), size,
			     EINVAL);
	ck_assert_int_eq(unlink(path), 0);
	close(fd);
}
END_TEST

#define IORESOURCE_MEM_FLAG 0x200UL

/*
 * Finds a PCI memory BAR's sysfs resource file: a regular file whose mmap
 * maps device memory (VM_PFNMAP | VM_IO).  Returns 0 and fills PATH.
 */
static int find_pci_memory_bar(char *path, size_t len)
{
	const char *base = "/sys/bus/pci/devices";
	DIR *dir = opendir(base);
	struct dirent *de;
	int found = -1;

	if (!dir)
		return -1;
	while (found != 0 && (de = readdir(dir)) != NULL) {
		unsigned long long start, end, flags;
		char res[ST_PATH_MAX];
		FILE *f;
		int bar;

		if (de->d_name[0] == '.')
			continue;
		snprintf(res, sizeof(res), "%s/%s/resource", base, de->d_name);
		f = fopen(res, "re");
		if (!f)
			continue;
		for (bar = 0; bar < 6; bar++) {
			if (fscanf(f, "%llx %llx %llx", &start, &end,
				   &flags) != 3)
				break;
			if (!(flags & IORESOURCE_MEM_FLAG) || end <= start ||
			    end - start + 1 < ST_PAGE)
				continue;
			snprintf(path, len, "%s/%s/resource%d", base,
				 de->d_name, bar);
			if (access(path, F_OK) == 0) {
				found = 0;
				break;
			}
		}
		fclose(f);
	}
	closedir(dir);
	return found;
}

/* Device memory cannot be mapped into a region (UAPI.md: ENODEV). */
START_TEST(safety_device_memory_refused)
{
	const struct mshare_create anon_noreplace = {
		.region_offset = 0, .size = ST_PAGE, .prot = PROT_READ,
		.flags = MAP_SHARED | MAP_FIXED_NOREPLACE | MAP_ANONYMOUS,
		.fd = (__u32)-1,
	};
	char path[ST_PATH_MAX], bar[ST_PATH_MAX];
	int fd, bar_fd;

	if (find_pci_memory_bar(bar, sizeof(bar)) != 0) {
		st_skip("safety_device_memory_refused",
			"no PCI memory BAR in /sys/bus/pci/devices");
		return;
	}
	bar_fd = open(bar, O_RDWR | O_CLOEXEC);
	if (bar_fd < 0) {
		st_skip("safety_device_memory_refused", "open %s: %s", bar,
			strerror(errno));
		return;
	}
	fd = st_region_sized(path, "device");
	ST_ASSERT_RC(mshare_map_file(fd, 0, ST_PAGE, PROT_READ, bar_fd, 0),
		     ENODEV);
	ST_ASSERT_RC(mshare_map_file(fd, 0, ST_PAGE, PROT_READ | PROT_WRITE,
				     bar_fd, 0), ENODEV);
	/* Nothing was left mapped: the range is free for a new mapping. */
	ST_ASSERT_RC(mshare_map_raw(fd, &anon_noreplace), 0);
	close(bar_fd);
	ck_assert_int_eq(unlink(path), 0);
	close(fd);
}
END_TEST

/*
 * Secret memory (memfd_secret()) is out of the kernel's direct map: a
 * region must refuse it as it refuses device memory.
 */
START_TEST(safety_secret_memory_refused)
{
	char path[ST_PATH_MAX];
	int fd, secret;

#ifdef SYS_memfd_secret
	secret = (int)syscall(SYS_memfd_secret, 0);
#else
	secret = -1;
	errno = ENOSYS;
#endif
	if (secret < 0) {
		st_skip("safety_secret_memory_refused",
			"memfd_secret: %s (CONFIG_SECRETMEM not in this kernel)",
			strerror(errno));
		return;
	}
	ck_assert_int_eq(ftruncate(secret, ST_PAGE), 0);
	fd = st_region_sized(path, "secret");
	ST_ASSERT_RC(mshare_map_file(fd, 0, ST_PAGE, PROT_READ | PROT_WRITE,
				     secret, 0), ENODEV);
	close(secret);
	ck_assert_int_eq(unlink(path), 0);
	close(fd);
}
END_TEST

/* As root, drops clean page cache so that the next faults read the file. */
static void drop_page_cache(void)
{
	int fd = open("/proc/sys/vm/drop_caches", O_WRONLY | O_CLOEXEC);

	if (fd < 0)
		return;
	sync();
	if (write(fd, "1", 1) != 1)
		fprintf(stderr, "# drop_caches: %s\n", strerror(errno));
	close(fd);
}

/*
 * Faults that read a file: the region's fault drops the locks to wait for
 * the read and is retried (VM_FAULT_RETRY), or completes with the locks
 * dropped (VM_FAULT_COMPLETED), from user space and from a kernel copy
 * (pwrite from the attachment).  This covers the lock handling of those paths (the
 * debug kernel's lockdep reports a lock kept or released twice); it does
 * not show the kill itself, which needs I/O that stalls on purpose.
 */
START_TEST(safety_fault_reading_file)
{
	const size_t len = 32 * ST_PAGE, second = 64 * ST_PAGE;
	unsigned char *p, *want = malloc(len), *got = malloc(len);
	char path[ST_PATH_MAX], copy[ST_PATH_MAX];
	int fd, file_fd, copy_fd = st_tmpfile(copy, "file-fault", 0);

	ck_assert_ptr_nonnull(want);
	ck_assert_ptr_nonnull(got);
	/*
	 * A file on the guest's 9p root that nothing maps, so that its page
	 * cache can be dropped: the kernel source the VM suite builds from
	 * (else this program, whose mapped pages stay cached).
	 */
	file_fd = open("/usr/src/linux-source-6.12.tar.xz", O_RDONLY | O_CLOEXEC);
	if (file_fd < 0)
		file_fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(file_fd, 0);
	if (pread(file_fd, want, len, 0) != (ssize_t)len) {
		st_skip("safety_fault_reading_file", "file shorter than %zu",
			len);
		close(file_fd);
		return;
	}
	fd = st_region_sized(path, "file-fault");
	ST_ASSERT_RC(mshare_map_file(fd, 0, len, PROT_READ, file_fd, 0), 0);
	ST_ASSERT_RC(mshare_map_file(fd, second, len, PROT_READ, file_fd, 0),
		     0);
	p = st_attach(fd, PROT_READ);

	drop_page_cache();
	ck_assert_int_eq(memcmp(p, want, len), 0);

	/* The kernel's own copy from the attachment faults in the region. */
	drop_page_cache();
	ck_assert_int_eq(pwrite(copy_fd, p + second, len, 0), (ssize_t)len);
	ck_assert_int_eq(pread(copy_fd, got, len, 0), (ssize_t)len);
	ck_assert_int_eq(memcmp(got, want, len), 0);

	ck_assert_int_eq(munmap(p, st_align()), 0);
	ck_assert_int_eq(unlink(path), 0);
	close(fd);
	close(file_fd);
	close(copy_fd);
	free(want);
	free(got);
}
END_TEST

/*
 * A region whose mappings left page tables behind in gaps (touched, then
 * unmapped) and under live mappings, small and huge, is torn down when the
 * last user goes.  A table left over or freed twice shows as a kernel
 * message ("BUG: non-zero pgtables_bytes on freeing mm", a bad page state)
 * that fails the VM run; the teardown itself must not fail (patch 0023).
 */
START_TEST(safety_teardown_with_leftover_tables)
{
	const uint64_t gig = (uint64_t)1 << 30;
	char path[ST_PATH_MAX];
	unsigned char *p;
	int fd = st_region_sized(path, "teardown");

	ST_ASSERT_RC(mshare_map_anon(fd, 0, 4 * ST_PAGE, PROT_READ | PROT_WRITE),
		     0);
	ST_ASSERT_RC(mshare_map_anon(fd, gig, 4 * ST_PAGE,
				     PROT_READ | PROT_WRITE), 0);
	ST_ASSERT_RC(mshare_map_anon(fd, 3 * gig + 16 * ST_PAGE, ST_PAGE,
				     PROT_READ | PROT_WRITE), 0);
	p = st_attach(fd, PROT_READ | PROT_WRITE);
	touch_in_child(p, 4 * ST_PAGE, 31, "first mapping");
	touch_in_child(p + gig, 4 * ST_PAGE, 32, "second mapping");
	touch_in_child(p + 3 * gig + 16 * ST_PAGE, ST_PAGE, 33, "third");
	/* The second and third leave tables in gaps, the first keeps its. */
	ST_ASSERT_RC(mshare_unmap(fd, gig, 4 * ST_PAGE), 0);
	ST_ASSERT_RC(mshare_unmap(fd, 3 * gig, gig), 0);
	if (meminfo_kb("HugePages_Free") >= 1 &&
	    default_hugepage_size() == HUGE_2M) {
		ST_ASSERT_RC(map_hugetlb_anon(fd, 2 * gig, HUGE_2M, MAP_FIXED),
			     0);
		touch_in_child(p + 2 * gig, HUGE_2M, 34, "huge page");
	}
	ck_assert_int_eq(unlink(path), 0);
	close(fd);
	/* The last user: the region goes with this munmap. */
	ck_assert_int_eq(munmap(p, st_align()), 0);
}
END_TEST

static const struct selftest_group safety = { "safety", 300 };

void register_safety_tests(void)
{
	selftest_add(&safety, safety_hugetlb_1g_refused);
	selftest_add(&safety, safety_private_attach_einval);
	selftest_add(&safety, safety_device_memory_refused);
	selftest_add(&safety, safety_secret_memory_refused);
	selftest_add(&safety, safety_fault_reading_file);
	selftest_add(&safety, safety_teardown_with_leftover_tables);
	/* Last: on a kernel with the bug they leave the region hanging. */
	selftest_add(&safety, safety_hugetlb_after_small_pages_unmapped);
	selftest_add(&safety, safety_hugetlb_replacing_small_pages);
}
