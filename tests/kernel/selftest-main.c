/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * msharefs-selftest: checks a kernel's msharefs against kernel/UAPI.md.
 *
 * Prints TAP on stdout (Check's srunner_set_tap) and Check's summary on
 * stderr; exits 0 only if no test failed.  Without an msharefs at
 * $MSHARE_MOUNT (default /sys/fs/mshare) every test is reported as
 * "ok N - ... # SKIP reason" and the exit status is 0: a host without the
 * patched kernel must skip, never pass.
 *
 *   msharefs-selftest           run everything
 *   msharefs-selftest --list    print the test names
 *   CK_RUN_CASE=GROUP           run one group (Check's own filter)
 */
#include "selftest.h"

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_TESTS 256

static struct {
	const struct selftest_group *group;
	const TTest *test;
} registry[MAX_TESTS];
static int registry_len;

void selftest_add(const struct selftest_group *group, const TTest *test)
{
	if (registry_len == MAX_TESTS) {
		fprintf(stderr, "msharefs-selftest: raise MAX_TESTS\n");
		exit(2);
	}
	registry[registry_len].group = group;
	registry[registry_len].test = test;
	registry_len++;
}

static void register_all(void)
{
	register_info_tests();
	register_generation_tests();
	register_fs_tests();
	register_size_tests();
	register_ioctl_tests();
	register_attach_tests();
	register_data_tests();
	register_lifetime_tests();
	register_perm_tests();
	register_concurrency_tests();
	register_ptflat_tests();
	register_rights_tests();
	register_secondary_tests();
	register_killable_tests();
	register_numa_tests();
	register_fault_tests();
	register_cgroup_tests();
	register_sysv_tests();
	register_sysv_plain_tests();
	/* Last: on a kernel with the hugetlb bug they leave a region locked. */
	register_safety_tests();
}

/*
 * Runs in the runner after each test case: removes regions that a failed or
 * timed-out test could not unlink itself, so later tests and runs start
 * clean.
 */
static void sweep_leftover_regions(void)
{
	char prefix[64], path[ST_PATH_MAX];
	struct dirent *de;
	DIR *dir = opendir(mshare_mount());

	if (!dir)
		return;
	snprintf(prefix, sizeof(prefix), "st-%ld-", (long)st_runner_pid);
	while ((de = readdir(dir)) != NULL) {
		if (strncmp(de->d_name, prefix, strlen(prefix)) != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", mshare_mount(),
			 de->d_name);
		if (remove(path) == 0)
			fprintf(stderr, "# removed leftover region %s\n", path);
	}
	closedir(dir);
}

static int remove_entry(const char *path, const struct stat *st, int flag,
			struct FTW *ftw)
{
	remove(path);	/* best effort: a leftover file must not stop the walk */
	return 0;
}

/*
 * The reason test NAME gave st_skip(), copied into WHY; false if it ran in
 * full.  A test that skipped any part is reported as skipped, not passed.
 */
static bool skipped_reason(const char *name, char *why, size_t len)
{
	char path[ST_PATH_MAX], line[512];
	size_t name_len = strlen(name);
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", st_tmpdir(), ST_SKIP_LOG);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		/* "SKIP <name>: <reason>" */
		if (strncmp(line, "SKIP ", 5) != 0 ||
		    strncmp(line + 5, name, name_len) != 0 ||
		    strncmp(line + 5 + name_len, ": ", 2) != 0)
			continue;
		line[strcspn(line, "\n")] = '\0';
		snprintf(why, len, "%s", line + 5 + name_len + 2);
		found = true;
	}
	fclose(f);
	return found;
}

/*
 * Copies Check's TAP (TAP_PATH) to stdout, turning the "ok" of each test
 * that called st_skip() into "ok ... # SKIP reason".
 */
static void print_tap(const char *tap_path)
{
	char line[2048], needle[256], why[512];
	FILE *f = fopen(tap_path, "re");

	if (!f) {
		printf("Bail out! no TAP from Check at %s: %s\n", tap_path,
		       strerror(errno));
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		bool marked = false;

		line[strcspn(line, "\n")] = '\0';
		for (int i = 0; !marked && i < registry_len; i++) {
			const char *name = registry[i].test->name;

			snprintf(needle, sizeof(needle), ":%s:", name);
			if (strncmp(line, "ok ", 3) != 0 ||
			    !strstr(line, needle) ||
			    !skipped_reason(name, why, sizeof(why)))
				continue;
			printf("%s # SKIP %s\n", line, why);
			marked = true;
		}
		if (!marked)
			printf("%s\n", line);
	}
	fclose(f);
	fflush(stdout);
}

static void print_skips(const char *why)
{
	int i;

	for (i = 0; i < registry_len; i++)
		printf("ok %d - %s:%s # SKIP %s\n", i + 1,
		       registry[i].group->name, registry[i].test->name, why);
	printf("1..%d\n", registry_len);
	fflush(stdout);
	fprintf(stderr, "msharefs-selftest: %d tests skipped: %s\n",
		registry_len, why);
}

static Suite *build_suite(void)
{
	Suite *suite = suite_create("msharefs");
	const struct selftest_group *group = NULL;
	TCase *tc = NULL;
	int i;

	for (i = 0; i < registry_len; i++) {
		if (registry[i].group != group) {
			/* registration keeps a group's tests together */
			group = registry[i].group;
			tc = tcase_create(group->name);
			tcase_set_timeout(tc, group->timeout_s);
			tcase_add_unchecked_fixture(tc, NULL,
						    sweep_leftover_regions);
			suite_add_tcase(suite, tc);
		}
		tcase_add_test(tc, registry[i].test);
	}
	return suite;
}

/* Check's own summary ("100%: Checks: 3, Failures: 0, Errors: 0"), on stderr. */
static void print_summary(SRunner *sr)
{
	int run = srunner_ntests_run(sr), failures = 0, errors = 0, i;
	TestResult **results = srunner_results(sr);

	for (i = 0; i < run; i++) {
		if (tr_rtype(results[i]) == CK_FAILURE)
			failures++;
		else if (tr_rtype(results[i]) == CK_ERROR)
			errors++;
	}
	free(results);
	fprintf(stderr, "%d%%: Checks: %d, Failures: %d, Errors: %d\n",
		run ? 100 * (run - failures - errors) / run : 100, run,
		failures, errors);
}

int main(int argc, char **argv)
{
	char why[512], tap_path[ST_PATH_MAX];
	SRunner *sr;
	int failed;

	st_runner_pid = getpid();
	register_all();

	if (argc > 1 && strcmp(argv[1], "--list") == 0) {
		for (int i = 0; i < registry_len; i++)
			printf("%s:%s\n", registry[i].group->name,
			       registry[i].test->name);
		return 0;
	}
	if (argc > 1) {
		fprintf(stderr, "usage: %s [--list]\n", argv[0]);
		return 2;
	}

	if (mshare_check_mount(mshare_mount(), why, sizeof(why)) != 0) {
		print_skips(why);
		return 0;
	}

	if (mkdir(st_tmpdir(), 0700) != 0) {
		fprintf(stderr, "msharefs-selftest: mkdir %s: %s\n",
			st_tmpdir(), strerror(errno));
		return 2;
	}
	fprintf(stderr, "# msharefs at %s, scratch files in %s, uid %ld\n",
		mshare_mount(), st_tmpdir(), (long)geteuid());

	snprintf(tap_path, sizeof(tap_path), "%s/check.tap", st_tmpdir());
	sr = srunner_create(build_suite());
	srunner_set_tap(sr, tap_path);
	srunner_run_all(sr, CK_SILENT);
	print_tap(tap_path);
	print_summary(sr);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);

	nftw(st_tmpdir(), remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
