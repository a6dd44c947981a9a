/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The two ioctls and how they refuse bad requests (UAPI.md "Ioctls").
 * Every request here differs from a valid one in exactly one field, so an
 * error code can only come from the rule under test.
 */
#include "selftest.h"

#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

/* A valid anonymous request for the first page of a region. */
static struct mshare_create anon_request(void)
{
	struct mshare_create req = {
		.region_offset = 0,
		.size = ST_PAGE,
		.offset = 0,
		.prot = PROT_READ | PROT_WRITE,
		.flags = MAP_SHARED | MAP_FIXED | MAP_ANONYMOUS,
		.fd = (__u32)-1,
	};

	return req;
}

/* A valid request mapping the first page of FILE_FD. */
static struct mshare_create file_request(int file_fd, int prot)
{
	struct mshare_create req = anon_request();

	req.flags = MAP_SHARED | MAP_FIXED;
	req.fd = (__u32)file_fd;
	req.prot = (__u32)prot;
	return req;
}

static void drop_region(const char *path, int fd)
{
	ck_assert_int_eq(unlink(path), 0);
	close(fd);
}

START_TEST(ioctl_before_size_einval)
{
	char path[ST_PATH_MAX];
	struct mshare_create req = anon_request();
	int fd = st_region_new(path, "unsized");

	ST_ASSERT_RC(mshare_map_raw(fd, &req), EINVAL);
	ST_ASSERT_RC(mshare_unmap(fd, 0, ST_PAGE), EINVAL);
	/* An unknown ioctl is ENOTTY whether or not the size is set. */
	ST_ASSERT_ERRNO(ioctl(fd, _IO('x', 0x1f)), ENOTTY);
	drop_region(path, fd);
}
END_TEST

START_TEST(ioctl_unknown_enotty)
{
	char path[ST_PATH_MAX];
	struct mshare_create req = anon_request();
	int fd = st_region_sized(path, "unknown");

	ST_ASSERT_ERRNO(ioctl(fd, _IO('x', 0x1f)), ENOTTY);
	/* The 2024 layout numbered CREATE_MAPPING 2: not part of this ABI. */
	ST_ASSERT_ERRNO(ioctl(fd, _IOW('x', 2, struct mshare_create), &req),
			ENOTTY);
	ST_ASSERT_ERRNO(ioctl(fd, _IOR('y', 0, int), &req), ENOTTY);
	drop_region(path, fd);
}
END_TEST

