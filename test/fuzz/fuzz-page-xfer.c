// SPDX-License-Identifier: GPL-2.0-or-later
/* libFuzzer harness: arbitrary bytes through the page-server protocol decoders and range checks. */
#include <endian.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "page-xfer.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * Byte 0 picks what the rest is (its value modulo the count):
 *   0 a hello, 1 a hello reply, 2 a stream of 24-byte messages (a short
 *   tail too), 3 records of [kind u8][vaddr u64 LE][nr_pages u64 LE]: an
 *   odd kind is a pagemap run offered to px_run_next_ok (accepted ones
 *   become the server's run list), an even kind a request checked with
 *   px_runs_contain against a plain scan of that list.
 * What a decoder accepts must encode back to the bytes received (every
 * byte of every header is checked), and px_runs_contain must agree with
 * the scan; any disagreement aborts, which libFuzzer reports as a crash.
 */
enum { FUZZ_HELLO, FUZZ_REPLY, FUZZ_MSGS, FUZZ_RUNS, FUZZ_NR };

#define RUN_RECORD (1 + 8 + 8)
#define MAX_RUNS   256

static const char ID[] = "0123456789abcdef0123456789ABCDEF";

static void write_seed(const char *dir, const char *name, const uint8_t *buf, size_t len)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (!f || fwrite(buf, 1, len, f) != len || fclose(f))
		abort();
}

/* One seed: the mode byte then an encoder's output. */
static void write_encoded(const char *dir, const char *name, uint8_t mode, uint8_t *buf, int len)
{
	if (len < 0)
		abort();
	memmove(buf + 1, buf, len);
	buf[0] = '0' + mode;
	write_seed(dir, name, buf, len + 1);
}

static size_t put_record(uint8_t *p, uint8_t kind, uint64_t vaddr, uint64_t nr_pages)
{
	p[0] = kind;
	vaddr = htole64(vaddr);
	nr_pages = htole64(nr_pages);
	memcpy(p + 1, &vaddr, 8);
	memcpy(p + 9, &nr_pages, 8);
	return RUN_RECORD;
}

/*
 * RELIVE_FUZZ_WRITE_SEEDS=DIR: write the seed corpus, made by the
 * encoders, into DIR and exit. This is how corpus-page-xfer was made; run
 * it again when the wire format changes.
 */
static void write_seeds(const char *dir)
{
	static const struct px_msg msgs[] = {
	    {.type = PX_REQ_PAGES, .task = 4242, .vaddr = 0x7f0000001000, .nr_pages = 16},
	    {.type = PX_RUNNING},
	    {.type = PX_DONE},
	    {.type = PX_PAGES, .task = 4242, .vaddr = 0x7f0000001000, .nr_pages = PX_MAX_PAGES},
	    {.type = PX_ZERO, .task = 1, .vaddr = 0x1000, .nr_pages = 1},
	    {.type = PX_ERROR, .status = -EFAULT},
	    {.type = PX_DONE_ACK},
	    {.type = PX_PUT_DATA, .task = 4242, .nr_pages = 3},
	    {.type = PX_PUT_RUN,
	     .flags = 0x3,
	     .task = 4242,
	     .vaddr = 0x55d000000000,
	     .nr_pages = 1000},
	    {.type = PX_PUT_END, .task = 4242, .vaddr = 3},
	};
	uint8_t buf[1 + sizeof(msgs) / sizeof(msgs[0]) * PX_MSG_SIZE + 64];
	char name[32];
	size_t off;

	for (uint16_t ch = PX_CH_FAULT; ch <= PX_CH_PUSH; ch++) {
		struct px_hello h = {.version = PX_VERSION, .channel = ch, .page_size = PX_PAGE};

		memcpy(h.image_set_id, ID, sizeof(ID));
		snprintf(name, sizeof(name), "hello-%u", ch);
		write_encoded(dir, name, FUZZ_HELLO, buf, px_hello_encode(&h, buf, sizeof(buf)));
	}
	{
		struct px_hello_reply ok = {.version = PX_VERSION, .nr_tasks = 3};
		struct px_hello_reply no = {.version = PX_VERSION, .status = -EXDEV};

		write_encoded(dir, "reply-ok", FUZZ_REPLY, buf,
			      px_reply_encode(&ok, buf, sizeof(buf)));
		write_encoded(dir, "reply-refused", FUZZ_REPLY, buf,
			      px_reply_encode(&no, buf, sizeof(buf)));
	}
	/* Each message alone, then all of them as one stream. */
	for (size_t i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++) {
		snprintf(name, sizeof(name), "msg-%u", msgs[i].type);
		write_encoded(dir, name, FUZZ_MSGS, buf, px_msg_encode(&msgs[i], buf, sizeof(buf)));
	}
	buf[0] = '0' + FUZZ_MSGS;
	off = 1;
	for (size_t i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++) {
		int n = px_msg_encode(&msgs[i], buf + off, sizeof(buf) - off);

		if (n < 0)
			abort();
		off += n;
	}
	write_seed(dir, "msg-stream", buf, off);
	/* Three runs, then requests inside, across and outside them. */
	{
		uint8_t rec[1 + 9 * RUN_RECORD];

		rec[0] = '0' + FUZZ_RUNS;
		off = 1;
		off += put_record(rec + off, 1, 0x400000, 4);
		off += put_record(rec + off, 1, 0x405000, 1);
		off += put_record(rec + off, 1, 0x7ffc00000000, 33);
		off += put_record(rec + off, 0, 0x401000, 3);
		off += put_record(rec + off, 0, 0x403000, 2);
		off += put_record(rec + off, 0, 0x405000, 1);
		off += put_record(rec + off, 0, 0x7ffc00020000, 1);
		off += put_record(rec + off, 0, 0x7ffc00021000, 1);
		off += put_record(rec + off, 0, 0x1000, 1);
		write_seed(dir, "runs", rec, off);
	}
	exit(0);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *dir = getenv("RELIVE_FUZZ_WRITE_SEEDS");

	if (dir)
		write_seeds(dir);
	return 0;
}

