/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Does one mmap scenario for tests/shim/vm-mmap-tests.sh and prints what it
 * saw, one fact per line, so the script can compare.  Run under the shim;
 * "backed" means /proc/self/maps shows the mapping's address inside an
 * msharefs region (SHIM_TEST_MOUNT, default /sys/fs/mshare).
 *
 *   map FILE LEN PROT WAITFILE  map (PROT r|rw), print backed/plain, wait
 *                               until WAITFILE exists, read byte 0, exit
 *   put FILE OFF TEXT           write TEXT at OFF through a mapping
 *   get FILE OFF N              print N bytes at OFF read through a mapping
 *   pwrite FILE OFF TEXT / pread FILE OFF N   the same without mmap
 *   touch FILE                  map it read-only, read every page, print
 *                               "vmpte BEFORE AFTER" (kB) and backed/plain
 *   anonfork LEN                anonymous MAP_SHARED; a child writes, the
 *                               parent reads; and munmap of the whole
 *   dontfork LEN                anonymous MAP_SHARED with MADV_DONTFORK;
 *                               the child maps private memory where it
 *                               was, unmaps/mprotects part, checks data
 *   remapover LEN               mremap(MREMAP_FIXED) private memory over a
 *                               backed anonymous mapping, unmap and
 *                               mprotect part, check the data
 *   fixedfail LEN               a MAP_FIXED mmap that fails (EACCES) over
 *                               a backed mapping: its data must stay
 *   anonhuge LEN                anonymous MAP_SHARED|MAP_HUGETLB: write,
 *                               fork, the child reads, munmap
 *   shmopen NAME LEN            shm_open+ftruncate+mmap+write, print backed
 *   shmread NAME LEN            shm_open+mmap, print the text at 0
 *   cycle FILE N                map and unmap N times
 *   grow FILE LEN               map LEN, grow the file, mremap to 2*LEN
 *   partial FILE LEN            munmap the 2nd half, mprotect the 1st
 *   madvise FILE LEN            advice on a backed mapping
 *   forkfile FILE WAITFILE      map, fork; the child unmaps and exits;
 *                               print "child done", wait for WAITFILE
 *   forkmap FILE N              fork N children one after the other, each
 *                               maps FILE, unmaps it and exits (as forked
 *                               server backends do); print "children N"
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *mount_point(void)
{
	const char *m = getenv("SHIM_TEST_MOUNT");

	return m && m[0] ? m : "/sys/fs/mshare";
}

/* Is addr inside a mapping of a file on the msharefs mount? */
static const char *backing(const void *addr)
{
	FILE *maps = fopen("/proc/self/maps", "r");
	char line[512];
	const char *result = "plain";

	while (maps && fgets(line, sizeof(line), maps)) {
		uintptr_t lo, hi;

		if (sscanf(line, "%lx-%lx", &lo, &hi) == 2 &&
		    (uintptr_t)addr >= lo && (uintptr_t)addr < hi) {
			if (strstr(line, mount_point()))
				result = "backed";
			break;
		}
	}
	if (maps)
		fclose(maps);
	return result;
}

static void die(const char *what)
{
	printf("error %s: %s\n", what, strerror(errno));
	exit(1);
}

static long vmpte_kb(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kb = -1;

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmPTE: %ld", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb;
}

static char *map_file(const char *path, size_t len, int prot, int *fd_out)
{
	int fd = open(path, prot & PROT_WRITE ? O_RDWR : O_RDONLY);

	if (fd < 0)
		die("open");
	if (len == 0) {
		struct stat st;

		fstat(fd, &st);
		len = (size_t)st.st_size;
	}
	char *p = mmap(NULL, len, prot, MAP_SHARED, fd, 0);

	if (p == MAP_FAILED)
		die("mmap");
	if (fd_out)
		*fd_out = fd;
	else
		close(fd);
	return p;
}

static size_t file_size(const char *path)
{
	struct stat st;

	if (stat(path, &st) != 0)
		die("stat");
	return (size_t)st.st_size;
}

static int cmd_map(char **a)
{
	size_t len = strtoull(a[1], NULL, 0);
	int prot = strcmp(a[2], "rw") == 0 ? PROT_READ | PROT_WRITE : PROT_READ;
	char *p = map_file(a[0], len, prot, NULL);

	printf("%s\n", backing(p));
	fflush(stdout);
	while (access(a[3], F_OK) != 0)
		usleep(20000);
	printf("byte0 %d\n", p[0]);
	return 0;
}

