/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * mshare-preflight: mshare-run's checks before it runs a program, and
 * `mshare-run --check`.  The configuration is read with the shim's own
 * parser (shim/core/config.c, linked in), so what this program accepts is
 * exactly what the shim will accept.  Not meant to be run by hand: mshare-run
 * exports the environment the program will get and calls
 *
 *   mshare-preflight [--check] [--quiet] [--options VAR,...] PROGRAM
 *
 * --options names the variables that came from mshare-run's options: a bad
 * value there is a usage error (exit 2) named after the option.
 * Exit: 0 fine; 1 a check failed and (run mode) strict mode refuses, or
 * (--check) strict mode would refuse; 2 usage or configuration error.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "core/config.h"
#include "core/plan.h"
#include "msharefs-uapi.h"

static const char *prog = "mshare-run";
static bool check_mode;		/* --check: the report on stdout */
static bool quiet;
static unsigned failures;

/* ---- messages ----------------------------------------------------------- */

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;

	if (quiet || check_mode)
		return;
	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* One line of the --check report: ok, FAIL (strict would refuse) or note. */
static void result(const char *status, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void result(const char *status, const char *fmt, ...)
{
	va_list ap;

	bool fail = !strcmp(status, "FAIL");

	failures += fail;
	if (check_mode) {
		printf("  %-5s ", status);
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
		putchar('\n');
	} else if (fail && !quiet) {
		/* Running: only the failures, as warnings. */
		fprintf(stderr, "%s: warning: ", prog);
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fputc('\n', stderr);
	}
}

/* "64 MiB" when exact in a binary unit, else bytes. */
static const char *human(uint64_t b, char *buf, size_t size)
{
	static const char *const units[] = { "TiB", "GiB", "MiB", "KiB" };

	for (int i = 0; i < 4; i++) {
		unsigned shift = 40 - 10 * i;

		if (b >= (1ULL << shift) && b % (1ULL << shift) == 0) {
			snprintf(buf, size, "%" PRIu64 " %s", b >> shift, units[i]);
			return buf;
		}
	}
	snprintf(buf, size, "%" PRIu64 " bytes", b);
	return buf;
}

/* ---- the configuration, through the shim's parser ----------------------- */

/* The environment, optionally narrowed to one variable. */
struct env_view {
	const char *only;	/* NULL: everything */
};

static const char *view_getenv(const char *name, void *context)
{
	const struct env_view *view = context;

	if (view->only && strcmp(view->only, name))
		return NULL;
	return getenv(name);
}

static const struct {
	const char *variable;
	const char *option;
} option_names[] = {
	{ "MSHARE_SHIM_SHM", "--shm" },
	{ "MSHARE_SHIM_FILES", "--files" },
	{ "MSHARE_SHIM_ANON", "--anon" },
	{ "MSHARE_SHIM_MIN_SIZE", "--min-size" },
	{ "MSHARE_SHIM_SYSV", "--sysv" },
	{ "MSHARE_SHIM_MODE", "--mode" },
	{ "MSHARE_SHIM_LOG", "--log" },
	{ "MSHARE_SHIM_LOG_FILE", "--log-file" },
	{ "MSHARE_SHIM_EXE", "--exe" },
	{ "MSHARE_SHIM_MOUNT", "--mount" },
};

/*
 * Each option value alone, so a typo in an option is a usage error that
 * names the option, as for any other command.
 */
static void check_option_values(char *list)
{
	static struct shim_config one;	/* large: not on the stack */

	for (char *var = strtok(list, ","); var; var = strtok(NULL, ",")) {
		struct env_view view = { .only = var };
		const char *option = var;

		for (size_t i = 0; i < sizeof(option_names) / sizeof(option_names[0]); i++)
			if (!strcmp(option_names[i].variable, var))
				option = option_names[i].option;
		shim_config_load(&one, view_getenv, &view);
		if (one.malformed) {
			fprintf(stderr, "%s: %s: %s\n", prog, option, one.error);
			fprintf(stderr, "Try '%s --help'.\n", prog);
			exit(2);
		}
	}
}

static void describe_keys(const struct shim_keylist *keys, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	if (keys->all) {
		snprintf(buf, size, "every SysV segment");
		return;
	}
	len += snprintf(buf + len, size - len, "SysV keys ");
	for (unsigned i = 0; i < keys->count && len < size; i++) {
		const struct shim_key_range *r = &keys->ranges[i];

		if (r->first == r->last)
			len += snprintf(buf + len, size - len, "%s0x%" PRIx32,
					i ? "," : "", r->first);
		else
			len += snprintf(buf + len, size - len, "%s0x%" PRIx32 "-0x%" PRIx32,
					i ? "," : "", r->first, r->last);
	}
	if (keys->private_keys && len < size)
		snprintf(buf + len, size - len, "%sprivate", keys->count ? "," : "");
}

/* What the configuration backs, in words; "" when nothing. */
static void describe(const struct shim_config *c, char *buf, size_t size)
{
	char part[512], h[32];
	size_t len = 0;

	buf[0] = '\0';
	if (!shim_keylist_is_empty(&c->shm)) {
		describe_keys(&c->shm, part, sizeof(part));
		len += snprintf(buf + len, size - len, "%s of at least %s", part,
				human(c->min_size, h, sizeof(h)));
	}
	if (c->files[0] && len < size)
		len += snprintf(buf + len, size - len, "%sfiles matching %s",
				len ? "; " : "", c->files);
	if (c->anon_set && len < size)
		snprintf(buf + len, size - len,
			 "%sanonymous shared mappings of at least %s",
			 len ? "; " : "", human(c->anon_min, h, sizeof(h)));
}

static const char *mode_name(enum shim_mode mode)
{
	return mode == SHIM_MODE_OFF ? "off" : mode == SHIM_MODE_STRICT ? "strict" : "try";
}

/* ---- the checks ---------------------------------------------------------- */

static bool kernel_has_msharefs(void)
{
	FILE *f = fopen("/proc/filesystems", "re");
	char line[256];
	bool found = false;

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		char *name = strrchr(line, '\t');

		name = name ? name + 1 : line;
		name[strcspn(name, "\n")] = '\0';
		found = !strcmp(name, "msharefs");
	}
	fclose(f);
	return found;
}

