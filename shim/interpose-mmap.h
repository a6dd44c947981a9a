/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Setup of the mmap entry points (interpose-mmap.c), called by set_up(). */
#ifndef SHIM_INTERPOSE_MMAP_H
#define SHIM_INTERPOSE_MMAP_H

/* Arms the mmap paths if the configuration asks for backed mappings. */
void mmap_interpose_setup(void);

#endif