static int cmd_put(char **a)
{
	size_t size = file_size(a[0]);
	char *p = map_file(a[0], size, PROT_READ | PROT_WRITE, NULL);
	size_t off = strtoull(a[1], NULL, 0);

	memcpy(p + off, a[2], strlen(a[2]));
	printf("%s\n", backing(p));
	if (munmap(p, size) != 0)
		die("munmap");
	return 0;
}

static int cmd_get(char **a)
{
	size_t size = file_size(a[0]);
	char *p = map_file(a[0], size, PROT_READ, NULL);
	size_t off = strtoull(a[1], NULL, 0), n = strtoull(a[2], NULL, 0);

	printf("%s %.*s\n", backing(p), (int)n, p + off);
	if (munmap(p, size) != 0)
		die("munmap");
	return 0;
}

static int cmd_pwrite(char **a)
{
	int fd = open(a[0], O_RDWR);

	if (fd < 0 || pwrite(fd, a[2], strlen(a[2]), strtoll(a[1], NULL, 0)) < 0)
		die("pwrite");
	return 0;
}

static int cmd_pread(char **a)
{
	char buf[256] = "";
	int fd = open(a[0], O_RDONLY);
	size_t n = strtoull(a[2], NULL, 0);

	if (n >= sizeof(buf) || fd < 0 ||
	    pread(fd, buf, n, strtoll(a[1], NULL, 0)) < 0)
		die("pread");
	printf("%s\n", buf);
	return 0;
}

static int cmd_touch(char **a)
{
	size_t size = file_size(a[0]);
	long before = vmpte_kb();
	volatile char *p = map_file(a[0], size, PROT_READ, NULL);
	unsigned sum = 0;

	for (size_t off = 0; off < size; off += 4096)
		sum += (unsigned char)p[off];
	printf("vmpte %ld %ld %s\n", before, vmpte_kb(), backing((void *)p));
	/* Hold it until told to go, so the next process attaches to it. */
	if (a[1])
		while (access(a[1], F_OK) != 0)
			usleep(20000);
	return sum == 12345678 ? 2 : 0;
}

static int cmd_anonfork(char **a)
{
	size_t len = strtoull(a[0], NULL, 0);
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		die("mmap");
	printf("%s\n", backing(p));
	strcpy(p + len - 100, "parent");
	pid_t pid = fork();

	if (pid == 0) {
		printf("child sees %s %s\n", p + len - 100, backing(p));
		strcpy(p + 10, "from child");
		_exit(0);
	}
	waitpid(pid, NULL, 0);
	printf("parent sees %s\n", p + 10);
	errno = 0;
	int rc = munmap(p, 4096);

	printf("partial munmap %d %s\n", rc, strerror(errno));
	printf("mremap %s\n", mremap(p, len, 2 * len, MREMAP_MAYMOVE) == MAP_FAILED ?
	       strerror(errno) : "moved");
	printf("madvise dontneed %d\n", madvise(p, len, MADV_DONTNEED));
	printf("text kept %s\n", p + 10);
	printf("munmap %d\n", munmap(p, len));
	return 0;
}

/*
 * A fork child does not get a MADV_DONTFORK mapping: the range is free in
 * it, and its own mappings there must behave as anywhere else.
 */
static int cmd_dontfork(char **a)
{
	size_t len = strtoull(a[0], NULL, 0), page = (size_t)getpagesize();
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	int status;

	if (p == MAP_FAILED)
		die("mmap");
	printf("%s\n", backing(p));
	printf("madvise dontfork %d\n", madvise(p, len, MADV_DONTFORK));
	pid_t pid = fork();

	if (pid == 0) {
		/* Four private pages inside the range the parent has mapped. */
		char *q = mmap(p + page, 4 * page, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);

		if (q != p + page) {
			printf("child mmap %s\n", strerror(errno));
			_exit(1);
		}
		memset(q, 'c', 4 * page);
		printf("child munmap %d\n", munmap(q, page));
		printf("child mprotect %d\n", mprotect(q + page, page, PROT_READ));
		printf("child madvise %d\n",
		       madvise(q + 2 * page, page, MADV_NORMAL));
		printf("child data %s\n", q[page] == 'c' && q[2 * page] == 'c' &&
		       q[4 * page - 1] == 'c' ? "kept" : "lost");
		fflush(stdout);
		_exit(0);
	}
	waitpid(pid, &status, 0);
	printf("child %s\n", WIFEXITED(status) ? "exited" : "killed");
	printf("munmap %d\n", munmap(p, len));
	return 0;
}

/*
 * mremap(MREMAP_FIXED) replaces a backed mapping like mmap(MAP_FIXED):
 * afterwards the range and the space after it are the program's.
 */
