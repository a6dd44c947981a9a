/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Calls on a shared file mapping whose results must be the kernel's, with
 * or without the shim (vm-mmap-tests.sh runs it both ways, strict mode,
 * and compares every line but the first):
 *
 *   mmap-fidelity FILE NOEXEC_FILE
 *
 * FILE: 8 MiB or more, read-write; NOEXEC_FILE: on a noexec mount.
 * Prints "backed yes|no" (the mapping of FILE is an attachment), then one
 * line per case with the return value and errno name.  Lines that start
 * with "backed" say whether a mapping is (still) an attachment: they
 * differ with the shim and are left out of the comparison.  Anonymous
 * shared mappings of 8 MiB are among the cases (MSHARE_SHIM_ANON).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define LEN (8UL << 20)

static const char *err_name(int rc)
{
	if (rc == 0)
		return "ok";
	switch (errno) {
	case EINVAL: return "EINVAL";
	case ENOMEM: return "ENOMEM";
	case EPERM: return "EPERM";
	case EACCES: return "EACCES";
	case EFAULT: return "EFAULT";
	default: return strerror(errno);
	}
}

static void report(const char *what, int rc)
{
	printf("%s: %s\n", what, err_name(rc));
}

static const char *maps_field(const char *p, const char *field, char *out,
			      size_t size)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	char line[512];
	int in = 0;

	snprintf(out, size, "?");
	while (f && fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;

		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && strchr(line, ':'))
			in = (unsigned long)p >= lo && (unsigned long)p < hi;
		else if (in && strncmp(line, field, strlen(field)) == 0) {
			snprintf(out, size, "%s", line + strlen(field));
			out[strcspn(out, "\n")] = '\0';
			break;
		}
	}
	if (f)
		fclose(f);
	return out;
}

static int has_flag(const char *p, const char *flag)
{
	char flags[256], want[8];

	maps_field(p, "VmFlags:", flags, sizeof(flags) - 1);
	strcat(flags, " ");
	snprintf(want, sizeof(want), " %s ", flag);
	return strstr(flags, want) != NULL;
}

static const char *backed_text(const char *p)
{
	char size[64];

	maps_field(p, "Size:", size, sizeof(size));
	return strtoul(size, NULL, 10) * 1024 > LEN ? "yes" : "no";
}

/*
 * Maps LEN bytes where, without the shim, the next ROOM bytes are free:
 * the cases past the end of a mapping must not hit the program's own
 * memory (top-down, the next mapping usually follows right after).
 */
#define ROOM (1UL << 20)

