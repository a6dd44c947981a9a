/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of the shim's pure core: configuration, key lists, sizes,
 * planning, region names and region validation.  No LD_PRELOAD, no msharefs.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check-runner.h"
#include "core/config.h"
#include "core/errtext.h"
#include "core/keymatch.h"
#include "core/log-target.h"
#include "core/plan.h"
#include "core/size.h"
#include "core/textfmt.h"
#include "fake-env.h"
#include "msharefs-uapi.h"

#define GiB (1ULL << 30)
#define ALIGN_512G (512ULL * GiB)

static struct shim_config config;

/* Loads a configuration from one variable; returns the error or "". */
static const char *load_one(const char *name, const char *value)
{
	struct fake_env env = { .count = 0 };

	env_set(&env, name, value);
	shim_config_load(&config, fake_getenv, &env);
	return config.malformed ? config.error : "";
}

static char config_path[64];

static void write_config_file(const char *text)
{
	strcpy(config_path, "/tmp/test-core-config.XXXXXX");
	int fd = mkstemp(config_path);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

#define assert_error_mentions(err, ...) do {				\
	const char *parts_[] = { __VA_ARGS__ };				\
	ck_assert_msg((err)[0] != '\0', "expected an error");		\
	for (size_t i_ = 0; i_ < sizeof(parts_) / sizeof(parts_[0]); i_++) \
		ck_assert_msg(strstr((err), parts_[i_]) != NULL,	\
			      "error '%s' does not mention '%s'", (err), parts_[i_]); \
} while (0)

/* ---- config ---------------------------------------------------------- */

START_TEST(config_defaults)
{
	struct fake_env env = { .count = 0 };

	shim_config_load(&config, fake_getenv, &env);
	ck_assert(!config.malformed);
	ck_assert_int_eq(config.mode, SHIM_MODE_TRY);
	ck_assert_int_eq(config.log_level, SHIM_LOG_WARN);
	ck_assert_uint_eq(config.min_size, 64ULL << 20);
	ck_assert_str_eq(config.mount, "/sys/fs/mshare");
	ck_assert_str_eq(config.log_file, "");
	ck_assert_int_eq(config.sysv_tables, SHIM_SYSV_AUTO);
	ck_assert(shim_keylist_is_empty(&config.shm));
	ck_assert(shim_config_exe_selected(&config, "anything"));
}
END_TEST

START_TEST(config_all_variables)
{
	struct fake_env env = { .count = 0 };

	env_set(&env, "MSHARE_SHIM_MODE", "strict");
	env_set(&env, "MSHARE_SHIM_LOG", "debug");
	env_set(&env, "MSHARE_SHIM_LOG_FILE", "/tmp/x.log");
	env_set(&env, "MSHARE_SHIM_SHM", "0x10,20-30,private");
	env_set(&env, "MSHARE_SHIM_MIN_SIZE", "1G");
	env_set(&env, "MSHARE_SHIM_EXE", "postgres:oracle");
	env_set(&env, "MSHARE_SHIM_MOUNT", "/mnt/mshare");
	env_set(&env, "MSHARE_SHIM_SYSV", "regions");
	shim_config_load(&config, fake_getenv, &env);
	ck_assert_msg(!config.malformed, "%s", config.error);
	ck_assert_int_eq(config.mode, SHIM_MODE_STRICT);
	ck_assert_int_eq(config.sysv_tables, SHIM_SYSV_REGIONS);
	ck_assert_int_eq(config.log_level, SHIM_LOG_DEBUG);
	ck_assert_str_eq(config.log_file, "/tmp/x.log");
	ck_assert_uint_eq(config.min_size, GiB);
	ck_assert_str_eq(config.mount, "/mnt/mshare");
	ck_assert(shim_config_exe_selected(&config, "postgres"));
	ck_assert(shim_config_exe_selected(&config, "oracle"));
	ck_assert(!shim_config_exe_selected(&config, "post"));
	ck_assert(!shim_config_exe_selected(&config, "postgres2"));
	ck_assert(shim_keylist_matches(&config.shm, 0x10));
	ck_assert(shim_keylist_matches(&config.shm, 25));
	ck_assert(shim_keylist_matches(&config.shm, IPC_PRIVATE));
}
END_TEST

START_TEST(config_empty_variable_is_unset)
{
	ck_assert_str_eq(load_one("MSHARE_SHIM_MIN_SIZE", ""), "");
	ck_assert_uint_eq(config.min_size, SHIM_DEFAULT_MIN_SIZE);
}
END_TEST

