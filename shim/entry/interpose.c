/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The exported SysV entry points.  Each one makes sure the shim is set up,
 * steps aside for nested calls, and hands the call to sysv/.  Setup (the
 * constructor, or the first call) resolves the real functions, reads the
 * configuration and registers the fork handlers (fork.c).  Nothing here
 * allocates after setup.
 */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/config.h"
#include "core/textfmt.h"
#include "entry/fork.h"
#include "entry/interpose-mmap.h"
#include "support/log.h"
#include "support/shim-state.h"
#include "sysv/sysv.h"

#define SHIM_EXPORT __attribute__((visibility("default")))

static pthread_once_t setup_once = PTHREAD_ONCE_INIT;

/*
 * Secure execution (set-user-ID/gid programs, file capabilities: the
 * loader sets AT_SECURE) means that whoever starts the program is not
 * trusted with it.  Then the environment is ignored altogether: the
 * configuration comes only from SHIM_SECURE_CONFIG, and only if root owns
 * it and its directory and nobody else can write them; else the shim stays
 * off.  So the caller chooses neither segments, files, mount point nor log
 * file, and no debug line with addresses reaches the caller's stderr.
 */
static bool secure;
static bool secure_config_trusted;

static bool trusted_by_root(const char *path)
{
	char dir[PATH_MAX];
	struct stat file_st, dir_st;
	const char *slash = strrchr(path, '/');

	if (!slash || (size_t)(slash - path) >= sizeof(dir))
		return false;
	memcpy(dir, path, (size_t)(slash - path));
	dir[slash - path] = '\0';
	return lstat(path, &file_st) == 0 && stat(dir[0] ? dir : "/", &dir_st) == 0 &&
	       shim_config_file_trusted(&file_st, &dir_st);
}

static const char *environment_value(const char *name, void *context)
{
	(void)context;
	if (!secure)
		return getenv(name);
	if (strcmp(name, "MSHARE_SHIM_CONFIG") == 0 && secure_config_trusted)
		return SHIM_SECURE_CONFIG;
	return NULL;
}

/*
 * The executable's basename from /proc/self/exe: argv[0] is unreliable
 * (PostgreSQL rewrites its argv area for ps; scripts and symlinks vary).
 */
static void find_progname(char *out, size_t size)
{
	char path[4096];
	ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);

	if (n <= 0) {
		shim_format(out, size, "%s", program_invocation_short_name);
		return;
	}
	path[n] = '\0';

	const char *base = strrchr(path, '/');

	shim_format(out, size, "%s", base ? base + 1 : path);
}

static void resolve_real_symbols(struct real_sysv *real)
{
	real->shmget = (int (*)(key_t, size_t, int))dlsym(RTLD_NEXT, "shmget");
	real->shmat = (void *(*)(int, const void *, int))dlsym(RTLD_NEXT, "shmat");
	real->shmdt = (int (*)(const void *))dlsym(RTLD_NEXT, "shmdt");
	real->shmctl = (int (*)(int, int, struct shmid_ds *))dlsym(RTLD_NEXT,
								   "shmctl");
}

/*
 * Said only in the programs MSHARE_SHIM_EXE selects: with the shim in
 * /etc/ld.so.preload, or a variable exported to a shell, one typo would
 * otherwise reach the stderr of every program started.
 */
static void report_configuration(const struct shim_config *config)
{
	char name[64];

	if (config->malformed) {
		shim_log(SHIM_LOG_ERROR, "configuration error: %s; %s", config->error,
			 config->mode == SHIM_MODE_STRICT ?
			 "MSHARE_SHIM_MODE=strict: shmget() and shmat() will fail with ENOMEM" :
			 "the shim passes everything through");
	}
	if (!secure &&
	    shim_config_unknown_variable((const char *const *)environ, name,
					 sizeof(name)))
		shim_log(SHIM_LOG_WARN, "%s is not a variable of the shim (ignored)",
			 name);
}

static void set_up(void)
{
	struct shim_config *config = &shim_state.config;

	resolve_real_symbols(&shim_state.real);
	secure = getauxval(AT_SECURE) != 0;
	if (secure)
		secure_config_trusted = trusted_by_root(SHIM_SECURE_CONFIG);
	shim_config_load(config, environment_value, NULL);
	if (secure && !secure_config_trusted)
		config->mode = SHIM_MODE_OFF;
	/* No addresses for whoever started a set-user-ID program. */
	if (secure && config->log_level > SHIM_LOG_WARN)
		config->log_level = SHIM_LOG_WARN;
	if (config->mode == SHIM_MODE_OFF)
		return;
	shim_state.sysv_path = shim_plan_sysv_path(config,
						   sysv_kernel_share_mmu() >= 0);
	find_progname(shim_state.progname, sizeof(shim_state.progname));
	shim_log_init(config->log_level, config->log_file, shim_state.progname);
	shim_log_syslog_init(config->syslog_socket);
	shim_state.exe_selected = shim_config_exe_selected(config,
							   shim_state.progname);
	if (shim_state.exe_selected)
		report_configuration(config);
	shim_fork_handlers_install();
	mmap_interpose_setup();
	shim_log(SHIM_LOG_DEBUG, "set up: mode %s, executable %s %s",
		 config->mode == SHIM_MODE_STRICT ? "strict" : "try",
		 shim_state.progname,
		 shim_state.exe_selected ? "selected" : "not selected");
}

__attribute__((constructor)) static void set_up_at_load(void)
{
	pthread_once(&setup_once, set_up);
}

/* True when the call must go straight to libc. */
static bool bypass(void)
{
	pthread_once(&setup_once, set_up);
	return shim_inside_call || shim_state.config.mode == SHIM_MODE_OFF;
}

SHIM_EXPORT int shmget(key_t key, size_t size, int shmflg)
{
	if (bypass())
		return shim_state.real.shmget(key, size, shmflg);
	shim_inside_call = true;
	int rc = sysv_shmget(key, size, shmflg);
	int err = errno;

	shim_inside_call = false;
	errno = err;
	return rc;
}

SHIM_EXPORT void *shmat(int shmid, const void *shmaddr, int shmflg)
{
	if (bypass())
		return shim_state.real.shmat(shmid, shmaddr, shmflg);
	shim_inside_call = true;
	void *addr = sysv_shmat(shmid, shmaddr, shmflg);
	int err = errno;

	shim_inside_call = false;
	errno = err;
	return addr;
}

SHIM_EXPORT int shmdt(const void *shmaddr)
{
	if (bypass())
		return shim_state.real.shmdt(shmaddr);
	shim_inside_call = true;
	int rc = sysv_shmdt(shmaddr);
	int err = errno;

	shim_inside_call = false;
	errno = err;
	return rc;
}

SHIM_EXPORT int shmctl(int shmid, int cmd, struct shmid_ds *buf)
{
	if (bypass())
		return shim_state.real.shmctl(shmid, cmd, buf);
	shim_inside_call = true;
	int rc = sysv_shmctl(shmid, cmd, buf);
	int err = errno;

	shim_inside_call = false;
	errno = err;
	return rc;
}
