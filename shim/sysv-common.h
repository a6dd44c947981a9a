/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the SysV paths (create, attach, control) share. */
#ifndef SHIM_SYSV_COMMON_H
#define SHIM_SYSV_COMMON_H

#include <errno.h>
#include <signal.h>
#include <stdbool.h>

#include "config.h"
#include "log.h"
#include "plan.h"
#include "shim-state.h"

/* Room for a "why" message: a path plus an explanation. */
#define WHY_MAX 384

static inline const struct shim_config *config(void)
{
	return &shim_state.config;
}

static inline bool strict(void)
{
	return config()->mode == SHIM_MODE_STRICT;
}

/* Logs the refusal of a strict-mode call whose configuration is unusable. */
static inline void say_refused(const char *call)
{
	shim_log_once(SHIM_REASON_CONFIG_MALFORMED, SHIM_LOG_ERROR,
		      "refusing %s (ENOMEM): MSHARE_SHIM_MODE=strict and the configuration is malformed: %s",
		      call, config()->error);
}

static inline bool process_is_gone(pid_t pid)
{
	return kill(pid, 0) != 0 && errno == ESRCH;
}

#endif
