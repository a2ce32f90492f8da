/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * State of one address-space rebuild, shared by the restore-mm*.c files
 * only (restore-mm.h is the interface the rest of relive uses).
 */
#ifndef RELIVE_RESTORE_MM_CTX_H
#define RELIVE_RESTORE_MM_CTX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "mm.pb-c.h"

#define RMM_PAGE 4096ull

struct remote;
struct mm_pages;

struct vma_state {
	/* Protection the VMA is mapped with while it is filled. */
	uint32_t map_prot;
	/* It was a separate VMA next to one it would merge with: it needs an
	 * anon_vma of its own before both get the same flags. */
	bool keep_apart;
	/* At least one page was written into it. */
	bool written;
	/* Mapped with PROT_EXEC and MADV_DONTDUMP flipped (keep_apart). */
	bool flipped;
};

struct rmm_ctx {
	struct remote *rt;
	pid_t pid;
	const MmEntry *mm;
	const struct mm_pages *pages;
	bool lazy;
	/* Task memory for call arguments: the scratch area minus the page
	 * holding the syscall instruction. */
	unsigned long args;
	size_t args_len;
	/* Per dumped VMA, how it is being rebuilt. */
	struct vma_state *st;
	/* The file opened last in the task, reused by the next VMA of the
	 * same file (the segments of one ELF object come in a row). */
	int file_fd;
	const char *file_path;
	int file_flags;
	/* /proc/PID/mem, opened on first use. */
	int mem_fd;
};

static inline uint64_t vma_vmflags(const VmaEntry *v)
{
	return v->has_vmflags ? v->vmflags : 0;
}

#endif
