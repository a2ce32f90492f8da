/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Address space of a dumped process: VMAs (mm-PID.img) and the pages worth
 * saving (pagemap-PID.img + pages-PID.img), read with process_vm_readv in
 * large batches. Uses the VMAs parsed before the scratch area was mapped.
 */
#ifndef RELIVE_DUMP_MM_H
#define RELIVE_DUMP_MM_H

#include <stdbool.h>
#include <stdint.h>

struct dump_ctx;
struct dump_task;
struct proc_vma;

/*
 * Bytes read from the task per batch (two batches are in flight: one being
 * read, one being written). Large enough that the syscalls do not count,
 * small enough that a batch is still in the CPU cache when it is written:
 * 1 MiB measured better than 4, 8 or 32 MiB (less CPU per GiB).
 */
#define DUMP_MM_BATCH (1u << 20)

/* Check every VMA is one we can save; logs "not supported: ..." if not. */
int dump_mm_check(const struct dump_task *t);
/* Write mm-PID.img, pagemap-PID.img and pages-PID.img. */
int dump_mm(struct dump_ctx *ctx, struct dump_task *t);

/* The vma_kind of mm.proto for a VMA, or -EOPNOTSUPP (with the reason in
 * why) when it is a kind we cannot dump yet. */
int dump_vma_kind(const struct proc_vma *v, char *why, size_t whylen);
/* True when the page is worth saving given its pagemap entry and VMA kind. */
bool dump_page_wanted(uint64_t pagemap_entry, int kind);

#endif
