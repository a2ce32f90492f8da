// SPDX-License-Identifier: GPL-2.0-or-later
/* TCP page source against a small in-process page server: data, zeros, pipelining, a lost server.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "img.h"
#include "page-server.h"
#include "page-source.h"
#include "pagemap.pb-c.h"
#include "util.h"

static int fails;
#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c)) {                                                                        \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c);      \
			fails++;                                                                   \
		}                                                                                  \
	} while (0)

#define PG	4096ull
#define BASE	0x10000000ull
#define PID	42
#define NPAGES	4096		  /* one remote run of 16 MiB */
#define ZERO_AT (BASE + 100 * PG) /* pages 100..109 read as zeros */
#define REMOTE	(PAGEMAP_FLAG__PE_LAZY | PAGEMAP_FLAG__PE_REMOTE)
static const char ID[] = "00112233445566778899aabbccddeeff";

/* The page server: answers the requests of two connections, then (when
 * told) closes everything. */
struct server {
	int listen_fd;
	int port;
	int conns[2];
	unsigned long requests;
	int stop_after; /* close every connection after this many requests (0: never) */
	pthread_t thread;
};

static uint64_t word_of(uint64_t vaddr)
{
	return vaddr * 0x9e3779b97f4a7c15ull | 1;
}

static void *serve_conn(void *arg)
{
	struct server *s = ((void **)arg)[0];
	int fd = (int)(intptr_t)((void **)arg)[1];
	_cleanup_free_ uint8_t *buf = malloc(PX_MAX_PAGES * PG);
	uint8_t hello[PX_HELLO_SIZE], rep[PX_REPLY_SIZE];
	struct px_hello_reply hr = {.version = PX_VERSION, .nr_tasks = 1};
	struct px_hello h;
	const char *why;

	free(arg);
	if (!buf)
		return NULL;
	if (read_all(fd, hello, sizeof(hello)) < 0 ||
	    px_hello_decode(hello, sizeof(hello), &h, &why) < 0)
		return NULL;
	hr.status = strcmp(h.image_set_id, ID) ? -EXDEV : 0;
	px_reply_encode(&hr, rep, sizeof(rep));
	write_all(fd, rep, sizeof(rep));
	for (;;) {
		struct px_msg m, a;

		if (px_recv_msg(fd, &m) < 0 || m.type != PX_REQ_PAGES)
			break;
		if (s->stop_after &&
		    __atomic_add_fetch(&s->requests, 1, __ATOMIC_SEQ_CST) > (unsigned)s->stop_after)
			break;
		a = (struct px_msg){
		    .type = PX_PAGES, .task = m.task, .vaddr = m.vaddr, .nr_pages = m.nr_pages};
		if (m.vaddr == ZERO_AT)
			a.type = PX_ZERO;
		if (px_send_msg(fd, &a) < 0)
			break;
		if (a.type == PX_ZERO)
			continue;
		for (uint32_t i = 0; i < m.nr_pages; i++)
			for (unsigned w = 0; w < PG / 8; w += 64) {
				uint64_t v = word_of(m.vaddr + i * PG + w * 8);

				memcpy(buf + i * PG + w * 8, &v, 8);
			}
		if (write_all(fd, buf, m.nr_pages * PG) < 0)
			break;
	}
	shutdown(fd, SHUT_RDWR);
	return NULL;
}

static void *server_main(void *arg)
{
	struct server *s = arg;
	pthread_t t[2];

	for (int i = 0; i < 2; i++) {
		void **a = malloc(2 * sizeof(void *));

		s->conns[i] = accept(s->listen_fd, NULL, NULL);
		a[0] = s;
		a[1] = (void *)(intptr_t)s->conns[i];
		pthread_create(&t[i], NULL, serve_conn, a);
	}
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	return NULL;
}

static int server_start(struct server *s, int stop_after)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sa);

	memset(s, 0, sizeof(*s));
	s->stop_after = stop_after;
	s->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
	if (s->listen_fd < 0 || bind(s->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(s->listen_fd, 4) < 0 || getsockname(s->listen_fd, (struct sockaddr *)&sa, &len))
		return -errno;
	s->port = ntohs(sa.sin_port);
	return pthread_create(&s->thread, NULL, server_main, s) ? -EAGAIN : 0;
}

static void server_stop(struct server *s)
{
	pthread_join(s->thread, NULL);
	close(s->conns[0]);
	close(s->conns[1]);
	close(s->listen_fd);
}

static int write_pagemap(int dirfd)
{
	PagemapHead head = PAGEMAP_HEAD__INIT;
	PagemapEntry pe = PAGEMAP_ENTRY__INIT;
	struct img *img = NULL;
	int r;

	head.id = PID;
	head.nr_entries = 1;
	head.nr_file_pages = 0;
	pe.vaddr = BASE;
	pe.nr_pages = NPAGES;
	pe.flags = REMOTE;
	r = img_open_write(dirfd, "pagemap-42.img", IMG_PAGEMAP, &img);
	if (r == 0)
		r = img_write_msg(img, &head.base);
	if (r == 0)
		r = img_write_msg(img, &pe.base);
	if (r == 0)
		r = img_commit(img);
	img_close(img);
	return r;
}

