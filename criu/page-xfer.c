// SPDX-License-Identifier: GPL-2.0-or-later
/* Page-server wire protocol: encode and check hellos and messages. */
#include <endian.h>
#include <errno.h>
#include <string.h>

#include "page-xfer.h"

static void put16(uint8_t *p, uint16_t v)
{
	v = htole16(v);
	memcpy(p, &v, sizeof(v));
}

static void put32(uint8_t *p, uint32_t v)
{
	v = htole32(v);
	memcpy(p, &v, sizeof(v));
}

static void put64(uint8_t *p, uint64_t v)
{
	v = htole64(v);
	memcpy(p, &v, sizeof(v));
}

static uint16_t get16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return le16toh(v);
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return le32toh(v);
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return le64toh(v);
}

static int bad(const char **why, const char *what)
{
	if (why)
		*why = what;
	return -EPROTO;
}

bool px_id_valid(const char *id)
{
	size_t i;

	for (i = 0; id[i]; i++) {
		char c = id[i];

		if (i >= PX_ID_LEN ||
		    !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
			return false;
	}
	return i == PX_ID_LEN;
}

int px_hello_encode(const struct px_hello *h, uint8_t *buf, size_t len)
{
	if (len < PX_HELLO_SIZE || !px_id_valid(h->image_set_id))
		return -EINVAL;
	put32(buf, PX_MAGIC);
	put16(buf + 4, h->version);
	put16(buf + 6, h->channel);
	put32(buf + 8, h->page_size);
	put32(buf + 12, 0);
	memcpy(buf + 16, h->image_set_id, PX_ID_LEN);
	return PX_HELLO_SIZE;
}

int px_hello_decode(const uint8_t *buf, size_t len, struct px_hello *ret, const char **why)
{
	struct px_hello h = {0};

	if (len != PX_HELLO_SIZE)
		return bad(why, "hello of the wrong size");
	if (get32(buf) != PX_MAGIC)
		return bad(why, "not a relive page-server hello (bad magic)");
	h.version = get16(buf + 4);
	if (h.version != PX_VERSION)
		return bad(why, "protocol version not supported");
	h.channel = get16(buf + 6);
	if (h.channel < PX_CH_FAULT || h.channel > PX_CH_PUSH)
		return bad(why, "unknown channel");
	h.page_size = get32(buf + 8);
	if (h.page_size != PX_PAGE)
		return bad(why, "page size is not 4096");
	if (get32(buf + 12))
		return bad(why, "reserved hello bytes are not zero");
	memcpy(h.image_set_id, buf + 16, PX_ID_LEN);
	h.image_set_id[PX_ID_LEN] = '\0';
	if (!px_id_valid(h.image_set_id))
		return bad(why, "malformed image set id");
	*ret = h;
	return 0;
}

int px_reply_encode(const struct px_hello_reply *r, uint8_t *buf, size_t len)
{
	if (len < PX_REPLY_SIZE)
		return -EINVAL;
	put32(buf, PX_REPLY_MAGIC);
	put16(buf + 4, r->version);
	put16(buf + 6, 0);
	put32(buf + 8, (uint32_t)r->status);
	put32(buf + 12, r->nr_tasks);
	return PX_REPLY_SIZE;
}

int px_reply_decode(const uint8_t *buf, size_t len, struct px_hello_reply *ret, const char **why)
{
	struct px_hello_reply r = {0};

	if (len != PX_REPLY_SIZE)
		return bad(why, "hello reply of the wrong size");
	if (get32(buf) != PX_REPLY_MAGIC)
		return bad(why, "not a relive page-server reply (bad magic)");
	r.version = get16(buf + 4);
	if (r.version != PX_VERSION)
		return bad(why, "protocol version not supported");
	if (get16(buf + 6))
		return bad(why, "reserved reply bytes are not zero");
	r.status = (int32_t)get32(buf + 8);
	if (r.status > 0 || r.status < -4095)
		return bad(why, "status is not 0 or -errno");
	r.nr_tasks = get32(buf + 12);
	*ret = r;
	return 0;
}

int px_msg_encode(const struct px_msg *m, uint8_t *buf, size_t len)
{
	if (len < PX_MSG_SIZE)
		return -EINVAL;
	put16(buf, m->type);
	put16(buf + 2, m->flags);
	put32(buf + 4, m->task);
	put64(buf + 8, m->vaddr);
	put32(buf + 16, m->nr_pages);
	put32(buf + 20, (uint32_t)m->status);
	return PX_MSG_SIZE;
}

/* [vaddr, +nr pages) page-aligned, non-empty, capped, in user space. */
static int check_range(const struct px_msg *m, uint32_t max, const char **why)
{
	if (m->vaddr % PX_PAGE)
		return bad(why, "address not page-aligned");
	if (!m->nr_pages)
		return bad(why, "no pages");
	if (m->nr_pages > max)
		return bad(why, "more pages than one message may carry");
	if (m->vaddr >= PX_USER_LIMIT ||
	    (uint64_t)m->nr_pages > (PX_USER_LIMIT - m->vaddr) / PX_PAGE)
		return bad(why, "range outside user space");
	return 0;
}

static int check_task(const struct px_msg *m, const char **why)
{
	if (!m->task || m->task >= PX_MAX_TASK)
		return bad(why, "task id out of range");
	return 0;
}

int px_msg_decode(const uint8_t *buf, size_t len, struct px_msg *ret, const char **why)
{
	struct px_msg m;
	int r = 0;

	if (len != PX_MSG_SIZE)
		return bad(why, "message of the wrong size");
	m.type = get16(buf);
	m.flags = get16(buf + 2);
	m.task = get32(buf + 4);
	m.vaddr = get64(buf + 8);
	m.nr_pages = get32(buf + 16);
	m.status = (int32_t)get32(buf + 20);
	if (m.type == 0 || m.type >= PX_TYPE_MAX)
		return bad(why, "unknown message type");
	if (m.type != PX_ERROR && m.status)
		return bad(why, "status set outside an error");
	if (m.type != PX_PUT_RUN && m.flags)
		return bad(why, "flags set outside a pagemap run");
	switch (m.type) {
	case PX_REQ_PAGES:
	case PX_PAGES:
	case PX_ZERO:
		r = check_task(&m, why);
		if (r == 0)
			r = check_range(&m, PX_MAX_PAGES, why);
		break;
	case PX_PUT_DATA:
		r = check_task(&m, why);
		if (r == 0 && m.vaddr)
			r = bad(why, "address set in a data message");
		if (r == 0 && (!m.nr_pages || m.nr_pages > PX_MAX_PAGES))
			r = bad(why, "page count out of range");
		break;
	case PX_PUT_RUN:
		/* A pagemap entry may be long; only its bounds matter here. */
		r = check_task(&m, why);
		if (r == 0)
			r = check_range(&m, UINT32_MAX, why);
		if (r == 0 && (m.flags & ~0xfu))
			r = bad(why, "unknown pagemap flags");
		break;
	case PX_PUT_END:
		r = check_task(&m, why);
		if (r == 0 && m.nr_pages)
			r = bad(why, "page count set in an end message");
		break;
	case PX_ERROR:
		if (m.status >= 0 || m.status < -4095)
			r = bad(why, "error without a -errno status");
		else if (m.task || m.vaddr || m.nr_pages)
			r = bad(why, "error with a range");
		break;
	default: /* RUNNING, DONE, DONE_ACK: nothing else may be set */
		if (m.task || m.vaddr || m.nr_pages)
			r = bad(why, "fields set in a control message");
		break;
	}
	if (r < 0)
		return r;
	*ret = m;
	return 0;
}

bool px_runs_contain(const struct px_run *runs, size_t nr, uint64_t vaddr, uint64_t nr_pages)
{
	size_t lo = 0, hi = nr;

	if (!nr_pages || nr_pages > PX_USER_LIMIT / PX_PAGE || vaddr >= PX_USER_LIMIT ||
	    nr_pages > (PX_USER_LIMIT - vaddr) / PX_PAGE)
		return false;
	/* The last run that starts at or below vaddr. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (runs[mid].vaddr <= vaddr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return false;
	lo--;
	return nr_pages <= runs[lo].nr_pages &&
	       vaddr - runs[lo].vaddr <= (runs[lo].nr_pages - nr_pages) * PX_PAGE;
}

int px_run_next_ok(uint64_t vaddr, uint64_t nr_pages, uint64_t *prev_end, const char **why)
{
	if (vaddr % PX_PAGE)
		return bad(why, "run address not page-aligned");
	if (!nr_pages || vaddr >= PX_USER_LIMIT || nr_pages > (PX_USER_LIMIT - vaddr) / PX_PAGE)
		return bad(why, "run empty or outside user space");
	if (vaddr < *prev_end)
		return bad(why, "run overlaps or precedes the one before");
	*prev_end = vaddr + nr_pages * PX_PAGE;
	return 0;
}