START_TEST(config_malformed_cases)
{
	assert_error_mentions(load_one("MSHARE_SHIM_SHM", "12x"),
			      "MSHARE_SHIM_SHM", "'12x'", "trailing junk 'x'");
	assert_error_mentions(load_one("MSHARE_SHIM_SHM", "abc"),
			      "MSHARE_SHIM_SHM", "element 1 'abc'", "not a number");
	assert_error_mentions(load_one("MSHARE_SHIM_SHM", "1,,2"),
			      "MSHARE_SHIM_SHM", "element 2", "empty");
	assert_error_mentions(load_one("MSHARE_SHIM_SHM", "1,"),
			      "element 2", "empty");
	assert_error_mentions(load_one("MSHARE_SHIM_SHM", "30-20"),
			      "'30-20'", "reversed range");
	assert_error_mentions(load_one("MSHARE_SHIM_SHM", "0x100000000"),
			      "out of range");
	assert_error_mentions(load_one("MSHARE_SHIM_SHM", "99999999999999999999999"),
			      "too large");
	assert_error_mentions(load_one("MSHARE_SHIM_SHM", "0x"),
			      "no hex digits");
	assert_error_mentions(load_one("MSHARE_SHIM_SHM", "010"),
			      "leading zero");
	assert_error_mentions(load_one("MSHARE_SHIM_SHM", "0"),
			      "IPC_PRIVATE");
	assert_error_mentions(load_one("MSHARE_SHIM_SHM", "-5"),
			      "missing number");
	assert_error_mentions(load_one("MSHARE_SHIM_SHM", "5-"),
			      "missing number");
	assert_error_mentions(load_one("MSHARE_SHIM_MODE", "sometimes"),
			      "MSHARE_SHIM_MODE", "'sometimes'", "unknown mode");
	ck_assert_int_eq(config.mode, SHIM_MODE_TRY);
	assert_error_mentions(load_one("MSHARE_SHIM_SYSV", "both"),
			      "MSHARE_SHIM_SYSV", "'both'",
			      "use auto, kernel or regions");
	ck_assert_int_eq(config.sysv_tables, SHIM_SYSV_AUTO);
	assert_error_mentions(load_one("MSHARE_SHIM_LOG", "loud"),
			      "MSHARE_SHIM_LOG", "'loud'", "unknown log level");
	assert_error_mentions(load_one("MSHARE_SHIM_MIN_SIZE", "64X"),
			      "MSHARE_SHIM_MIN_SIZE", "bad suffix 'X'");
	assert_error_mentions(load_one("MSHARE_SHIM_MIN_SIZE", "64MB"),
			      "bad suffix 'MB'");
	assert_error_mentions(load_one("MSHARE_SHIM_MIN_SIZE", "M"),
			      "not a number");
	assert_error_mentions(load_one("MSHARE_SHIM_MIN_SIZE", "99999999999G"),
			      "too large");
	assert_error_mentions(load_one("MSHARE_SHIM_MIN_SIZE", "-1"),
			      "not a number");
	assert_error_mentions(load_one("MSHARE_SHIM_EXE", "postgres::oracle"),
			      "MSHARE_SHIM_EXE", "element 2 is empty");
	assert_error_mentions(load_one("MSHARE_SHIM_EXE", "/usr/bin/postgres"),
			      "contains '/'");
	assert_error_mentions(load_one("MSHARE_SHIM_MOUNT", "sys/fs/mshare"),
			      "MSHARE_SHIM_MOUNT", "not an absolute path");
	/* Relative: a log file in each process's working directory. */
	assert_error_mentions(load_one("MSHARE_SHIM_LOG_FILE", "shim.log"),
			      "MSHARE_SHIM_LOG_FILE", "not an absolute path");
	assert_error_mentions(load_one("MSHARE_SHIM_SYSLOG", "log"),
			      "MSHARE_SHIM_SYSLOG", "not an absolute path");
	ck_assert_str_eq(load_one("MSHARE_SHIM_SYSLOG", "/dev/log"), "");
	ck_assert_str_eq(config.syslog_socket, "/dev/log");
	assert_error_mentions(load_one("MSHARE_SHIM_CONFIG", "/nonexistent/shim.conf"),
			      "MSHARE_SHIM_CONFIG", "/nonexistent/shim.conf",
			      "cannot open");
}
END_TEST

START_TEST(config_unknown_variable_names)
{
	const char *const clean[] = { "PATH=/bin", "MSHARE_SHIM_SHM=1",
				      "MSHARE_SHIM_CONFIG=/etc/x", "MSHARE_SHIM_LOG",
				      "MSHARE_SHIMMER=1", NULL };
	const char *const typo[] = { "MSHARE_SHIM_SHM=1", "MSHARE_SHIM_MIN_SZE=1G",
				     "MSHARE_SHIM_MODEX=strict", NULL };
	const char *const prefix_only[] = { "MSHARE_SHIM_MOD=strict", NULL };
	char name[64];

	ck_assert(!shim_config_unknown_variable(clean, name, sizeof(name)));
	ck_assert(!shim_config_unknown_variable(NULL, name, sizeof(name)));
	ck_assert(shim_config_unknown_variable(typo, name, sizeof(name)));
	ck_assert_str_eq(name, "MSHARE_SHIM_MIN_SZE");
	/* A prefix of a real name is no real name. */
	ck_assert(shim_config_unknown_variable(prefix_only, name, sizeof(name)));
	ck_assert_str_eq(name, "MSHARE_SHIM_MOD");
	/* A long name is cut to the buffer. */
	ck_assert(shim_config_unknown_variable(typo, name, 8));
	ck_assert_str_eq(name, "MSHARE_");
}
END_TEST

