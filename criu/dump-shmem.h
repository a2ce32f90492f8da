/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Shared memory objects of the dumped tree: shared anonymous memory
 * (MAP_SHARED|MAP_ANONYMOUS, "/dev/zero (deleted)" in maps) and memfds,
 * mapped or open. Each object, known by its inode, is saved once however
 * many VMAs and descriptors refer to it: shmem.img lists them, and the
 * pages of each, by offset, go into pagemap-shmem-ID.img and
 * pages-shmem-ID.img (ID the inode number). The content is read through
 * the object itself (map_files or the fd), so pages only another process
 * touched are not missed; holes and zero pages are left out.
 */
#ifndef RELIVE_DUMP_SHMEM_H
#define RELIVE_DUMP_SHMEM_H

#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

struct dump_shmem;
struct proc_vma;

/*
 * The object behind a shared VMA of pid whose kind is VMA_SHARED_ANON or
 * VMA_MEMFD: its id in *ret_shmid. The first sight of an object saves its
 * pages into dirfd. *sp is allocated on first use. Returns 0 or -errno,
 * logged ("not supported: ..." for hugetlb memory).
 */
int dump_shmem_vma(struct dump_shmem **sp, int dirfd, pid_t pid, const struct proc_vma *v, int kind,
		   uint64_t *ret_shmid);

/* The same for fd of pid, a memfd ("/memfd:NAME (deleted)" is link). */
int dump_shmem_memfd(struct dump_shmem **sp, int dirfd, pid_t pid, int fd, const char *link,
		     uint64_t *ret_shmid);

/* Write shmem.img into dirfd when any object was seen. */
int dump_shmem_write(const struct dump_shmem *s, int dirfd);

/* NULL is fine. */
void dump_shmem_free(struct dump_shmem *s);

/*
 * Save the pages of the shmem file fd (size bytes) as object id into
 * dirfd: pagemap-shmem-ID.img and pages-shmem-ID.img. Exposed for tests.
 */
int dump_shmem_pages(int dirfd, int fd, uint64_t id, uint64_t size);

/* "/memfd:NAME (deleted)" -> NAME in buf; -EINVAL if link is not that. */
int dump_memfd_name(const char *link, char *buf, size_t len);

#endif
