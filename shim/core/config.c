/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "core/config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/errtext.h"
#include "core/pathglob.h"
#include "core/size.h"
#include "core/textfmt.h"

/* The variables, in the order they are applied. */
enum variable {
	VAR_MODE,
	VAR_LOG,
	VAR_LOG_FILE,
	VAR_SHM,
	VAR_MIN_SIZE,
	VAR_EXE,
	VAR_MOUNT,
	VAR_FILES,
	VAR_ANON,
	VAR_SYSLOG,
	VAR_SYSV,
	VAR_COUNT
};

static const char *const variable_names[VAR_COUNT] = {
	[VAR_MODE] = "MSHARE_SHIM_MODE",
	[VAR_LOG] = "MSHARE_SHIM_LOG",
	[VAR_LOG_FILE] = "MSHARE_SHIM_LOG_FILE",
	[VAR_SHM] = "MSHARE_SHIM_SHM",
	[VAR_MIN_SIZE] = "MSHARE_SHIM_MIN_SIZE",
	[VAR_EXE] = "MSHARE_SHIM_EXE",
	[VAR_MOUNT] = "MSHARE_SHIM_MOUNT",
	[VAR_FILES] = "MSHARE_SHIM_FILES",
	[VAR_ANON] = "MSHARE_SHIM_ANON",
	[VAR_SYSLOG] = "MSHARE_SHIM_SYSLOG",
	[VAR_SYSV] = "MSHARE_SHIM_SYSV",
};

#define CONFIG_FILE_MAX 16384
#define CONFIG_FILE_VARIABLE "MSHARE_SHIM_CONFIG"

/* Values read from the configuration file point into its text. */
struct file_values {
	char text[CONFIG_FILE_MAX];
	const char *value[VAR_COUNT];
	unsigned line[VAR_COUNT];
};

/* Keeps only the first problem: it is usually the cause of the rest. */
static void report(struct shim_config *config, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void report(struct shim_config *config, const char *fmt, ...)
{
	va_list ap;

	if (config->malformed)
		return;
	config->malformed = true;
	va_start(ap, fmt);
	shim_vformat(config->error, sizeof(config->error), fmt, ap);
	va_end(ap);
}

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t' || *s == '\r')
		s++;
	size_t n = strlen(s);

	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		s[--n] = '\0';
	return s;
}

static int variable_index(const char *name)
{
	for (int i = 0; i < VAR_COUNT; i++)
		if (strcmp(name, variable_names[i]) == 0)
			return i;
	return -1;
}

static bool read_whole_file(struct shim_config *config, const char *path,
			    char *text, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		report(config, "%s=%s: cannot open: %s", CONFIG_FILE_VARIABLE,
		       path, shim_errno_text(errno));
		return false;
	}
	size_t len = 0;

	for (;;) {
		ssize_t n = read(fd, text + len, size - 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			report(config, "%s=%s: cannot read: %s",
			       CONFIG_FILE_VARIABLE, path, shim_errno_text(errno));
			close(fd);
			return false;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len == size - 1) {
			report(config, "%s=%s: file larger than %d bytes",
			       CONFIG_FILE_VARIABLE, path, CONFIG_FILE_MAX - 1);
			close(fd);
			return false;
		}
	}
	close(fd);
	text[len] = '\0';
	return true;
}

static bool parse_file(struct shim_config *config, const char *path,
		       struct file_values *file)
{
	if (!read_whole_file(config, path, file->text, sizeof(file->text)))
		return false;

	unsigned line_no = 0;
	char *next = file->text;

	while (next) {
		char *line = next;
		char *newline = strchr(line, '\n');

		if (newline) {
			*newline = '\0';
			next = newline + 1;
		} else {
			next = NULL;
		}
		line_no++;
		line = trim(line);
		if (line[0] == '\0' || line[0] == '#')
			continue;

		char *eq = strchr(line, '=');

		if (!eq) {
			report(config, "%s=%s line %u: '%s': expected KEY=VALUE",
			       CONFIG_FILE_VARIABLE, path, line_no, line);
			return false;
		}
		*eq = '\0';
		char *name = trim(line);
		char *value = trim(eq + 1);
		int var = variable_index(name);

		if (var < 0) {
			report(config, "%s=%s line %u: '%s': unknown variable",
			       CONFIG_FILE_VARIABLE, path, line_no, name);
			return false;
		}
		if (file->value[var]) {
			report(config, "%s=%s line %u: %s is set twice (first on line %u)",
			       CONFIG_FILE_VARIABLE, path, line_no, name,
			       file->line[var]);
			return false;
		}
		file->value[var] = value;
		file->line[var] = line_no;
	}
	return true;
}

/* The index of v in names (an enum's values, in order), or -1. */
static int parse_choice(const char *v, const char *const *names, unsigned count)
{
	for (unsigned i = 0; i < count; i++)
		if (strcmp(v, names[i]) == 0)
			return (int)i;
	return -1;
}