/* msharefs usable at mount: fills *alignment; false with why. */
static bool msharefs_usable(const char *mount, uint64_t *alignment,
			    char *why, size_t size)
{
	struct statfs sfs;
	struct statvfs svfs;
	char path[PATH_MAX + 16], text[64];
	int fd;
	ssize_t n;

	if (!kernel_has_msharefs()) {
		snprintf(why, size, "this kernel does not support msharefs (not in /proc/filesystems)");
		return false;
	}
	result("ok", "msharefs is supported by this kernel");
	if (statfs(mount, &sfs) < 0) {
		snprintf(why, size, "%s: %s", mount, strerror(errno));
		return false;
	}
	if ((unsigned long)sfs.f_type != MSHARE_MAGIC) {
		snprintf(why, size, "msharefs is not mounted at %s (mount -t msharefs msharefs %s)",
			 mount, mount);
		return false;
	}
	result("ok", "msharefs is mounted at %s", mount);
	snprintf(path, sizeof(path), "%s/mshare_info", mount);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	n = fd >= 0 ? read(fd, text, sizeof(text) - 1) : -1;
	if (fd >= 0)
		close(fd);
	if (n <= 0) {
		snprintf(why, size, "%s is not readable", path);
		return false;
	}
	text[n] = '\0';
	char *end;

	errno = 0;
	*alignment = strtoull(text, &end, 10);
	if (errno || end == text || (*end && *end != '\n') || !*alignment) {
		snprintf(why, size, "%s holds no alignment", path);
		return false;
	}
	/* The shim creates its region files in the mount as this user. */
	if (statvfs(mount, &svfs) == 0 && (svfs.f_flag & ST_RDONLY)) {
		snprintf(why, size, "%s is mounted read-only", mount);
		return false;
	}
	if (faccessat(AT_FDCWD, mount, W_OK | X_OK, AT_EACCESS) < 0) {
		snprintf(why, size, "%s is not writable by uid %u: %s (see the mode= option of msharefs)",
			 mount, (unsigned)geteuid(), strerror(errno));
		return false;
	}
	result("ok", "%s is writable by uid %u", mount, (unsigned)geteuid());
	return true;
}

/* Is the program's file in a group of ours? */
static bool in_our_groups(gid_t gid)
{
	gid_t groups[256];
	int n = getgroups(256, groups);

	if (gid == getegid())
		return true;
	for (int i = 0; i < n; i++)
		if (groups[i] == gid)
			return true;
	return false;
}

