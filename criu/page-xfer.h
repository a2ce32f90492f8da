/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The page-server wire protocol (Documentation/page-server-protocol.md):
 * fixed-size little-endian headers, encoded and checked here with no I/O,
 * so that both ends and the unit tests share one definition. A connection
 * starts with a hello (magic, version, channel, image set identity) and
 * its reply; then fixed 24-byte messages follow, some with page data.
 * Everything decoded is checked: known type, sizes within the caps, page
 * alignment, addresses inside user space.
 */
#ifndef RELIVE_PAGE_XFER_H
#define RELIVE_PAGE_XFER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PX_MAGIC       0x58504c52u /* "RLPX" */
#define PX_REPLY_MAGIC 0x52504c52u /* "RLPR" */
#define PX_VERSION     1
#define PX_ID_LEN      32 /* image_set_id: 32 hex characters */
#define PX_PAGE	       4096u
/* Most pages one message may carry or ask for (1 MiB). */
#define PX_MAX_PAGES 256u
/* Highest user address + 1 on x86_64 (5-level paging). */
#define PX_USER_LIMIT (1ull << 56)
/* pid_max can't exceed this (PID_MAX_LIMIT). */
#define PX_MAX_TASK (1u << 22)

#define PX_HELLO_SIZE (4 + 2 + 2 + 4 + 4 + PX_ID_LEN)
#define PX_REPLY_SIZE (4 + 2 + 2 + 4 + 4)
#define PX_MSG_SIZE   24

/* What a connection is for, said in the hello. */
enum px_channel {
	PX_CH_FAULT = 1, /* lazy: request/reply, TCP_NODELAY */
	PX_CH_BULK = 2,	 /* lazy: pipelined background requests */
	PX_CH_PUSH = 3,	 /* pre-copy: a dump sends its pages to a page server */
};

enum px_type {
	/* lazy (daemon -> dump) */
	PX_REQ_PAGES = 1, /* task, vaddr, nr_pages: send these */
	PX_RUNNING = 2,	  /* the restored tree runs: the source must not resume */
	PX_DONE = 3,	  /* every page is in place: the final acknowledgement */
	/* lazy (dump -> daemon) */
	PX_PAGES = 4, /* nr_pages pages of data follow */
	PX_ZERO = 5,  /* the range reads as zeros: no data follows */
	PX_ERROR = 6, /* status says why; the connection closes */
	PX_DONE_ACK = 7,
	/* pre-copy (dump -> page-server) */
	PX_PUT_DATA = 8, /* task, nr_pages: raw pages, in pagemap order */
	PX_PUT_RUN = 9,	 /* task, vaddr, nr_pages, flags: one pagemap entry */
	PX_PUT_END = 10, /* task: its pagemap is complete (vaddr: data pages) */
	PX_TYPE_MAX = 11,
};

struct px_hello {
	uint16_t version;
	uint16_t channel; /* enum px_channel */
	uint32_t page_size;
	char image_set_id[PX_ID_LEN + 1];
};

struct px_hello_reply {
	uint16_t version;
	int32_t status;	   /* 0 or -errno: why the server refuses */
	uint32_t nr_tasks; /* tasks the server holds pages of */
};

struct px_msg {
	uint16_t type;	/* enum px_type */
	uint16_t flags; /* PX_PUT_RUN: pagemap flags */
	uint32_t task;	/* image pid */
	uint64_t vaddr;
	uint32_t nr_pages;
	int32_t status;
};

/* 32 lowercase or uppercase hex characters. */
bool px_id_valid(const char *id);

int px_hello_encode(const struct px_hello *h, uint8_t *buf, size_t len);
/* -EPROTO with *why set for a bad magic, version, channel, page size or id. */
int px_hello_decode(const uint8_t *buf, size_t len, struct px_hello *ret, const char **why);
int px_reply_encode(const struct px_hello_reply *r, uint8_t *buf, size_t len);
int px_reply_decode(const uint8_t *buf, size_t len, struct px_hello_reply *ret, const char **why);

int px_msg_encode(const struct px_msg *m, uint8_t *buf, size_t len);
/*
 * Decode and check one message: a known type, page-aligned addresses in
 * user space, page counts within PX_MAX_PAGES where data follows or is
 * asked for, a task id in range. -EPROTO with *why set otherwise.
 */
int px_msg_decode(const uint8_t *buf, size_t len, struct px_msg *ret, const char **why);

/* A run of pages that was dumped, as the server knows it. */
struct px_run {
	uint64_t vaddr;
	uint64_t nr_pages;
};

/*
 * Is [vaddr, vaddr + nr_pages pages) inside one run of runs (sorted,
 * disjoint)? The server answers only such requests.
 */
bool px_runs_contain(const struct px_run *runs, size_t nr, uint64_t vaddr, uint64_t nr_pages);

/*
 * Checks of the pagemap a page server receives: runs must be aligned,
 * non-empty, in user space, in increasing order after prev_end. Returns
 * 0 or -EPROTO with *why set; *prev_end moves past the run.
 */
int px_run_next_ok(uint64_t vaddr, uint64_t nr_pages, uint64_t *prev_end, const char **why);

#endif
