/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Lazy restore, restore side: create a userfaultfd inside a restored task,
 * register its private anonymous VMAs, take the fd out, and hand it to the
 * lazy-pages daemon (DESIGN.md, "Lazy pages"; Documentation/lazy-pages.md).
 *
 * Order in the restorer: restore_mm(rt, mm, pages, true) -> files ->
 * uffd_create_in_task() -> uffd_send_to_daemon() (success reply required)
 * -> close the returned uffd -> rseq, signals, credentials, ... -> detach.
 * The daemon must be serving before anything that touches lazy memory
 * (rseq registration writes into glibc's TLS) runs in the task.
 */
#ifndef RELIVE_UFFD_H
#define RELIVE_UFFD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "mm.pb-c.h"

struct remote;
struct mm_pages;

/*
 * In the ptrace-stopped task rt (rt->scratch: at least 256 writable bytes
 * for call arguments): userfaultfd(O_CLOEXEC|O_NONBLOCK) (or
 * /dev/userfaultfd when the syscall is refused with EPERM), UFFDIO_API with
 * the events the daemon needs (fork, remap, remove, unmap; an error names
 * those the kernel lacks), UFFDIO_REGISTER (missing mode) on every
 * VMA_ANON VMA of mm. The fd is then copied out with pidfd_getfd and
 * closed in the task. Returns 0 with our copy in *ret_uffd, or -errno.
 * Call it before credentials are dropped. pages may be NULL (only used
 * for the log).
 */
int uffd_create_in_task(struct remote *rt, const MmEntry *mm, const struct mm_pages *pages,
			int *ret_uffd);

/* WORKDIR/lazy-pages.socket into buf; -ENAMETOOLONG if it can't fit. */
int uffd_socket_path(const char *work_dir, char *buf, size_t len);

/*
 * Hand uffd over to the daemon listening on socket_path: image_pid is the
 * dumped pid (it names pagemap-PID.img), task the real pid of the
 * restored task now (a pidfd of it goes along, so that the daemon can kill
 * it if it must stop), nr_tasks the number of tasks this restore hands over
 * in all, image_set_id the id from inventory.img. Waits up to 10 s for
 * the daemon's answer. Returns 0 once the daemon holds the fd (only then
 * may the task run), or -errno with the reason printed. uffd stays ours:
 * close it afterwards either way.
 */
int uffd_send_to_daemon(const char *socket_path, uint32_t image_pid, pid_t task, uint32_t nr_tasks,
			const char *image_set_id, int uffd);

#endif
