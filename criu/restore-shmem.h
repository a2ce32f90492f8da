/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Shared memory objects on restore: shared anonymous memory and memfds,
 * each dumped once (shmem.img, pagemap-shmem-ID.img, pages-shmem-ID.img)
 * and recreated once by relive, then mapped by every VMA of every process
 * that shared it and installed as a memfd descriptor where one was open.
 */
#ifndef RELIVE_RESTORE_SHMEM_H
#define RELIVE_RESTORE_SHMEM_H

#include "fdinfo.pb-c.h"

struct image_set;

/*
 * Open the memfd file description fe (FT_MEMFD) of set: returns in *ret_fd
 * a new fd (close-on-exec, owned by the caller) of the recreated memfd with
 * its name, size, content and seals, at the dumped offset and with the
 * dumped access mode and status flags. Every description and mapping of
 * the same dumped memfd refers to the same new one. Returns 0 or -errno,
 * logged.
 */
int restore_memfd_open(const struct image_set *set, const FileEntry *fe, int *ret_fd);

#endif
