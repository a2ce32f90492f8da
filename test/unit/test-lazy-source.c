// SPDX-License-Identifier: GPL-2.0-or-later
/* Local-images page source: fetch runs, and bad pagemaps refused. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "img.h"
#include "log.h"
#include "page-source.h"
#include "pagemap.pb-c.h"

static int fails;
#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c)) {                                                                        \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c);      \
			fails++;                                                                   \
		}                                                                                  \
	} while (0)

#define PG   4096ull
#define BASE 0x10000000ull
#define DATA (PAGEMAP_FLAG__PE_PAGES | PAGEMAP_FLAG__PE_LAZY)

struct ent {
	uint64_t vaddr, nr;
	uint32_t flags;
};

/* Write pagemap-PID.img (head as given) and a pages file of file_pages. */
static int write_set(int dirfd, uint32_t pid, uint64_t head_id, const struct ent *e, size_t nr,
		     uint64_t head_entries, uint64_t head_file_pages, uint64_t file_pages)
{
	PagemapHead head = PAGEMAP_HEAD__INIT;
	struct img *img = NULL;
	char name[64];
	uint8_t page[PG];
	int r;

	head.id = head_id;
	head.nr_entries = head_entries;
	head.nr_file_pages = head_file_pages;
	snprintf(name, sizeof(name), "pagemap-%u.img", pid);
	r = img_open_write(dirfd, name, IMG_PAGEMAP, &img);
	if (r == 0)
		r = img_write_msg(img, &head.base);
	for (size_t i = 0; r == 0 && i < nr; i++) {
		PagemapEntry pe = PAGEMAP_ENTRY__INIT;

		pe.vaddr = e[i].vaddr;
		pe.nr_pages = e[i].nr;
		pe.flags = e[i].flags;
		r = img_write_msg(img, &pe.base);
	}
	if (r == 0)
		r = img_commit(img);
	else
		img_close(img);
	if (r < 0)
		return r;
	snprintf(name, sizeof(name), "pages-%u.img", pid);
	r = img_open_write(dirfd, name, IMG_PAGES, &img);
	for (uint64_t p = 0; r == 0 && p < file_pages; p++) {
		memset(page, (int)(p + 1), sizeof(page));
		r = img_write_pages(img, page, sizeof(page));
	}
	if (r == 0)
		r = img_commit(img);
	else
		img_close(img);
	return r;
}

static int count_add(void *arg, uint64_t vaddr, uint64_t nr_pages)
{
	uint64_t *n = arg;

	*n += nr_pages;
	return 0;
}

static void test_fetch(int dirfd)
{
	/* data 4 | hole 2 | lazy zero 3 | data 2 (not lazy) | data 1 */
	static const struct ent e[] = {
	    {BASE, 4, DATA},
	    {BASE + 6 * PG, 3, PAGEMAP_FLAG__PE_LAZY},
	    {BASE + 9 * PG, 2, PAGEMAP_FLAG__PE_PAGES},
	    {BASE + 11 * PG, 1, DATA},
	};
	struct page_source *src = NULL;
	struct page_run run;
	uint64_t lazy = 0;

	CHECK(write_set(dirfd, 100, 100, e, 4, 4, 7, 7) == 0);
	CHECK(page_source_local_open(dirfd, &src) == 0);
	if (!src)
		return;
	CHECK(src->ops->open_task(src, 100, count_add, &lazy) == 0);
	CHECK(lazy == 5); /* lazy pages with data only */
	/* Data run, cut at the entry end. */
	CHECK(src->ops->fetch(src, 100, BASE + PG, 10, &run) == 0);
	CHECK(run.data && run.nr_pages == 3 && ((const uint8_t *)run.data)[0] == 2);
	/* Hole up to the next entry. */
	CHECK(src->ops->fetch(src, 100, BASE + 4 * PG, 10, &run) == 0);
	CHECK(!run.data && run.nr_pages == 2);
	/* A data-less entry is a hole too. */
	CHECK(src->ops->fetch(src, 100, BASE + 7 * PG, 10, &run) == 0);
	CHECK(!run.data && run.nr_pages == 2);
	/* File pages count on across entries: page 11 is file page 6. */
	CHECK(src->ops->fetch(src, 100, BASE + 11 * PG, 1, &run) == 0);
	CHECK(run.data && run.nr_pages == 1 && ((const uint8_t *)run.data)[PG - 1] == 7);
	/* Below and above everything: holes; the last one is as long as asked. */
	CHECK(src->ops->fetch(src, 100, BASE - 2 * PG, 5, &run) == 0);
	CHECK(!run.data && run.nr_pages == 2);
	CHECK(src->ops->fetch(src, 100, BASE + 100 * PG, 5, &run) == 0);
	CHECK(!run.data && run.nr_pages == 5);
	/* Unaligned, empty, unknown task. */
	CHECK(src->ops->fetch(src, 100, BASE + 1, 1, &run) == -EINVAL);
	CHECK(src->ops->fetch(src, 100, BASE, 0, &run) == -EINVAL);
	CHECK(src->ops->fetch(src, 101, BASE, 1, &run) == -EINVAL);
	page_source_close(src);
}

