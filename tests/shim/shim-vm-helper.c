/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Small SysV actions for vm-shim-tests.sh, one per invocation, so the script
 * can combine unrelated processes.  Each prints one result line (or a few,
 * documented per command) and exits 0 on success, 1 on failure, 2 on misuse.
 *
 *   create KEY SIZE [MODE [hugetlb|noreserve]]
 *                               shmget(KEY, SIZE, IPC_CREAT|MODE
 *                               [|SHM_HUGETLB|SHM_NORESERVE]) -> "ID"
 *   create-private SIZE [MODE]  shmget(IPC_PRIVATE, ...) -> "ID"
 *   write ID TEXT               attach, put TEXT at the start and its last byte
 *                               at the end, detach
 *   read ID                     attach read-only, print the text at the start
 *   stat ID                     "nattch=N mode=OOO dest=D segsz=N cpid=N"
 *   hold ID [touch]             attach (and touch every page), print "held",
 *                               then wait to be killed
 *   maps ID                     attach, print the /proc/self/maps line of it
 *   attach ID [ADDR [FLAGS]]    shmat and print "ok" or the errno name
 *   fork-nattch ID              nattch: attached / in a child / after the child
 *   chmod ID MODE               IPC_SET with the new mode
 *   rmid ID                     IPC_RMID
 *   race KEY SIZE N             N processes shmget(KEY, IPC_CREAT) at once,
 *                               each writes its slot; prints "ids=K slots=OK"
 *   vmpte ID N                  N processes in turn attach ID and read every
 *                               page; prints each one's VmPTE growth in kB
 *   threads ID N                N threads attach, write, check and detach
 *                               200 times each; "threads ok" or what broke
 *   rdonly-write ID             attach SHM_RDONLY and write: "SIGSEGV" or
 *                               "no fault"
 *   attach-twice ID             attach and detach, print "first", wait for a
 *                               line on stdin, attach and detach again, print
 *                               "second"
 *   attach-fork ID              attach and detach, then a fork child does the
 *                               same; prints "parent child"
 *   private-cycle SIZE          shmget(IPC_PRIVATE, SIZE), attach, detach,
 *                               IPC_SET, IPC_RMID; prints the id
 *   tables ID                   attach read-only, print "shared" if smaps shows its
 *                               VmFlags "st" (shared page tables), else
 *                               "plain"
 *   remap-beside ID ADDR        maps a page of its own at ADDR + 1 GiB, then
 *                               shmat(ID, ADDR, SHM_REMAP); prints "shmat: ok"
 *                               or the errno, then "beside: intact" or what
 *                               became of that page, then "stat: unchanged"
 *                               or "stat: changed" (lpid, atime, dtime,
 *                               nattch) if shmat failed
 *   remap-again ID ADDR         shmat(ID, ADDR, 0), then shmat(ID, ADDR,
 *                               SHM_REMAP) over it, writes through the second
 *                               and reads through a fresh attachment;
 *                               prints "first second data" or what failed
 *   plain-ops ID                attach (ID of 8 pages or more), print
 *                               "before: shared|plain", then one line per
 *                               call with "ok" or its errno: munmap of page 1,
 *                               mprotect of page 0 read-only, mlock of page 2,
 *                               madvise MADV_DONTNEED of page 3; then
 *                               "after: shared|plain" and "data:" with the
 *                               first bytes of pages 0 and 2
 *   chown ID UID                IPC_SET with the owner UID (its group too)
 *   chmod-loop ID SECONDS MODE1 MODE2
 *                               IPC_SET between MODE1 and MODE2 in turn for
 *                               SECONDS, each kept for a random 0-200 us;
 *                               "toggles=N failed=N"
 *   attach-loop ID THREADS SECONDS [FLAGS]
 *                               THREADS threads shmat(FLAGS)/shmdt for SECONDS,
 *                               looking at the VmFlags of every attachment;
 *                               prints "ok=N EACCES=N other=N
 *                               shared=S/LOOKED" and the first other errno
 *                               names, if any
 *   lock ID                     attach and touch a page, SHM_LOCK, SHM_UNLOCK
 *                               if locked; "shared|plain lock=R unlock=R"
 *   info                        SHM_INFO: "rss=PAGES swp=PAGES"
 *   fill ID NPAGES [hold]       attach, write each of the first NPAGES pages
 *                               with its index, detach ("filled"), or stay
 *                               attached ("held", then wait to be killed)
 *   check ID NPAGES             attach read-only, check those pages: "intact"
 *                               or "bad=K first=PAGE"
 *   mlockall-attach ID          mlockall(MCL_CURRENT|MCL_FUTURE), then shmat:
 *                               "ok shared|plain locked|unlocked" (VmLck grew
 *                               by the segment's size or not) or the errno
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mshare-procfs.h"

static const char *errname(int err)
{
	const char *name = strerrorname_np(err);

	return name ? name : "E?";
}

static int die(const char *what)
{
	printf("%s: %s\n", what, errname(errno));
	return 1;
}

static long number(const char *text)
{
	char *end;
	long v = strtol(text, &end, 0);

	if (*text == '\0' || *end != '\0') {
		fprintf(stderr, "not a number: %s\n", text);
		exit(2);
	}
	return v;
}

/* Size with an optional K/M/G suffix. */
static size_t size_arg(const char *text)
{
	char *end;
	unsigned long long v = strtoull(text, &end, 0);

	switch (*end) {
	case 'G': v <<= 10; /* fall through */
	case 'M': v <<= 10; /* fall through */
	case 'K': v <<= 10; end++; break;
	}
	if (*end) {
		fprintf(stderr, "not a size: %s\n", text);
		exit(2);
	}
	return (size_t)v;
}

static size_t segment_size(int id)
{
	struct shmid_ds ds;

	if (shmctl(id, IPC_STAT, &ds) != 0)
		return 0;
	return ds.shm_segsz;
}

static long vm_pte_kb(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kb = -1;

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmPTE: %ld kB", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb;
}

static unsigned long read_every_page(const volatile char *p, size_t size)
{
	unsigned long sum = 0;

	for (size_t off = 0; off < size; off += 4096)
		sum += (unsigned char)p[off];
	return sum;
}

static int cmd_create(key_t key, size_t size, int mode)
{
	int id = shmget(key, size, IPC_CREAT | mode);

	if (id < 0)
		return die("shmget");
	printf("%d\n", id);
	return 0;
}

static int cmd_write(int id, const char *text)
{
	size_t size = segment_size(id);
	char *p = shmat(id, NULL, 0);

	if (p == (void *)-1)
		return die("shmat");
	strcpy(p, text);
	p[size - 1] = text[strlen(text) - 1];
	shmdt(p);
	printf("written\n");
	return 0;
}

static int cmd_read(int id)
{
	size_t size = segment_size(id);
	char *p = shmat(id, NULL, SHM_RDONLY);

	if (p == (void *)-1)
		return die("shmat");
	printf("%.200s|%c\n", p, p[size - 1] ? p[size - 1] : '0');
	shmdt(p);
	return 0;
}

static int cmd_stat(int id)
{
	struct shmid_ds ds;

	if (shmctl(id, IPC_STAT, &ds) != 0)
		return die("IPC_STAT");
	printf("nattch=%lu mode=%03o dest=%d segsz=%zu cpid=%d\n",
	       (unsigned long)ds.shm_nattch, ds.shm_perm.mode & 0777,
	       !!(ds.shm_perm.mode & SHM_DEST), (size_t)ds.shm_segsz,
	       (int)ds.shm_cpid);
	return 0;
}

static int cmd_hold(int id, int touch)
{
	size_t size = segment_size(id);
	char *p = shmat(id, NULL, 0);

	if (p == (void *)-1)
		return die("shmat");
	if (touch)
		for (size_t off = 0; off < size; off += 4096)
			p[off] = 1;
	printf("held\n");
	fflush(stdout);
	for (;;)
		pause();
}

static int cmd_maps(int id)
{
	char *p = shmat(id, NULL, 0);
	char line[512], start[32];
	FILE *f;

	if (p == (void *)-1)
		return die("shmat");
	snprintf(start, sizeof(start), "%lx-", (unsigned long)p);
	f = fopen("/proc/self/maps", "r");
	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, start, strlen(start)) == 0)
			fputs(line, stdout);
	if (f)
		fclose(f);
	shmdt(p);
	return 0;
}