#define PARSE_CHOICE(v, names) \
	parse_choice((v), (names), sizeof(names) / sizeof((names)[0]))

static bool parse_mode(const char *v, enum shim_mode *mode)
{
	static const char *const names[] = {
		[SHIM_MODE_OFF] = "off",
		[SHIM_MODE_TRY] = "try",
		[SHIM_MODE_STRICT] = "strict",
	};
	int i = PARSE_CHOICE(v, names);

	if (i < 0)
		return false;
	*mode = (enum shim_mode)i;
	return true;
}

static bool parse_sysv_tables(const char *v, enum shim_sysv_tables *tables)
{
	static const char *const names[] = {
		[SHIM_SYSV_AUTO] = "auto",
		[SHIM_SYSV_KERNEL] = "kernel",
		[SHIM_SYSV_REGIONS] = "regions",
	};
	int i = PARSE_CHOICE(v, names);

	if (i < 0)
		return false;
	*tables = (enum shim_sysv_tables)i;
	return true;
}

static bool parse_log_level(const char *v, enum shim_log_level *level)
{
	static const char *const names[] = {
		[SHIM_LOG_ERROR] = "error",
		[SHIM_LOG_WARN] = "warn",
		[SHIM_LOG_INFO] = "info",
		[SHIM_LOG_DEBUG] = "debug",
	};
	int i = PARSE_CHOICE(v, names);

	if (i < 0)
		return false;
	*level = (enum shim_log_level)i;
	return true;
}

static bool copy_path(const char *v, char *dest, size_t size, char *why,
		      size_t why_size)
{
	if (strlen(v) >= size) {
		shim_format(why, why_size, "path longer than %zu bytes", size - 1);
		return false;
	}
	strcpy(dest, v);
	return true;
}

/* Basenames separated by ':'; each non-empty and without '/'. */
static bool check_exe_list(const char *v, char *why, size_t why_size)
{
	unsigned index = 1;

	for (const char *p = v;; index++) {
		const char *colon = strchr(p, ':');
		size_t len = colon ? (size_t)(colon - p) : strlen(p);

		if (len == 0) {
			shim_format(why, why_size, "element %u is empty", index);
			return false;
		}
		if (memchr(p, '/', len)) {
			shim_format(why, why_size,
				    "element %u contains '/' (give basenames, like postgres)",
				    index);
			return false;
		}
		if (!colon)
			return true;
		p = colon + 1;
	}
}

/* Glob patterns separated by ':'; each checked by shim_glob_check(). */
static bool check_file_patterns(const char *v, char *why, size_t why_size)
{
	unsigned index = 1;

	for (const char *p = v;; index++) {
		const char *colon = strchr(p, ':');
		size_t len = colon ? (size_t)(colon - p) : strlen(p);
		char detail[160], shown[96];

		if (!shim_glob_check(p, len, detail, sizeof(detail))) {
			/* textfmt has no %.*s: copy the element to show it. */
			size_t n = len < sizeof(shown) - 1 ? len : sizeof(shown) - 1;

			memcpy(shown, p, n);
			shown[n] = '\0';
			shim_format(why, why_size, "pattern %u '%s' %s", index,
				    shown, detail);
			return false;
		}
		if (!colon)
			return true;
		p = colon + 1;
	}
}

/* Applies one variable's value; returns false (with why) if malformed. */
static bool apply(struct shim_config *config, enum variable var,
		  const char *v, char *why, size_t why_size)
{
	switch (var) {
	case VAR_MODE:
		if (parse_mode(v, &config->mode))
			return true;
		shim_format(why, why_size, "unknown mode (use off, try or strict)");
		return false;
	case VAR_LOG:
		if (parse_log_level(v, &config->log_level))
			return true;
		shim_format(why, why_size,
			    "unknown log level (use error, warn, info or debug)");
		return false;
	case VAR_LOG_FILE:
		/* Relative: a file in whatever directory each process is in. */
		if (v[0] != '/') {
			shim_format(why, why_size, "not an absolute path");
			return false;
		}
		return copy_path(v, config->log_file, sizeof(config->log_file),
				 why, why_size);
	case VAR_SHM:
		return shim_keylist_parse(v, &config->shm, why, why_size);
	case VAR_MIN_SIZE:
		return shim_size_parse(v, &config->min_size, why, why_size);
	case VAR_EXE:
		if (!check_exe_list(v, why, why_size))
			return false;
		return copy_path(v, config->exe_list, sizeof(config->exe_list),
				 why, why_size);
	case VAR_MOUNT:
		if (v[0] != '/') {
			shim_format(why, why_size, "not an absolute path");
			return false;
		}
		return copy_path(v, config->mount, sizeof(config->mount),
				 why, why_size);
	case VAR_FILES:
		if (!check_file_patterns(v, why, why_size))
			return false;
		return copy_path(v, config->files, sizeof(config->files),
				 why, why_size);
	case VAR_ANON:
		if (!shim_size_parse(v, &config->anon_min, why, why_size))
			return false;
		/* 0 reads like "off" but would back every size: refuse it. */
		if (config->anon_min == 0) {
			shim_format(why, why_size,
				    "0 would back every anonymous shared mapping (unset it to back none)");
			return false;
		}
		config->anon_set = true;
		return true;
	case VAR_SYSLOG:
		if (v[0] != '/') {
			shim_format(why, why_size,
				    "not an absolute path (the syslog socket, usually /dev/log)");
			return false;
		}
		return copy_path(v, config->syslog_socket,
				 sizeof(config->syslog_socket), why, why_size);
	case VAR_SYSV:
		if (parse_sysv_tables(v, &config->sysv_tables))
			return true;
		shim_format(why, why_size,
			    "unknown SysV page-table sharing (use auto, kernel or regions)");
		return false;
	case VAR_COUNT:
		break;
	}
	return false;
}