static int add(void *arg, uint64_t vaddr, uint64_t nr)
{
	uint64_t *total = arg;

	*total += nr;
	return vaddr == BASE ? 0 : -EINVAL;
}

/* The data of a run is what the server made for those addresses. */
static bool run_ok(const struct page_run *run, uint64_t vaddr)
{
	for (uint64_t i = 0; i < run->nr_pages; i++)
		for (unsigned w = 0; w < PG / 8; w += 64) {
			uint64_t v;

			memcpy(&v, (const uint8_t *)run->data + i * PG + w * 8, 8);
			if (v != word_of(vaddr + i * PG + w * 8))
				return false;
		}
	return true;
}

static void test_fetches(int dirfd)
{
	struct page_source *src = NULL;
	struct page_run run;
	struct server s;
	uint64_t total = 0;

	CHECK(server_start(&s, 0) == 0);
	CHECK(page_source_tcp_open(dirfd, "127.0.0.1", s.port, ID, &src) == 0);
	if (!src)
		return;
	CHECK(src->ops->open_task(src, PID, add, &total) == 0 && total == NPAGES);
	/* A fault: one page. */
	CHECK(src->ops->fetch(src, PID, BASE + 7 * PG, 1, &run) == 0);
	CHECK(run.data && run.nr_pages == 1 && run_ok(&run, BASE + 7 * PG));
	/* The server's zero marker is a hole. */
	CHECK(src->ops->fetch(src, PID, ZERO_AT, 10, &run) == 0);
	CHECK(!run.data && run.nr_pages == 10);
	/* Outside the remote run: a hole up to it, the server not asked. */
	CHECK(src->ops->fetch(src, PID, BASE - 4 * PG, 8, &run) == 0);
	CHECK(!run.data && run.nr_pages == 4);
	/* Background in order: the pipeline starts and serves, data intact. */
	for (uint64_t at = BASE + 512 * PG; at < BASE + 3072 * PG; at += 256 * PG) {
		CHECK(src->ops->fetch(src, PID, at, 256, &run) == 0);
		CHECK(run.data && run.nr_pages == 256 && run_ok(&run, at));
	}
	/* A jump after a fault, then in order again elsewhere. */
	CHECK(src->ops->fetch(src, PID, BASE + 200 * PG, 1, &run) == 0 &&
	      run_ok(&run, BASE + 200 * PG));
	for (uint64_t at = BASE + 256 * PG; at < BASE + 512 * PG; at += 64 * PG) {
		CHECK(src->ops->fetch(src, PID, at, 64, &run) == 0);
		CHECK(run.data && run.nr_pages == 64 && run_ok(&run, at));
	}
	/* Clipped at the end of the run. */
	CHECK(src->ops->fetch(src, PID, BASE + (NPAGES - 3) * PG, 256, &run) == 0);
	CHECK(run.data && run.nr_pages == 3 && run_ok(&run, BASE + (NPAGES - 3) * PG));
	CHECK(src->ops->fetch(src, 7, BASE, 1, &run) == -EINVAL); /* unknown task */
	page_source_close(src);
	server_stop(&s);
}

static void test_lost_server(int dirfd)
{
	struct page_source *src = NULL;
	struct page_run run;
	struct server s;
	uint64_t total = 0;
	int r = 0;

	CHECK(server_start(&s, 5) == 0);
	CHECK(page_source_tcp_open(dirfd, "127.0.0.1", s.port, ID, &src) == 0);
	if (!src)
		return;
	CHECK(src->ops->open_task(src, PID, add, &total) == 0);
	for (uint64_t at = BASE; r == 0 && at < BASE + NPAGES * PG; at += 256 * PG)
		r = src->ops->fetch(src, PID, at, 256, &run);
	/* Reading the end, or writing the next request to it. */
	CHECK(r == -ECONNRESET || r == -EPIPE);
	/* Sticky: every later fetch fails at once, never reads zeros. */
	CHECK(src->ops->fetch(src, PID, BASE, 1, &run) == r);
	page_source_close(src);
	server_stop(&s);
}

static void test_wrong_id(int dirfd)
{
	struct page_source *src = NULL;
	struct server s;

	CHECK(server_start(&s, 0) == 0);
	CHECK(page_source_tcp_open(dirfd, "127.0.0.1", s.port, "ffffffffffffffffffffffffffffffff",
				   &src) == -EXDEV);
	CHECK(!src);
	/* The server's second accept: let it finish. */
	{
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		struct sockaddr_in sa = {.sin_family = AF_INET,
					 .sin_port = htons(s.port),
					 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};

		connect(fd, (struct sockaddr *)&sa, sizeof(sa));
		close(fd);
	}
	server_stop(&s);
}

int main(void)
{
	char dir[] = "/tmp/test-page-source-tcp.XXXXXX";
	int dirfd;

	if (!mkdtemp(dir))
		return 1;
	dirfd = open(dir, O_RDONLY | O_DIRECTORY);
	CHECK(write_pagemap(dirfd) == 0);
	test_fetches(dirfd);
	test_lost_server(dirfd);
	test_wrong_id(dirfd);
	unlinkat(dirfd, "pagemap-42.img", 0);
	close(dirfd);
	rmdir(dir);
	if (fails) {
		fprintf(stderr, "%d check(s) failed\n", fails);
		return 1;
	}
	printf("page-source-tcp: all checks passed\n");
	return 0;
}
