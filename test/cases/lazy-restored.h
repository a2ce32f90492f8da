/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * For the lazy-* cases: tell, from inside a case, that it now runs as the
 * restored copy, so it can act on its memory at once, while a lazy restore
 * still has pages missing, instead of at SIGTERM when the background fill
 * is long done. Also: guarded regions and a count of pages not in place.
 */
#ifndef RELIVE_TEST_LAZY_RESTORED_H
#define RELIVE_TEST_LAZY_RESTORED_H

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "case.h"

#define LAZY_PG 4096ul

/*
 * The start time (field 22 of /proc/self/stat, clock ticks since boot). A
 * restored process is a new process: its start time differs from the one the
 * dumped process had, which the restore brings back in memory unchanged.
 * Returns 0 if it can't be read.
 */
static inline unsigned long long lazy_start_time(void)
{
	char buf[1024];
	unsigned long long t = 0;
	ssize_t n;
	char *p;
	int fd, field;

	fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* The command name (field 2) may hold spaces and parentheses. */
	p = strrchr(buf, ')');
	if (!p)
		return 0;
	/* Find the space before each of fields 3..22; field 22 follows the last. */
	for (field = 3; field <= 22; field++) {
		p = strchr(p + 1, ' ');
		if (!p)
			return 0;
	}
	if (sscanf(p + 1, "%llu", &t) != 1)
		return 0;
	return t;
}

static inline long long lazy_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Wake every 2 ms until this process is a restored copy of the one that
 * recorded @start, or SIGTERM arrived. True if restored. A process left
 * running by dump -R is never "restored" and waits for SIGTERM.
 *
 * /proc/self/stat is read only after a wake-up came late (20 ms): the
 * process was frozen, by a dump, and perhaps is a restored copy now. Reading
 * it every time would leave its fd open at the instant a dump freezes the
 * process now and then, and a restore refuses an open /proc file that is
 * not the same file any more.
 */
static inline bool lazy_wait_restored(unsigned long long start)
{
	const struct timespec ts = {0, 2 * 1000 * 1000};
	long long prev = lazy_now_ms();

	while (!test_stopped()) {
		long long now;

		nanosleep(&ts, NULL);
		now = lazy_now_ms();
		if (now - prev > 20) {
			unsigned long long t = lazy_start_time();

			if (t && t != start)
				return true;
		}
		prev = now;
	}
	return false;
}

/*
 * @len bytes of private anonymous read-write memory between two PROT_NONE
 * guard pages, so its VMA never merges with a neighbour and /proc/PID/maps
 * shows it as one line before and after a restore. Populated, so the fill
 * does not pay a first-touch fault per page.
 */
static inline void *lazy_guarded_region(size_t len)
{
	char *g;

	g = mmap(NULL, len + 2 * LAZY_PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (g == MAP_FAILED)
		test_setup_failed("mmap %zu bytes: %m", len);
	if (mprotect(g + LAZY_PG, len, PROT_READ | PROT_WRITE) < 0)
		test_setup_failed("mprotect: %m");
	/* Best effort: without it the fill is slower, not wrong. */
	madvise(g + LAZY_PG, len, MADV_POPULATE_WRITE);
	return g + LAZY_PG;
}

/*
 * How many pages of [addr, addr+len) are not in place (mincore), or -1.
 * No allocation: a malloc after the restore could create the heap and make
 * /proc/PID/maps differ from the dumped one.
 */
static inline long lazy_missing_pages(void *addr, size_t len)
{
	unsigned char vec[4096];
	size_t done, i, n;
	long missing = 0;

	for (done = 0; done < len; done += n * LAZY_PG) {
		n = (len - done) / LAZY_PG;
		if (n > sizeof(vec))
			n = sizeof(vec);
		if (mincore((char *)addr + done, n * LAZY_PG, vec) < 0)
			return -1;
		for (i = 0; i < n; i++)
			missing += !(vec[i] & 1);
	}
	return missing;
}

/* test_pattern words numbered from @buf, written to [off, off+len). */
static inline void lazy_fill(void *buf, size_t off, size_t len, uint64_t seed)
{
	uint64_t *w = buf;
	size_t i;

	for (i = off / 8; i < (off + len) / 8; i++)
		w[i] = test_pattern(seed, i);
}

/* Byte offset from @buf of the first word of [off, off+len) that is not
 * test_pattern(seed, its index from @buf), or -1. */
static inline long lazy_check(const void *buf, size_t off, size_t len, uint64_t seed)
{
	const uint64_t *w = buf;
	size_t i;

	for (i = off / 8; i < (off + len) / 8; i++)
		if (w[i] != test_pattern(seed, i))
			return (long)(i * 8);
	return -1;
}

/* First non-zero byte offset in [p, p+len), or -1. */
static inline long lazy_first_nonzero(const void *p, size_t len)
{
	const unsigned char *b = p;
	size_t i;

	for (i = 0; i < len; i++)
		if (b[i])
			return (long)i;
	return -1;
}

#endif
