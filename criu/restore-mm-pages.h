/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Contents of a rebuilt address space: the pages of the image written into
 * the task in large process_vm_writev batches straight from the mapped
 * pages file, /proc/PID/mem for VMAs that are not writable while filled.
 */
#ifndef RELIVE_RESTORE_MM_PAGES_H
#define RELIVE_RESTORE_MM_PAGES_H

#include <stdint.h>

struct rmm_ctx;

/*
 * Write every page of c->pages with PE_PAGES into the mapped VMAs (all
 * but the lazy ones of private anonymous VMAs when c->lazy), and one page
 * into every VMA kept apart. Checks every page lies in a VMA of the image
 * that is restored from pages. *ret_bytes counts what was written.
 */
int restore_mm_write_pages(struct rmm_ctx *c, uint64_t *ret_bytes);

#endif