START_TEST(secure_config_needs_root_everywhere)
{
	struct stat file = { .st_mode = S_IFREG | 0644, .st_uid = 0 };
	struct stat dir = { .st_mode = S_IFDIR | 0755, .st_uid = 0 };

	ck_assert(shim_config_file_trusted(&file, &dir));
	file.st_uid = 1000;
	ck_assert(!shim_config_file_trusted(&file, &dir));
	file.st_uid = 0;
	file.st_mode = S_IFREG | 0664;
	ck_assert(!shim_config_file_trusted(&file, &dir));
	file.st_mode = S_IFREG | 0646;
	ck_assert(!shim_config_file_trusted(&file, &dir));
	file.st_mode = S_IFLNK | 0777;
	ck_assert(!shim_config_file_trusted(&file, &dir));
	file.st_mode = S_IFREG | 0600;
	ck_assert(shim_config_file_trusted(&file, &dir));
	dir.st_uid = 1000;
	ck_assert(!shim_config_file_trusted(&file, &dir));
	dir.st_uid = 0;
	dir.st_mode = S_IFDIR | 01777;	/* /tmp: anyone may swap the file */
	ck_assert(!shim_config_file_trusted(&file, &dir));
}
END_TEST

START_TEST(attachment_limit_keeps_a_quarter)
{
	/* x86_64: 256 units of 512 GiB below 47 bits, 64 stay free. */
	ck_assert_uint_eq(shim_attachment_limit(512ULL << 30), 192);
	ck_assert_uint_eq(shim_attachment_limit(1ULL << 47), 1);
	ck_assert_uint_eq(shim_attachment_limit(0), 1);
	ck_assert_uint_eq(shim_attachment_limit(2ULL << 20), 65536);
}
END_TEST

START_TEST(config_first_error_is_kept)
{
	struct fake_env env = { .count = 0 };

	env_set(&env, "MSHARE_SHIM_SHM", "bad");
	env_set(&env, "MSHARE_SHIM_MIN_SIZE", "worse");
	shim_config_load(&config, fake_getenv, &env);
	assert_error_mentions(config.error, "MSHARE_SHIM_SHM");
}
END_TEST

START_TEST(config_off_silences_everything)
{
	struct fake_env env = { .count = 0 };

	env_set(&env, "MSHARE_SHIM_MODE", "off");
	env_set(&env, "MSHARE_SHIM_SHM", "garbage");
	shim_config_load(&config, fake_getenv, &env);
	ck_assert(!config.malformed);
	ck_assert_int_eq(config.mode, SHIM_MODE_OFF);
}
END_TEST

START_TEST(config_file_values)
{
	struct fake_env env = { .count = 0 };

	write_config_file("# comment\n\n  MSHARE_SHIM_SHM = 0x2a , 7 \n"
			  "MSHARE_SHIM_MIN_SIZE=1M\r\nMSHARE_SHIM_MODE=strict");
	env_set(&env, "MSHARE_SHIM_CONFIG", config_path);
	shim_config_load(&config, fake_getenv, &env);
	unlink(config_path);
	ck_assert_msg(!config.malformed, "%s", config.error);
	ck_assert(shim_keylist_matches(&config.shm, 0x2a));
	ck_assert(shim_keylist_matches(&config.shm, 7));
	ck_assert_uint_eq(config.min_size, 1ULL << 20);
	ck_assert_int_eq(config.mode, SHIM_MODE_STRICT);
}
END_TEST

START_TEST(config_environment_wins_over_file)
{
	struct fake_env env = { .count = 0 };

	write_config_file("MSHARE_SHIM_SHM=1\nMSHARE_SHIM_MIN_SIZE=1M\n");
	env_set(&env, "MSHARE_SHIM_CONFIG", config_path);
	env_set(&env, "MSHARE_SHIM_SHM", "2");
	shim_config_load(&config, fake_getenv, &env);
	unlink(config_path);
	ck_assert_msg(!config.malformed, "%s", config.error);
	ck_assert(!shim_keylist_matches(&config.shm, 1));
	ck_assert(shim_keylist_matches(&config.shm, 2));
	ck_assert_uint_eq(config.min_size, 1ULL << 20);
}
END_TEST

START_TEST(config_environment_hides_bad_file_value)
{
	struct fake_env env = { .count = 0 };

	write_config_file("MSHARE_SHIM_SHM=nonsense\n");
	env_set(&env, "MSHARE_SHIM_CONFIG", config_path);
	env_set(&env, "MSHARE_SHIM_SHM", "3");
	shim_config_load(&config, fake_getenv, &env);
	unlink(config_path);
	ck_assert_msg(!config.malformed, "%s", config.error);
	ck_assert(shim_keylist_matches(&config.shm, 3));
}
END_TEST

static const char *load_file(const char *text)
{
	struct fake_env env = { .count = 0 };

	write_config_file(text);
	env_set(&env, "MSHARE_SHIM_CONFIG", config_path);
	shim_config_load(&config, fake_getenv, &env);
	unlink(config_path);
	return config.malformed ? config.error : "";
}

START_TEST(config_file_bad_lines)
{
	assert_error_mentions(load_file("MSHARE_SHIM_SHM=1\njust words\n"),
			      "MSHARE_SHIM_CONFIG", "line 2", "'just words'",
			      "expected KEY=VALUE");
	assert_error_mentions(load_file("# x\nMSHARE_SHIM_SMH=1\n"),
			      "line 2", "'MSHARE_SHIM_SMH'", "unknown variable");
	assert_error_mentions(load_file("MSHARE_SHIM_SHM=1\nMSHARE_SHIM_SHM=2\n"),
			      "line 2", "set twice", "line 1");
	assert_error_mentions(load_file("\n\nMSHARE_SHIM_MIN_SIZE=12Q\n"),
			      "line 3", "MSHARE_SHIM_MIN_SIZE='12Q'", "bad suffix");
}
END_TEST

