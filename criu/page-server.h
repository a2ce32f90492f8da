/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The TCP ends of the page-server protocol (page-xfer.h has the wire
 * format):
 * - the lazy server of `dump --lazy-pages`: serves the lazy runs of a
 *   frozen tree from its memory (process_vm_readv) until the destination
 *   acknowledges it has every page;
 * - the pre-copy pair: `dump --page-server` pushes its pages, `relive
 *   page-server` writes them as pagemap-ID.img + pages-ID.img;
 * - socket helpers the lazy-pages daemon's TCP source uses too.
 * See Documentation/page-server-protocol.md.
 */
#ifndef RELIVE_PAGE_SERVER_H
#define RELIVE_PAGE_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "page-xfer.h"

/* ---- sockets ---- */

/* Writes to a closed peer return -EPIPE instead of killing the process. */
void px_ignore_sigpipe(void);

/* Listen on addr (NULL: every address) and port. -EADDRINUSE is said as such. */
int px_listen(const char *addr, int port, int *ret_fd);
/*
 * Connect to addr:port, send a hello for channel with image set id, read
 * the reply. Returns 0 with *ret_fd, or -errno (the server's refusal
 * included), logged.
 */
int px_connect(const char *addr, int port, enum px_channel channel, const char *id, int *ret_fd,
	       uint32_t *ret_nr_tasks);
/* One message each way (blocking). recv: -ECONNRESET on EOF, -EPROTO if bad. */
int px_send_msg(int fd, const struct px_msg *m);
int px_recv_msg(int fd, struct px_msg *m);

/* ---- lazy server (dump --lazy-pages) ---- */

struct ps_lazy;

/* Bind and listen now, before the tree is frozen: a busy port fails early. */
int ps_lazy_new(const char *addr, int port, struct ps_lazy **ret);
/* Lazy run of task pid, in increasing address order per task. */
int ps_lazy_add_run(struct ps_lazy *s, uint32_t pid, uint64_t vaddr, uint64_t nr_pages);
uint64_t ps_lazy_nr_pages(const struct ps_lazy *s);
/*
 * Serve the tree (frozen, dumped as id) until a destination sends DONE
 * (returns 0), or fails: the destination lost or in error, or a signal
 * of sigs arrived (-errno, logged). *ret_running tells whether the
 * destination had reported its tree running before that.
 */
int ps_lazy_serve(struct ps_lazy *s, const char *id, bool *ret_running);
void ps_lazy_free(struct ps_lazy *s);

/* ---- pre-copy ---- */

struct ps_push;

/* dump --page-server: connect to the page server at addr:port. */
int ps_push_open(const char *addr, int port, struct ps_push **ret);
/* Raw pages of task pid, in pagemap order (len a multiple of 4096). Thread-safe per push. */
int ps_push_data(struct ps_push *p, uint32_t pid, const void *buf, size_t len);
/* One pagemap entry of task pid; then end the task. */
int ps_push_run(struct ps_push *p, uint32_t pid, uint64_t vaddr, uint64_t nr_pages, uint32_t flags);
int ps_push_end(struct ps_push *p, uint32_t pid, uint64_t data_pages);
/* Every task sent: wait for the server's acknowledgement that all is on disk. */
int ps_push_finish(struct ps_push *p);
void ps_push_free(struct ps_push *p);

/*
 * relive page-server: accept pushes on listen_fd until one completes,
 * writing into dirfd. Garbage connections are logged and dropped.
 * Returns 0 once a dump's pages are all on disk.
 */
int ps_receive(int listen_fd, int dirfd);

#endif
