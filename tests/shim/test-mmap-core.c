/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of the mmap part of the shim's pure core: the path glob
 * matcher, MSHARE_SHIM_FILES / MSHARE_SHIM_ANON parsing, which mmap() calls
 * are candidates, region names and checks, and the madvise rules.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "check-runner.h"
#include "core/config.h"
#include "core/mmap-plan.h"
#include "core/pathglob.h"
#include "fake-env.h"
#include "msharefs-uapi.h"

#define MiB (1ULL << 20)
#define GiB (1ULL << 30)

static struct shim_config config;

/* Loads the configuration from up to three NAME, VALUE pairs. */
static const char *load(const char *n1, const char *v1, const char *n2,
			const char *v2, const char *n3, const char *v3)
{
	struct fake_env env = { .count = 0 };
	const char *n[] = { n1, n2, n3 }, *v[] = { v1, v2, v3 };

	for (int i = 0; i < 3; i++) {
		if (!n[i])
			continue;
		env_set(&env, n[i], v[i]);
	}
	shim_config_load(&config, fake_getenv, &env);
	return config.malformed ? config.error : "";
}

#define assert_mentions(err, part) \
	ck_assert_msg(strstr((err), (part)) != NULL, "'%s' lacks '%s'", (err), (part))

static bool glob(const char *pattern, const char *path)
{
	return shim_glob_match(pattern, strlen(pattern), path);
}