/* ---- keys -------------------------------------------------------------- */

START_TEST(keys_match)
{
	struct shim_keylist list;
	char why[128];

	ck_assert(shim_keylist_parse("", &list, why, sizeof(why)));
	ck_assert(shim_keylist_is_empty(&list));
	ck_assert(!shim_keylist_matches(&list, 5));

	ck_assert(shim_keylist_parse("5, 0xDEADBEEF,100-200", &list, why, sizeof(why)));
	ck_assert(shim_keylist_matches(&list, 5));
	ck_assert(!shim_keylist_matches(&list, 6));
	ck_assert(shim_keylist_matches(&list, (key_t)0xdeadbeef));
	ck_assert(shim_keylist_matches(&list, 100));
	ck_assert(shim_keylist_matches(&list, 200));
	ck_assert(!shim_keylist_matches(&list, 201));
	ck_assert(!shim_keylist_matches(&list, IPC_PRIVATE));

	/* A range over 0 does not quietly include private segments. */
	ck_assert(shim_keylist_parse("0-10", &list, why, sizeof(why)));
	ck_assert(!shim_keylist_matches(&list, IPC_PRIVATE));
	ck_assert(shim_keylist_matches(&list, 1));

	ck_assert(shim_keylist_parse("private", &list, why, sizeof(why)));
	ck_assert(shim_keylist_matches(&list, IPC_PRIVATE));
	ck_assert(!shim_keylist_matches(&list, 1));

	ck_assert(shim_keylist_parse("all", &list, why, sizeof(why)));
	ck_assert(shim_keylist_matches(&list, IPC_PRIVATE));
	ck_assert(shim_keylist_matches(&list, (key_t)0xffffffff));
	ck_assert(shim_keylist_matches(&list, 12345));
}
END_TEST

START_TEST(keys_list_limit)
{
	struct shim_keylist list;
	char why[128], text[1024] = "";

	for (int i = 1; i <= SHIM_KEYLIST_MAX + 1; i++)
		shim_format(text + strlen(text), sizeof(text) - strlen(text),
			    "%s%d", i > 1 ? "," : "", i);
	ck_assert(!shim_keylist_parse(text, &list, why, sizeof(why)));
	ck_assert_msg(strstr(why, "more than"), "%s", why);
}
END_TEST

/* ---- sizes ------------------------------------------------------------- */

static uint64_t size_of(const char *text)
{
	uint64_t v = 0;
	char why[128];

	ck_assert_msg(shim_size_parse(text, &v, why, sizeof(why)), "%s: %s",
		      text, why);
	return v;
}

START_TEST(sizes_parse)
{
	ck_assert_uint_eq(size_of("0"), 0);
	ck_assert_uint_eq(size_of("4096"), 4096);
	ck_assert_uint_eq(size_of("64K"), 64 << 10);
	ck_assert_uint_eq(size_of("64k"), 64 << 10);
	ck_assert_uint_eq(size_of("64M"), 64ULL << 20);
	ck_assert_uint_eq(size_of("64MiB"), 64ULL << 20);
	ck_assert_uint_eq(size_of("2g"), 2 * GiB);
	ck_assert_uint_eq(size_of("1T"), 1ULL << 40);

	uint64_t v;
	char why[128];

	ck_assert(!shim_size_parse("", &v, why, sizeof(why)));
	ck_assert(!shim_size_parse("1.5G", &v, why, sizeof(why)));
	ck_assert(!shim_size_parse("1 G", &v, why, sizeof(why)));
	ck_assert(!shim_size_parse("1Gi", &v, why, sizeof(why)));
	ck_assert(!shim_size_parse("0x10", &v, why, sizeof(why)));
	ck_assert(!shim_size_parse("18446744073709551616", &v, why, sizeof(why)));
	ck_assert(!shim_size_parse("16777216T", &v, why, sizeof(why)));
}
END_TEST

START_TEST(sizes_round)
{
	uint64_t r;

	ck_assert(shim_size_round_up(0, 4096, &r));
	ck_assert_uint_eq(r, 0);
	ck_assert(shim_size_round_up(1, 4096, &r));
	ck_assert_uint_eq(r, 4096);
	ck_assert(shim_size_round_up(4096, 4096, &r));
	ck_assert_uint_eq(r, 4096);
	ck_assert(shim_size_round_up(256ULL << 20, ALIGN_512G, &r));
	ck_assert_uint_eq(r, ALIGN_512G);
	ck_assert(shim_size_round_up(ALIGN_512G + 1, ALIGN_512G, &r));
	ck_assert_uint_eq(r, 2 * ALIGN_512G);
	ck_assert(!shim_size_round_up(UINT64_MAX, 4096, &r));
	ck_assert(!shim_size_round_up(5, 0, &r));
}
END_TEST

/* ---- planning ------------------------------------------------------------ */

static void configure(const char *shm, const char *min_size, const char *mode)
{
	struct fake_env env = { .count = 0 };

	if (shm)
		env_set(&env, "MSHARE_SHIM_SHM", shm);
	if (min_size)
		env_set(&env, "MSHARE_SHIM_MIN_SIZE", min_size);
	if (mode)
		env_set(&env, "MSHARE_SHIM_MODE", mode);
	shim_config_load(&config, fake_getenv, &env);
}