START_TEST(ioctl_readonly_fd_ebadf)
{
	char path[ST_PATH_MAX];
	struct mshare_create req = anon_request();
	int fd = st_region_sized(path, "rdonly"), ro;

	ro = open(path, O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(ro, 0);
	ST_ASSERT_RC(mshare_map_raw(ro, &req), EBADF);
	ST_ASSERT_RC(mshare_unmap(ro, 0, ST_PAGE), EBADF);
	/* The same request through the writable descriptor is fine. */
	ST_ASSERT_RC(mshare_map_raw(fd, &req), 0);
	close(ro);
	drop_region(path, fd);
}
END_TEST

START_TEST(create_mapping_geometry_einval)
{
	char path[ST_PATH_MAX];
	uint64_t align = st_align();
	struct mshare_create req;
	int fd = st_region_sized(path, "geometry");

#define EXPECT_EINVAL(field, value)					\
	do {								\
		req = anon_request();					\
		req.field = (value);					\
		ck_assert_msg(mshare_map_raw(fd, &req) == EINVAL,	\
			      "CREATE_MAPPING with " #field " = " #value \
			      " did not fail with EINVAL");		\
	} while (0)

	EXPECT_EINVAL(region_offset, 1);
	EXPECT_EINVAL(region_offset, ST_PAGE / 2);
	EXPECT_EINVAL(size, ST_PAGE + 1);
	EXPECT_EINVAL(size, 0);
	EXPECT_EINVAL(offset, 512);
	/* The range must lie inside the region. */
	EXPECT_EINVAL(region_offset, align);
	EXPECT_EINVAL(size, align + ST_PAGE);
	req = anon_request();
	req.region_offset = align - ST_PAGE;
	req.size = 2 * ST_PAGE;
	ST_ASSERT_RC(mshare_map_raw(fd, &req), EINVAL);
	/* region_offset + size wraps around to 0: still outside. */
	req = anon_request();
	req.region_offset = ST_PAGE;
	req.size = UINT64_MAX - ST_PAGE + 1;
	ST_ASSERT_RC(mshare_map_raw(fd, &req), EINVAL);
	req = anon_request();
	req.region_offset = UINT64_MAX - ST_PAGE + 1;
	ST_ASSERT_RC(mshare_map_raw(fd, &req), EINVAL);

	/* The last page and the whole region are inside. */
	req = anon_request();
	req.region_offset = align - ST_PAGE;
	ST_ASSERT_RC(mshare_map_raw(fd, &req), 0);
	req = anon_request();
	req.size = align;
	req.flags |= MAP_NORESERVE;
	ST_ASSERT_RC(mshare_map_raw(fd, &req), 0);
#undef EXPECT_EINVAL
	drop_region(path, fd);
}
END_TEST

START_TEST(create_mapping_flags_einval)
{
	char path[ST_PATH_MAX];
	struct mshare_create req;
	const __u32 bad_flags[] = {
		MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS,	/* no private */
		MAP_SHARED | MAP_ANONYMOUS,			/* no fixed */
		MAP_SHARED | MAP_FIXED | MAP_ANONYMOUS | MAP_POPULATE,
		MAP_SHARED | MAP_FIXED | MAP_ANONYMOUS | MAP_LOCKED,
		MAP_SHARED | MAP_FIXED | MAP_ANONYMOUS | MAP_GROWSDOWN,
		MAP_SHARED | MAP_FIXED | MAP_ANONYMOUS | MAP_STACK,
		MAP_SHARED | MAP_FIXED | MAP_ANONYMOUS | MAP_SYNC,
		MAP_SHARED | MAP_FIXED | MAP_ANONYMOUS | 0x80000000u,
		MAP_FIXED | MAP_ANONYMOUS,			/* no sharing type */
	};
	const __u32 bad_prot[] = { 0x8, 0x10, PROT_GROWSDOWN, PROT_GROWSUP };
	int fd = st_region_sized(path, "flags");
	size_t i;

	for (i = 0; i < sizeof(bad_flags) / sizeof(bad_flags[0]); i++) {
		req = anon_request();
		req.flags = bad_flags[i];
		ck_assert_msg(mshare_map_raw(fd, &req) == EINVAL,
			      "flags 0x%x accepted or wrong errno", bad_flags[i]);
	}
	for (i = 0; i < sizeof(bad_prot) / sizeof(bad_prot[0]); i++) {
		req = anon_request();
		req.prot |= bad_prot[i];
		ck_assert_msg(mshare_map_raw(fd, &req) == EINVAL,
			      "prot 0x%x accepted or wrong errno", req.prot);
	}
	/* Anonymous means fd == (__u32)-1, not some open descriptor. */
	req = anon_request();
	req.fd = 0;
	ST_ASSERT_RC(mshare_map_raw(fd, &req), EINVAL);

	/* The allowed variants. */
	req = anon_request();
	req.flags = MAP_SHARED_VALIDATE | MAP_FIXED | MAP_ANONYMOUS;
	ST_ASSERT_RC(mshare_map_raw(fd, &req), 0);
	req = anon_request();
	req.region_offset = ST_PAGE;
	req.flags = MAP_SHARED | MAP_FIXED_NOREPLACE | MAP_ANONYMOUS |
		    MAP_NORESERVE;
	req.prot = PROT_NONE;
	ST_ASSERT_RC(mshare_map_raw(fd, &req), 0);
	req = anon_request();
	req.region_offset = 2 * ST_PAGE;
	req.prot = PROT_READ | PROT_WRITE | PROT_EXEC;
	ST_ASSERT_RC(mshare_map_raw(fd, &req), 0);
	drop_region(path, fd);
}
END_TEST

START_TEST(create_mapping_fd_kinds)
{
	char path[ST_PATH_MAX], other[ST_PATH_MAX], file[ST_PATH_MAX];
	struct mshare_create req;
	int fd = st_region_sized(path, "fdkinds");
	int closed, dir, pipes[2], zero, other_fd, wr, rd, rw;

	/* A descriptor number that is not open. */
	closed = dup(fd);
	close(closed);
	req = file_request(closed, PROT_READ);
	ST_ASSERT_RC(mshare_map_raw(fd, &req), EBADF);

	/* Only regular and hugetlbfs files can back a mapping. */
	dir = open(st_tmpdir(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(dir, 0);
	req = file_request(dir, PROT_READ);
	ST_ASSERT_RC(mshare_map_raw(fd, &req), ENODEV);
	close(dir);

	ck_assert_int_eq(pipe2(pipes, O_CLOEXEC), 0);
	req = file_request(pipes[0], PROT_READ);
	ST_ASSERT_RC(mshare_map_raw(fd, &req), ENODEV);
	close(pipes[0]);
	close(pipes[1]);

	zero = open("/dev/zero", O_RDWR | O_CLOEXEC);
	if (zero >= 0) {
		req = file_request(zero, PROT_READ | PROT_WRITE);
		ST_ASSERT_RC(mshare_map_raw(fd, &req), ENODEV);
		close(zero);
	}

	/* No msharefs file inside a region: neither another one nor itself. */
	other_fd = st_region_sized(other, "fdkinds-other");
	req = file_request(other_fd, PROT_READ | PROT_WRITE);
	ST_ASSERT_RC(mshare_map_raw(fd, &req), EINVAL);
	req = file_request(fd, PROT_READ | PROT_WRITE);
	ST_ASSERT_RC(mshare_map_raw(fd, &req), EINVAL);
	drop_region(other, other_fd);

	/* Access modes of a regular file. */
	rw = st_tmpfile(file, "fdkinds-file", 16 * ST_PAGE);
	wr = open(file, O_WRONLY | O_CLOEXEC);
	rd = open(file, O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(wr, 0);
	ck_assert_int_ge(rd, 0);
	req = file_request(wr, PROT_READ | PROT_WRITE);
	ST_ASSERT_RC(mshare_map_raw(fd, &req), EACCES);
	req = file_request(wr, PROT_WRITE);
	ST_ASSERT_RC(mshare_map_raw(fd, &req), EACCES);
	req = file_request(rd, PROT_READ | PROT_WRITE);
	ST_ASSERT_RC(mshare_map_raw(fd, &req), EACCES);
	req = file_request(rd, PROT_READ);
	ST_ASSERT_RC(mshare_map_raw(fd, &req), 0);
	req = file_request(rw, PROT_READ | PROT_WRITE);
	req.region_offset = ST_PAGE;
	req.offset = ST_PAGE;
	ST_ASSERT_RC(mshare_map_raw(fd, &req), 0);
	close(wr);
	close(rd);
	close(rw);
	drop_region(path, fd);
}
END_TEST

/*
 * A writable directory on a noexec mount: a private tmpfs when root, else an
 * existing noexec mount if there is one.  Returns -1 after a skip line.
 */
static int noexec_dir(char *dir, size_t len)
{
	static const char *const candidates[] = { "/dev/shm", "/run/user", "/tmp" };
	struct statvfs sv;
	size_t i;

	if (geteuid() == 0) {
		/* Only this test process sees the mount. */
		ck_assert_msg(unshare(CLONE_NEWNS) == 0, "unshare: %s",
			      strerror(errno));
		ck_assert_int_eq(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE,
				       NULL), 0);
		snprintf(dir, len, "%s/noexec-%ld", st_tmpdir(), (long)getpid());
		ck_assert_int_eq(mkdir(dir, 0700), 0);
		ck_assert_msg(mount("tmpfs", dir, "tmpfs", MS_NOEXEC, "size=1m")
			      == 0, "mount noexec tmpfs: %s", strerror(errno));
		return 0;
	}
	for (i = 0; i < sizeof(candidates) / sizeof(candidates[0]); i++) {
		if (statvfs(candidates[i], &sv) == 0 && (sv.f_flag & ST_NOEXEC) &&
		    access(candidates[i], W_OK) == 0) {
			snprintf(dir, len, "%s", candidates[i]);
			return 0;
		}
	}
	st_skip("create_mapping_noexec_eperm",
		"not root and no writable noexec mount to test with");
	return -1;
}

START_TEST(create_mapping_noexec_eperm)
{
	char path[ST_PATH_MAX], dir[ST_PATH_MAX / 2], file[ST_PATH_MAX];
	int fd, file_fd;

	if (noexec_dir(dir, sizeof(dir)) != 0)
		return;
	snprintf(file, sizeof(file), "%s/st-%ld-%ld-noexec", dir,
		 (long)st_runner_pid, (long)getpid());
	file_fd = open(file, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0700);
	ck_assert_msg(file_fd >= 0, "create %s: %s", file, strerror(errno));
	unlink(file);	/* the descriptor keeps it */
	ck_assert_int_eq(ftruncate(file_fd, ST_PAGE), 0);

	fd = st_region_sized(path, "noexec");
	ST_ASSERT_RC(mshare_map_file(fd, 0, ST_PAGE, PROT_READ | PROT_EXEC,
				     file_fd, 0), EPERM);
	ST_ASSERT_RC(mshare_map_file(fd, 0, ST_PAGE, PROT_READ, file_fd, 0), 0);
	close(file_fd);
	drop_region(path, fd);
}
END_TEST

START_TEST(create_mapping_noreplace_eexist)
{
	char path[ST_PATH_MAX];
	struct mshare_create req = anon_request();
	int fd = st_region_sized(path, "noreplace");

	req.size = 2 * ST_PAGE;
	req.flags = MAP_SHARED | MAP_FIXED_NOREPLACE | MAP_ANONYMOUS;
	ST_ASSERT_RC(mshare_map_raw(fd, &req), 0);
	/* Overlapping only the second page is still an overlap. */
	req.region_offset = ST_PAGE;
	ST_ASSERT_RC(mshare_map_raw(fd, &req), EEXIST);
	req.region_offset = 2 * ST_PAGE;	/* adjacent: fine */
	ST_ASSERT_RC(mshare_map_raw(fd, &req), 0);
	drop_region(path, fd);
}
END_TEST

START_TEST(create_mapping_fixed_replaces)
{
	char path[ST_PATH_MAX];
	volatile uint64_t *p;
	int fd = st_region_anon(path, "replace", 4 * ST_PAGE);

	p = st_attach(fd, PROT_READ | PROT_WRITE);
	p[0] = 0x1111;
	p[ST_PAGE / 8] = 0x2222;
	p[2 * ST_PAGE / 8] = 0x3333;
	/* New anonymous memory over the second page only. */
	ST_ASSERT_RC(mshare_map_anon(fd, ST_PAGE, ST_PAGE, PROT_READ | PROT_WRITE), 0);
	ck_assert_uint_eq(p[0], 0x1111);
	ck_assert_uint_eq(p[ST_PAGE / 8], 0);	/* fresh memory */
	ck_assert_uint_eq(p[2 * ST_PAGE / 8], 0x3333);
	/* The replacement is live and shared like the rest. */
	p[ST_PAGE / 8] = 0x4444;
	ck_assert_uint_eq(p[ST_PAGE / 8], 0x4444);
	ck_assert_int_eq(munmap((void *)p, st_align()), 0);
	drop_region(path, fd);
}
END_TEST

START_TEST(unmap_geometry_einval)
{
	char path[ST_PATH_MAX];
	uint64_t align = st_align();
	int fd = st_region_anon(path, "unmap-errors", 4 * ST_PAGE);

	ST_ASSERT_RC(mshare_unmap(fd, 1, ST_PAGE), EINVAL);
	ST_ASSERT_RC(mshare_unmap(fd, 0, ST_PAGE + 1), EINVAL);
	ST_ASSERT_RC(mshare_unmap(fd, 0, 0), EINVAL);
	ST_ASSERT_RC(mshare_unmap(fd, align, ST_PAGE), EINVAL);
	ST_ASSERT_RC(mshare_unmap(fd, align - ST_PAGE, 2 * ST_PAGE), EINVAL);
	ST_ASSERT_RC(mshare_unmap(fd, ST_PAGE, UINT64_MAX - ST_PAGE + 1), EINVAL);
	/* Holes are fine: most of this range has nothing mapped. */
	ST_ASSERT_RC(mshare_unmap(fd, 2 * ST_PAGE, align - 2 * ST_PAGE), 0);
	ST_ASSERT_RC(mshare_unmap(fd, 0, align), 0);
	ST_ASSERT_RC(mshare_unmap(fd, 0, align), 0);	/* all hole now */
	drop_region(path, fd);
}
END_TEST

void register_ioctl_tests(void)
{
	static const struct selftest_group group = { "ioctl", 60 };

	selftest_add(&group, ioctl_before_size_einval);
	selftest_add(&group, ioctl_unknown_enotty);
	selftest_add(&group, ioctl_readonly_fd_ebadf);
	selftest_add(&group, create_mapping_geometry_einval);
	selftest_add(&group, create_mapping_flags_einval);
	selftest_add(&group, create_mapping_fd_kinds);
	selftest_add(&group, create_mapping_noexec_eperm);
	selftest_add(&group, create_mapping_noreplace_eexist);
	selftest_add(&group, create_mapping_fixed_replaces);
	selftest_add(&group, unmap_geometry_einval);
}
