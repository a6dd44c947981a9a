/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "fake-env.h"

#include <string.h>

const char *fake_getenv(const char *name, void *context)
{
	struct fake_env *env = context;

	for (int i = 0; i < env->count; i++)
		if (strcmp(env->names[i], name) == 0)
			return env->values[i];
	return NULL;
}

void env_set(struct fake_env *env, const char *name, const char *value)
{
	env->names[env->count] = name;
	env->values[env->count] = value;
	env->count++;
}