#define assert_plan(d, v, r) do {					\
	struct shim_decision d_ = (d);					\
	ck_assert_int_eq(d_.verdict, (v));				\
	ck_assert_msg(d_.reason == (r), "reason %d (%s), expected %d (%s)", \
		      d_.reason, shim_reason_text(d_.reason), (r),	\
		      shim_reason_text(r));				\
} while (0)

START_TEST(plan_shmget)
{
	configure("0x100,private", "1M", NULL);
	assert_plan(shim_plan_shmget(&config, true, 0x100, 2 << 20, IPC_CREAT | 0600),
		    SHIM_CANDIDATE, SHIM_REASON_NONE);
	assert_plan(shim_plan_shmget(&config, true, 0x100, 1 << 20, IPC_CREAT),
		    SHIM_CANDIDATE, SHIM_REASON_NONE);
	assert_plan(shim_plan_shmget(&config, true, 0x100, (1 << 20) - 1, IPC_CREAT),
		    SHIM_PASS, SHIM_REASON_TOO_SMALL);
	assert_plan(shim_plan_shmget(&config, true, 0x100, 2 << 20, 0600),
		    SHIM_PASS, SHIM_REASON_NOT_CREATING);
	assert_plan(shim_plan_shmget(&config, true, 0x101, 2 << 20, IPC_CREAT),
		    SHIM_PASS, SHIM_REASON_KEY_NOT_LISTED);
	/* IPC_PRIVATE creates without IPC_CREAT. */
	assert_plan(shim_plan_shmget(&config, true, IPC_PRIVATE, 2 << 20, 0600),
		    SHIM_CANDIDATE, SHIM_REASON_NONE);
	assert_plan(shim_plan_shmget(&config, false, 0x100, 2 << 20, IPC_CREAT),
		    SHIM_PASS, SHIM_REASON_EXE_NOT_SELECTED);

	configure(NULL, NULL, NULL);
	assert_plan(shim_plan_shmget(&config, true, 0x100, 2 << 20, IPC_CREAT),
		    SHIM_PASS, SHIM_REASON_KEY_NOT_LISTED);
	assert_plan(shim_plan_lookup(&config, true),
		    SHIM_PASS, SHIM_REASON_KEY_NOT_LISTED);

	configure("all", "0", "off");
	assert_plan(shim_plan_shmget(&config, true, 0x100, 2 << 20, IPC_CREAT),
		    SHIM_PASS, SHIM_REASON_MODE_OFF);
	assert_plan(shim_plan_lookup(&config, true), SHIM_PASS, SHIM_REASON_MODE_OFF);
}
END_TEST

START_TEST(plan_malformed)
{
	configure("1,,2", NULL, NULL);
	assert_plan(shim_plan_shmget(&config, true, 1, 1ULL << 30, IPC_CREAT),
		    SHIM_PASS, SHIM_REASON_CONFIG_MALFORMED);
	assert_plan(shim_plan_lookup(&config, true),
		    SHIM_PASS, SHIM_REASON_CONFIG_MALFORMED);

	configure("1,,2", NULL, "strict");
	assert_plan(shim_plan_shmget(&config, true, 1, 1ULL << 30, IPC_CREAT),
		    SHIM_REFUSE, SHIM_REASON_CONFIG_MALFORMED);
	assert_plan(shim_plan_lookup(&config, true),
		    SHIM_REFUSE, SHIM_REASON_CONFIG_MALFORMED);
	/* Programs the configuration does not select are left alone. */
	assert_plan(shim_plan_lookup(&config, false),
		    SHIM_PASS, SHIM_REASON_EXE_NOT_SELECTED);
}
END_TEST

START_TEST(plan_unbacked_attach)
{
	configure("0x100", "1M", "strict");
	assert_plan(shim_plan_unbacked_attach(&config, 0x100, 2 << 20),
		    SHIM_REFUSE, SHIM_REASON_SEGMENT_UNBACKED);
	assert_plan(shim_plan_unbacked_attach(&config, 0x100, 1000),
		    SHIM_PASS, SHIM_REASON_SEGMENT_UNBACKED);
	assert_plan(shim_plan_unbacked_attach(&config, 0x101, 2 << 20),
		    SHIM_PASS, SHIM_REASON_SEGMENT_UNBACKED);
	configure("0x100", "1M", "try");
	assert_plan(shim_plan_unbacked_attach(&config, 0x100, 2 << 20),
		    SHIM_PASS, SHIM_REASON_SEGMENT_UNBACKED);
}
END_TEST

/* The kernel's SHM_SHARE_MMU is asked for where a region would be made. */
START_TEST(plan_share_mmu)
{
	configure("0x100,0x200-0x2ff", "1M", "try");
	ck_assert(shim_plan_share_mmu(&config, 0x100, 1 << 20));
	ck_assert(shim_plan_share_mmu(&config, 0x2ff, 1ULL << 40));
	ck_assert(!shim_plan_share_mmu(&config, 0x100, (1 << 20) - 1));
	ck_assert(!shim_plan_share_mmu(&config, 0x101, 1 << 20));
	/* After IPC_RMID the key reads IPC_PRIVATE: listed only as such */
	ck_assert(!shim_plan_share_mmu(&config, IPC_PRIVATE, 1 << 20));
	configure("private", "1M", "try");
	ck_assert(shim_plan_share_mmu(&config, IPC_PRIVATE, 1 << 20));
}
END_TEST

