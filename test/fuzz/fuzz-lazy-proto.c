// SPDX-License-Identifier: GPL-2.0-or-later
/* libFuzzer harness: arbitrary bytes as a uffd hand-over hello or reply. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lazy-proto.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void write_seed(const char *dir, const char *name, const uint8_t *buf, int len)
{
	char path[4096];
	FILE *f;

	if (len < 0)
		abort();
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (!f || fwrite(buf, 1, len, f) != (size_t)len || fclose(f))
		abort();
}

/*
 * RELIVE_FUZZ_WRITE_SEEDS=DIR: write the seed corpus, messages made by the
 * encoders, into DIR and exit. This is how corpus-lazy-proto was made; run
 * it again when the wire format changes.
 */
static void write_seeds(const char *dir)
{
	static const struct lp_hello hellos[] = {
	    {1, 1, "0123456789abcdef0123456789abcdef"},
	    {4194304, 1u << 20, "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF"},
	    {4242, 3, "9f8e7d6c5b4a39281706f5e4d3c2b1a0"},
	};
	static const struct lp_reply replies[] = {
	    {0, ""},
	    {-22, "task 4242: pagemap-4242.img names a VMA the task does not have"},
	    {-4095, "x"},
	};
	uint8_t buf[LP_REPLY_SIZE];
	char name[32];

	for (size_t i = 0; i < sizeof(hellos) / sizeof(hellos[0]); i++) {
		snprintf(name, sizeof(name), "hello-%zu", i);
		write_seed(dir, name, buf, lp_hello_encode(&hellos[i], buf, sizeof(buf)));
	}
	for (size_t i = 0; i < sizeof(replies) / sizeof(replies[0]); i++) {
		snprintf(name, sizeof(name), "reply-%zu", i);
		write_seed(dir, name, buf, lp_reply_encode(&replies[i], buf, sizeof(buf)));
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

/*
 * The decoders are strict, so what they accept must survive a round trip:
 * a hello re-encodes to the very bytes received (every byte is checked), a
 * reply to bytes that decode to the same reply. Anything else aborts.
 */
static void fuzz_hello(const uint8_t *data, size_t size)
{
	struct lp_hello h, again;
	uint8_t buf[LP_HELLO_SIZE];
	const char *why = NULL;

	if (lp_hello_decode(data, size, &h, &why) < 0) {
		if (!why)
			abort();
		return;
	}
	if (lp_hello_encode(&h, buf, sizeof(buf)) != LP_HELLO_SIZE || size != LP_HELLO_SIZE ||
	    memcmp(buf, data, size))
		abort();
	if (lp_hello_decode(buf, sizeof(buf), &again, &why) < 0 || memcmp(&h, &again, sizeof(h)))
		abort();
}

static void fuzz_reply(const uint8_t *data, size_t size)
{
	struct lp_reply rp, again;
	uint8_t buf[LP_REPLY_SIZE];
	const char *why = NULL;

	if (lp_reply_decode(data, size, &rp, &why) < 0) {
		if (!why)
			abort();
		return;
	}
	/* The message is terminated and printable: it goes to a terminal. */
	if (rp.message[LP_MESSAGE_LEN] != '\0')
		abort();
	for (size_t i = 0; rp.message[i]; i++)
		if (rp.message[i] < 0x20 || rp.message[i] > 0x7e)
			abort();
	if (lp_reply_encode(&rp, buf, sizeof(buf)) != LP_REPLY_SIZE)
		abort();
	memset(&again, 0xa5, sizeof(again));
	if (lp_reply_decode(buf, sizeof(buf), &again, &why) < 0 || again.status != rp.status ||
	    strcmp(again.message, rp.message))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Sizes differ, so at most one decoder accepts; both run on every
	 * input, exercising the other's refusal path. */
	fuzz_hello(data, size);
	fuzz_reply(data, size);
	return 0;
}