static int cmd_remapover(char **a)
{
	size_t len = strtoull(a[0], NULL, 0), page = (size_t)getpagesize();
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	char *q = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED || q == MAP_FAILED)
		die("mmap");
	printf("%s\n", backing(p));
	memset(q, 'q', len);
	char *r = mremap(q, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, p);

	printf("mremap %s\n", r == p ? "moved" : strerror(errno));
	printf("munmap part %d\n", munmap(p, page));
	printf("mprotect part %d\n", mprotect(p + page, page, PROT_READ));
	printf("data %s\n", r == p && p[page] == 'q' && p[len - 1] == 'q' ?
	       "kept" : "lost");
	return 0;
}

/* The kernel checks a MAP_FIXED mmap before it unmaps anything. */
static int cmd_fixedfail(char **a)
{
	size_t len = strtoull(a[0], NULL, 0);
	char path[] = "/tmp/fixedfail.XXXXXX";
	int fd = mkstemp(path);
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	int status;

	if (fd < 0 || p == MAP_FAILED)
		die("setup");
	close(fd);
	fd = open(path, O_RDONLY);
	unlink(path);
	if (fd < 0)
		die("open");
	printf("%s\n", backing(p));
	strcpy(p, "kept");
	errno = 0;
	void *q = mmap(p, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
		       fd, 0);

	printf("mmap %s\n", q == MAP_FAILED ? strerror(errno) : "succeeded");
	/* A child reads it: a hole would kill it, not us. */
	pid_t pid = fork();

	if (pid == 0)
		_exit(strcmp(p, "kept") != 0);
	waitpid(pid, &status, 0);
	printf("data %s\n", WIFEXITED(status) && WEXITSTATUS(status) == 0 ?
	       "kept" : "lost");
	return 0;
}

static int cmd_anonhuge(char **a)
{
	size_t len = strtoull(a[0], NULL, 0);
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);

	if (p == MAP_FAILED)
		die("mmap");
	printf("%s\n", backing(p));
	strcpy(p + len - 64, "huge");
	pid_t pid = fork();

	if (pid == 0) {
		printf("child sees %s\n", p + len - 64);
		_exit(0);
	}
	waitpid(pid, NULL, 0);
	printf("munmap %d\n", munmap(p, len));
	return 0;
}

static int cmd_shmopen(char **a)
{
	size_t len = strtoull(a[1], NULL, 0);
	int fd = shm_open(a[0], O_RDWR | O_CREAT | O_EXCL, 0600);

	if (fd < 0 || ftruncate(fd, (off_t)len) != 0)
		die("shm_open");
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	if (p == MAP_FAILED)
		die("mmap");
	close(fd);
	strcpy(p + len / 2, "dsm segment");
	printf("%s\n", backing(p));
	return munmap(p, len) == 0 ? 0 : 1;
}

static int cmd_shmread(char **a)
{
	size_t len = strtoull(a[1], NULL, 0);
	int fd = shm_open(a[0], O_RDWR, 0);

	if (fd < 0)
		die("shm_open");
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	if (p == MAP_FAILED)
		die("mmap");
	printf("%s %s\n", backing(p), p + len / 2);
	return 0;
}

static int cmd_cycle(char **a)
{
	size_t size = file_size(a[0]);
	int n = atoi(a[1]), backed = 0;

	for (int i = 0; i < n; i++) {
		char *p = map_file(a[0], size, PROT_READ | PROT_WRITE, NULL);

		backed += strcmp(backing(p), "backed") == 0;
		p[i] = 'c';
		if (munmap(p, size) != 0)
			die("munmap");
	}
	printf("backed %d of %d\n", backed, n);
	return 0;
}

static int cmd_grow(char **a)
{
	size_t len = strtoull(a[1], NULL, 0);
	int fd;
	char *p = map_file(a[0], len, PROT_READ | PROT_WRITE, &fd);

	printf("%s\n", backing(p));
	if (ftruncate(fd, (off_t)(2 * len)) != 0)
		die("ftruncate");
	char *q = mremap(p, len, 2 * len, MREMAP_MAYMOVE);

	if (q == MAP_FAILED)
		die("mremap");
	strcpy(q + len + 10, "grown");
	strcpy(q + 10, "kept");
	char buf[8] = "";

	pread(fd, buf, 5, (off_t)(len + 10));
	printf("after mremap %s, pread %s, start %s\n", backing(q), buf, q + 10);
	return munmap(q, 2 * len) == 0 ? 0 : 1;
}

