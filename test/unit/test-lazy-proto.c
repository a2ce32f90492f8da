// SPDX-License-Identifier: GPL-2.0-or-later
/* Hand-over messages: round trips, and garbage rejected. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lazy-proto.h"

static int fails;
#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c)) {                                                                        \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c);      \
			fails++;                                                                   \
		}                                                                                  \
	} while (0)

static const char ID[] = "0123456789abcdef0123456789ABCDEF";

static void test_hello_roundtrip(void)
{
	struct lp_hello h = {.image_pid = 4242, .nr_tasks = 3}, d;
	uint8_t buf[LP_HELLO_SIZE];
	const char *why = NULL;

	strcpy(h.image_set_id, ID);
	CHECK(lp_hello_encode(&h, buf, sizeof(buf)) == LP_HELLO_SIZE);
	CHECK(lp_hello_decode(buf, sizeof(buf), &d, &why) == 0);
	CHECK(d.image_pid == 4242 && d.nr_tasks == 3 && !strcmp(d.image_set_id, ID));
}

static void test_hello_encode_refuses(void)
{
	struct lp_hello h = {.image_pid = 1, .nr_tasks = 1};
	uint8_t buf[LP_HELLO_SIZE];

	strcpy(h.image_set_id, "xyz");
	CHECK(lp_hello_encode(&h, buf, sizeof(buf)) == -EINVAL);
	strcpy(h.image_set_id, ID);
	h.image_pid = 0;
	CHECK(lp_hello_encode(&h, buf, sizeof(buf)) == -EINVAL);
	h.image_pid = 1;
	h.nr_tasks = 0;
	CHECK(lp_hello_encode(&h, buf, sizeof(buf)) == -EINVAL);
	h.nr_tasks = 1;
	CHECK(lp_hello_encode(&h, buf, sizeof(buf) - 1) == -EINVAL);
}

/* A good hello with one byte changed at off to val must be refused. */
struct corrupt {
	const char *name;
	size_t off;
	uint8_t val;
};

static const struct corrupt corruptions[] = {
    {"magic", 0, 0x00},	      {"magic high", 3, 0xff},
    {"version", 4, 2},	      {"flags", 6, 1},
    {"pid zero", 8, 0},	      {"pid huge", 11, 0xff},
    {"tasks huge", 15, 0x80}, {"id not hex", 16, 'g'},
    {"id NUL", 20, 0},	      {"id last not hex", 47, ' '},
};

static void test_hello_corrupt(void)
{
	struct lp_hello h = {.image_pid = 7, .nr_tasks = 1}, d;
	uint8_t good[LP_HELLO_SIZE], buf[LP_HELLO_SIZE + 8];
	const char *why;

	strcpy(h.image_set_id, ID);
	CHECK(lp_hello_encode(&h, good, sizeof(good)) == LP_HELLO_SIZE);
	for (size_t i = 0; i < sizeof(corruptions) / sizeof(corruptions[0]); i++) {
		const struct corrupt *c = &corruptions[i];

		memcpy(buf, good, sizeof(good));
		/* "pid zero" needs all four bytes cleared. */
		if (!strcmp(c->name, "pid zero"))
			memset(buf + 8, 0, 4);
		else
			buf[c->off] = c->val;
		why = NULL;
		if (lp_hello_decode(buf, sizeof(good), &d, &why) != -EPROTO || !why) {
			fprintf(stderr, "corrupt hello '%s' accepted\n", c->name);
			fails++;
		}
	}
	/* Short, long, empty. */
	CHECK(lp_hello_decode(good, sizeof(good) - 1, &d, &why) == -EPROTO);
	memcpy(buf, good, sizeof(good));
	CHECK(lp_hello_decode(buf, sizeof(good) + 1, &d, &why) == -EPROTO);
	CHECK(lp_hello_decode(good, 0, &d, &why) == -EPROTO);
	/* Pure garbage. */
	memset(buf, 0xa5, sizeof(buf));
	CHECK(lp_hello_decode(buf, LP_HELLO_SIZE, &d, &why) == -EPROTO);
}

static void test_reply(void)
{
	struct lp_reply rp = {.status = -EXDEV}, d;
	uint8_t buf[LP_REPLY_SIZE + 4];
	const char *why;

	strcpy(rp.message, "wrong image set\n\x01");
	CHECK(lp_reply_encode(&rp, buf, sizeof(buf)) == LP_REPLY_SIZE);
	CHECK(lp_reply_decode(buf, LP_REPLY_SIZE, &d, &why) == 0);
	CHECK(d.status == -EXDEV);
	/* Control characters are not passed on to a terminal. */
	CHECK(!strcmp(d.message, "wrong image set??"));
	/* A full-length message stays terminated. */
	memset(rp.message, 'x', LP_MESSAGE_LEN);
	rp.message[LP_MESSAGE_LEN] = '\0';
	CHECK(lp_reply_encode(&rp, buf, sizeof(buf)) == LP_REPLY_SIZE);
	CHECK(lp_reply_decode(buf, LP_REPLY_SIZE, &d, &why) == 0);
	CHECK(strlen(d.message) == LP_MESSAGE_LEN);
	/* Positive status is not a thing. */
	rp.status = 5;
	CHECK(lp_reply_encode(&rp, buf, sizeof(buf)) == -EINVAL);
	rp.status = 0;
	CHECK(lp_reply_encode(&rp, buf, sizeof(buf)) == LP_REPLY_SIZE);
	buf[8] = 5; /* status 5 on the wire */
	CHECK(lp_reply_decode(buf, LP_REPLY_SIZE, &d, &why) == -EPROTO);
	buf[8] = 0;
	buf[0] ^= 1;
	CHECK(lp_reply_decode(buf, LP_REPLY_SIZE, &d, &why) == -EPROTO);
	buf[0] ^= 1;
	buf[4] = 9;
	CHECK(lp_reply_decode(buf, LP_REPLY_SIZE, &d, &why) == -EPROTO);
	buf[4] = 1;
	CHECK(lp_reply_decode(buf, LP_REPLY_SIZE - 1, &d, &why) == -EPROTO);
	CHECK(lp_reply_decode(buf, LP_REPLY_SIZE, &d, &why) == 0);
}

int main(void)
{
	test_hello_roundtrip();
	test_hello_encode_refuses();
	test_hello_corrupt();
	test_reply();
	if (fails) {
		fprintf(stderr, "%d checks failed\n", fails);
		return 1;
	}
	printf("ok\n");
	return 0;
}
