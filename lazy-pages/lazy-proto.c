// SPDX-License-Identifier: GPL-2.0-or-later
/* Encoding and strict decoding of the uffd hand-over messages. */
#include <errno.h>
#include <string.h>

#include "lazy-proto.h"

/* Pids above this do not exist on Linux (PID_MAX_LIMIT). */
#define LP_PID_MAX 4194304u

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v;
	p[1] = v >> 8;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v);
	put16(p + 2, v >> 16);
}

static uint16_t get16(const uint8_t *p)
{
	return p[0] | (uint16_t)p[1] << 8;
}

static uint32_t get32(const uint8_t *p)
{
	return get16(p) | (uint32_t)get16(p + 2) << 16;
}

int lp_image_set_id_valid(const char *s)
{
	size_t i;

	for (i = 0; i < LP_IMAGE_SET_ID_LEN; i++) {
		char c = s[i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
			return 0;
	}
	return s[i] == '\0';
}

int lp_hello_encode(const struct lp_hello *h, uint8_t *buf, size_t len)
{
	if (len < LP_HELLO_SIZE || !h->image_pid || h->image_pid > LP_PID_MAX || !h->nr_tasks ||
	    h->nr_tasks > LP_MAX_TASKS || !lp_image_set_id_valid(h->image_set_id))
		return -EINVAL;
	memset(buf, 0, LP_HELLO_SIZE);
	put32(buf, LP_HELLO_MAGIC);
	put16(buf + 4, LP_PROTO_VERSION);
	put16(buf + 6, 0); /* flags, none defined */
	put32(buf + 8, h->image_pid);
	put32(buf + 12, h->nr_tasks);
	memcpy(buf + 16, h->image_set_id, LP_IMAGE_SET_ID_LEN);
	return LP_HELLO_SIZE;
}

int lp_hello_decode(const uint8_t *buf, size_t len, struct lp_hello *ret, const char **why)
{
	struct lp_hello h = {0};

	if (len != LP_HELLO_SIZE) {
		*why = "hello has the wrong size";
		return -EPROTO;
	}
	if (get32(buf) != LP_HELLO_MAGIC) {
		*why = "hello has a bad magic (not a relive restore?)";
		return -EPROTO;
	}
	if (get16(buf + 4) != LP_PROTO_VERSION) {
		*why = "hello has an unsupported protocol version";
		return -EPROTO;
	}
	if (get16(buf + 6) != 0) {
		*why = "hello has unknown flags";
		return -EPROTO;
	}
	h.image_pid = get32(buf + 8);
	if (!h.image_pid || h.image_pid > LP_PID_MAX) {
		*why = "hello names an impossible pid";
		return -EPROTO;
	}
	h.nr_tasks = get32(buf + 12);
	if (!h.nr_tasks || h.nr_tasks > LP_MAX_TASKS) {
		*why = "hello has an impossible task count";
		return -EPROTO;
	}
	memcpy(h.image_set_id, buf + 16, LP_IMAGE_SET_ID_LEN);
	h.image_set_id[LP_IMAGE_SET_ID_LEN] = '\0';
	if (!lp_image_set_id_valid(h.image_set_id)) {
		*why = "hello has a malformed image set id";
		return -EPROTO;
	}
	*ret = h;
	return 0;
}

int lp_reply_encode(const struct lp_reply *rp, uint8_t *buf, size_t len)
{
	size_t n = strnlen(rp->message, LP_MESSAGE_LEN);

	if (len < LP_REPLY_SIZE || rp->status > 0)
		return -EINVAL;
	memset(buf, 0, LP_REPLY_SIZE);
	put32(buf, LP_REPLY_MAGIC);
	put16(buf + 4, LP_PROTO_VERSION);
	put32(buf + 8, (uint32_t)rp->status);
	memcpy(buf + 12, rp->message, n);
	return LP_REPLY_SIZE;
}

int lp_reply_decode(const uint8_t *buf, size_t len, struct lp_reply *ret, const char **why)
{
	struct lp_reply rp = {0};
	size_t i;

	if (len != LP_REPLY_SIZE) {
		*why = "reply has the wrong size";
		return -EPROTO;
	}
	if (get32(buf) != LP_REPLY_MAGIC) {
		*why = "reply has a bad magic";
		return -EPROTO;
	}
	if (get16(buf + 4) != LP_PROTO_VERSION || get16(buf + 6) != 0) {
		*why = "reply has an unsupported protocol version";
		return -EPROTO;
	}
	rp.status = (int32_t)get32(buf + 8);
	if (rp.status > 0 || rp.status < -4095) {
		*why = "reply has an impossible status";
		return -EPROTO;
	}
	memcpy(rp.message, buf + 12, LP_MESSAGE_LEN);
	rp.message[LP_MESSAGE_LEN] = '\0';
	/* Printable text only: it ends up on a terminal. */
	for (i = 0; rp.message[i]; i++)
		if ((unsigned char)rp.message[i] < 0x20 || (unsigned char)rp.message[i] > 0x7e)
			rp.message[i] = '?';
	*ret = rp;
	return 0;
}
