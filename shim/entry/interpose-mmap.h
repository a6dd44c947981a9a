/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Setup of the mmap entry points (interpose-mmap.c), called by set_up(). */
#ifndef SHIM_INTERPOSE_MMAP_H
#define SHIM_INTERPOSE_MMAP_H

#include <stdbool.h>

/* Arms the mmap paths if the configuration asks for backed mappings. */
void mmap_interpose_setup(void);

/* Whether it did: the fork handlers (fork.c) then include the mmap lock. */
bool mmap_interpose_armed(void);

#endif
