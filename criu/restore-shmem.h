/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Shared memory objects on restore: shared anonymous memory and memfds,
 * each dumped once (shmem.img, pagemap-shmem-ID.img, pages-shmem-ID.img)
 * and recreated once by relive, then mapped by every VMA of every process
 * that shared it and installed as a memfd descriptor where one was open.
 */
#ifndef RELIVE_RESTORE_SHMEM_H
#define RELIVE_RESTORE_SHMEM_H

#include <stdint.h>
#include <sys/stat.h>

#include "fdinfo.pb-c.h"

struct image_set;
struct restore_shmem;

/*
 * Open the memfd file description fe (FT_MEMFD) of set: returns in *ret_fd
 * a new fd (close-on-exec, owned by the caller) of the recreated memfd with
 * its name, size, content and seals, at the dumped offset and with the
 * dumped access mode and status flags. Every description and mapping of
 * the same dumped memfd refers to the same new one. Returns 0 or -errno,
 * logged.
 */
int restore_memfd_open(const struct image_set *set, const FileEntry *fe, int *ret_fd);

/*
 * Load shmem.img and each object's pagemap and pages files from dirfd, and
 * check them against set (every shared VMA and memfd descriptor names an
 * object of the right kind; pages lie inside their object). A set without
 * shared memory gives *ret = NULL. Returns 0 or -errno, logged.
 */
int restore_shmem_load(int dirfd, const struct image_set *set, struct restore_shmem **ret);

/* Close every recreated object and free; NULL is fine. */
void restore_shmem_free(struct restore_shmem *s);

/*
 * relive's own fd of object shmid, recreated on first use (shared
 * anonymous memory by a shared anonymous mapping of relive's, reopened
 * through map_files so that the restored VMAs still show "/dev/zero
 * (deleted)"; a memfd by memfd_create with its name) with its size,
 * content and seals. *ret_st is its stat. The fd stays owned by s: a task
 * maps it by opening /proc/RELIVE_PID/fd/FD. Returns 0 or -errno, logged.
 */
int restore_shmem_fd(struct restore_shmem *s, uint64_t shmid, int *ret_fd, struct stat *ret_st);

#endif
