// SPDX-License-Identifier: GPL-2.0-or-later
/* A counter loop over 256 MiB of patterned anonymous memory, heap and stack data. */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "case.h"

#define BIG_SIZE    (256ul << 20)
#define HEAP_SIZE   (3ul << 20)
#define STACK_WORDS 8192

int main(int argc, char **argv)
{
	uint64_t stack_data[STACK_WORDS];
	volatile uint64_t counter = 0, shadow = 0;
	uint64_t at_ready;
	uint64_t *big, *heap;
	long bad;

	test_init(argc, argv);

	big = mmap(NULL, BIG_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (big == MAP_FAILED)
		test_setup_failed("mmap %lu bytes: %m", BIG_SIZE);
	heap = malloc(HEAP_SIZE);
	if (!heap)
		test_setup_failed("malloc");
	test_fill(big, BIG_SIZE, 0x1111);
	test_fill(heap, HEAP_SIZE, 0x2222);
	test_fill(stack_data, sizeof(stack_data), 0x3333);

	/* Run the loop a little before ready so the counter is non-zero. */
	while (counter < 1000) {
		shadow = counter;
		counter = shadow + 1;
	}
	at_ready = counter;
	test_ready();

	while (!test_stopped()) {
		uint64_t c = counter;

		/* The two copies live in different stack slots; a restore that
		 * loses or mixes up stack pages breaks their relation. */
		if (shadow + 1 != c) {
			test_note_fail("counter %llu and its shadow %llu disagree",
				       (unsigned long long)c, (unsigned long long)shadow);
			break;
		}
		shadow = c;
		counter = c + 1;
	}

	if (counter <= at_ready + 1)
		fail("the counter did not advance (at ready %llu, now %llu)",
		     (unsigned long long)at_ready, (unsigned long long)counter);
	bad = test_check(big, BIG_SIZE, 0x1111);
	if (bad >= 0)
		fail("anonymous mapping differs at offset %ld (page %ld)", bad, bad / 4096);
	bad = test_check(heap, HEAP_SIZE, 0x2222);
	if (bad >= 0)
		fail("heap buffer differs at offset %ld", bad);
	bad = test_check(stack_data, sizeof(stack_data), 0x3333);
	if (bad >= 0)
		fail("stack buffer differs at offset %ld", bad);
	test_msg("counter went from %llu to %llu", (unsigned long long)at_ready,
		 (unsigned long long)counter);
	pass();
}
