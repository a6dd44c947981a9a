/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * An attachment grants no more than it says (UAPI.md "Threat model"):
 * only the owner sets a region up and can seal it, execution follows the
 * attachment's PROT_EXEC, a read-only attachment cannot be pinned for
 * writing.  Cross-user cases need root to become another user and mounts
 * need root; unprivileged runs skip those parts with a reason.
 */
#include "selftest.h"

#include <fcntl.h>
#include <linux/io_uring.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#ifndef PR_SET_MDWE
#define PR_SET_MDWE 65
#define PR_MDWE_REFUSE_EXEC_GAIN 1
#endif


/*
 * The same after a read has linked the P4D entry: then only the entry's NX
 * (the CPU) can stop the call, not the fault that links it.
 */
static int read_then_call_code(void *arg)
{
	if (*(volatile unsigned char *)arg != st_code_ret42[0])
		return 21;
	return st_call_code(arg);
}

static void drop(const char *path, int fd)
{
	ck_assert_int_eq(unlink(path), 0);
	close(fd);
}

/* "mshare_sealed:\tN" of FD's fdinfo: N, or -1 if the line is missing. */
static int fdinfo_sealed(int fd)
{
	char path[64], line[128];
	int sealed = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "re");
	ck_assert_msg(f != NULL, "open %s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "mshare_sealed: %d", &sealed) == 1)
			break;
	fclose(f);
	return sealed;
}

struct other_writer {
	const char *sized;	/* 0666, anonymous memory at [0, ST_PAGE) */
	const char *unsized;	/* 0666, no size yet */
};

