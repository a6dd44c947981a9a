/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A made-up environment for shim_config_load() in the unit tests. */
#ifndef TESTS_SHIM_FAKE_ENV_H
#define TESTS_SHIM_FAKE_ENV_H

struct fake_env {
	const char *names[16];
	const char *values[16];
	int count;
};

/* shim_config_load()'s getenv: CONTEXT is the struct fake_env. */
const char *fake_getenv(const char *name, void *context);

/* Adds NAME=VALUE (both must outlive the environment). */
void env_set(struct fake_env *env, const char *name, const char *value);

#endif
