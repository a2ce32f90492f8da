/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The whole image set of a directory, loaded into memory and checked before
 * restore creates anything: inventory, pstree, and per process its core,
 * mm, pagemap (with the pages file open), the shared files table and the
 * descriptor table. Every message is validated on read by protobuf/; the
 * checks here are the ones that span messages and files (pids, threads,
 * pages inside VMAs, fds naming existing files).
 */
#ifndef RELIVE_IMAGE_SET_H
#define RELIVE_IMAGE_SET_H

#include <stddef.h>

#include "restore-mm.h"

#include "core.pb-c.h"
#include "fdinfo.pb-c.h"
#include "inventory.pb-c.h"
#include "mm.pb-c.h"
#include "pagemap.pb-c.h"
#include "pstree.pb-c.h"

struct img;
struct restore_pipes;
struct restore_shmem;

/* What one process of the tree needs, as loaded. */
struct image_proc {
	const PstreeEntry *pstree; /* points into image_set.pstree */
	TaskCoreEntry *core;
	MmEntry *mm;
	PagemapHead *pagemap_head;
	/* pages.entries and pages.pages_fd, the latter owned by pages_img. */
	struct mm_pages pages;
	struct img *pages_img;
	FdEntry **fds;
	size_t nr_fds;
};

struct image_set {
	InventoryEntry *inventory;
	PstreeEntry **pstree; /* parents first, pstree[0] is the root */
	size_t nr_procs;
	struct image_proc *procs; /* procs[i] belongs to pstree[i] */
	FilesHead *files_head;
	FileEntry **files;
	size_t nr_files;
	/* Pipes (restore-pipes.c) and shared memory objects (restore-shmem.c),
	 * recreated once by relive and shared by every user. */
	struct restore_pipes *pipes;
	struct restore_shmem *shmem;
};

/*
 * Load every image of dirfd (named dirname in messages) and check it.
 * Returns 0 with *ret filled, or -errno after one error naming the file.
 * A missing inventory.img means the set is incomplete (a dump that did not
 * finish): that is said as such.
 */
int image_set_load(int dirfd, const char *dirname, struct image_set *ret);

/*
 * The cross-checks image_set_load runs once everything is read: pstree
 * against cores, threads, pagemap entries inside VMAs and against the
 * pages file, fds against the files table. Pure: it only reads the set
 * (pages.pages_fd is not used; the pages file size is checked by the
 * loader). Returns 0 or -EINVAL after logging what is wrong and where.
 */
int image_set_check(const struct image_set *set);

/* Free everything; a zeroed set is fine. */
void image_set_free(struct image_set *set);

/* The file entry with this id, or NULL. */
const FileEntry *image_set_find_file(const struct image_set *set, uint32_t id);

#endif
