// SPDX-License-Identifier: GPL-2.0-or-later
/* libFuzzer harness: arbitrary bytes as an image file, through open, read, validate and JSON. */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "img.h"
#include "json.h"
#include "log.h"
#include "util.h"

/* libFuzzer calls us in one process many times: keep the memfd and the
 * sink open across calls. */
static int input_fd = -1;
static char input_path[64];
static FILE *sink;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	/* Errors are formatted (that code runs too) but go nowhere. */
	if (log_init(LOG_DEBUG, "/dev/null") < 0)
		abort();
	input_fd = memfd_create("fuzz-img", MFD_CLOEXEC);
	sink = fopen("/dev/null", "w");
	if (input_fd < 0 || !sink)
		abort();
	snprintf(input_path, sizeof(input_path), "/proc/self/fd/%d", input_fd);
	return 0;
}

/* Open, read, validate and print whatever the memfd holds now. */
static void run_image(void)
{
	_cleanup_img_ struct img *img = NULL;
	struct json j;

	if (img_open_any(AT_FDCWD, input_path, &img) < 0)
		return;
	if (img_get_type(img) == IMG_PAGES) {
		/* The header check promised whole pages: the last one is readable. */
		uint64_t n = img_nr_pages(img);
		uint8_t page[4096];

		if (n && pread(img_fd(img), page, sizeof(page), img_pages_offset(n - 1)) !=
			     (ssize_t)sizeof(page))
			abort();
		return;
	}
	json_init(&j, sink);
	json_begin_array(&j);
	for (;;) {
		_cleanup_msg_ ProtobufCMessage *msg = NULL;

		if (img_read_msg(img, &msg) <= 0)
			break;
		json_message(&j, msg);
	}
	json_end_array(&j);
	json_finish(&j);
}

/*
 * Raw bytes rarely get past the header and the length prefixes, so each
 * input is also tried framed: byte 0 picks the image type, then chunks of
 * [u16 LE length][bytes] become messages behind a correct header and u32
 * prefixes. The protobuf data and validation get the mutations.
 */
static int write_framed(const uint8_t *data, size_t size)
{
	struct img_header h = {.version = htole32(IMG_FORMAT_VERSION)};
	size_t off = 1;
	off_t pos = sizeof(h);

	if (size < 1)
		return -EINVAL;
	memcpy(h.magic, IMG_MAGIC, sizeof(h.magic));
	h.type = htole32(data[0] % (IMG_TYPE_MAX - 1) + 1);
	if (h.type == htole32(IMG_PAGES))
		return -EINVAL;
	if (ftruncate(input_fd, 0) < 0 || pwrite_all(input_fd, &h, sizeof(h), 0) < 0)
		abort();
	while (size - off >= 2) {
		size_t len = data[off] | (size_t)data[off + 1] << 8;
		uint32_t le;

		off += 2;
		if (len > size - off)
			len = size - off;
		le = htole32((uint32_t)len);
		if (pwrite_all(input_fd, &le, 4, pos) < 0 ||
		    pwrite_all(input_fd, data + off, len, pos + 4) < 0)
			abort();
		pos += 4 + len;
		off += len;
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (ftruncate(input_fd, 0) < 0 || pwrite_all(input_fd, data, size, 0) < 0)
		abort();
	run_image();
	if (write_framed(data, size) == 0)
		run_image();
	return 0;
}
