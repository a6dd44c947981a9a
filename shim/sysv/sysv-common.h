/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the SysV paths (create, attach, control) share. */
#ifndef SHIM_SYSV_COMMON_H
#define SHIM_SYSV_COMMON_H

#include <errno.h>
#include <signal.h>
#include <stdbool.h>

#include "core/config.h"
#include "core/plan.h"
#include "core/unbacked-cache.h"
#include "msharefs/region.h"
#include "support/log.h"
#include "support/shim-state.h"

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

/* Segments share tables through the shim's regions (not the kernel's). */
static inline bool sysv_uses_regions(void)
{
	return shim_state.sysv_path == SHIM_SYSV_PATH_REGIONS;
}

/* Logs the refusal of a strict-mode call whose configuration is unusable. */
static inline void say_refused(const char *call)
{
	shim_log_once(SHIM_REASON_CONFIG_MALFORMED, SHIM_LOG_ERROR,
		      "refusing %s (ENOMEM): MSHARE_SHIM_MODE=strict and the configuration is malformed: %s",
		      call, config()->error);
}

/* Segments of this process known to have no region (sysv-attach.c). */
extern struct shim_unbacked_cache sysv_unbacked;

/*
 * The msharefs generation now (acquire), or 1 without mshare_generation:
 * an odd count records nothing and validates nothing.
 */
static inline uint64_t sysv_generation(const struct msharefs_state *ms)
{
	return ms->generation ? shim_generation_load(ms->generation) : 1;
}

static inline bool process_is_gone(pid_t pid)
{
	return kill(pid, 0) != 0 && errno == ESRCH;
}

#endif