static int cmd_partial(char **a)
{
	size_t len = strtoull(a[1], NULL, 0);
	int fd;
	char *p = map_file(a[0], len, PROT_READ | PROT_WRITE, &fd);

	printf("%s\n", backing(p));
	strcpy(p + len / 2 + 10, "second");
	if (munmap(p + len / 2, len / 2) != 0)
		die("munmap half");
	strcpy(p + 10, "first");
	char buf[8] = "";

	pread(fd, buf, 6, (off_t)(len / 2 + 10));
	printf("after munmap %s, first %s, file has %s\n", backing(p), p + 10, buf);
	if (mprotect(p, len / 2, PROT_READ) != 0)
		die("mprotect");
	printf("mprotect ok\n");
	return munmap(p, len / 2) == 0 ? 0 : 1;
}

static int cmd_madvise(char **a)
{
	size_t len = strtoull(a[1], NULL, 0);
	int fd;
	char *p = map_file(a[0], len, PROT_READ | PROT_WRITE, &fd);
	static const struct { int advice; const char *name; } list[] = {
		{ MADV_NORMAL, "normal" }, { MADV_RANDOM, "random" },
		{ MADV_SEQUENTIAL, "sequential" }, { MADV_WILLNEED, "willneed" },
		{ MADV_DONTNEED, "dontneed" }, { MADV_POPULATE_READ, "populate_read" },
		{ MADV_FREE, "free" },
	};

	printf("%s\n", backing(p));
	strcpy(p + 4096, "keep");
	for (unsigned i = 0; i < sizeof(list) / sizeof(list[0]); i++) {
		errno = 0;
		int rc = madvise(p, len, list[i].advice);

		printf("%s %d %s\n", list[i].name, rc, rc ? strerror(errno) : "");
	}
	printf("after dontneed %s\n", p + 4096);
	strcpy(p + 8192, "hole");
	printf("remove %d\n", madvise(p + 8192, 4096, MADV_REMOVE));
	printf("after remove %d %s\n", p[8192], p + 4096);
	printf("msync %d\n", msync(p, len, MS_SYNC));
	return munmap(p, len) == 0 ? 0 : 1;
}

static int cmd_forkfile(char **a)
{
	size_t size = file_size(a[0]);
	char *p = map_file(a[0], size, PROT_READ | PROT_WRITE, NULL);
	pid_t pid;

	printf("%s\n", backing(p));
	pid = fork();
	if (pid == 0) {
		p[1] = 'k';
		_exit(munmap(p, size) == 0 ? 0 : 1);
	}
	int status;

	waitpid(pid, &status, 0);
	printf("child done %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	while (access(a[1], F_OK) != 0)
		usleep(20000);
	printf("parent sees %c\n", p[1]);
	return 0;
}

static int cmd_forkmap(char **a)
{
	size_t size = file_size(a[0]);
	int n = atoi(a[1]), done = 0;

	for (int i = 0; i < n; i++) {
		pid_t pid = fork();

		if (pid == 0) {
			char *p = map_file(a[0], size, PROT_READ, NULL);

			_exit(munmap(p, size) == 0 ? 0 : 1);
		}
		int status;

		if (pid > 0 && waitpid(pid, &status, 0) == pid &&
		    WIFEXITED(status) && WEXITSTATUS(status) == 0)
			done++;
	}
	printf("children %d\n", done);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int args;
		int (*run)(char **);
	} cmds[] = {
		{ "map", 4, cmd_map }, { "put", 3, cmd_put }, { "get", 3, cmd_get },
		{ "pwrite", 3, cmd_pwrite }, { "pread", 3, cmd_pread },
		{ "touch", 1, cmd_touch }, { "anonfork", 1, cmd_anonfork },
		{ "dontfork", 1, cmd_dontfork }, { "remapover", 1, cmd_remapover },
		{ "fixedfail", 1, cmd_fixedfail },
		{ "anonhuge", 1, cmd_anonhuge }, { "shmopen", 2, cmd_shmopen }, { "shmread", 2, cmd_shmread },
		{ "cycle", 2, cmd_cycle }, { "grow", 2, cmd_grow },
		{ "partial", 2, cmd_partial }, { "madvise", 2, cmd_madvise },
		{ "forkfile", 2, cmd_forkfile }, { "forkmap", 2, cmd_forkmap },
	};

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (unsigned i = 0; argc > 1 && i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(argv[1], cmds[i].name) == 0 && argc - 2 >= cmds[i].args)
			return cmds[i].run(argv + 2);
	fprintf(stderr, "usage: see the comment at the top of mmap-helper.c\n");
	return 2;
}