/* MSHARE_SHIM_SYSV against what the kernel offers. */
START_TEST(plan_sysv_path)
{
	static const struct {
		const char *value;
		bool kernel;
		enum shim_sysv_path want;
	} cases[] = {
		{ "auto", true, SHIM_SYSV_PATH_KERNEL },
		{ "auto", false, SHIM_SYSV_PATH_REGIONS },
		{ "kernel", true, SHIM_SYSV_PATH_KERNEL },
		{ "kernel", false, SHIM_SYSV_PATH_NONE },
		{ "regions", true, SHIM_SYSV_PATH_REGIONS },
		{ "regions", false, SHIM_SYSV_PATH_REGIONS },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ck_assert_str_eq(load_one("MSHARE_SHIM_SYSV", cases[i].value), "");
		ck_assert_msg(shim_plan_sysv_path(&config, cases[i].kernel) ==
			      cases[i].want, "MSHARE_SHIM_SYSV=%s, kernel %s",
			      cases[i].value, cases[i].kernel ? "yes" : "no");
	}
}
END_TEST

/* The fast path for a known-unbacked shmat() may skip IPC_STAT only if no
 * segment could be refused: in try mode, never in strict mode. */
START_TEST(plan_unbacked_attach_may_refuse)
{
	static const char *const lists[] = { "0x100", "all", "private", "1-0xffffffff" };

	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		configure(lists[i], "1M", "strict");
		ck_assert(shim_plan_unbacked_attach_may_refuse(&config));
		/* And indeed it refuses a listed segment of MIN_SIZE. */
		ck_assert_int_eq(shim_plan_unbacked_attach(&config,
							   i == 2 ? IPC_PRIVATE : 0x100,
							   1 << 20).verdict,
				 SHIM_REFUSE);
		configure(lists[i], "1M", "try");
		ck_assert(!shim_plan_unbacked_attach_may_refuse(&config));
		for (key_t key = 0; key < 0x200; key += 0x80)
			ck_assert_int_eq(shim_plan_unbacked_attach(&config, key,
								   1ULL << 40).verdict,
					 SHIM_PASS);
	}
}
END_TEST

START_TEST(plan_shmget_creates_unbacked)
{
	configure("0x100", "1M", NULL);
	/* Certainly a new segment. */
	ck_assert(shim_plan_shmget_creates_unbacked(&config, true, IPC_PRIVATE, 0600));
	ck_assert(shim_plan_shmget_creates_unbacked(&config, true, 0x200,
						    IPC_CREAT | IPC_EXCL | 0600));
	/* May find an existing segment, which may have a region. */
	ck_assert(!shim_plan_shmget_creates_unbacked(&config, true, 0x200, IPC_CREAT));
	ck_assert(!shim_plan_shmget_creates_unbacked(&config, true, 0x200, 0));
	ck_assert(!shim_plan_shmget_creates_unbacked(&config, true, 0x200, IPC_EXCL));
	/* A process that never looks regions up keeps no record. */
	ck_assert(!shim_plan_shmget_creates_unbacked(&config, false, IPC_PRIVATE, 0));
	configure(NULL, NULL, NULL);
	ck_assert(!shim_plan_shmget_creates_unbacked(&config, true, IPC_PRIVATE, 0));
	configure("0x100", NULL, "off");
	ck_assert(!shim_plan_shmget_creates_unbacked(&config, true, IPC_PRIVATE, 0));
	configure("0x100,,", NULL, NULL);
	ck_assert(!shim_plan_shmget_creates_unbacked(&config, true, IPC_PRIVATE, 0));
}
END_TEST

START_TEST(plan_attach_address)
{
	uintptr_t at;
	char why[160];
	bool fixed;

	ck_assert_int_eq(shim_plan_attach_address(ALIGN_512G, 0, 4096, ALIGN_512G,
						  &fixed, &at, why, sizeof(why)), 0);
	ck_assert(fixed);
	ck_assert_uint_eq(at, ALIGN_512G);
	ck_assert_int_eq(shim_plan_attach_address(ALIGN_512G + 5, SHM_RND, 4096,
						  ALIGN_512G, &fixed, &at, why,
						  sizeof(why)), 0);
	ck_assert_uint_eq(at, ALIGN_512G);
	ck_assert_int_eq(shim_plan_attach_address(ALIGN_512G + 5, 0, 4096, ALIGN_512G,
						  &fixed, &at, why, sizeof(why)),
			 EINVAL);
	ck_assert_msg(strstr(why, "SHMLBA"), "%s", why);
	ck_assert_int_eq(shim_plan_attach_address(0x7f0000000000 + 4096, 0, 4096,
						  ALIGN_512G, &fixed, &at, why,
						  sizeof(why)),
			 EINVAL);
	ck_assert_msg(strstr(why, "alignment"), "%s", why);

	/* No address: anywhere, unless SHM_REMAP asks for one */
	ck_assert_int_eq(shim_plan_attach_address(0, SHM_RND, 4096, ALIGN_512G,
						  &fixed, &at, why, sizeof(why)), 0);
	ck_assert(!fixed);
	ck_assert_int_eq(shim_plan_attach_address(0, SHM_REMAP, 4096, ALIGN_512G,
						  &fixed, &at, why, sizeof(why)),
			 EINVAL);
	ck_assert_msg(strstr(why, "SHM_REMAP"), "%s", why);
	/* CVE-2017-5669: SHM_RND may not round down to page 0 for SHM_REMAP */
	ck_assert_int_eq(shim_plan_attach_address(1, SHM_RND | SHM_REMAP, 4096,
						  ALIGN_512G, &fixed, &at, why,
						  sizeof(why)),
			 EINVAL);
	ck_assert_msg(strstr(why, "null"), "%s", why);
	/* Without SHM_REMAP the kernel tries address 0, and so do we */
	ck_assert_int_eq(shim_plan_attach_address(1, SHM_RND, 4096, ALIGN_512G,
						  &fixed, &at, why, sizeof(why)), 0);
	ck_assert(fixed);
	ck_assert_uint_eq(at, 0);
}
END_TEST

