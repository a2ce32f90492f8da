// SPDX-License-Identifier: GPL-2.0-or-later
/* libFuzzer harness: arbitrary bytes as an image file, through open, read, validate and JSON. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	_cleanup_img_ struct img *img = NULL;
	struct json j;

	if (ftruncate(input_fd, 0) < 0 || pwrite_all(input_fd, data, size, 0) < 0)
		abort();
	if (img_open_any(AT_FDCWD, input_path, &img) < 0)
		return 0;
	if (img_get_type(img) == IMG_PAGES) {
		/* The header check promised whole pages: the last one is readable. */
		uint64_t n = img_nr_pages(img);
		uint8_t page[4096];

		if (n && pread(img_fd(img), page, sizeof(page), img_pages_offset(n - 1)) !=
				 (ssize_t)sizeof(page))
			abort();
		return 0;
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
	return 0;
}