static void fuzz_hello(const uint8_t *p, size_t len)
{
	uint8_t buf[PX_HELLO_SIZE];
	struct px_hello h;
	const char *why = NULL;
	char *id;

	if (px_hello_decode(p, len, &h, &why) < 0) {
		if (!why)
			abort();
	} else if (px_hello_encode(&h, buf, sizeof(buf)) != PX_HELLO_SIZE || len != sizeof(buf) ||
		   memcmp(buf, p, len)) {
		abort();
	}
	/* The id check on any string: valid is exactly 32 hex digits. */
	id = strndup((const char *)p, len);
	if (!id)
		abort();
	if (px_id_valid(id) !=
	    (strlen(id) == PX_ID_LEN && strspn(id, "0123456789abcdefABCDEF") == PX_ID_LEN))
		abort();
	free(id);
}

static void fuzz_reply(const uint8_t *p, size_t len)
{
	uint8_t buf[PX_REPLY_SIZE];
	struct px_hello_reply r;
	const char *why = NULL;

	if (px_reply_decode(p, len, &r, &why) < 0) {
		if (!why)
			abort();
		return;
	}
	if (r.status > 0 || px_reply_encode(&r, buf, sizeof(buf)) != PX_REPLY_SIZE ||
	    len != sizeof(buf) || memcmp(buf, p, len))
		abort();
}

/* Promises of px_msg_decode for what it accepts. */
static void check_msg(const struct px_msg *m)
{
	if (m->type == 0 || m->type >= PX_TYPE_MAX || (m->type != PX_ERROR && m->status) ||
	    (m->type == PX_ERROR && m->status >= 0))
		abort();
	switch (m->type) {
	case PX_REQ_PAGES:
	case PX_PAGES:
	case PX_ZERO:
	case PX_PUT_RUN:
		if (m->vaddr % PX_PAGE || !m->nr_pages || !m->task || m->task >= PX_MAX_TASK ||
		    m->vaddr + (unsigned __int128)m->nr_pages * PX_PAGE > PX_USER_LIMIT)
			abort();
		if (m->type != PX_PUT_RUN && m->nr_pages > PX_MAX_PAGES)
			abort();
		break;
	case PX_PUT_DATA:
		if (!m->nr_pages || m->nr_pages > PX_MAX_PAGES)
			abort();
		break;
	}
}

static void fuzz_msgs(const uint8_t *p, size_t len)
{
	for (size_t off = 0; off < len; off += PX_MSG_SIZE) {
		size_t n = len - off < PX_MSG_SIZE ? len - off : PX_MSG_SIZE;
		uint8_t buf[PX_MSG_SIZE];
		const char *why = NULL;
		struct px_msg m;

		if (px_msg_decode(p + off, n, &m, &why) < 0) {
			if (!why)
				abort();
			continue;
		}
		check_msg(&m);
		if (px_msg_encode(&m, buf, sizeof(buf)) != PX_MSG_SIZE || n != PX_MSG_SIZE ||
		    memcmp(buf, p + off, n))
			abort();
	}
}

/* The plain answer px_runs_contain must give, in 128-bit arithmetic. */
static bool runs_contain_scan(const struct px_run *runs, size_t nr, uint64_t vaddr,
			      uint64_t nr_pages)
{
	unsigned __int128 end = vaddr + (unsigned __int128)nr_pages * PX_PAGE;

	if (!nr_pages || end > PX_USER_LIMIT)
		return false;
	for (size_t i = 0; i < nr; i++)
		if (runs[i].vaddr <= vaddr &&
		    end <= runs[i].vaddr + (unsigned __int128)runs[i].nr_pages * PX_PAGE)
			return true;
	return false;
}

static void fuzz_runs(const uint8_t *p, size_t len)
{
	struct px_run runs[MAX_RUNS];
	uint64_t prev_end = 0;
	size_t nr = 0;

	for (size_t off = 0; len - off >= RUN_RECORD; off += RUN_RECORD) {
		uint64_t vaddr, nr_pages;

		memcpy(&vaddr, p + off + 1, 8);
		memcpy(&nr_pages, p + off + 9, 8);
		vaddr = le64toh(vaddr);
		nr_pages = le64toh(nr_pages);
		if (p[off] & 1) {
			const char *why = NULL;
			uint64_t before = prev_end;

			if (nr == MAX_RUNS)
				continue;
			if (px_run_next_ok(vaddr, nr_pages, &prev_end, &why) < 0) {
				if (!why || prev_end != before)
					abort();
				continue;
			}
			if (vaddr % PX_PAGE || vaddr < before || !nr_pages ||
			    prev_end != vaddr + (unsigned __int128)nr_pages * PX_PAGE ||
			    prev_end > PX_USER_LIMIT)
				abort();
			runs[nr++] = (struct px_run){vaddr, nr_pages};
		} else if (px_runs_contain(runs, nr, vaddr, nr_pages) !=
			   runs_contain_scan(runs, nr, vaddr, nr_pages)) {
			abort();
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	switch (data[0] % FUZZ_NR) {
	case FUZZ_HELLO:
		fuzz_hello(data + 1, size - 1);
		break;
	case FUZZ_REPLY:
		fuzz_reply(data + 1, size - 1);
		break;
	case FUZZ_MSGS:
		fuzz_msgs(data + 1, size - 1);
		break;
	case FUZZ_RUNS:
		fuzz_runs(data + 1, size - 1);
		break;
	}
	return 0;
}