/*
 * Each reason has its own log-once slot and says something of its own:
 * two causes under one reason would hide the second one's line.
 */
START_TEST(reason_texts_are_distinct)
{
	for (int r = 0; r < SHIM_REASON_COUNT; r++) {
		const char *text = shim_reason_text((enum shim_reason)r);

		ck_assert_msg(strcmp(text, "unknown reason") != 0,
			      "reason %d has no text", r);
		for (int o = 0; o < r; o++) {
			const char *other = shim_reason_text((enum shim_reason)o);

			ck_assert_msg(strcmp(text, other) != 0,
				      "reasons %d and %d both say \"%s\"", o,
				      r, text);
		}
	}
}
END_TEST

/* ---- region names ---------------------------------------------------------- */

START_TEST(region_names)
{
	char name[SHIM_REGION_NAME_MAX];
	key_t key;
	int id;
	pid_t pid;

	shim_region_name(name, sizeof(name), 0x5432001, 32769, 4242);
	ck_assert_str_eq(name, "sysv.05432001.32769.4242");
	ck_assert(shim_region_name_parse(name, &key, &id, &pid));
	ck_assert_int_eq(key, 0x5432001);
	ck_assert_int_eq(id, 32769);
	ck_assert_int_eq(pid, 4242);

	shim_region_name(name, sizeof(name), (key_t)0xdeadbeef, 0, 1);
	ck_assert_str_eq(name, "sysv.deadbeef.0.1");
	ck_assert(shim_region_name_parse(name, &key, &id, &pid));
	ck_assert_int_eq(key, (key_t)0xdeadbeef);

	shim_region_name(name, sizeof(name), IPC_PRIVATE, 7, 99);
	ck_assert_str_eq(name, "sysv.00000000.7.99");

	shim_creating_name(name, sizeof(name), 0x2a, 77);
	ck_assert_str_eq(name, ".creating.0000002a.77");

	static const char *const bad[] = {
		"sysv.", "sysv.2a.1.2", "sysv.0000002a.1", "sysv.0000002a.1.2.3",
		"sysv.0000002a..2", "sysv.0000002a.x.2", "sysv.0000002a.1.2x",
		"sysv.0000002g.1.2", "sysv.0000002a.-1.2", "sysw.0000002a.1.2",
		"sysv.0000002a.99999999999.2", "mshare_info", ".creating.0000002a.77",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(!shim_region_name_parse(bad[i], &key, &id, &pid),
			      "'%s' parsed", bad[i]);
}
END_TEST

/* ---- region validation ---------------------------------------------------- */

static const struct shim_region_expectation expect = {
	.cuid = 1000, .uid = 1001, .segment_mode = 0640,
	.segsz = 256ULL << 20, .alignment = ALIGN_512G,
};

static struct shim_region_observation genuine(void)
{
	struct shim_region_observation seen = {
		.fs_type = MSHARE_MAGIC,
		.st_mode = S_IFREG | 0640,
		.st_uid = 1000,
		.st_size = ALIGN_512G,
	};

	return seen;
}

static void assert_refused(struct shim_region_observation seen, const char *word)
{
	char why[192] = "";

	ck_assert(!shim_region_check(&expect, &seen, why, sizeof(why)));
	ck_assert_msg(strstr(why, word), "'%s' lacks '%s'", why, word);
}

START_TEST(region_validation)
{
	struct shim_region_observation seen = genuine();
	char why[192];

	ck_assert_msg(shim_region_check(&expect, &seen, why, sizeof(why)), "%s", why);
	seen.st_uid = 1001;	/* chowned to the owner after IPC_SET */
	ck_assert_msg(shim_region_check(&expect, &seen, why, sizeof(why)), "%s", why);

	seen = genuine();
	seen.st_uid = 0;
	assert_refused(seen, "owned by uid 0");
	seen = genuine();
	seen.st_mode = S_IFREG | 0666;
	assert_refused(seen, "mode 0666");
	seen = genuine();
	seen.st_mode = S_IFREG | 0600;
	assert_refused(seen, "mode 0600");
	seen = genuine();
	seen.st_size = 2 * ALIGN_512G;
	assert_refused(seen, "size");
	seen = genuine();
	seen.st_size = 256ULL << 20;
	assert_refused(seen, "size");
	seen = genuine();
	seen.fs_type = 0x01021994;	/* tmpfs */
	assert_refused(seen, "not on msharefs");
	seen = genuine();
	seen.st_mode = S_IFIFO | 0640;
	assert_refused(seen, "regular");
}
END_TEST

/* ---- formatter ---------------------------------------------------------- */

/*
 * A standard error the program redirected after start: pipes, sockets and
 * terminals are followed, regular files (maybe the program's data under a
 * reused number) and read-only descriptors are not.
 */
START_TEST(stderr_follows_redirections)
{
	ck_assert(shim_stderr_follows(S_IFIFO | 0600, O_WRONLY));
	ck_assert(shim_stderr_follows(S_IFSOCK | 0777, O_RDWR));
	ck_assert(shim_stderr_follows(S_IFCHR | 0620, O_RDWR | O_APPEND));
	ck_assert(!shim_stderr_follows(S_IFREG | 0644, O_WRONLY | O_APPEND));
	ck_assert(!shim_stderr_follows(S_IFREG | 0644, O_RDWR));
	ck_assert(!shim_stderr_follows(S_IFIFO | 0600, O_RDONLY));
	ck_assert(!shim_stderr_follows(S_IFDIR | 0755, O_RDONLY));
}
END_TEST

/*
 * The shim's errno table says what strerror() says in the C locale (this
 * test runs in it: no setlocale), for every number Linux defines.
 */
START_TEST(errno_texts_match_c_locale)
{
	int checked = 0;

	for (int e = 0; e < 200; e++) {
		const char *libc = strerror(e);

		if (strncmp(libc, "Unknown error", 13) == 0) {
			ck_assert_str_eq(shim_errno_text(e), "Unknown error");
			continue;
		}
		ck_assert_msg(strcmp(shim_errno_text(e), libc) == 0,
			      "errno %d: shim says '%s', libc '%s'", e,
			      shim_errno_text(e), libc);
		checked++;
	}
	ck_assert_int_ge(checked, 130);
	ck_assert_str_eq(shim_errno_text(-1), "Unknown error");
}
END_TEST

START_TEST(format_text)
{
	char buf[64];

	ck_assert_uint_eq(shim_format(buf, sizeof(buf), "%s:%d:%u:%x:%08x:%%",
				      "a", -12, 34u, 0xabu, 0x2au), 22);
	ck_assert_str_eq(buf, "a:-12:34:ab:0000002a:%");
	shim_format(buf, sizeof(buf), "%ld %lu %llu %zu %lx", -5L, 6UL, 7ULL,
		    (size_t)8, 0xffUL);
	ck_assert_str_eq(buf, "-5 6 7 8 ff");
	shim_format(buf, sizeof(buf), "%p %s", (void *)0x1000, (char *)NULL);
	ck_assert_str_eq(buf, "0x1000 (null)");
	ck_assert_uint_eq(shim_format(buf, 5, "%s", "truncated"), 9);
	ck_assert_str_eq(buf, "trun");
	shim_format(buf, sizeof(buf), "%04o|%5s", 0640u, "ab");
	/* Octal for modes, right-aligned strings. */
	ck_assert_str_eq(buf, "0640|   ab");
}
END_TEST

static Suite *core_suite(void)
{
	Suite *s = suite_create("shim-core");
	TCase *tc;

	tc = tcase_create("config");
	tcase_add_test(tc, config_defaults);
	tcase_add_test(tc, config_all_variables);
	tcase_add_test(tc, config_empty_variable_is_unset);
	tcase_add_test(tc, config_malformed_cases);
	tcase_add_test(tc, config_first_error_is_kept);
	tcase_add_test(tc, config_unknown_variable_names);
	tcase_add_test(tc, attachment_limit_keeps_a_quarter);
	tcase_add_test(tc, secure_config_needs_root_everywhere);
	tcase_add_test(tc, config_off_silences_everything);
	tcase_add_test(tc, config_file_values);
	tcase_add_test(tc, config_environment_wins_over_file);
	tcase_add_test(tc, config_environment_hides_bad_file_value);
	tcase_add_test(tc, config_file_bad_lines);
	suite_add_tcase(s, tc);

	tc = tcase_create("keys");
	tcase_add_test(tc, keys_match);
	tcase_add_test(tc, keys_list_limit);
	suite_add_tcase(s, tc);

	tc = tcase_create("sizes");
	tcase_add_test(tc, sizes_parse);
	tcase_add_test(tc, sizes_round);
	suite_add_tcase(s, tc);

	tc = tcase_create("plan");
	tcase_add_test(tc, plan_shmget);
	tcase_add_test(tc, plan_malformed);
	tcase_add_test(tc, plan_unbacked_attach);
	tcase_add_test(tc, plan_unbacked_attach_may_refuse);
	tcase_add_test(tc, plan_share_mmu);
	tcase_add_test(tc, plan_sysv_path);
	tcase_add_test(tc, plan_shmget_creates_unbacked);
	tcase_add_test(tc, plan_attach_address);
	tcase_add_test(tc, reason_texts_are_distinct);
	tcase_add_test(tc, region_names);
	tcase_add_test(tc, region_validation);
	suite_add_tcase(s, tc);

	tc = tcase_create("format");
	tcase_add_test(tc, format_text);
	tcase_add_test(tc, errno_texts_match_c_locale);
	tcase_add_test(tc, stderr_follows_redirections);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run_tap(core_suite(), "test-core");
}