static int cmd_attach(int id, uintptr_t addr, int flags)
{
	void *p = shmat(id, (void *)addr, flags);

	if (p == (void *)-1)
		return die("shmat");
	printf("ok\n");
	return 0;
}

static sigjmp_buf beside_jump;

static void on_beside_fault(int sig)
{
	siglongjmp(beside_jump, sig);
}

/* The IPC_STAT fields an attach or detach changes. */
static int same_attach_stat(const struct shmid_ds *a, const struct shmid_ds *b)
{
	return a->shm_lpid == b->shm_lpid && a->shm_atime == b->shm_atime &&
	       a->shm_dtime == b->shm_dtime && a->shm_nattch == b->shm_nattch;
}

static int cmd_remap_beside(int id, uintptr_t addr)
{
	volatile char *beside = (char *)(addr + (1UL << 30));
	struct shmid_ds before, after;
	void *p, *got;
	int sig;

	got = mmap((void *)beside, 4096, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (got != beside)
		return die("mmap beside");
	beside[0] = 'b';
	if (shmctl(id, IPC_STAT, &before) != 0)
		return die("IPC_STAT");
	/* The kernel's IPC_STAT times count seconds: a change must show */
	sleep(1);
	p = shmat(id, (void *)addr, SHM_REMAP);
	if (p == (void *)-1)
		printf("shmat: %s\n", errname(errno));
	else
		printf("shmat: ok\n");
	signal(SIGSEGV, on_beside_fault);
	signal(SIGBUS, on_beside_fault);
	sig = sigsetjmp(beside_jump, 1);
	if (sig)
		printf("beside: %s\n", sig == SIGSEGV ? "SIGSEGV" : "SIGBUS");
	else
		printf("beside: %s\n", beside[0] == 'b' ? "intact" : "replaced");
	if (p == (void *)-1) {
		if (shmctl(id, IPC_STAT, &after) != 0)
			return die("IPC_STAT");
		printf("stat: %s\n", same_attach_stat(&before, &after) ?
		       "unchanged" : "changed");
	}
	return 0;
}

static int cmd_remap_again(int id, uintptr_t addr)
{
	volatile char *first, *second, *check;

	first = shmat(id, (void *)addr, 0);
	if (first == (void *)-1)
		return die("first shmat");
	second = shmat(id, (void *)addr, SHM_REMAP);
	if (second == (void *)-1)
		return die("second shmat");
	second[0] = 'r';
	check = shmat(id, NULL, SHM_RDONLY);
	if (check == (void *)-1)
		return die("third shmat");
	printf("first second %s\n", check[0] == 'r' ? "data" : "lost");
	return 0;
}

static int cmd_fork_nattch(int id)
{
	struct shmid_ds ds;
	char *p = shmat(id, NULL, 0);
	int pipefd[2];

	if (p == (void *)-1)
		return die("shmat");
	if (pipe(pipefd) != 0)
		return die("pipe");
	shmctl(id, IPC_STAT, &ds);
	printf("attached=%lu", (unsigned long)ds.shm_nattch);

	pid_t child = fork();

	if (child == 0) {
		char c;

		close(pipefd[1]);
		read(pipefd[0], &c, 1);		/* wait for the parent to look */
		_exit(0);
	}
	shmctl(id, IPC_STAT, &ds);
	printf(" with-child=%lu", (unsigned long)ds.shm_nattch);
	close(pipefd[1]);
	waitpid(child, NULL, 0);
	shmctl(id, IPC_STAT, &ds);
	printf(" after-child=%lu", (unsigned long)ds.shm_nattch);
	shmdt(p);
	shmctl(id, IPC_STAT, &ds);
	printf(" detached=%lu\n", (unsigned long)ds.shm_nattch);
	return 0;
}

static int cmd_chmod(int id, int mode)
{
	struct shmid_ds ds;

	if (shmctl(id, IPC_STAT, &ds) != 0)
		return die("IPC_STAT");
	ds.shm_perm.mode = (unsigned short)mode;
	if (shmctl(id, IPC_SET, &ds) != 0)
		return die("IPC_SET");
	printf("ok\n");
	return 0;
}

static int cmd_rmid(int id)
{
	if (shmctl(id, IPC_RMID, NULL) != 0)
		return die("IPC_RMID");
	printf("ok\n");
	return 0;
}

/* Every process writes its index into its own slot; all must see all. */
static int cmd_race(key_t key, size_t size, int n)
{
	int go[2], ids[2];

	if (pipe(go) != 0 || pipe(ids) != 0)
		return die("pipe");
	for (int i = 0; i < n; i++) {
		if (fork() != 0)
			continue;
		char c;

		close(go[1]);
		read(go[0], &c, 1);	/* all start together */

		int id = shmget(key, size, IPC_CREAT | 0600);
		int *slots = id < 0 ? (void *)-1 : shmat(id, NULL, 0);

		if (slots != (void *)-1) {
			slots[i] = i + 1;
			shmdt(slots);
		}
		write(ids[1], &id, sizeof(id));
		_exit(0);
	}
	close(go[0]);
	close(go[1]);		/* EOF releases everyone at once */
	close(ids[1]);

	int first = -2, distinct = 0, id;

	while (read(ids[0], &id, sizeof(id)) == sizeof(id)) {
		if (id < 0)
			distinct = 1000;
		else if (id != first)
			distinct++, first = id;
	}
	while (wait(NULL) > 0)
		;
	if (first < 0)
		return die("shmget");

	int *slots = shmat(first, NULL, SHM_RDONLY), good = 0;

	if (slots == (void *)-1)
		return die("shmat");
	for (int i = 0; i < n; i++)
		good += slots[i] == i + 1;
	shmdt(slots);
	printf("id=%d ids=%d slots=%d/%d\n", first, distinct, good, n);
	return distinct == 1 && good == n ? 0 : 1;
}

/*
 * Processes attach one after another, each reading every page and staying
 * attached, so the pages are resident and later attachers find them.
 */
static int cmd_vmpte(int id, int n)
{
	size_t size = segment_size(id);
	int status = 0, go[2];

	if (size == 0)
		return die("IPC_STAT");
	if (pipe(go) != 0)
		return die("pipe");
	for (int i = 0; i < n; i++) {
		int done[2];

		if (pipe(done) != 0)
			return die("pipe");

		pid_t child = fork();

		if (child == 0) {
			long before = vm_pte_kb();
			char *p = shmat(id, NULL, 0);
			char c;

			close(go[1]);
			if (p == (void *)-1)
				_exit(die("shmat"));
			if (i == 0)	/* the first one makes the pages exist */
				for (size_t off = 0; off < size; off += 4096)
					p[off] = 1;
			read_every_page(p, size);

			long grew = vm_pte_kb() - before;

			printf("attacher %d: VmPTE %ld kB -> %ld kB (+%ld kB)\n",
			       i + 1, before, before + grew, grew);
			fflush(stdout);
			write(done[1], &grew, sizeof(grew));
			read(go[0], &c, 1);	/* stay attached until all are done */
			_exit(0);
		}

		long grew = -1;

		close(done[1]);
		read(done[0], &grew, sizeof(grew));
		close(done[0]);
		if (i > 0 && grew >= 16)
			status = 1;
	}
	close(go[1]);
	while (wait(NULL) > 0)
		;
	printf("%s\n", status ? "VmPTE grows per attacher" : "VmPTE flat");
	return status;
}

struct thread_job {
	int id;
	int index;
	int failures;
};

static void *attach_detach_loop(void *arg)
{
	struct thread_job *job = arg;

	for (int round = 0; round < 200; round++) {
		volatile int *slots = shmat(job->id, NULL, 0);

		if (slots == (void *)-1) {
			job->failures++;
			continue;
		}
		slots[job->index] = round;
		if (slots[job->index] != round)
			job->failures++;
		if (shmdt((const void *)slots) != 0)
			job->failures++;
	}
	return NULL;
}

static int cmd_threads(int id, int n)
{
	pthread_t threads[64];
	struct thread_job jobs[64];
	int failures = 0;

	if (n < 1 || n > 64)
		return 2;
	for (int i = 0; i < n; i++) {
		jobs[i] = (struct thread_job){ .id = id, .index = i };
		pthread_create(&threads[i], NULL, attach_detach_loop, &jobs[i]);
	}
	for (int i = 0; i < n; i++) {
		pthread_join(threads[i], NULL);
		failures += jobs[i].failures;
	}

	struct shmid_ds ds;

	shmctl(id, IPC_STAT, &ds);
	if (failures || ds.shm_nattch != 0) {
		printf("threads: %d failures, nattch %lu\n", failures,
		       (unsigned long)ds.shm_nattch);
		return 1;
	}
	printf("threads ok\n");
	return 0;
}

static sigjmp_buf fault_jump;

static void on_fault(int sig)
{
	(void)sig;
	siglongjmp(fault_jump, 1);
}

static int cmd_rdonly_write(int id)
{
	volatile char *p = shmat(id, NULL, SHM_RDONLY);
	struct sigaction sa = { .sa_handler = on_fault };

	if (p == (void *)-1)
		return die("shmat");
	sigaction(SIGSEGV, &sa, NULL);
	if (sigsetjmp(fault_jump, 1) == 0) {
		p[0] = p[0];
		printf("no fault\n");
		return 1;
	}
	printf("SIGSEGV\n");
	return 0;
}

static int attach_detach(int id)
{
	void *p = shmat(id, NULL, 0);

	if (p == (void *)-1)
		return -1;
	return shmdt(p);
}

static int cmd_attach_twice(int id)
{
	char line[16];

	if (attach_detach(id) != 0)
		return die("shmat");
	printf("first\n");
	if (!fgets(line, sizeof(line), stdin))
		return die("stdin");
	if (attach_detach(id) != 0)
		return die("shmat");
	printf("second\n");
	return 0;
}

static int cmd_attach_fork(int id)
{
	int status;
	pid_t child;

	if (attach_detach(id) != 0)
		return die("shmat");
	printf("parent");
	fflush(stdout);
	child = fork();
	if (child == 0)
		_exit(attach_detach(id) == 0 ? 0 : 1);
	if (child < 0 || waitpid(child, &status, 0) != child ||
	    !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return die(" child");
	printf(" child\n");
	return 0;
}

static int cmd_private_cycle(size_t size)
{
	struct shmid_ds ds;
	int id = shmget(IPC_PRIVATE, size, IPC_CREAT | 0600);

	if (id < 0)
		return die("shmget");
	if (attach_detach(id) != 0)
		return die("shmat");
	if (shmctl(id, IPC_STAT, &ds) != 0)
		return die("IPC_STAT");
	ds.shm_perm.mode = 0640;
	if (shmctl(id, IPC_SET, &ds) != 0)
		return die("IPC_SET");
	if (shmctl(id, IPC_RMID, NULL) != 0)
		return die("IPC_RMID");
	printf("%d\n", id);
	return 0;
}

static int cmd_tables(int id)
{
	void *p = shmat(id, NULL, SHM_RDONLY);
	int shared;

	if (p == (void *)-1)
		return die("shmat");
	shared = smaps_shares_tables(p);
	if (shared < 0)
		return die("smaps");
	printf("%s\n", shared ? "shared" : "plain");
	return 0;
}

static void print_tables(const char *when, const void *p)
{
	int shared = smaps_shares_tables(p);

	printf("%s: %s\n", when, shared < 0 ? "unmapped" :
	       shared ? "shared" : "plain");
}

static void print_call(const char *call, int rc)
{
	printf("%s: %s\n", call, rc == 0 ? "ok" : errname(errno));
}

/* Calls that shared page tables cannot serve: the kernel makes it plain. */
static int cmd_plain_ops(int id)
{
	long page = sysconf(_SC_PAGESIZE);
	unsigned char *p = shmat(id, NULL, 0);

	if (p == (void *)-1)
		return die("shmat");
	print_tables("before", p);
	print_call("munmap", munmap(p + page, page));
	print_call("mprotect", mprotect(p, page, PROT_READ));
	print_call("mlock", mlock(p + 2 * page, page));
	print_call("madvise", madvise(p + 3 * page, page, MADV_DONTNEED));
	print_tables("after", p);
	printf("data: %c%c\n", p[0] ? p[0] : '0', p[2 * page] ? p[2 * page] : '0');
	return shmdt(p) == 0 ? 0 : die("shmdt");
}

static int cmd_chown(int id, int uid)
{
	struct shmid_ds ds;

	if (shmctl(id, IPC_STAT, &ds) != 0)
		return die("IPC_STAT");
	ds.shm_perm.uid = (uid_t)uid;
	ds.shm_perm.gid = (gid_t)uid;
	if (shmctl(id, IPC_SET, &ds) != 0)
		return die("IPC_SET");
	printf("ok\n");
	return 0;
}

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmd_chmod_loop(int id, double seconds, int mode1, int mode2)
{
	double end = now_seconds() + seconds;
	unsigned long toggles = 0, failed = 0;
	struct shmid_ds ds;

	if (shmctl(id, IPC_STAT, &ds) != 0)
		return die("IPC_STAT");
	unsigned int seed = (unsigned int)getpid();

	while (now_seconds() < end) {
		ds.shm_perm.mode = (unsigned short)(toggles % 2 ? mode2 : mode1);
		if (shmctl(id, IPC_SET, &ds) != 0)
			failed++;
		toggles++;
		/*
		 * Each mode stays for a random 0 to 200 us, asleep: with a
		 * fixed period an attacher's calls can fall into step with
		 * it and meet only one of the modes, and a loop that never
		 * sleeps keeps the IPC ids' rwsem, which a successful shmat
		 * takes too, nearly always held.
		 */
		struct timespec hold = { .tv_nsec = (rand_r(&seed) % 201) * 1000L };

		nanosleep(&hold, NULL);
	}
	printf("toggles=%lu failed=%lu\n", toggles, failed);
	return failed ? 1 : 0;
}

struct loop_job {
	int id;
	int flags;
	double end;
	unsigned long ok, eacces, other, shared, looked;
	int first_other;
};

static void *attach_until(void *arg)
{
	struct loop_job *job = arg;

	while (now_seconds() < job->end) {
		volatile char *p = shmat(job->id, NULL, job->flags);

		if (p == (void *)-1) {
			if (errno == EACCES) {
				job->eacces++;
			} else {
				if (!job->other)
					job->first_other = errno;
				job->other++;
			}
			continue;
		}
		(void)p[0];
		job->looked++;
		job->shared += smaps_shares_tables((const void *)p) == 1;
		job->ok++;
		if (shmdt((const void *)p) != 0) {
			if (!job->other)
				job->first_other = errno;
			job->other++;
		}
	}
	return NULL;
}

static int cmd_attach_loop(int id, int n, double seconds, int flags)
{
	pthread_t threads[64];
	struct loop_job jobs[64];
	unsigned long ok = 0, eacces = 0, other = 0, shared = 0, looked = 0;
	double end = now_seconds() + seconds;

	if (n < 1 || n > 64)
		return 2;
	for (int i = 0; i < n; i++) {
		jobs[i] = (struct loop_job){ .id = id, .flags = flags, .end = end };
		if (pthread_create(&threads[i], NULL, attach_until, &jobs[i]) != 0)
			return die("pthread_create");
	}
	for (int i = 0; i < n; i++) {
		pthread_join(threads[i], NULL);
		ok += jobs[i].ok;
		eacces += jobs[i].eacces;
		other += jobs[i].other;
		shared += jobs[i].shared;
		looked += jobs[i].looked;
	}
	printf("ok=%lu EACCES=%lu other=%lu shared=%lu/%lu", ok, eacces, other,
	       shared, looked);
	for (int i = 0; i < n; i++)
		if (jobs[i].other)
			printf(" %s", errname(jobs[i].first_other));
	printf("\n");
	return 0;
}

static const char *result_name(int rc)
{
	return rc == 0 ? "ok" : errname(errno);
}

static int cmd_lock(int id)
{
	volatile char *p = shmat(id, NULL, 0);
	const char *lock, *unlock = "-";
	int shared, rc;

	if (p == (void *)-1)
		return die("shmat");
	p[0] = p[0];
	shared = smaps_shares_tables((const void *)p) == 1;
	rc = shmctl(id, SHM_LOCK, NULL);
	lock = result_name(rc);
	if (rc == 0)
		unlock = result_name(shmctl(id, SHM_UNLOCK, NULL));
	printf("%s lock=%s unlock=%s\n", shared ? "shared" : "plain", lock,
	       unlock);
	shmdt((const void *)p);
	return 0;
}

static int cmd_info(void)
{
	struct shm_info info;

	if (shmctl(0, SHM_INFO, (struct shmid_ds *)&info) < 0)
		return die("SHM_INFO");
	printf("rss=%lu swp=%lu\n", info.shm_rss, info.shm_swp);
	return 0;
}

static int cmd_fill(int id, size_t pages, int hold)
{
	char *p = shmat(id, NULL, 0);

	if (p == (void *)-1)
		return die("shmat");
	for (size_t i = 0; i < pages; i++) {
		memset(p + i * 4096, (int)(i % 251) + 1, 4096);
		memcpy(p + i * 4096, &i, sizeof(i));
	}
	if (!hold) {
		shmdt(p);
		printf("filled\n");
		return 0;
	}
	printf("held\n");
	fflush(stdout);
	for (;;)
		pause();
}

static int cmd_check(int id, size_t pages)
{
	const char *p = shmat(id, NULL, SHM_RDONLY);
	size_t bad = 0, first = 0;

	if (p == (void *)-1)
		return die("shmat");
	for (size_t i = 0; i < pages; i++) {
		const char *page = p + i * 4096;
		size_t index;
		int good;

		memcpy(&index, page, sizeof(index));
		good = index == i;
		for (size_t b = sizeof(index); good && b < 4096; b++)
			good = page[b] == (char)(i % 251 + 1);
		if (!good && !bad++)
			first = i;
	}
	shmdt(p);
	if (bad)
		printf("bad=%zu first=%zu\n", bad, first);
	else
		printf("intact\n");
	return bad ? 1 : 0;
}

static int cmd_mlockall_attach(int id)
{
	size_t size = segment_size(id);
	long before, after;
	void *p;

	if (mlockall(MCL_CURRENT | MCL_FUTURE) != 0)
		return die("mlockall");
	before = proc_self_status_kb("VmLck");
	p = shmat(id, NULL, 0);
	if (p == (void *)-1)
		return die("shmat");
	after = proc_self_status_kb("VmLck");
	printf("ok %s %s\n", smaps_shares_tables(p) == 1 ? "shared" : "plain",
	       after - before >= (long)(size >> 10) ? "locked" : "unlocked");
	shmdt(p);
	return 0;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(cmd, "create") && argc >= 4 && argc <= 6)
		return cmd_create((key_t)strtoul(argv[2], NULL, 0), size_arg(argv[3]),
				  (argc >= 5 ? (int)strtol(argv[4], NULL, 8) : 0600) |
				  (argc == 6 && !strcmp(argv[5], "hugetlb") ?
				   SHM_HUGETLB : 0) |
				  (argc == 6 && !strcmp(argv[5], "noreserve") ?
				   SHM_NORESERVE : 0));
	if (!strcmp(cmd, "create-private") && (argc == 3 || argc == 4))
		return cmd_create(IPC_PRIVATE, size_arg(argv[2]),
				  argc == 4 ? (int)strtol(argv[3], NULL, 8) : 0600);
	if (!strcmp(cmd, "write") && argc == 4)
		return cmd_write((int)number(argv[2]), argv[3]);
	if (!strcmp(cmd, "read") && argc == 3)
		return cmd_read((int)number(argv[2]));
	if (!strcmp(cmd, "stat") && argc == 3)
		return cmd_stat((int)number(argv[2]));
	if (!strcmp(cmd, "hold") && (argc == 3 || argc == 4))
		return cmd_hold((int)number(argv[2]), argc == 4);
	if (!strcmp(cmd, "maps") && argc == 3)
		return cmd_maps((int)number(argv[2]));
	if (!strcmp(cmd, "attach") && argc >= 3 && argc <= 5)
		return cmd_attach((int)number(argv[2]),
				  argc > 3 ? (uintptr_t)strtoull(argv[3], NULL, 0) : 0,
				  argc > 4 ? (int)number(argv[4]) : 0);
	if (!strcmp(cmd, "tables") && argc == 3)
		return cmd_tables((int)number(argv[2]));
	if (!strcmp(cmd, "remap-beside") && argc == 4)
		return cmd_remap_beside((int)number(argv[2]),
					(uintptr_t)strtoull(argv[3], NULL, 0));
	if (!strcmp(cmd, "remap-again") && argc == 4)
		return cmd_remap_again((int)number(argv[2]),
				       (uintptr_t)strtoull(argv[3], NULL, 0));
	if (!strcmp(cmd, "fork-nattch") && argc == 3)
		return cmd_fork_nattch((int)number(argv[2]));
	if (!strcmp(cmd, "chmod") && argc == 4)
		return cmd_chmod((int)number(argv[2]), (int)strtol(argv[3], NULL, 8));
	if (!strcmp(cmd, "rmid") && argc == 3)
		return cmd_rmid((int)number(argv[2]));
	if (!strcmp(cmd, "race") && argc == 5)
		return cmd_race((key_t)strtoul(argv[2], NULL, 0), size_arg(argv[3]),
				(int)number(argv[4]));
	if (!strcmp(cmd, "vmpte") && argc == 4)
		return cmd_vmpte((int)number(argv[2]), (int)number(argv[3]));
	if (!strcmp(cmd, "threads") && argc == 4)
		return cmd_threads((int)number(argv[2]), (int)number(argv[3]));
	if (!strcmp(cmd, "rdonly-write") && argc == 3)
		return cmd_rdonly_write((int)number(argv[2]));
	if (!strcmp(cmd, "attach-twice") && argc == 3)
		return cmd_attach_twice((int)number(argv[2]));
	if (!strcmp(cmd, "attach-fork") && argc == 3)
		return cmd_attach_fork((int)number(argv[2]));
	if (!strcmp(cmd, "plain-ops") && argc == 3)
		return cmd_plain_ops((int)number(argv[2]));
	if (!strcmp(cmd, "private-cycle") && argc == 3)
		return cmd_private_cycle(size_arg(argv[2]));
	if (!strcmp(cmd, "chown") && argc == 4)
		return cmd_chown((int)number(argv[2]), (int)number(argv[3]));
	if (!strcmp(cmd, "chmod-loop") && argc == 6)
		return cmd_chmod_loop((int)number(argv[2]), (double)number(argv[3]),
				      (int)strtol(argv[4], NULL, 8),
				      (int)strtol(argv[5], NULL, 8));
	if (!strcmp(cmd, "attach-loop") && (argc == 5 || argc == 6))
		return cmd_attach_loop((int)number(argv[2]), (int)number(argv[3]),
				       (double)number(argv[4]),
				       argc == 6 ? (int)number(argv[5]) : 0);
	if (!strcmp(cmd, "lock") && argc == 3)
		return cmd_lock((int)number(argv[2]));
	if (!strcmp(cmd, "info") && argc == 2)
		return cmd_info();
	if (!strcmp(cmd, "fill") && (argc == 4 || argc == 5))
		return cmd_fill((int)number(argv[2]), (size_t)number(argv[3]),
				argc == 5 && !strcmp(argv[4], "hold"));
	if (!strcmp(cmd, "check") && argc == 4)
		return cmd_check((int)number(argv[2]), (size_t)number(argv[3]));
	if (!strcmp(cmd, "mlockall-attach") && argc == 3)
		return cmd_mlockall_attach((int)number(argv[2]));
	fprintf(stderr, "usage: see the comment at the top of shim-vm-helper.c\n");
	return 2;
}