/* Runs as uid 65534 with write access to another user's regions. */
static int other_writer_main(void *arg)
{
	const struct other_writer *w = arg;
	unsigned char *p;
	int fd, ufd;

	if (st_become_nobody() != 0)
		return 10;
	fd = open(w->sized, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return 11;
	if (mshare_unmap(fd, 0, ST_PAGE) != EPERM)
		return 12;
	if (mshare_map_anon(fd, 0, ST_PAGE, PROT_READ | PROT_WRITE) != EPERM)
		return 13;
	if (ioctl(fd, MSHAREFS_SEAL) != -1 || errno != EPERM)
		return 14;
	/* The data is theirs to use: that is what write access means. */
	p = mshare_attach(fd, st_align(), PROT_READ | PROT_WRITE);
	if (p == MAP_FAILED)
		return 15;
	if (p[0] != 0xee)
		return 16;
	p[0] = 0x77;
	ufd = open(w->unsized, O_RDWR | O_CLOEXEC);
	if (ufd < 0)
		return 17;
	if (ftruncate(ufd, (off_t)st_align()) != -1 || errno != EPERM)
		return 18;
	if (fallocate(ufd, 0, 0, (off_t)st_align()) != -1 || errno != EPERM)
		return 19;
	return 0;
}

START_TEST(rights_other_writer_gets_data_only)
{
	char sized[ST_PATH_MAX], unsized[ST_PATH_MAX], buf[64];
	struct other_writer w = { .sized = sized, .unsized = unsized };
	volatile unsigned char *p;
	int fd, ufd, status;
	struct stat st;

	if (geteuid() != 0) {
		st_skip("rights_other_writer_gets_data_only",
			"needs root to switch to uid %d (running as uid %ld)",
			ST_NOBODY, (long)geteuid());
		return;
	}
	fd = st_region_anon(sized, "other-writer", ST_PAGE);
	ufd = st_region_new(unsized, "other-writer-unsized");
	ck_assert_int_eq(fchmod(fd, 0666), 0);
	ck_assert_int_eq(fchmod(ufd, 0666), 0);
	p = st_attach(fd, PROT_READ | PROT_WRITE);
	p[0] = 0xee;

	status = run_child(other_writer_main, &w);
	ck_assert_msg(exited_ok(status),
		      "uid %d with write access set a region up: %s", ST_NOBODY,
		      describe_status(status, buf, sizeof(buf)));
	ck_assert_int_eq(probe_access(p, false), 0);
	ck_assert_int_eq(p[0], 0x77);
	ck_assert_int_eq(fstat(ufd, &st), 0);
	ck_assert_int_eq(st.st_size, 0);

	/* The owner keeps the right. */
	ST_ASSERT_RC(mshare_unmap(fd, 0, ST_PAGE), 0);
	ck_assert_int_eq(probe_access(p, false), SIGSEGV);
	ck_assert_int_eq(ftruncate(ufd, (off_t)st_align()), 0);
	ck_assert_int_eq(munmap((void *)p, st_align()), 0);
	drop(sized, fd);
	drop(unsized, ufd);
}
END_TEST

START_TEST(rights_seal_freezes_layout)
{
	char path[ST_PATH_MAX], unsized[ST_PATH_MAX];
	int fd = st_region_anon(path, "seal", 2 * ST_PAGE), ro, ufd;
	volatile unsigned char *p = st_attach(fd, PROT_READ | PROT_WRITE);

	p[0] = 1;
	ck_assert_int_eq(fdinfo_sealed(fd), 0);
	ST_ASSERT_SYSCALL_OK(ioctl(fd, MSHAREFS_SEAL));
	ck_assert_int_eq(fdinfo_sealed(fd), 1);
	ST_ASSERT_RC(mshare_unmap(fd, 0, ST_PAGE), EPERM);
	ST_ASSERT_RC(mshare_map_anon(fd, 4 * ST_PAGE, ST_PAGE,
				     PROT_READ | PROT_WRITE), EPERM);
	ST_ASSERT_SYSCALL_OK(ioctl(fd, MSHAREFS_SEAL));	/* again: no-op */
	/* The data stays writable, the layout did not change. */
	p[ST_PAGE] = 2;
	ck_assert_int_eq(p[0], 1);
	ck_assert_int_eq(probe_access(p + 4 * ST_PAGE, false), SIGSEGV);

	ro = open(path, O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(ro, 0);
	ST_ASSERT_ERRNO(ioctl(ro, MSHAREFS_SEAL), EBADF);
	close(ro);
	ufd = st_region_new(unsized, "seal-unsized");
	ST_ASSERT_ERRNO(ioctl(ufd, MSHAREFS_SEAL), EINVAL);
	drop(unsized, ufd);

	ck_assert_int_eq(munmap((void *)p, st_align()), 0);
	drop(path, fd);
}
END_TEST

/* A region with code at offset 0, mapped PROT_READ|PROT_WRITE|PROT_EXEC. */
static int code_region(char *path, const char *tag)
{
	int fd = st_region_sized(path, tag);
	unsigned char *w;

	ST_ASSERT_RC(mshare_map_anon(fd, 0, ST_PAGE,
				     PROT_READ | PROT_WRITE | PROT_EXEC), 0);
	w = st_attach(fd, PROT_READ | PROT_WRITE);
	memcpy(w, st_code_ret42, sizeof(st_code_ret42));
	ck_assert_int_eq(munmap(w, st_align()), 0);
	return fd;
}

static void expect_exec_by(int (*fn)(void *), void *code, bool runs,
			   const char *what)
{
	char buf[64];
	int status = run_child(fn, code);

	if (runs)
		ck_assert_msg(exited_ok(status), "%s: %s", what,
			      describe_status(status, buf, sizeof(buf)));
	else
		ck_assert_msg(killed_by(status, SIGSEGV),
			      "%s ran code (want SIGSEGV): %s", what,
			      describe_status(status, buf, sizeof(buf)));
}

/* On first access (the linking fault), then after a read linked it. */
static void expect_exec(void *code, bool runs, const char *what)
{
	expect_exec_by(st_call_code, code, runs, what);
	expect_exec_by(read_then_call_code, code, runs, what);
}

START_TEST(rights_exec_follows_attachment)
{
	char path[ST_PATH_MAX];
	int fd = code_region(path, "exec");
	unsigned char *rw = st_attach(fd, PROT_READ | PROT_WRITE);
	unsigned char *ro = st_attach(fd, PROT_READ);
	unsigned char *rx = st_attach(fd, PROT_READ | PROT_EXEC);

	/* Children inherit the attachments and link them again. */
	expect_exec(rw, false, "PROT_READ|PROT_WRITE attachment");
	expect_exec(ro, false, "PROT_READ attachment");
	expect_exec(rx, true, "PROT_READ|PROT_EXEC attachment");

	/* The region's own mapping without PROT_EXEC: never runs. */
	ST_ASSERT_RC(mshare_map_anon(fd, ST_PAGE, ST_PAGE,
				     PROT_READ | PROT_WRITE), 0);
	memcpy(rw + ST_PAGE, st_code_ret42, sizeof(st_code_ret42));
	expect_exec(rx + ST_PAGE, false, "PROT_EXEC attachment of a data page");

	munmap(rw, st_align());
	munmap(ro, st_align());
	munmap(rx, st_align());
	drop(path, fd);
}
END_TEST

/* Child under PR_SET_MDWE: exits 0 only if region code ran. */
static int mdwe_main(void *arg)
{
	int fd = *(int *)arg;
	unsigned char *p;

	if (prctl(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN, 0, 0, 0) != 0)
		return errno == EINVAL ? 77 : 30;
	p = mshare_attach(fd, st_align(), PROT_READ | PROT_WRITE | PROT_EXEC);
	if (p != MAP_FAILED || errno != EACCES)
		return 31;
	p = mshare_attach(fd, st_align(), PROT_READ | PROT_WRITE);
	if (p == MAP_FAILED)
		return 32;
	return read_then_call_code(p);
}

START_TEST(rights_exec_mdwe)
{
	char path[ST_PATH_MAX], buf[64];
	int fd = code_region(path, "mdwe");
	int status = run_child(mdwe_main, &fd);

	if (WIFEXITED(status) && WEXITSTATUS(status) == 77) {
		st_skip("rights_exec_mdwe", "PR_SET_MDWE not supported");
	} else {
		ck_assert_msg(killed_by(status, SIGSEGV),
			      "PR_SET_MDWE process ran region code: %s",
			      describe_status(status, buf, sizeof(buf)));
	}
	drop(path, fd);
}
END_TEST

/* A private msharefs mount with OPTIONS and FLAGS under the scratch dir. */
static void private_mount(char *dir, size_t len, unsigned long flags,
			  const char *options)
{
	ck_assert_msg(unshare(CLONE_NEWNS) == 0, "unshare: %s",
		      strerror(errno));
	ck_assert_int_eq(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0);
	snprintf(dir, len, "%s/mnt-%ld", st_tmpdir(), (long)getpid());
	ck_assert_int_eq(mkdir(dir, 0700), 0);
	ck_assert_msg(mount("msharefs", dir, "msharefs", flags, options) == 0,
		      "mount msharefs %s: %s", options ? options : "",
		      strerror(errno));
}

START_TEST(rights_exec_noexec_mount)
{
	char dir[ST_PATH_MAX / 2], path[ST_PATH_MAX];
	unsigned char *p;
	int fd;

	if (geteuid() != 0) {
		st_skip("rights_exec_noexec_mount", "needs root to mount");
		return;
	}
	private_mount(dir, sizeof(dir), MS_NOEXEC, NULL);
	snprintf(path, sizeof(path), "%s/code", dir);
	fd = mshare_create(path, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, (off_t)st_align()), 0);
	ST_ASSERT_RC(mshare_map_anon(fd, 0, ST_PAGE,
				     PROT_READ | PROT_WRITE | PROT_EXEC), 0);
	ST_ASSERT_MMAP_ERRNO(mshare_attach(fd, st_align(),
					   PROT_READ | PROT_EXEC),
			     st_align(), EPERM);
	p = st_attach(fd, PROT_READ | PROT_WRITE);
	memcpy(p, st_code_ret42, sizeof(st_code_ret42));
	expect_exec(p, false, "attachment on a noexec mount");
	munmap(p, st_align());
	drop(path, fd);
	umount2(dir, MNT_DETACH);
}
END_TEST

static int ring_setup(void)
{
	struct io_uring_params params;

	memset(&params, 0, sizeof(params));
	return (int)syscall(__NR_io_uring_setup, 4, &params);
}

/* IORING_REGISTER_BUFFERS of [P, P+ST_PAGE): 0 or -1 with errno. */
static int ring_register(int ring, void *p)
{
	struct iovec iov = { .iov_base = p, .iov_len = ST_PAGE };
	int rc = (int)syscall(__NR_io_uring_register, ring,
			      IORING_REGISTER_BUFFERS, &iov, 1);

	if (rc == 0)
		syscall(__NR_io_uring_register, ring,
			IORING_UNREGISTER_BUFFERS, NULL, 0);
	return rc;
}

START_TEST(rights_readonly_attachment_not_pinned_for_write)
{
	char path[ST_PATH_MAX], file[ST_PATH_MAX];
	int fd = st_region_anon(path, "pin", ST_PAGE), ro_fd, file_fd, ring;
	volatile unsigned char *rw = st_attach(fd, PROT_READ | PROT_WRITE);
	volatile unsigned char *ro;
	void *plain;

	ring = ring_setup();
	if (ring < 0) {
		st_skip("rights_readonly_attachment_not_pinned_for_write",
			"io_uring_setup: %s", strerror(errno));
		munmap((void *)rw, st_align());
		drop(path, fd);
		return;
	}
	/* A writable, present PTE in the region's tables, linked below. */
	rw[0] = 0x5a;
	ro_fd = open(path, O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(ro_fd, 0);
	ro = st_attach(ro_fd, PROT_READ);
	ck_assert_int_eq(ro[0], 0x5a);

	/* The kernel's reference: a read-only mapping of a read-only file. */
	file_fd = st_tmpfile(file, "pin", ST_PAGE);
	close(file_fd);
	file_fd = open(file, O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(file_fd, 0);
	plain = mmap(NULL, ST_PAGE, PROT_READ, MAP_SHARED, file_fd, 0);
	ck_assert_ptr_ne(plain, MAP_FAILED);
	(void)*(volatile char *)plain;
	ST_ASSERT_ERRNO(ring_register(ring, plain), EFAULT);

	/* Attachments can be pinned at all, */
	ST_ASSERT_SYSCALL_OK(ring_register(ring, (void *)rw));
	/* but not a read-only one for writing. */
	ST_ASSERT_ERRNO(ring_register(ring, (void *)ro), EFAULT);
	ck_assert_int_eq(rw[0], 0x5a);

	close(ring);
	munmap(plain, ST_PAGE);
	close(file_fd);
	unlink(file);
	munmap((void *)ro, st_align());
	munmap((void *)rw, st_align());
	close(ro_fd);
	drop(path, fd);
}
END_TEST

/*
 * A long-term writable pin (io_uring's registered buffers) of a page of a
 * file that needs dirty tracking is refused by the kernel: the file system
 * would write the page back while the device still writes it.  Through an
 * attachment the same page must be refused the same way.  MSHARE_WRITEBACK_DIR
 * is a directory on such a file system (the VM suite shares one over 9p
 * with cache=mmap).
 */
START_TEST(rights_longterm_pin_decided_by_the_page)
{
	const char *test = "rights_longterm_pin_decided_by_the_page";
	const char *dir = getenv("MSHARE_WRITEBACK_DIR");
	char path[ST_PATH_MAX], file[ST_PATH_MAX];
	int fd, file_fd, ring, plain_rc, plain_errno;
	unsigned char *plain, *p;

	if (!dir) {
		st_skip(test, "MSHARE_WRITEBACK_DIR not set (no file system with writeback here)");
		return;
	}
	ring = ring_setup();
	if (ring < 0) {
		st_skip(test, "io_uring_setup: %s", strerror(errno));
		return;
	}
	snprintf(file, sizeof(file), "%s/pin-%ld", dir, (long)getpid());
	file_fd = open(file, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	ck_assert_msg(file_fd >= 0, "create %s: %s", file, strerror(errno));
	ck_assert_int_eq(ftruncate(file_fd, ST_PAGE), 0);

	/* The kernel's reference: a plain shared mapping of the file. */
	plain = mmap(NULL, ST_PAGE, PROT_READ | PROT_WRITE, MAP_SHARED,
		     file_fd, 0);
	ck_assert_msg(plain != MAP_FAILED, "mmap %s: %s", file,
		      strerror(errno));
	plain[0] = 1;
	errno = 0;
	plain_rc = ring_register(ring, plain);
	plain_errno = errno;
	munmap(plain, ST_PAGE);
	if (plain_rc == 0) {
		st_skip(test, "%s needs no dirty tracking: the kernel pins its pages", dir);
		goto out;
	}

	fd = st_region_sized(path, "pin-file");
	ST_ASSERT_RC(mshare_map_file(fd, 0, ST_PAGE, PROT_READ | PROT_WRITE,
				     file_fd, 0), 0);
	p = st_attach(fd, PROT_READ | PROT_WRITE);
	p[0] = 2;
	ST_ASSERT_ERRNO(ring_register(ring, p), plain_errno);
	ck_assert_int_eq(munmap(p, st_align()), 0);
	drop(path, fd);
out:
	close(ring);
	close(file_fd);
	unlink(file);
}
END_TEST

static uint64_t read_generation(void)
{
	char path[ST_PATH_MAX], text[32] = "";
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", mshare_mount(),
		 MSHAREFS_GENERATION_NAME);
	f = fopen(path, "re");
	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(fgets(text, sizeof(text), f));
	fclose(f);
	return strtoull(text, NULL, 10);
}

/* Runs as uid 65534: may neither open nor create in a 0700 directory. */
static int squatter_main(void *arg)
{
	const char *dir = arg;
	char path[ST_PATH_MAX];

	if (st_become_nobody() != 0)
		return 10;
	snprintf(path, sizeof(path), "%s/region", dir);
	if (open(path, O_RDONLY | O_CLOEXEC) != -1 || errno != EACCES)
		return 11;
	snprintf(path, sizeof(path), "%s/squat", dir);
	if (mshare_create(path, 0600) != -1 || errno != EACCES)
		return 12;
	return 0;
}

START_TEST(rights_private_directory)
{
	char dir[ST_PATH_MAX / 2], sub[ST_PATH_MAX], path[ST_PATH_MAX];
	char buf[64];
	volatile unsigned char *p;
	uint64_t gen;
	struct stat st;
	int fd, status;

	st_region_path(dir, sizeof(dir), "dir");
	gen = read_generation();
	ST_ASSERT_SYSCALL_OK(mkdir(dir, 0700));
	ck_assert_uint_eq(read_generation(), gen + 2);
	ck_assert_int_eq(stat(dir, &st), 0);
	ck_assert_msg(S_ISDIR(st.st_mode) && (st.st_mode & 07777) == 0700,
		      "mode %o", st.st_mode);
	ck_assert_int_eq(st.st_uid, geteuid());

	/* A region inside works like one at the root. */
	snprintf(path, sizeof(path), "%s/region", dir);
	gen = read_generation();
	fd = mshare_create(path, 0600);
	ck_assert_msg(fd >= 0, "create %s: %s", path, strerror(errno));
	ck_assert_int_eq(ftruncate(fd, (off_t)st_align()), 0);
	ST_ASSERT_RC(mshare_map_anon(fd, 0, ST_PAGE, PROT_READ | PROT_WRITE),
		     0);
	/* The generation counts the root directory's names only. */
	ck_assert_uint_eq(read_generation(), gen);
	p = st_attach(fd, PROT_READ | PROT_WRITE);
	p[0] = 0x42;
	ck_assert_int_eq(p[0], 0x42);

	snprintf(sub, sizeof(sub), "%s/sub", dir);
	ST_ASSERT_SYSCALL_OK(mkdir(sub, 0755));
	ST_ASSERT_ERRNO(rmdir(dir), ENOTEMPTY);
	ST_ASSERT_SYSCALL_OK(rmdir(sub));

	if (geteuid() == 0) {
		status = run_child(squatter_main, dir);
		ck_assert_msg(exited_ok(status),
			      "uid %d in a 0700 directory of root's: %s",
			      ST_NOBODY, describe_status(status, buf, sizeof(buf)));
	} else {
		st_skip("rights_private_directory",
			"the other-uid part needs root (running as uid %ld)",
			(long)geteuid());
	}

	ck_assert_int_eq(munmap((void *)p, st_align()), 0);
	drop(path, fd);
	ST_ASSERT_SYSCALL_OK(rmdir(dir));
}
END_TEST

START_TEST(rights_mount_options_and_remount)
{
	char dir[ST_PATH_MAX / 2];
	struct stat st;

	if (geteuid() != 0) {
		st_skip("rights_mount_options_and_remount", "needs root to mount");
		return;
	}
	private_mount(dir, sizeof(dir), 0, "mode=0700,uid=65534,gid=65534");
	ck_assert_int_eq(stat(dir, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0700);
	ck_assert_uint_eq(st.st_uid, ST_NOBODY);
	ck_assert_uint_eq(st.st_gid, ST_NOBODY);

	/* A remount changes what it names, and only that. */
	ST_ASSERT_SYSCALL_OK(mount(NULL, dir, NULL, MS_REMOUNT,
				   "mode=0750,uid=0"));
	ck_assert_int_eq(stat(dir, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0750);
	ck_assert_uint_eq(st.st_uid, 0);
	ck_assert_uint_eq(st.st_gid, ST_NOBODY);
	umount2(dir, MNT_DETACH);
}
END_TEST

START_TEST(rights_mount_limits)
{
	char dir[ST_PATH_MAX / 2], a[ST_PATH_MAX], b[ST_PATH_MAX];
	char c[ST_PATH_MAX], opts[64];
	struct statfs sfs;
	int fa, fc;

	if (geteuid() != 0) {
		st_skip("rights_mount_limits", "needs root to mount");
		return;
	}
	snprintf(opts, sizeof(opts), "nr_inodes=2,size=%llu",
		 (unsigned long long)st_align());
	private_mount(dir, sizeof(dir), 0, opts);
	snprintf(a, sizeof(a), "%s/a", dir);
	snprintf(b, sizeof(b), "%s/b", dir);
	snprintf(c, sizeof(c), "%s/c", dir);

	/* Regions and directories count against nr_inodes. */
	fa = mshare_create(a, 0600);
	ck_assert_int_ge(fa, 0);
	ST_ASSERT_SYSCALL_OK(mkdir(b, 0700));
	ST_ASSERT_ERRNO(mshare_create(c, 0600), ENOSPC);
	ST_ASSERT_ERRNO(mkdir(c, 0700), ENOSPC);
	ck_assert_int_eq(statfs(dir, &sfs), 0);
	ck_assert_uint_eq(sfs.f_files, 2);
	ck_assert_uint_eq(sfs.f_ffree, 0);

	/* A remount may raise a limit, not lower it below the use. */
	ST_ASSERT_ERRNO(mount(NULL, dir, NULL, MS_REMOUNT, "nr_inodes=1"),
			EINVAL);
	ST_ASSERT_SYSCALL_OK(mount(NULL, dir, NULL, MS_REMOUNT, "nr_inodes=3"));
	fc = mshare_create(c, 0600);
	ck_assert_int_ge(fc, 0);

	/* Sizes count against size=. */
	ck_assert_int_eq(ftruncate(fa, (off_t)st_align()), 0);
	ST_ASSERT_ERRNO(ftruncate(fc, (off_t)st_align()), ENOSPC);
	ST_ASSERT_ERRNO(mount(NULL, dir, NULL, MS_REMOUNT, "size=4096"),
			EINVAL);
	/* Values beyond 64 bits are refused, not wrapped to 0 (no limit). */
	ST_ASSERT_ERRNO(mount(NULL, dir, NULL, MS_REMOUNT,
			      "size=18446744073709551616"), EINVAL);
	ST_ASSERT_ERRNO(mount(NULL, dir, NULL, MS_REMOUNT, "size=16777216t"),
			EINVAL);
	ST_ASSERT_ERRNO(mount(NULL, dir, NULL, MS_REMOUNT,
			      "nr_inodes=99999999999999999999"), EINVAL);
	ST_ASSERT_ERRNO(ftruncate(fc, (off_t)st_align()), ENOSPC);
	/* A region counts until it is freed. */
	ck_assert_int_eq(unlink(a), 0);
	ST_ASSERT_ERRNO(ftruncate(fc, (off_t)st_align()), ENOSPC);
	close(fa);
	ck_assert_int_eq(ftruncate(fc, (off_t)st_align()), 0);
	ST_ASSERT_SYSCALL_OK(rmdir(b));
	ST_ASSERT_SYSCALL_OK(mkdir(b, 0700));

	close(fc);
	umount2(dir, MNT_DETACH);
}
END_TEST

/* rename() over an empty directory gives its nr_inodes count back. */
START_TEST(rights_rename_over_directory_uncharges)
{
	char dir[ST_PATH_MAX / 2], a[ST_PATH_MAX], b[ST_PATH_MAX];
	struct statfs sfs;
	int round;

	if (geteuid() != 0) {
		st_skip("rights_rename_over_directory_uncharges",
			"needs root to mount");
		return;
	}
	private_mount(dir, sizeof(dir), 0, "nr_inodes=2");
	snprintf(a, sizeof(a), "%s/a", dir);
	snprintf(b, sizeof(b), "%s/b", dir);
	ST_ASSERT_SYSCALL_OK(mkdir(a, 0700));
	for (round = 0; round < 4; round++) {
		ck_assert_msg(mkdir(b, 0700) == 0, "round %d: mkdir: %s",
			      round, strerror(errno));
		ST_ASSERT_SYSCALL_OK(rename(b, a));
	}
	ck_assert_int_eq(statfs(dir, &sfs), 0);
	ck_assert_uint_eq(sfs.f_ffree, 1);
	ST_ASSERT_SYSCALL_OK(rmdir(a));
	umount2(dir, MNT_DETACH);
}
END_TEST

/*
 * Child: a forced read (/proc/self/mem) of a PROT_NONE attachment, then
 * a plain load.  Exits 30 if the load worked (the forced read linked the
 * region with user access); a correct kernel kills it with SIGSEGV.
 */
static int force_read_then_load(void *arg)
{
	unsigned char *p = arg, c;
	int mem = open("/proc/self/mem", O_RDONLY | O_CLOEXEC);

	if (mem < 0)
		return 10;
	if (pread(mem, &c, 1, (off_t)(uintptr_t)p) == 1)
		fprintf(stderr, "# forced read of the PROT_NONE attachment: %#x\n", c);
	close(mem);
	c = *(volatile unsigned char *)p;
	return 30;
}

START_TEST(rights_prot_none_never_linked)
{
	char path[ST_PATH_MAX], buf[64];
	int fd = st_region_sized(path, "none"), status;
	unsigned char *rw, *none;

	ST_ASSERT_RC(mshare_map_anon(fd, 0, ST_PAGE, PROT_READ | PROT_WRITE), 0);
	rw = st_attach(fd, PROT_READ | PROT_WRITE);
	rw[0] = 0x5a;
	none = st_attach(fd, PROT_NONE);
	status = run_child(force_read_then_load, none);
	ck_assert_msg(killed_by(status, SIGSEGV),
		      "a load through a PROT_NONE attachment after a forced read: %s (want SIGSEGV)",
		      describe_status(status, buf, sizeof(buf)));
	ck_assert_int_eq(munmap(none, st_align()), 0);
	ck_assert_int_eq(munmap(rw, st_align()), 0);
	drop(path, fd);
}
END_TEST

/* The VM suite boots once with pti=on and says so: PTI must then be on. */
START_TEST(rights_pti_as_asked)
{
	const char *want = getenv("MSHARE_EXPECT_PTI");
	char line[4096];
	bool pti = false;
	FILE *f;

	f = fopen("/proc/cpuinfo", "re");
	ck_assert_ptr_nonnull(f);
	while (!pti && fgets(line, sizeof(line), f))
		pti = strncmp(line, "flags", 5) == 0 &&
		      (strstr(line, " pti ") || strstr(line, " pti\n"));
	fclose(f);
	if (!want || strcmp(want, "1") != 0) {
		st_skip("rights_pti_as_asked",
			"MSHARE_EXPECT_PTI not set; PTI is %s", pti ? "on" : "off");
		return;
	}
	ck_assert_msg(pti, "booted to test PTI, but PTI is off");
}
END_TEST

void register_rights_tests(void)
{
	static const struct selftest_group group = { "rights", 120 };

	selftest_add(&group, rights_other_writer_gets_data_only);
	selftest_add(&group, rights_seal_freezes_layout);
	selftest_add(&group, rights_exec_follows_attachment);
	selftest_add(&group, rights_exec_mdwe);
	selftest_add(&group, rights_exec_noexec_mount);
	selftest_add(&group, rights_readonly_attachment_not_pinned_for_write);
	selftest_add(&group, rights_longterm_pin_decided_by_the_page);
	selftest_add(&group, rights_pti_as_asked);
	selftest_add(&group, rights_private_directory);
	selftest_add(&group, rights_mount_options_and_remount);
	selftest_add(&group, rights_mount_limits);
	selftest_add(&group, rights_rename_over_directory_uncharges);
	selftest_add(&group, rights_prot_none_never_linked);
}
