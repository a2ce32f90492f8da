// SPDX-License-Identifier: GPL-2.0-or-later
/* relive show: print an image file, or every image of a directory, as JSON. */
#define LOG_PREFIX "show: "
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "commands.h"
#include "img.h"
#include "json.h"
#include "log.h"
#include "util.h"

/* Images in a directory are few (a handful per process); cap what a
 * directory full of junk can make us hold. */
#define SHOW_MAX_FILES 1000000

/* One image as {"file": NAME, "type": ..., "messages": [...]}; path is what
 * errors name. */
static int show_image(struct json *j, const char *path, const char *name)
{
	_cleanup_img_ struct img *img = NULL;
	int r = img_open_any(AT_FDCWD, path, &img);

	if (r < 0)
		return r;
	json_begin_object(j);
	json_key(j, "file");
	json_string(j, name);
	json_key(j, "type");
	json_string(j, img_type_name(img_get_type(img)));
	if (img_get_type(img) == IMG_PAGES) {
		/* Raw memory is not worth printing; its size is. */
		json_key(j, "nr_pages");
		json_u64(j, img_nr_pages(img));
	} else {
		json_key(j, "messages");
		json_begin_array(j);
		for (;;) {
			_cleanup_msg_ ProtobufCMessage *msg = NULL;

			r = img_read_msg(img, &msg);
			if (r < 0)
				return r;
			if (r == 0)
				break;
			json_message(j, msg);
		}
		json_end_array(j);
	}
	json_end_object(j);
	return 0;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void free_names(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* Every NAME.img in the directory (not NAME.img.tmp: unfinished), sorted. */
static int list_images(int dirfd, const char *path, char ***ret, size_t *ret_n)
{
	_cleanup_closedir_ DIR *d = NULL;
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	int fd = dup(dirfd);

	if (fd < 0)
		return pr_err_ret(-errno, "%s: dup", path);
	d = fdopendir(fd);
	if (!d) {
		int r = -errno;

		close(fd);
		return pr_err_ret(r, "%s: cannot read directory", path);
	}
	errno = 0;
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);

		if (len < 5 || strcmp(de->d_name + len - 4, ".img") != 0)
			continue;
		if (n == SHOW_MAX_FILES) {
			free_names(names, n);
			pr_err("%s: more than %d image files\n", path, SHOW_MAX_FILES);
			return -E2BIG;
		}
		if (n == cap) {
			char **more = reallocarray(names, cap ? cap * 2 : 16, sizeof(*names));

			if (!more) {
				free_names(names, n);
				return -ENOMEM;
			}
			names = more;
			cap = cap ? cap * 2 : 16;
		}
		names[n] = strdup(de->d_name);
		if (!names[n]) {
			free_names(names, n);
			return -ENOMEM;
		}
		n++;
	}
	if (errno) {
		int r = -errno;

		free_names(names, n);
		return pr_err_ret(r, "%s: cannot read directory", path);
	}
	if (n)
		qsort(names, n, sizeof(*names), cmp_names);
	*ret = names;
	*ret_n = n;
	return 0;
}

static int show_dir(struct json *j, int dirfd, const char *path)
{
	char **names = NULL;
	size_t n = 0;
	int r = list_images(dirfd, path, &names, &n);

	if (r < 0)
		return r;
	json_begin_array(j);
	for (size_t i = 0; i < n && r == 0; i++) {
		_cleanup_free_ char *full = NULL;

		if (asprintf(&full, "%s/%s", path, names[i]) < 0) {
			r = -ENOMEM;
			break;
		}
		r = show_image(j, full, names[i]);
	}
	json_end_array(j);
	free_names(names, n);
	return r;
}

static int show_path(struct json *j, const char *path)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	_cleanup_free_ char *copy = NULL;
	struct stat st;

	if (fd < 0) {
		if (errno == ENOENT) {
			pr_err("%s: no such file or directory\n", path);
			return -ENOENT;
		}
		return pr_err_ret(-errno, "%s: cannot open", path);
	}
	if (fstat(fd, &st) < 0)
		return pr_err_ret(-errno, "%s: cannot stat", path);
	if (S_ISDIR(st.st_mode))
		return show_dir(j, fd, path);
	copy = strdup(path);
	if (!copy)
		return -ENOMEM;
	return show_image(j, path, basename(copy));
}

static int run(const struct opts *o)
{
	_cleanup_free_ char *out = NULL;
	size_t out_len = 0;
	struct json j;
	FILE *f;
	int r;

	if (o->nr_args != 1) {
		fprintf(stderr, "relive show: expected one PATH (an image file or directory)\n");
		return -EINVAL;
	}
	/* Build the whole output in memory: a bad image prints nothing on
	 * stdout, only its error on stderr. */
	f = open_memstream(&out, &out_len);
	if (!f)
		return pr_err_ret(-errno, "open_memstream");
	json_init(&j, f);
	r = show_path(&j, o->args[0]);
	if (r == 0)
		r = json_finish(&j);
	if (fclose(f) != 0 && r == 0)
		r = -EIO;
	if (r == -ELOOP || r == -ENOMEM || r == -EIO)
		return pr_err_ret(r, "%s: cannot print as JSON", o->args[0]);
	if (r < 0)
		return r;
	r = write_all(STDOUT_FILENO, out, out_len);
	if (r < 0)
		return pr_err_ret(r, "writing to stdout");
	return 0;
}

const struct command cmd_show = {
    .name = "show",
    .summary = "Print image files as JSON",
    .usage = "PATH",
    .accepted = OPT_JSON,
    .run = run,
};
