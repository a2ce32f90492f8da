/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The hand-over of a task's userfaultfd from restore to the lazy-pages
 * daemon, over the daemon's unix socket (SOCK_SEQPACKET, one message each
 * way). The restorer sends a hello naming the task with two fds attached
 * by SCM_RIGHTS (the uffd and a pidfd of the task); the daemon answers with
 * a reply. Both are fixed-size, little endian, versioned, and checked
 * strictly on receipt (see Documentation/lazy-pages.md).
 */
#ifndef RELIVE_LAZY_PROTO_H
#define RELIVE_LAZY_PROTO_H

#include <stddef.h>
#include <stdint.h>

#define LP_SOCKET_NAME	 "lazy-pages.socket"
#define LP_HELLO_MAGIC	 0x4c504831u /* "LPH1" */
#define LP_REPLY_MAGIC	 0x4c505231u /* "LPR1" */
#define LP_PROTO_VERSION 1
/* 32 hex characters, as in inventory.img. */
#define LP_IMAGE_SET_ID_LEN 32
#define LP_MESSAGE_LEN	    200

/* Wire sizes. */
#define LP_HELLO_SIZE (4 + 2 + 2 + 4 + 4 + LP_IMAGE_SET_ID_LEN)
#define LP_REPLY_SIZE (4 + 2 + 2 + 4 + LP_MESSAGE_LEN)

/* Fds attached to a hello, in this order. */
enum { LP_FD_UFFD = 0, LP_FD_PIDFD = 1, LP_NR_FDS = 2 };

/* Most tasks one restore may hand over. */
#define LP_MAX_TASKS (1u << 20)

struct lp_hello {
	uint32_t image_pid; /* the dumped pid: names pagemap-PID.img */
	/* Tasks this restore hands over in all: the daemon stays until it
	 * has seen them all, even if the first ones complete quickly. */
	uint32_t nr_tasks;
	char image_set_id[LP_IMAGE_SET_ID_LEN + 1];
};

struct lp_reply {
	int32_t status; /* 0 or -errno */
	char message[LP_MESSAGE_LEN + 1];
};

/* Is s a well-formed image set id (32 hex characters)? */
int lp_image_set_id_valid(const char *s);

/* Encode into buf (LP_HELLO_SIZE bytes); -EINVAL for a bad id or pid. */
int lp_hello_encode(const struct lp_hello *h, uint8_t *buf, size_t len);
/* Decode and validate len received bytes; -EPROTO with why set if bad. */
int lp_hello_decode(const uint8_t *buf, size_t len, struct lp_hello *ret, const char **why);

int lp_reply_encode(const struct lp_reply *rp, uint8_t *buf, size_t len);
int lp_reply_decode(const uint8_t *buf, size_t len, struct lp_reply *ret, const char **why);

#endif