static char *map_with_room(int fd)
{
	int flags = fd < 0 ? MAP_SHARED | MAP_ANONYMOUS : MAP_SHARED;
	char *hole = mmap(NULL, LEN + 2 * ROOM, PROT_NONE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (hole == MAP_FAILED)
		exit(1);
	munmap(hole, LEN + 2 * ROOM);

	char *p = mmap(hole + ROOM, LEN, PROT_READ | PROT_WRITE, flags, fd, 0);

	if (p == MAP_FAILED) {
		printf("mmap: %s\n", err_name(-1));
		exit(1);
	}
	return p;
}

/* Calls that touch only what lies past the end of a mapping. */
static void past_the_end(const char *what, int fd)
{
	char line[128];
	char *p = map_with_room(fd);

	p[0] = 'x';
	snprintf(line, sizeof(line), "%s: munmap of a page past the end", what);
	report(line, munmap(p + LEN, 4096));
	printf("backed %s after munmap past the end: %s\n", what, backed_text(p));
	snprintf(line, sizeof(line), "%s: mprotect of a page past the end", what);
	report(line, mprotect(p + LEN, 4096, PROT_READ));
	printf("backed %s after mprotect past the end: %s\n", what, backed_text(p));
	snprintf(line, sizeof(line), "%s: mremap of a page past the end", what);
	report(line, mremap(p + LEN, 4096, 8192, MREMAP_MAYMOVE) == MAP_FAILED ? -1 : 0);
	snprintf(line, sizeof(line), "%s: mremap past the end, bad flags", what);
	report(line, mremap(p + LEN, 4096, 8192, 0x80) == MAP_FAILED ? -1 : 0);
	printf("backed %s after mremap past the end: %s\n", what, backed_text(p));
	if (fd >= 0) {
		/* A file mapping: a conversion can make room there. */
		char *q = mmap(p + LEN, 4096, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);

		printf("%s: MAP_FIXED of a page past the end: %s, mapping reads %c\n",
		       what, q == p + LEN ? "same address" : err_name(-1), p[0]);
		if (q == p + LEN)
			munmap(q, 4096);
	}
	report("munmap of the mapping", munmap(p, LEN));
}

static char *map_it(int fd)
{
	char *p = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	if (p == MAP_FAILED) {
		printf("mmap: %s\n", err_name(-1));
		exit(1);
	}
	return p;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: mmap-fidelity FILE NOEXEC_FILE\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);

	int fd = open(argv[1], O_RDWR);

	if (fd < 0)
		return 1;

	char *p = map_it(fd);
	char v;

	/* An attachment is much longer than the mapping. */
	{
		char size[64];

		maps_field(p, "Size:", size, sizeof(size));
		printf("backed %s\n", strtoul(size, NULL, 10) * 1024 > LEN ? "yes" : "no");
	}

	/* 1. madvise over a plain mapping just below and the mapping. */
	char *below = mmap(p - 65536, 65536, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);

	if (below == p - 65536)
		report("madvise WILLNEED over plain + shared", madvise(below, 65536 + LEN, MADV_WILLNEED));
	else
		printf("madvise WILLNEED over plain + shared: no room below\n");

	/* 2. MADV_KEEPONFORK. */
	report("madvise KEEPONFORK", madvise(p, LEN, MADV_KEEPONFORK));

	/* 3. DONTFORK and mlock survive a partial mprotect. */
	report("madvise DONTFORK", madvise(p, LEN, MADV_DONTFORK));
	report("mlock", mlock(p, LEN));
	report("mprotect first half read-only", mprotect(p, LEN / 2, PROT_READ));
	printf("after mprotect: locked %s, dontfork %s\n",
	       has_flag(p + LEN - 4096, "lo") ? "yes" : "no",
	       has_flag(p + LEN - 4096, "dc") ? "yes" : "no");
	pid_t pid = fork();

	if (pid == 0)
		_exit(mincore(p, 4096, (unsigned char *)&v) == 0 ? 1 : 0);

	int status;

	waitpid(pid, &status, 0);
	printf("fork child has the mapping: %s\n",
	       WIFEXITED(status) && WEXITSTATUS(status) == 1 ? "yes" : "no");
	munmap(p, LEN);

	/* 4. MAP_FIXED over the whole mapping replaces it. */
	p = map_it(fd);
	p[0] = 'x';

	char *r = mmap(p, LEN, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);

	printf("MAP_FIXED over the mapping: %s, reads %d\n",
	       r == p ? "same address" : "moved", r == p ? r[0] : -1);
	report("munmap of the replacement", munmap(p, LEN));

	/* 5. The kernel's errors for mmap itself. */
	void *q = mmap(NULL, LEN, PROT_READ, MAP_SHARED, fd, 100);

	report("mmap at an unaligned offset", q == MAP_FAILED ? -1 : 0);
	int nfd = open(argv[2], O_RDWR);

	q = nfd < 0 ? MAP_FAILED :
	    mmap(NULL, LEN, PROT_READ | PROT_EXEC, MAP_SHARED, nfd, 0);
	report("mmap PROT_EXEC on a noexec mount", q == MAP_FAILED ? -1 : 0);

	/* 6. munmap, mprotect, MAP_FIXED past the end of a mapping. */
	past_the_end("file", fd);
	past_the_end("anonymous", -1);
	return 0;
}