static void set_defaults(struct shim_config *config)
{
	memset(config, 0, sizeof(*config));
	config->mode = SHIM_MODE_TRY;
	config->log_level = SHIM_LOG_WARN;
	config->min_size = SHIM_DEFAULT_MIN_SIZE;
	strcpy(config->mount, "/sys/fs/mshare");
}

void shim_config_load(struct shim_config *config,
		      shim_getenv_fn getenv_fn, void *context)
{
	static struct file_values file;	/* too big for a small thread stack */
	const char *path = getenv_fn(CONFIG_FILE_VARIABLE, context);

	set_defaults(config);
	memset(&file, 0, sizeof(file));
	if (path && path[0])
		parse_file(config, path, &file);

	for (int var = 0; var < VAR_COUNT; var++) {
		const char *value = getenv_fn(variable_names[var], context);
		bool from_file = false;
		char why[SHIM_ERROR_MAX - 64];

		/* An empty variable counts as unset: "VAR= prog" is a slip. */
		if (!value || !value[0]) {
			value = file.value[var];
			from_file = true;
		}
		if (!value)
			continue;
		if (!apply(config, (enum variable)var, value, why, sizeof(why))) {
			if (from_file)
				report(config, "%s=%s line %u: %s='%s': %s",
				       CONFIG_FILE_VARIABLE, path, file.line[var],
				       variable_names[var], value, why);
			else
				report(config, "%s='%s': %s",
				       variable_names[var], value, why);
			/* A bad mode cannot be honoured either way: pass through. */
			if (var == VAR_MODE)
				config->mode = SHIM_MODE_TRY;
			continue;
		}
		/* "off" means no behaviour change: not even complaints. */
		if (var == VAR_MODE && config->mode == SHIM_MODE_OFF) {
			config->malformed = false;
			config->error[0] = '\0';
			return;
		}
	}
}

bool shim_config_exe_selected(const struct shim_config *config,
			      const char *exe_basename)
{
	if (config->exe_list[0] == '\0')
		return true;

	size_t want = strlen(exe_basename);

	for (const char *p = config->exe_list;;) {
		const char *colon = strchr(p, ':');
		size_t len = colon ? (size_t)(colon - p) : strlen(p);

		if (len == want && memcmp(p, exe_basename, len) == 0)
			return true;
		if (!colon)
			return false;
		p = colon + 1;
	}
}

bool shim_config_unknown_variable(const char *const *envp, char *name,
				  size_t size)
{
	static const char prefix[] = "MSHARE_SHIM_";

	for (; envp && *envp; envp++) {
		const char *entry = *envp;
		const char *eq = strchr(entry, '=');
		size_t len = eq ? (size_t)(eq - entry) : strlen(entry);
		bool known = len == strlen(CONFIG_FILE_VARIABLE) &&
			     memcmp(entry, CONFIG_FILE_VARIABLE, len) == 0;

		if (strncmp(entry, prefix, sizeof(prefix) - 1) != 0)
			continue;
		for (int var = 0; var < VAR_COUNT && !known; var++)
			known = len == strlen(variable_names[var]) &&
				memcmp(entry, variable_names[var], len) == 0;
		if (known)
			continue;
		if (size) {
			size_t n = len < size - 1 ? len : size - 1;

			memcpy(name, entry, n);
			name[n] = '\0';
		}
		return true;
	}
	return false;
}

bool shim_config_file_trusted(const struct stat *file, const struct stat *dir)
{
	return S_ISREG(file->st_mode) && file->st_uid == 0 &&
	       !(file->st_mode & (S_IWGRP | S_IWOTH)) &&
	       S_ISDIR(dir->st_mode) && dir->st_uid == 0 &&
	       !(dir->st_mode & (S_IWGRP | S_IWOTH));
}