/*
 * The executable the shim will see in /proc/self/exe: the program, or the
 * interpreter of a script.  Writes it to exe; false if not a readable file.
 */
static bool program_exe(const char *program, char *exe, size_t size)
{
	char head[PATH_MAX];
	int fd = open(program, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return false;
	n = read(fd, head, sizeof(head) - 1);
	close(fd);
	snprintf(exe, size, "%s", program);
	if (n > 2 && head[0] == '#' && head[1] == '!') {
		head[n] = '\0';
		char *p = head + 2 + strspn(head + 2, " \t");
		size_t len = strcspn(p, " \t\n");

		if (len) {
			p[len] = '\0';
			snprintf(exe, size, "%s", p);
		}
	}
	return true;
}

static void check_program(const struct shim_config *c, const char *program)
{
	struct stat st;
	char exe[PATH_MAX], real[PATH_MAX];

	if (!program[0]) {
		result("note", "no PROGRAM given: the executable selection and set-user-ID checks are skipped");
		return;
	}
	if (stat(program, &st) < 0) {
		result("note", "%s: not found: the executable selection and set-user-ID checks are skipped",
		       program);
		return;
	}
	/* ld.so ignores a preload path in a secure-execution program. */
	if ((st.st_mode & S_ISUID) && st.st_uid != geteuid()) {
		result("FAIL", "%s is set-user-ID: ld.so preloads only libraries from the standard directories that are themselves set-user-ID, so the shim will not be loaded (see libmshare-shim(7))",
		       program);
	} else if ((st.st_mode & S_ISGID) && !in_our_groups(st.st_gid)) {
		result("FAIL", "%s is set-group-ID: ld.so preloads only libraries from the standard directories that are themselves set-user-ID, so the shim will not be loaded (see libmshare-shim(7))",
		       program);
	} else {
		result("ok", "%s is not set-user-ID or set-group-ID", program);
	}
	if (!c->exe_list[0]) {
		result("ok", "every executable is selected (MSHARE_SHIM_EXE is unset)");
		return;
	}
	if (!program_exe(program, exe, sizeof(exe)))
		snprintf(exe, sizeof(exe), "%s", program);
	if (realpath(exe, real))
		snprintf(exe, sizeof(exe), "%s", real);
	const char *base = strrchr(exe, '/');

	base = base ? base + 1 : exe;
	if (shim_config_exe_selected(c, base))
		result("ok", "the executable %s is selected by MSHARE_SHIM_EXE=%s", base, c->exe_list);
	else
		result("note", "the executable %s is not in MSHARE_SHIM_EXE=%s: the shim acts only in the programs it runs that are",
		       base, c->exe_list);
}

static void describe_limit(rlim_t v, char *buf, size_t size)
{
	if (v == RLIM_INFINITY)
		snprintf(buf, size, "unlimited");
	else
		human((uint64_t)v, buf, size);
}

/* Each attachment reserves one alignment unit of address space. */
static void check_limits(uint64_t alignment)
{
	struct rlimit as, memlock;
	char h[32], a[32];

	human(alignment, a, sizeof(a));
	if (getrlimit(RLIMIT_AS, &as) == 0) {
		describe_limit(as.rlim_cur, h, sizeof(h));
		if (as.rlim_cur == RLIM_INFINITY)
			result("ok", "RLIMIT_AS (ulimit -v) is unlimited: each attachment takes %s of address space",
			       a);
		else if ((uint64_t)as.rlim_cur / alignment == 0)
			result("FAIL", "RLIMIT_AS (ulimit -v) is %s, less than one attachment (%s of address space): every attach would fail with ENOMEM",
			       h, a);
		else
			result("ok", "RLIMIT_AS (ulimit -v) is %s: room for at most %" PRIu64 " attachments of %s",
			       h, (uint64_t)as.rlim_cur / alignment, a);
	}
	if (getrlimit(RLIMIT_MEMLOCK, &memlock) == 0) {
		describe_limit(memlock.rlim_cur, h, sizeof(h));
		result("note", "RLIMIT_MEMLOCK (ulimit -l) is %s: attachments are not counted (mlock skips them); SHM_HUGETLB and SHM_LOCK segments count as without the shim",
		       h);
	}
}

/* kernel.shm_share_mmu: 0 or 1, or -1 when the kernel has no SHM_SHARE_MMU. */
static int kernel_share_mmu(void)
{
	FILE *f = fopen(SHM_SHARE_MMU_SYSCTL, "re");
	int value = -1;

	if (!f)
		return -1;
	if (fscanf(f, "%d", &value) != 1)
		value = -1;
	fclose(f);
	return value;
}

enum sysv_way {
	SYSV_BY_KERNEL,		/* shmat(SHM_SHARE_MMU): no mount needed */
	SYSV_BY_REGIONS,	/* the shim's msharefs regions */
	SYSV_UNSHARED,		/* neither: a FAIL */
};

/*
 * How configured SysV segments will share page tables, decided as the shim
 * decides (shim_plan_sysv_path()); describes it in how.
 */
static enum sysv_way check_sysv_path(const struct shim_config *c, char *how,
				     size_t size)
{
	int share_mmu = kernel_share_mmu();

	switch (shim_plan_sysv_path(c, share_mmu >= 0)) {
	case SHIM_SYSV_PATH_KERNEL:
		if (share_mmu == 1) {
			snprintf(how, size, "share page tables through the kernel");
			result("ok", "SysV segments: this kernel shares their page tables itself (shmat() with SHM_SHARE_MMU, kernel.shm_share_mmu = 1); they need no msharefs mount");
			return SYSV_BY_KERNEL;
		}
		snprintf(how, size, "pass through unshared: kernel.shm_share_mmu is 0");
		result("FAIL", "SysV segments: kernel.shm_share_mmu is 0, so the kernel shares no SysV page tables (sysctl -w kernel.shm_share_mmu=1)");
		return SYSV_UNSHARED;
	case SHIM_SYSV_PATH_NONE:
		snprintf(how, size, "pass through unshared: this kernel has no shmat(SHM_SHARE_MMU)");
		result("FAIL", "SysV segments: MSHARE_SHIM_SYSV=kernel, and this kernel has no shmat(SHM_SHARE_MMU) (no %s)",
		       SHM_SHARE_MMU_SYSCTL);
		return SYSV_UNSHARED;
	case SHIM_SYSV_PATH_REGIONS:
		break;
	}
	snprintf(how, size, "share page tables through msharefs regions");
	result("note", "SysV segments: through msharefs regions of the shim's own (%s)",
	       c->sysv_tables == SHIM_SYSV_REGIONS ? "MSHARE_SHIM_SYSV=regions" :
	       "this kernel has no shmat(SHM_SHARE_MMU)");
	return SYSV_BY_REGIONS;
}

/*
 * Without one SHM_SHARE_MMU_UNIT of address space left under RLIMIT_AS the
 * kernel attaches the segment plainly, unshared.
 */
static void check_share_mmu_limits(void)
{
	struct rlimit as;
	char h[32], u[32];

	human(SHM_SHARE_MMU_UNIT, u, sizeof(u));
	if (getrlimit(RLIMIT_AS, &as) < 0 || as.rlim_cur == RLIM_INFINITY)
		return;
	describe_limit(as.rlim_cur, h, sizeof(h));
	if ((uint64_t)as.rlim_cur < SHM_SHARE_MMU_UNIT)
		result("note", "RLIMIT_AS (ulimit -v) is %s, less than one shared attachment (%s of address space): the kernel will attach SysV segments plainly, unshared",
		       h, u);
	else
		result("ok", "RLIMIT_AS (ulimit -v) is %s: room for at most %" PRIu64 " shared attachments of %s",
		       h, (uint64_t)as.rlim_cur / (uint64_t)SHM_SHARE_MMU_UNIT, u);
}

static void usage(void)
{
	fprintf(stderr, "Usage: mshare-preflight [--check] [--quiet] [--options VAR,...] PROGRAM\n"
		"(called by mshare-run; see mshare-run(1))\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "check", no_argument, NULL, 'c' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "options", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	static struct shim_config config;
	struct env_view everything = { NULL };
	char *option_vars = NULL, what[2048], why[2 * PATH_MAX + 128], h[32];
	const char *file = getenv("MSHARE_SHIM_CONFIG");
	uint64_t alignment = 0;
	int c;

	while ((c = getopt_long(argc, argv, "+", options, NULL)) != -1) {
		switch (c) {
		case 'c': check_mode = true; break;
		case 'q': quiet = true; break;
		case 'o': option_vars = optarg; break;
		default: usage();
		}
	}
	if (optind + 1 != argc)
		usage();
	const char *program = argv[optind];

	if (option_vars)
		check_option_values(option_vars);
	shim_config_load(&config, view_getenv, &everything);

	describe(&config, what, sizeof(what));
	if (check_mode) {
		printf("configuration (as libmshare-shim reads it):\n");
		printf("  %-12s %s\n", "file", file && file[0] ? file : "none (MSHARE_SHIM_CONFIG unset)");
		printf("  %-12s %s\n", "mode", mode_name(config.mode));
		printf("  %-12s %s\n", "backs", what[0] ? what : "nothing");
		printf("  %-12s %s\n", "executables", config.exe_list[0] ? config.exe_list : "all");
		printf("  %-12s %s\n", "mount", config.mount);
		printf("checks:\n");
	}
	if (config.malformed && check_mode) {
		result("FAIL", "configuration: %s", config.error);
	} else if (config.malformed) {
		fprintf(stderr, "%s: configuration error: %s\n", prog, config.error);
		fprintf(stderr, "%s: the shim would %s; fix the configuration first\n", prog,
			config.mode == SHIM_MODE_STRICT ? "refuse every shmget() and shmat()" :
			"pass everything through");
		return 2;
	} else {
		result("ok", "the configuration is valid (read by the shim's own parser)");
	}
	if (config.mode == SHIM_MODE_OFF) {
		say("MSHARE_SHIM_MODE=off: the shim will change nothing");
		result("note", "MSHARE_SHIM_MODE=off: the shim will change nothing");
		return 0;
	}
	if (!what[0])
		result("note", "nothing is configured to be backed (no MSHARE_SHIM_SHM, _FILES or _ANON)");

	char sysv_how[128] = "";
	bool sysv = !shim_keylist_is_empty(&config.shm);
	bool needs_msharefs = !what[0] || config.files[0] || config.anon_set;

	if (sysv) {
		switch (check_sysv_path(&config, sysv_how, sizeof(sysv_how))) {
		case SYSV_BY_REGIONS:
			needs_msharefs = true;
			break;
		case SYSV_BY_KERNEL:
			check_share_mmu_limits();
			break;
		case SYSV_UNSHARED:
			break;
		}
	}

	bool usable = true;

	if (!needs_msharefs) {
		result("note", "msharefs at %s: not checked, nothing configured here needs it",
		       config.mount);
	} else {
		usable = msharefs_usable(config.mount, &alignment, why, sizeof(why));
		if (usable)
			check_limits(alignment);
		else if (check_mode)
			result("FAIL", "%s", why);
		else
			failures++;	/* said below, with what follows from it */
	}
	check_program(&config, program);

	if (check_mode) {
		if (failures)
			printf("%u check%s failed: strict mode would refuse\n", failures,
			       failures == 1 ? "" : "s");
		else
			printf("all checks passed\n");
		return failures ? 1 : 0;
	}

	char in_exe[SHIM_EXE_LIST_MAX + 16] = "";

	if (config.exe_list[0])
		snprintf(in_exe, sizeof(in_exe), " (only in: %s)", config.exe_list);
	if (!usable) {
		if (config.mode == SHIM_MODE_STRICT) {
			say("msharefs not available: %s: refusing to run in strict mode", why);
			return 1;
		}
		say("msharefs not available: %s: the shim will pass everything through (try mode)", why);
		return 0;
	}
	if (!needs_msharefs) {
		say("%s %s%s (%s mode): SysV segments %s", what,
		    failures ? "is configured" : "will be backed", in_exe,
		    mode_name(config.mode), sysv_how);
	} else if (!what[0]) {
		human(alignment, h, sizeof(h));
		say("msharefs at %s (alignment %s): nothing is configured to be backed (no --shm, --files, --anon or profile): the shim will pass everything through",
		    config.mount, h);
	} else {
		human(alignment, h, sizeof(h));
		say("msharefs at %s (alignment %s): %s will be backed%s (%s mode)%s%s",
		    config.mount, h, what, in_exe, mode_name(config.mode),
		    sysv_how[0] ? ": SysV segments " : "", sysv_how);
	}
	if (failures && config.mode == SHIM_MODE_STRICT) {
		say("a check failed (see mshare-run --check): refusing to run in strict mode");
		return 1;
	}
	return 0;
}
