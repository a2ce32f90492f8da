/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Semantic checks of every image message after unpacking: ranges, sizes,
 * enums, counts, and the rules that span the messages of one file. Called by
 * img_read_msg() only. */
#ifndef RELIVE_VALIDATE_H
#define RELIVE_VALIDATE_H

#include <stddef.h>
#include <stdint.h>

#include "img.h"

/* Limits an image may not exceed (documented in Documentation/image-format.md). */
#define VAL_PID_MAX	   4194304u /* PID_MAX_LIMIT on 64-bit */
#define VAL_TASK_SIZE	   0x7ffffffff000ull
#define VAL_VSYSCALL_START 0xffffffffff600000ull
#define VAL_MAX_PROCESSES  65536u
#define VAL_MAX_THREADS	   65536u /* per process */
#define VAL_MAX_VMAS	   1048576u
#define VAL_MAX_AUXV	   128u	  /* u64 words, pairs included */
#define VAL_MAX_GROUPS	   65536u /* NGROUPS_MAX */
#define VAL_MAX_PENDING	   65536u /* queued siginfos per list */
#define VAL_SIGINFO_SIZE   128u
#define VAL_XSTATE_MIN	   (512u + 64u) /* legacy FXSAVE area + XSAVE header */
#define VAL_XSTATE_MAX	   65536u
#define VAL_MAX_FD	   1048576u /* default fs.nr_open: fds are below it */
#define VAL_MAX_FILES	   1048576u
#define VAL_MAX_PAGEMAP	   (1u << 24)
#define VAL_COMM_MAX	   15u
#define VAL_PATH_MAX	   4095u /* PATH_MAX without the NUL */

/* A set of 32-bit keys (pids, fds, file ids), to find duplicates. */
struct val_set {
	uint64_t *slots; /* key + 1, 0 is empty */
	size_t cap, nr;
};

/*
 * What a file's earlier messages said, for the checks that span messages:
 * unique pids/tids/fds/ids, pstree parents first, pagemap entries sorted and
 * their count and page total matching the head.
 */
struct img_vstate {
	enum img_type type;
	struct val_set ids;  /* pstree pids, file ids, fd numbers */
	struct val_set tids; /* pstree: every tid of the tree */
	uint64_t expected;   /* pagemap nr_entries, files nr_files */
	uint64_t head_file_pages, file_pages;
	uint64_t prev_end; /* pagemap: end of the previous entry */
};

void img_vstate_init(struct img_vstate *s, enum img_type type);
void img_vstate_fini(struct img_vstate *s);

/*
 * Check msg, the idx-th message of the file, unpacked from raw/len. Returns 0,
 * -EINVAL with a reason ("vma 3: end 0x1000 below start 0x2000") written to
 * why, or -ENOMEM.
 */
int img_validate(struct img_vstate *s, unsigned idx, const ProtobufCMessage *msg,
		 const uint8_t *raw, size_t len, char *why, size_t whylen);
/* At a clean end of file after nr messages: counts that the head promised. */
int img_validate_end(struct img_vstate *s, unsigned nr, char *why, size_t whylen);

#endif