struct bad {
	const char *name;
	struct ent e[3];
	size_t nr;
	uint64_t head_id_delta, head_entries, head_file_pages, file_pages;
};

static const struct bad bads[] = {
    {"overlap", {{BASE, 4, DATA}, {BASE + 3 * PG, 1, DATA}}, 2, 0, 2, 5, 5},
    {"out of order", {{BASE + 8 * PG, 1, DATA}, {BASE, 1, DATA}}, 2, 0, 2, 2, 2},
    {"unaligned", {{BASE + 5, 1, DATA}}, 1, 0, 1, 1, 1},
    {"empty entry", {{BASE, 0, DATA}}, 1, 0, 1, 0, 0},
    {"beyond user space", {{1ull << 60, 1, DATA}}, 1, 0, 1, 1, 1},
    {"wrapping", {{BASE, 1ull << 52, DATA}}, 1, 0, 1, 1ull << 52, 1},
    {"fewer entries than the head", {{BASE, 1, DATA}}, 1, 0, 2, 1, 1},
    {"more entries than the head", {{BASE, 1, DATA}, {BASE + PG, 1, DATA}}, 2, 0, 1, 2, 2},
    {"file page count", {{BASE, 2, DATA}}, 1, 0, 1, 3, 3},
    {"truncated pages file", {{BASE, 4, DATA}}, 1, 0, 1, 4, 3},
    {"other id", {{BASE, 1, DATA}}, 1, 1, 1, 1, 1},
};

static void test_bad(int dirfd)
{
	for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		const struct bad *b = &bads[i];
		uint32_t pid = 200 + (uint32_t)i;
		struct page_source *src = NULL;
		uint64_t lazy = 0;
		int r;

		CHECK(write_set(dirfd, pid, pid + b->head_id_delta, b->e, b->nr, b->head_entries,
				b->head_file_pages, b->file_pages) == 0);
		CHECK(page_source_local_open(dirfd, &src) == 0);
		if (!src)
			continue;
		r = src->ops->open_task(src, pid, count_add, &lazy);
		if (r != -EINVAL) {
			fprintf(stderr, "bad pagemap '%s': open_task returned %d\n", b->name, r);
			fails++;
		}
		page_source_close(src);
	}
}

int main(void)
{
	char dir[] = "/tmp/relive-lazy-src-XXXXXX";
	char cmd[64];
	int dirfd;

	/* The refusals are expected: LAZY_TEST_VERBOSE shows them. */
	log_init(getenv("LAZY_TEST_VERBOSE") ? LOG_ERROR : LOG_MSG, NULL);
	if (!mkdtemp(dir))
		return 1;
	dirfd = open(dir, O_RDONLY | O_DIRECTORY);
	test_fetch(dirfd);
	test_bad(dirfd);
	close(dirfd);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd))
		fprintf(stderr, "cannot remove %s\n", dir);
	if (fails) {
		fprintf(stderr, "%d checks failed\n", fails);
		return 1;
	}
	printf("ok\n");
	return 0;
}
