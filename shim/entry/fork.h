/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fork(): the shim's one pthread_atfork registration (fork.c). */
#ifndef SHIM_ENTRY_FORK_H
#define SHIM_ENTRY_FORK_H

/* Registers the handlers; called once, by set_up(). */
void shim_fork_handlers_install(void);

#endif