START_TEST(glob_literals_and_wildcards)
{
	ck_assert(glob("/dev/shm/x", "/dev/shm/x"));
	ck_assert(!glob("/dev/shm/x", "/dev/shm/xy"));
	ck_assert(!glob("/dev/shm/xy", "/dev/shm/x"));
	ck_assert(glob("/dev/shm/*", "/dev/shm/PostgreSQL.123"));
	ck_assert(glob("/dev/shm/*", "/dev/shm/"));
	ck_assert(!glob("/dev/shm/*", "/dev/shm/sub/file"));	/* '*' stops at '/' */
	ck_assert(glob("/dev/shm/*/*", "/dev/shm/sub/file"));
	ck_assert(glob("/dev/shm/ora_*_*_[0-9]", "/dev/shm/ora_ORCL_65538_7"));
	ck_assert(!glob("/dev/shm/ora_*_*_[0-9]", "/dev/shm/ora_ORCL_65538_x"));
	ck_assert(glob("/dev/shm/PostgreSQL.*", "/dev/shm/PostgreSQL.1804289383"));
	ck_assert(glob("*", "abc"));
	ck_assert(glob("**", ""));
	ck_assert(glob("a*b*c", "aXXbYYc"));
	ck_assert(glob("a*b*c", "abbbc"));
	ck_assert(!glob("a*b*c", "abbbd"));
	ck_assert(glob("a*c", "ac"));
	ck_assert(glob("/x/?", "/x/a"));
	ck_assert(!glob("/x/?", "/x/"));
	ck_assert(!glob("/x?y", "/x/y"));			/* '?' is never '/' */
	ck_assert(glob("*.mdb", "data.mdb"));
	ck_assert(!glob("*.mdb", "dir/data.mdb"));
	/* Many stars against a long mismatch stay fast (no exponential blowup). */
	ck_assert(!glob("*a*a*a*a*a*a*a*a*a*a*a*b",
			"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
}
END_TEST

START_TEST(glob_sets_and_escapes)
{
	ck_assert(glob("[abc]", "b"));
	ck_assert(!glob("[abc]", "d"));
	ck_assert(glob("[!abc]", "d"));
	ck_assert(glob("[^abc]", "d"));
	ck_assert(!glob("[!abc]", "a"));
	ck_assert(glob("[a-c]x", "bx"));
	ck_assert(!glob("[a-c]x", "dx"));
	ck_assert(glob("[]]", "]"));
	ck_assert(glob("[!]]", "a"));
	ck_assert(!glob("[!]]", "]"));
	ck_assert(glob("[a-]", "-"));
	ck_assert(!glob("/a[/]b", "/a/b"));	/* a set never matches '/' */
	ck_assert(!glob("/a[!x]b", "/a/b"));
	ck_assert(glob("\\*", "*"));
	ck_assert(!glob("\\*", "a"));
	ck_assert(glob("[\\]]", "]"));
	ck_assert(glob("a[", "a["));		/* unterminated: literal */
	/* Pattern lengths are honoured: "/a" of "/a:/b". */
	ck_assert(shim_glob_match("/a:/b", 2, "/a"));
	ck_assert(!shim_glob_match("/a:/b", 2, "/a:/b"));
}
END_TEST

START_TEST(glob_lists)
{
	ck_assert(shim_glob_list_match("/dev/shm/ora_*:/srv/db/*.mdb", "/srv/db/data.mdb"));
	ck_assert(shim_glob_list_match("/dev/shm/ora_*:/srv/db/*.mdb", "/dev/shm/ora_X"));
	ck_assert(!shim_glob_list_match("/dev/shm/ora_*:/srv/db/*.mdb", "/srv/db/lock"));
	ck_assert(!shim_glob_list_match("", "/x"));
}
END_TEST

START_TEST(glob_check)
{
	char why[160];

	ck_assert(shim_glob_check("/dev/shm/*", 10, why, sizeof(why)));
	ck_assert(!shim_glob_check("", 0, why, sizeof(why)));
	assert_mentions(why, "empty");
	ck_assert(!shim_glob_check("dev/shm/*", 9, why, sizeof(why)));
	assert_mentions(why, "not absolute");
	ck_assert(!shim_glob_check("/dev/[ab", 8, why, sizeof(why)));
	assert_mentions(why, "'[' without ']'");
	ck_assert(!shim_glob_check("/dev/x\\", 7, why, sizeof(why)));
	assert_mentions(why, "lone '\\'");
	ck_assert(shim_glob_check("/a/\\[", 5, why, sizeof(why)));
}
END_TEST

START_TEST(config_files_and_anon)
{
	ck_assert_str_eq(load(NULL, NULL, NULL, NULL, NULL, NULL), "");
	ck_assert_str_eq(config.files, "");
	ck_assert(!config.anon_set);

	ck_assert_str_eq(load("MSHARE_SHIM_FILES", "/dev/shm/ora_*:/srv/*.mdb",
			      "MSHARE_SHIM_ANON", "1G", NULL, NULL), "");
	ck_assert_str_eq(config.files, "/dev/shm/ora_*:/srv/*.mdb");
	ck_assert(config.anon_set);
	ck_assert_uint_eq(config.anon_min, GiB);

	/* Empty counts as unset, as for every variable. */
	ck_assert_str_eq(load("MSHARE_SHIM_ANON", "", "MSHARE_SHIM_FILES", "",
			      NULL, NULL), "");
	ck_assert(!config.anon_set);
	ck_assert_str_eq(config.files, "");
}
END_TEST

START_TEST(config_files_and_anon_malformed)
{
	const char *err;

	err = load("MSHARE_SHIM_FILES", "/a::/b", NULL, NULL, NULL, NULL);
	assert_mentions(err, "MSHARE_SHIM_FILES");
	assert_mentions(err, "pattern 2 '' is empty");
	ck_assert_str_eq(config.files, "");
	err = load("MSHARE_SHIM_FILES", "/a:", NULL, NULL, NULL, NULL);
	assert_mentions(err, "pattern 2 '' is empty");
	err = load("MSHARE_SHIM_FILES", ":/a", NULL, NULL, NULL, NULL);
	assert_mentions(err, "pattern 1 '' is empty");
	err = load("MSHARE_SHIM_FILES", "/dev/shm/*:ora_*", NULL, NULL, NULL, NULL);
	assert_mentions(err, "pattern 2 'ora_*' is not absolute");
	err = load("MSHARE_SHIM_FILES", "/dev/shm/[ab", NULL, NULL, NULL, NULL);
	assert_mentions(err, "pattern 1 '/dev/shm/[ab' has a '[' without ']'");
	err = load("MSHARE_SHIM_FILES", "/dev/shm/x\\", NULL, NULL, NULL, NULL);
	assert_mentions(err, "lone");

	char big[SHIM_FILES_MAX + 8];

	memset(big, 'a', sizeof(big) - 1);
	big[0] = '/';
	big[sizeof(big) - 1] = '\0';
	err = load("MSHARE_SHIM_FILES", big, NULL, NULL, NULL, NULL);
	ck_assert(config.malformed);	/* the message is cut: the value is long */
	assert_mentions(err, "MSHARE_SHIM_FILES");
	ck_assert_str_eq(config.files, "");

	err = load("MSHARE_SHIM_ANON", "lots", NULL, NULL, NULL, NULL);
	assert_mentions(err, "MSHARE_SHIM_ANON");
	assert_mentions(err, "not a number");
	ck_assert(!config.anon_set);
	err = load("MSHARE_SHIM_ANON", "64MB", NULL, NULL, NULL, NULL);
	assert_mentions(err, "bad suffix 'MB'");
	err = load("MSHARE_SHIM_ANON", "-1", NULL, NULL, NULL, NULL);
	assert_mentions(err, "MSHARE_SHIM_ANON");
	err = load("MSHARE_SHIM_ANON", "99999999999G", NULL, NULL, NULL, NULL);
	assert_mentions(err, "too large");
	/* 0 reads like "off" but would back every size. */
	err = load("MSHARE_SHIM_ANON", "0", NULL, NULL, NULL, NULL);
	assert_mentions(err, "MSHARE_SHIM_ANON='0'");
	assert_mentions(err, "unset it to back none");
	ck_assert(!config.anon_set);
}
END_TEST

START_TEST(armed_rules)
{
	load(NULL, NULL, NULL, NULL, NULL, NULL);
	ck_assert(!shim_mmap_armed(&config, true));
	load("MSHARE_SHIM_FILES", "/dev/shm/*", NULL, NULL, NULL, NULL);
	ck_assert(shim_mmap_armed(&config, true));
	ck_assert(!shim_mmap_armed(&config, false));	/* EXE not selected */
	load("MSHARE_SHIM_ANON", "1G", NULL, NULL, NULL, NULL);
	ck_assert(shim_mmap_armed(&config, true));
	load("MSHARE_SHIM_ANON", "1G", "MSHARE_SHIM_MODE", "off", NULL, NULL);
	ck_assert(!shim_mmap_armed(&config, true));
	/* Malformed: try passes through, strict must look (it refuses). */
	load("MSHARE_SHIM_FILES", "bad", NULL, NULL, NULL, NULL);
	ck_assert(!shim_mmap_armed(&config, true));
	load("MSHARE_SHIM_FILES", "bad", "MSHARE_SHIM_MODE", "strict", NULL, NULL);
	ck_assert(shim_mmap_armed(&config, true));
}
END_TEST

START_TEST(screen_rules)
{
	size_t big = 256 * MiB;

	load("MSHARE_SHIM_FILES", "/dev/shm/*", "MSHARE_SHIM_ANON", "128M",
	     NULL, NULL);
	ck_assert_int_eq(shim_mmap_screen(&config, big, PROT_READ | PROT_WRITE,
					  MAP_SHARED), SHIM_MMAP_FILE);
	ck_assert_int_eq(shim_mmap_screen(&config, big, PROT_READ,
					  MAP_SHARED_VALIDATE), SHIM_MMAP_FILE);
	ck_assert_int_eq(shim_mmap_screen(&config, big, PROT_READ,
					  MAP_SHARED | MAP_POPULATE | MAP_NORESERVE),
			 SHIM_MMAP_FILE);
	ck_assert_int_eq(shim_mmap_screen(&config, big, PROT_READ | PROT_WRITE,
					  MAP_SHARED | MAP_ANONYMOUS), SHIM_MMAP_ANON);
	ck_assert_int_eq(shim_mmap_screen(&config, big, PROT_READ | PROT_WRITE,
					  MAP_SHARED | MAP_ANONYMOUS | MAP_HUGETLB |
					  (21 << MAP_HUGE_SHIFT)), SHIM_MMAP_ANON);
	/* Private, fixed, locked, odd protections, small: the plain call. */
	ck_assert_int_eq(shim_mmap_screen(&config, big, PROT_READ, MAP_PRIVATE),
			 SHIM_MMAP_PASS);
	ck_assert_int_eq(shim_mmap_screen(&config, big, PROT_READ,
					  MAP_PRIVATE | MAP_ANONYMOUS), SHIM_MMAP_PASS);
	ck_assert_int_eq(shim_mmap_screen(&config, big, PROT_READ,
					  MAP_SHARED | MAP_FIXED), SHIM_MMAP_PASS);
	ck_assert_int_eq(shim_mmap_screen(&config, big, PROT_READ,
					  MAP_SHARED | MAP_FIXED_NOREPLACE), SHIM_MMAP_PASS);
	ck_assert_int_eq(shim_mmap_screen(&config, big, PROT_READ,
					  MAP_SHARED | MAP_LOCKED), SHIM_MMAP_PASS);
	ck_assert_int_eq(shim_mmap_screen(&config, big, PROT_READ,
					  MAP_SHARED | MAP_HUGETLB), SHIM_MMAP_PASS);
	ck_assert_int_eq(shim_mmap_screen(&config, big, PROT_NONE, MAP_SHARED),
			 SHIM_MMAP_PASS);
	ck_assert_int_eq(shim_mmap_screen(&config, big, PROT_READ | 0x8 /* PROT_SEM */,
					  MAP_SHARED), SHIM_MMAP_PASS);
	ck_assert_int_eq(shim_mmap_screen(&config, 32 * MiB, PROT_READ, MAP_SHARED),
			 SHIM_MMAP_PASS);		/* below MIN_SIZE (64M) */
	ck_assert_int_eq(shim_mmap_screen(&config, 100 * MiB, PROT_READ,
					  MAP_SHARED | MAP_ANONYMOUS), SHIM_MMAP_PASS);
	ck_assert_int_eq(shim_mmap_screen(&config, 128 * MiB, PROT_READ,
					  MAP_SHARED | MAP_ANONYMOUS), SHIM_MMAP_ANON);
	/* MIN_SIZE applies to anonymous memory too. */
	load("MSHARE_SHIM_ANON", "1M", NULL, NULL, NULL, NULL);
	ck_assert_int_eq(shim_mmap_screen(&config, 32 * MiB, PROT_READ,
					  MAP_SHARED | MAP_ANONYMOUS), SHIM_MMAP_PASS);
	/* Only anonymous configured: files pass. */
	ck_assert_int_eq(shim_mmap_screen(&config, big, PROT_READ, MAP_SHARED),
			 SHIM_MMAP_PASS);
	/* Only files configured: anonymous passes. */
	load("MSHARE_SHIM_FILES", "/x", NULL, NULL, NULL, NULL);
	ck_assert_int_eq(shim_mmap_screen(&config, big, PROT_READ,
					  MAP_SHARED | MAP_ANONYMOUS), SHIM_MMAP_PASS);
	/* Strict with a malformed configuration refuses large shared maps. */
	load("MSHARE_SHIM_FILES", "x", "MSHARE_SHIM_MODE", "strict", NULL, NULL);
	ck_assert_int_eq(shim_mmap_screen(&config, big, PROT_READ, MAP_SHARED),
			 SHIM_MMAP_REFUSE);
	ck_assert_int_eq(shim_mmap_screen(&config, 4096, PROT_READ, MAP_SHARED),
			 SHIM_MMAP_PASS);
	ck_assert_int_eq(shim_mmap_screen(&config, big, PROT_READ, MAP_PRIVATE),
			 SHIM_MMAP_PASS);
}
END_TEST

START_TEST(file_rules)
{
	char why[256];
	struct shim_mmap_file f = {
		.path = "/dev/shm/ora_X_1_0", .regular = true, .deleted = false,
		.file_size = 256 * MiB, .access_mode = O_RDWR,
	};
	size_t len = 256 * MiB;

	load("MSHARE_SHIM_FILES", "/dev/shm/ora_*", NULL, NULL, NULL, NULL);
	ck_assert(shim_mmap_file_ok(&config, &f, 0, len, PROT_READ | PROT_WRITE,
				    why, sizeof(why)));
	ck_assert(shim_mmap_file_ok(&config, &f, 128 * MiB, 128 * MiB, PROT_READ,
				    why, sizeof(why)));
	/* Beyond EOF (LMDB does this): SIGBUS semantics, so pass through. */
	ck_assert(!shim_mmap_file_ok(&config, &f, 4096, len, PROT_READ, why,
				     sizeof(why)));
	assert_mentions(why, "beyond the end");
	ck_assert(!shim_mmap_file_ok(&config, &f, 512 * MiB, 1, PROT_READ, why,
				     sizeof(why)));
	/* A partial last page inside the file is fine. */
	f.file_size = 256 * MiB - 100;
	ck_assert(shim_mmap_file_ok(&config, &f, 0, 256 * MiB - 100, PROT_READ,
				    why, sizeof(why)));
	f.file_size = 256 * MiB;
	/* Access the kernel would refuse: it refuses it itself. */
	f.access_mode = O_RDONLY;
	ck_assert(shim_mmap_file_ok(&config, &f, 0, len, PROT_READ, why, sizeof(why)));
	ck_assert(!shim_mmap_file_ok(&config, &f, 0, len, PROT_READ | PROT_WRITE,
				     why, sizeof(why)));
	assert_mentions(why, "not open for the access");
	f.access_mode = O_WRONLY;
	ck_assert(!shim_mmap_file_ok(&config, &f, 0, len, PROT_READ, why, sizeof(why)));
	f.access_mode = O_RDWR;
	f.deleted = true;
	ck_assert(!shim_mmap_file_ok(&config, &f, 0, len, PROT_READ, why, sizeof(why)));
	assert_mentions(why, "deleted");
	f.deleted = false;
	f.regular = false;
	ck_assert(!shim_mmap_file_ok(&config, &f, 0, len, PROT_READ, why, sizeof(why)));
	assert_mentions(why, "not a regular file");
	f.regular = true;
	/* The kernel's own errors (EINVAL, EPERM) stay the kernel's. */
	f.page_size = 4096;
	ck_assert(!shim_mmap_file_ok(&config, &f, 100, MiB, PROT_READ, why, sizeof(why)));
	assert_mentions(why, "not page-aligned");
	ck_assert(shim_mmap_file_ok(&config, &f, 4096, MiB, PROT_READ, why, sizeof(why)));
	f.noexec = true;
	ck_assert(!shim_mmap_file_ok(&config, &f, 0, len, PROT_READ | PROT_EXEC, why,
				     sizeof(why)));
	assert_mentions(why, "noexec");
	ck_assert(shim_mmap_file_ok(&config, &f, 0, len, PROT_READ, why, sizeof(why)));
	f.noexec = false;
	f.path = "/dev/shm/PostgreSQL.1";
	ck_assert(!shim_mmap_file_ok(&config, &f, 0, len, PROT_READ, why, sizeof(why)));
	assert_mentions(why, "not in MSHARE_SHIM_FILES");
}
END_TEST

START_TEST(region_names)
{
	char name[SHIM_MMAP_NAME_MAX];
	struct shim_file_range r = {
		.dev = 0x2b, .ino = 1234, .offset = 0x10000, .len = 0x10000000,
		.euid = 65534, .prot = PROT_READ | PROT_WRITE,
	}, back;
	pid_t pid;

	shim_file_region_name(name, sizeof(name), &r);
	ck_assert_str_eq(name, "file.2b.1234.10000.10000000.65534.3");
	ck_assert(shim_file_region_name_parse(name, &back));
	ck_assert(memcmp(&r, &back, sizeof(r)) == 0 ||
		  (back.dev == r.dev && back.ino == r.ino && back.offset == r.offset &&
		   back.len == r.len && back.euid == r.euid && back.prot == r.prot));
	ck_assert(!shim_file_region_name_parse("file.2b.1234.10000.10000000.65534", &back));
	ck_assert(!shim_file_region_name_parse("file.2b.1234.10000.10000000.65534.3.1", &back));
	ck_assert(!shim_file_region_name_parse("file.2B.1234.10000.10000000.65534.3", &back));
	ck_assert(!shim_file_region_name_parse("file.2b.12a4.10000.10000000.65534.3", &back));
	ck_assert(!shim_file_region_name_parse("file.2b..10000.10000000.65534.3", &back));
	ck_assert(!shim_file_region_name_parse("file.2b.1.0.1.99999999999.3", &back));
	ck_assert(!shim_file_region_name_parse("file.2b.1.0.1.0.8", &back));
	ck_assert(!shim_file_region_name_parse("sysv.5432001.1.1", &back));

	shim_mmap_temp_name(name, sizeof(name), 4242, 7);
	ck_assert_str_eq(name, ".mmap.4242.7");
	ck_assert(shim_mmap_temp_name_parse(name, &pid));
	ck_assert_int_eq(pid, 4242);
	ck_assert(!shim_mmap_temp_name_parse(".mmap.0.7", &pid));
	ck_assert(!shim_mmap_temp_name_parse(".mmap.12", &pid));
	ck_assert(!shim_mmap_temp_name_parse(".creating.5432001.12", &pid));
}
END_TEST

START_TEST(region_checks)
{
	char why[128];
	uint64_t size = 512 * GiB;
	struct shim_region_observation ok = {
		.fs_type = MSHARE_MAGIC, .st_mode = S_IFREG | 0600,
		.st_uid = 1000, .st_size = size,
	}, bad;

	ck_assert(shim_mmap_region_check(&ok, 1000, size, why, sizeof(why)));
	bad = ok; bad.fs_type = 0x01021994;
	ck_assert(!shim_mmap_region_check(&bad, 1000, size, why, sizeof(why)));
	assert_mentions(why, "not on msharefs");
	bad = ok; bad.st_mode = S_IFIFO | 0600;
	ck_assert(!shim_mmap_region_check(&bad, 1000, size, why, sizeof(why)));
	assert_mentions(why, "not a regular file");
	bad = ok; bad.st_uid = 0;
	ck_assert(!shim_mmap_region_check(&bad, 1000, size, why, sizeof(why)));
	assert_mentions(why, "owned by uid 0");
	bad = ok; bad.st_mode = S_IFREG | 0644;
	ck_assert(!shim_mmap_region_check(&bad, 1000, size, why, sizeof(why)));
	assert_mentions(why, "mode 0644");
	bad = ok; bad.st_size = 2 * size;
	ck_assert(!shim_mmap_region_check(&bad, 1000, size, why, sizeof(why)));
	assert_mentions(why, "size");
}
END_TEST

START_TEST(madvise_rules)
{
	static const int hints[] = {
		MADV_NORMAL, MADV_RANDOM, MADV_SEQUENTIAL, MADV_WILLNEED,
		MADV_DONTNEED, MADV_DONTDUMP, MADV_DODUMP, MADV_HUGEPAGE,
		MADV_NOHUGEPAGE,
	};

	for (unsigned i = 0; i < sizeof(hints) / sizeof(hints[0]); i++)
		for (int w = 0; w < 2; w++)
			for (int f = 0; f < 2; f++)
				ck_assert_int_eq(shim_madvise_rule(hints[i], w, f),
						 SHIM_MADV_SUCCEED);
	ck_assert_int_eq(shim_madvise_rule(MADV_DONTFORK, true, true), SHIM_MADV_WHOLE);
	ck_assert_int_eq(shim_madvise_rule(MADV_DOFORK, true, false), SHIM_MADV_WHOLE);
	ck_assert_int_eq(shim_madvise_rule(MADV_DONTFORK, false, true), SHIM_MADV_EINVAL);
	ck_assert_int_eq(shim_madvise_rule(MADV_POPULATE_READ, false, true),
			 SHIM_MADV_KERNEL);
	ck_assert_int_eq(shim_madvise_rule(MADV_POPULATE_WRITE, true, false),
			 SHIM_MADV_KERNEL);
	ck_assert_int_eq(shim_madvise_rule(MADV_REMOVE, false, true), SHIM_MADV_PUNCH);
	ck_assert_int_eq(shim_madvise_rule(MADV_REMOVE, true, false), SHIM_MADV_EINVAL);
	ck_assert_int_eq(shim_madvise_rule(MADV_FREE, true, true), SHIM_MADV_EINVAL);
	ck_assert_int_eq(shim_madvise_rule(MADV_WIPEONFORK, true, false), SHIM_MADV_EINVAL);
	ck_assert_int_eq(shim_madvise_rule(12345, true, true), SHIM_MADV_EINVAL);
	/* What the kernel does on a shared mapping: nothing to clear. */
	ck_assert_int_eq(shim_madvise_rule(MADV_KEEPONFORK, false, true), SHIM_MADV_SUCCEED);
	ck_assert_int_eq(shim_madvise_rule(MADV_KEEPONFORK, true, false), SHIM_MADV_SUCCEED);
}
END_TEST

START_TEST(mremap_unmapped)
{
	const size_t page = 4096;
	const uintptr_t at = 0x7f0000000000;

	ck_assert_int_eq(shim_mremap_unmapped_errno(at, page, 2 * page, 0, page), EFAULT);
	ck_assert_int_eq(shim_mremap_unmapped_errno(at, page, 2 * page,
						    MREMAP_MAYMOVE, page), EFAULT);
	ck_assert_int_eq(shim_mremap_unmapped_errno(at, 0, page, MREMAP_MAYMOVE,
						    page), EFAULT);
	/* The kernel's argument checks come first. */
	ck_assert_int_eq(shim_mremap_unmapped_errno(at, page, page, 0x80, page), EINVAL);
	ck_assert_int_eq(shim_mremap_unmapped_errno(at, page, page, MREMAP_FIXED,
						    page), EINVAL);
	ck_assert_int_eq(shim_mremap_unmapped_errno(at, page, 2 * page,
						    MREMAP_MAYMOVE | 4 /* DONTUNMAP */,
						    page), EINVAL);
	ck_assert_int_eq(shim_mremap_unmapped_errno(at, page, page,
						    MREMAP_MAYMOVE | 4, page), EFAULT);
	ck_assert_int_eq(shim_mremap_unmapped_errno(at + 1, page, page, 0, page), EINVAL);
	ck_assert_int_eq(shim_mremap_unmapped_errno(at, page, 0, 0, page), EINVAL);
	ck_assert_int_eq(shim_mremap_unmapped_errno(at, page, SIZE_MAX, 0, page), EINVAL);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("shim-mmap-core");
	TCase *tc = tcase_create("glob");

	tcase_add_test(tc, glob_literals_and_wildcards);
	tcase_add_test(tc, glob_sets_and_escapes);
	tcase_add_test(tc, glob_lists);
	tcase_add_test(tc, glob_check);
	suite_add_tcase(s, tc);

	tc = tcase_create("config");
	tcase_add_test(tc, config_files_and_anon);
	tcase_add_test(tc, config_files_and_anon_malformed);
	suite_add_tcase(s, tc);

	tc = tcase_create("plan");
	tcase_add_test(tc, armed_rules);
	tcase_add_test(tc, screen_rules);
	tcase_add_test(tc, file_rules);
	tcase_add_test(tc, region_names);
	tcase_add_test(tc, region_checks);
	tcase_add_test(tc, madvise_rules);
	tcase_add_test(tc, mremap_unmapped);
	suite_add_tcase(s, tc);

	return check_run_tap(s, "test-mmap-core");
}
