// SPDX-License-Identifier: GPL-2.0-or-later
/* Page-server protocol: round trips, corrupt hellos and messages refused, range checks. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "page-xfer.h"

static int fails;
#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c)) {                                                                        \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c);      \
			fails++;                                                                   \
		}                                                                                  \
	} while (0)

static const char ID[] = "0123456789abcdef0123456789ABCDEF";

static void test_hello(void)
{
	struct px_hello h = {.version = PX_VERSION, .channel = PX_CH_BULK, .page_size = 4096}, d;
	uint8_t buf[PX_HELLO_SIZE], bad[PX_HELLO_SIZE];
	const char *why = NULL;
	/* offset, value: each makes the hello wrong */
	static const struct {
		size_t off;
		uint8_t val;
	} corrupt[] = {{0, 0}, {3, 0},	  {4, 2},  {6, 0},    {6, 4},
		       {8, 1}, {9, 0x20}, {12, 1}, {16, 'g'}, {47, 0}};

	strcpy(h.image_set_id, ID);
	CHECK(px_hello_encode(&h, buf, sizeof(buf)) == PX_HELLO_SIZE);
	CHECK(px_hello_decode(buf, sizeof(buf), &d, &why) == 0);
	CHECK(d.channel == PX_CH_BULK && d.version == PX_VERSION && !strcmp(d.image_set_id, ID));
	CHECK(px_hello_decode(buf, sizeof(buf) - 1, &d, &why) == -EPROTO);
	for (size_t i = 0; i < sizeof(corrupt) / sizeof(corrupt[0]); i++) {
		memcpy(bad, buf, sizeof(buf));
		bad[corrupt[i].off] = corrupt[i].val;
		why = NULL;
		if (px_hello_decode(bad, sizeof(bad), &d, &why) != -EPROTO || !why) {
			fprintf(stderr, "corrupt hello byte %zu accepted\n", corrupt[i].off);
			fails++;
		}
	}
	strcpy(h.image_set_id, "abc");
	CHECK(px_hello_encode(&h, buf, sizeof(buf)) == -EINVAL);
	CHECK(!px_id_valid("0123456789abcdef0123456789abcdef0"));
	CHECK(!px_id_valid(""));
	CHECK(px_id_valid(ID));
}

static void test_reply(void)
{
	struct px_hello_reply r = {.version = PX_VERSION, .status = -EXDEV, .nr_tasks = 3}, d;
	uint8_t buf[PX_REPLY_SIZE];
	const char *why;

	CHECK(px_reply_encode(&r, buf, sizeof(buf)) == PX_REPLY_SIZE);
	CHECK(px_reply_decode(buf, sizeof(buf), &d, &why) == 0);
	CHECK(d.status == -EXDEV && d.nr_tasks == 3);
	r.status = 5;
	px_reply_encode(&r, buf, sizeof(buf));
	CHECK(px_reply_decode(buf, sizeof(buf), &d, &why) == -EPROTO);
	r.status = 0;
	px_reply_encode(&r, buf, sizeof(buf));
	buf[1] ^= 1;
	CHECK(px_reply_decode(buf, sizeof(buf), &d, &why) == -EPROTO);
}

static int roundtrip(const struct px_msg *m, struct px_msg *d)
{
	uint8_t buf[PX_MSG_SIZE];
	const char *why = NULL;
	int r;

	if (px_msg_encode(m, buf, sizeof(buf)) != PX_MSG_SIZE)
		return -EINVAL;
	r = px_msg_decode(buf, sizeof(buf), d, &why);
	if (r < 0 && !why)
		return -EFAULT; /* a refusal must say why */
	return r;
}

static void test_msgs(void)
{
	struct px_msg d;
	const struct px_msg good[] = {
	    {.type = PX_REQ_PAGES, .task = 42, .vaddr = 0x7f0000000000, .nr_pages = 256},
	    {.type = PX_PAGES, .task = 42, .vaddr = 0x1000, .nr_pages = 1},
	    {.type = PX_ZERO, .task = 1, .vaddr = 0x1000, .nr_pages = 3},
	    {.type = PX_RUNNING},
	    {.type = PX_DONE},
	    {.type = PX_DONE_ACK},
	    {.type = PX_ERROR, .status = -ERANGE},
	    {.type = PX_PUT_DATA, .task = 7, .nr_pages = 256},
	    {.type = PX_PUT_RUN, .task = 7, .vaddr = 0x400000, .nr_pages = 1u << 20, .flags = 3},
	    {.type = PX_PUT_END, .task = 7, .vaddr = 12},
	};
	const struct px_msg badm[] = {
	    {.type = 0},
	    {.type = PX_TYPE_MAX},
	    {.type = PX_REQ_PAGES, .task = 42, .vaddr = 0x1001, .nr_pages = 1},	  /* unaligned */
	    {.type = PX_REQ_PAGES, .task = 42, .vaddr = 0x1000, .nr_pages = 0},	  /* empty */
	    {.type = PX_REQ_PAGES, .task = 42, .vaddr = 0x1000, .nr_pages = 257}, /* over cap */
	    {.type = PX_REQ_PAGES, .task = 0, .vaddr = 0x1000, .nr_pages = 1},	  /* no task */
	    {.type = PX_REQ_PAGES, .task = 1u << 22, .vaddr = 0x1000, .nr_pages = 1},
	    {.type = PX_REQ_PAGES, .task = 1, .vaddr = (1ull << 56) - 4096, .nr_pages = 2},
	    {.type = PX_PAGES, .task = 1, .vaddr = 0x1000, .nr_pages = 1, .status = -1},
	    {.type = PX_PAGES, .task = 1, .vaddr = 0x1000, .nr_pages = 1, .flags = 1},
	    {.type = PX_ERROR, .status = 0},
	    {.type = PX_ERROR, .status = -5000},
	    {.type = PX_ERROR, .status = -EIO, .task = 3},
	    {.type = PX_DONE, .task = 1},
	    {.type = PX_RUNNING, .nr_pages = 1},
	    {.type = PX_PUT_DATA, .task = 7, .nr_pages = 257},
	    {.type = PX_PUT_DATA, .task = 7, .nr_pages = 1, .vaddr = 4096},
	    {.type = PX_PUT_RUN, .task = 7, .vaddr = 0x400000, .nr_pages = 1, .flags = 0x10},
	    {.type = PX_PUT_END, .task = 7, .nr_pages = 1},
	};

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		int r = roundtrip(&good[i], &d);

		if (r < 0 || memcmp(&d, &good[i], sizeof(d))) {
			fprintf(stderr, "good message %zu (type %u) refused or changed: %d\n", i,
				good[i].type, r);
			fails++;
		}
	}
	for (size_t i = 0; i < sizeof(badm) / sizeof(badm[0]); i++)
		if (roundtrip(&badm[i], &d) != -EPROTO) {
			fprintf(stderr, "bad message %zu (type %u) accepted\n", i, badm[i].type);
			fails++;
		}
	{
		uint8_t buf[PX_MSG_SIZE] = {0};
		const char *why;

		CHECK(px_msg_decode(buf, sizeof(buf) - 1, &d, &why) == -EPROTO);
		CHECK(px_msg_encode(&good[0], buf, sizeof(buf) - 1) == -EINVAL);
	}
}

static void test_runs(void)
{
	const struct px_run runs[] = {{0x1000, 4}, {0x10000, 1}, {0x20000, 256}};
	const size_t n = sizeof(runs) / sizeof(runs[0]);
	uint64_t prev = 0;
	const char *why;

	CHECK(px_runs_contain(runs, n, 0x1000, 4));
	CHECK(px_runs_contain(runs, n, 0x4000, 1));
	CHECK(!px_runs_contain(runs, n, 0x4000, 2)); /* past the end */
	CHECK(!px_runs_contain(runs, n, 0x5000, 1)); /* between runs */
	CHECK(!px_runs_contain(runs, n, 0x0, 1));    /* before the first */
	CHECK(px_runs_contain(runs, n, 0x10000, 1));
	CHECK(!px_runs_contain(runs, n, 0xf000, 2)); /* starts before a run */
	CHECK(px_runs_contain(runs, n, 0x20000 + 255 * 4096, 1));
	CHECK(!px_runs_contain(runs, n, 0x20000 + 255 * 4096, 2));
	CHECK(!px_runs_contain(runs, n, 0x20000, 0));
	CHECK(!px_runs_contain(runs, n, 0x1000, 1ull << 60));
	CHECK(!px_runs_contain(NULL, 0, 0x1000, 1));

	CHECK(px_run_next_ok(0x1000, 2, &prev, &why) == 0 && prev == 0x3000);
	CHECK(px_run_next_ok(0x2000, 1, &prev, &why) == -EPROTO); /* overlaps */
	CHECK(px_run_next_ok(0x3000, 1, &prev, &why) == 0);
	CHECK(px_run_next_ok(0x5001, 1, &prev, &why) == -EPROTO);
	CHECK(px_run_next_ok(0x6000, 0, &prev, &why) == -EPROTO);
	CHECK(px_run_next_ok(1ull << 56, 1, &prev, &why) == -EPROTO);
}

int main(void)
{
	test_hello();
	test_reply();
	test_msgs();
	test_runs();
	if (fails) {
		fprintf(stderr, "%d check(s) failed\n", fails);
		return 1;
	}
	printf("page-xfer: all checks passed\n");
	return 0;
}
