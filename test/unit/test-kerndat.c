// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests of the kernel-probe report (hand-made kerndat) and one live probe. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>

#include "kerndat-report.h"
#include "kerndat.h"
#include "util.h"

static int fails;
#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c)) {                                                                        \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c);      \
			fails++;                                                                   \
		}                                                                                  \
	} while (0)

/*
 * A small strict JSON syntax checker (RFC 8259), so the test does not depend
 * on anything outside the tree. Each parse_* advances *p past one element
 * and returns false on any syntax error.
 */
static void skip_ws(const char **p)
{
	while (**p == ' ' || **p == '\t' || **p == '\n' || **p == '\r')
		(*p)++;
}

static bool parse_value(const char **p, int depth);

static bool parse_string(const char **p)
{
	if (**p != '"')
		return false;
	for ((*p)++; **p != '"'; (*p)++) {
		unsigned char c = **p;

		if (c < 0x20)
			return false; /* raw control characters, and the end of input */
		if (c != '\\')
			continue;
		(*p)++;
		if (**p == 'u') {
			for (int i = 1; i <= 4; i++)
				if (!isxdigit((unsigned char)(*p)[i]))
					return false;
			*p += 4;
		} else if (!strchr("\"\\/bfnrt", **p) || !**p) {
			return false;
		}
	}
	(*p)++;
	return true;
}

static bool parse_number(const char **p)
{
	const char *s = *p;

	if (*s == '-')
		s++;
	if (*s == '0')
		s++;
	else if (*s >= '1' && *s <= '9')
		while (isdigit((unsigned char)*s))
			s++;
	else
		return false;
	if (*s == '.') {
		if (!isdigit((unsigned char)*++s))
			return false;
		while (isdigit((unsigned char)*s))
			s++;
	}
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '+' || *s == '-')
			s++;
		if (!isdigit((unsigned char)*s))
			return false;
		while (isdigit((unsigned char)*s))
			s++;
	}
	*p = s;
	return true;
}

static bool parse_literal(const char **p, const char *word)
{
	size_t n = strlen(word);

	if (strncmp(*p, word, n))
		return false;
	*p += n;
	return true;
}

/* Object or array: open, elements separated by commas, close. */
static bool parse_container(const char **p, int depth, bool object)
{
	(*p)++;
	skip_ws(p);
	if (**p == (object ? '}' : ']')) {
		(*p)++;
		return true;
	}
	for (;;) {
		skip_ws(p);
		if (object) {
			if (!parse_string(p))
				return false;
			skip_ws(p);
			if (*(*p)++ != ':')
				return false;
		}
		if (!parse_value(p, depth + 1))
			return false;
		skip_ws(p);
		if (**p == ',') {
			(*p)++;
			continue;
		}
		if (**p != (object ? '}' : ']'))
			return false;
		(*p)++;
		return true;
	}
}

static bool parse_value(const char **p, int depth)
{
	if (depth > 64)
		return false;
	skip_ws(p);
	switch (**p) {
	case '{':
		return parse_container(p, depth, true);
	case '[':
		return parse_container(p, depth, false);
	case '"':
		return parse_string(p);
	case 't':
		return parse_literal(p, "true");
	case 'f':
		return parse_literal(p, "false");
	case 'n':
		return parse_literal(p, "null");
	default:
		return parse_number(p);
	}
}

/* The whole text is exactly one JSON object (and whitespace). */
static bool json_valid_object(const char *s)
{
	skip_ws(&s);
	if (*s != '{' || !parse_value(&s, 0))
		return false;
	skip_ws(&s);
	return *s == '\0';
}

static void test_json_checker(void)
{
	static const char *const good[] = {
	    "{}",
	    "{\"a\": [1, -2.5e3, true, false, null, \"x\\u00e9\\\"\\\\\"]}",
	    " {\"a\": {\"b\": []}}\n",
	};
	static const char *const bad[] = {
	    "",
	    "{",
	    "{\"a\":}",
	    "{\"a\" 1}",
	    "[1]",
	    "{\"a\": [1,]}",
	    "{\"a\": \"\\q\"}",
	    "{\"a\": \"\x01\"}",
	    "{\"a\": 01}",
	    "{} x",
	    "{\"a\": tru}",
	    "{\"a\": \"\\u12\"}",
	    "{\"a\": \"unterminated}",
	};

	for (size_t i = 0; i < ARRAY_SIZE(good); i++)
		CHECK(json_valid_object(good[i]));
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		if (json_valid_object(bad[i])) {
			fprintf(stderr, "checker accepted bad JSON case %zu\n", i);
			fails++;
		}
}

/* Run a printer into a heap string. */
typedef void printer_fn(const struct kerndat *kd, FILE *out);

static char *print_to_string(printer_fn *fn, const struct kerndat *kd)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		abort();
	fn(kd, f);
	fclose(f);
	return buf;
}

static int missing_to_string(const struct kerndat *kd, char **ret)
{
	size_t len = 0;
	FILE *f = open_memstream(ret, &len);
	int r;

	if (!f)
		abort();
	r = kerndat_report_missing(kd, f);
	fclose(f);
	return r;
}

/* Validate with a real JSON parser too, when python3 is installed. */
static void check_with_python(const char *json)
{
	char path[] = "/tmp/relive-test-kerndat-XXXXXX";
	char cmd[256];
	int fd = mkstemp(path), status;
	FILE *f;

	CHECK(fd >= 0);
	if (fd < 0)
		return;
	f = fdopen(fd, "w");
	CHECK(f && fputs(json, f) >= 0 && fclose(f) == 0);
	snprintf(cmd, sizeof(cmd),
		 "python3 -c 'import json,sys; json.load(open(sys.argv[1]))' %s 2>/dev/null", path);
	status = system(cmd);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
		fprintf(stderr, "python3 not found: JSON checked by the built-in checker only\n");
	else
		CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	unlink(path);
}

static void make_all_present(struct kerndat *kd)
{
	memset(kd, 0, sizeof(*kd));
	snprintf(kd->release, sizeof(kd->release), "6.18.0-test");
	for (enum kd_item i = 0; i < KD_NR_ITEMS; i++) {
		kd->item[i].present = true;
		snprintf(kd->item[i].detail, sizeof(kd->item[i].detail), "works");
	}
	kd->uffd_api_ok = true;
	kd->uffd_features = KD_UFFD_LAZY_EVENTS | KD_UFFD_FEATURE_PAGEFAULT_FLAG_WP |
			    KD_UFFD_FEATURE_WP_ASYNC | (1ULL << 40);
	kd->unprivileged_userfaultfd = 0;
	kd->xstate_size = 832;
	kd->xfeatures = 0x7;
}

static void test_all_present(void)
{
	struct kerndat kd;
	_cleanup_free_ char *table = NULL, *json = NULL, *err = NULL;

	make_all_present(&kd);
	CHECK(kerndat_nr_missing(&kd) == 0);
	CHECK(missing_to_string(&kd, &err) == 0);
	CHECK(err && err[0] == '\0');

	table = print_to_string(kerndat_print_table, &kd);
	for (enum kd_item i = 0; i < KD_NR_ITEMS; i++)
		CHECK(strstr(table, kerndat_item_name(i)));
	CHECK(strstr(table, "6.18.0-test"));
	CHECK(strstr(table, " EVENT_FORK EVENT_REMAP EVENT_REMOVE EVENT_UNMAP"));
	CHECK(strstr(table, " WP_ASYNC BIT40\n"));
	CHECK(strstr(table, "x87 sse avx"));
	/* The last line is the verdict. */
	CHECK(strstr(table, "\nResult: OK:"));
	CHECK(table[strlen(table) - 1] == '\n' && !strchr(strstr(table, "\nResult:") + 1, '\n')[1]);

	json = print_to_string(kerndat_print_json, &kd);
	CHECK(json_valid_object(json));
	check_with_python(json);
	CHECK(strstr(json, "\"ok\": true"));
	CHECK(strstr(json, "\"missing\": []"));
	CHECK(strstr(json, "\"uffd_features\": [\"WP\", \"EVENT_FORK\""));
	CHECK(strstr(json, "\"BIT40\"]"));
	CHECK(strstr(json, "{\"name\": \"clone3-set-tid\", \"category\": \"required\", "
			   "\"present\": true, \"detail\": \"works\"}"));
	CHECK(strstr(json, "\"kernel\": \"6.18.0-test\""));
}

static const struct missing_case {
	enum kd_item item;
	bool fails;
} missing_cases[] = {
    {KD_CLONE3_SET_TID, true},	/* required */
    {KD_PTRACE_SEIZE, true},	/* required */
    {KD_UFFD, true},		/* lazy */
    {KD_UFFD_EVENTS, true},	/* lazy */
    {KD_PAGEMAP_SCAN, false},	/* optional */
    {KD_SOCK_DIAG_INET, false}, /* optional */
};

static void test_one_missing(void)
{
	for (size_t c = 0; c < ARRAY_SIZE(missing_cases); c++) {
		const struct missing_case *mc = &missing_cases[c];
		const char *name = kerndat_item_name(mc->item);
		_cleanup_free_ char *table = NULL, *json = NULL, *err = NULL;
		char quoted[64];
		struct kerndat kd;
		int r;

		make_all_present(&kd);
		kd.item[mc->item].present = false;
		snprintf(kd.item[mc->item].detail, sizeof(kd.item[mc->item].detail),
			 "probe: Operation not permitted");
		r = missing_to_string(&kd, &err);
		table = print_to_string(kerndat_print_table, &kd);
		json = print_to_string(kerndat_print_json, &kd);
		CHECK(json_valid_object(json));
		snprintf(quoted, sizeof(quoted), "\"missing\": [\"%s\"]", name);
		if (mc->fails) {
			CHECK(r == -ENOTSUP);
			CHECK(kerndat_nr_missing(&kd) == 1);
			CHECK(strstr(err, name) && strstr(err, "Operation not permitted"));
			CHECK(strstr(table, "\nResult: NOT OK:"));
			CHECK(strstr(json, "\"ok\": false"));
			CHECK(strstr(json, quoted));
		} else {
			CHECK(r == 0);
			CHECK(err[0] == '\0');
			CHECK(strstr(table, "\nResult: OK:") &&
			      strstr(table, "(1 optional missing)"));
			CHECK(strstr(json, "\"ok\": true") && strstr(json, "\"missing\": []"));
		}
	}
}

static void test_escaping(void)
{
	struct kerndat kd;
	_cleanup_free_ char *json = NULL;

	make_all_present(&kd);
	snprintf(kd.item[KD_VDSO].detail, sizeof(kd.item[KD_VDSO].detail),
		 "say \"hi\" \\ back\nslash\ttab \x01 \xc3\xa9 \x7f end");
	snprintf(kd.release, sizeof(kd.release), "6.18\"\\x");
	kd.uffd_api_ok = false;
	kd.unprivileged_userfaultfd = -1;
	json = print_to_string(kerndat_print_json, &kd);
	CHECK(json_valid_object(json));
	check_with_python(json);
	CHECK(strstr(json, "\"detail\": \"say \\\"hi\\\" \\\\ back\\nslash\\ttab \\u0001 "
			   "\\u00c3\\u00a9 \\u007f end\""));
	CHECK(strstr(json, "\"kernel\": \"6.18\\\"\\\\x\""));
	CHECK(strstr(json, "\"uffd_features\": null"));
	CHECK(strstr(json, "\"unprivileged_userfaultfd\": null"));
}

static void test_live_probe(void)
{
	_cleanup_free_ char *json = NULL;
	struct timespec t0, t1;
	struct kerndat kd;
	double secs;
	int r;

	/* As subreaper we inherit any grandchild a probe helper leaks. */
	CHECK(prctl(PR_SET_CHILD_SUBREAPER, 1) == 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = kerndat_probe(&kd);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	CHECK(r == 0);
	secs = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	fprintf(stderr, "kerndat_probe took %.3f s, %u required/lazy missing\n", secs,
		kerndat_nr_missing(&kd));
	CHECK(secs < 1.0);

	/* Every process forked by the probe is gone: none left, zombie or stopped. */
	errno = 0;
	CHECK(waitpid(-1, NULL, WNOHANG | __WALL) < 0 && errno == ECHILD);

	CHECK(kd.release[0] != '\0');
	for (enum kd_item i = 0; i < KD_NR_ITEMS; i++) {
		CHECK(kd.item[i].detail[0] != '\0');
		CHECK(memchr(kd.item[i].detail, '\0', sizeof(kd.item[i].detail)));
		CHECK(strcmp(kd.item[i].detail, "not probed") != 0);
	}

	/* Internal consistency of what the probes found. */
	if (kerndat_uffd_has(&kd, KD_UFFD_FEATURE_WP_ASYNC))
		CHECK(kerndat_uffd_has(&kd, KD_UFFD_FEATURE_PAGEFAULT_FLAG_WP));
	if (kerndat_has(&kd, KD_DIRTY_TRACK)) {
		CHECK(kerndat_has(&kd, KD_PAGEMAP_SCAN));
		CHECK(kerndat_uffd_has(&kd, KD_UFFD_FEATURE_WP_ASYNC));
	}
	CHECK(kerndat_has(&kd, KD_UFFD) == (kd.uffd_api_ok && (kerndat_has(&kd, KD_UFFD_SYSCALL) ||
							       kerndat_has(&kd, KD_UFFD_DEV))));
	if (kd.uffd_api_ok)
		CHECK(kd.uffd_features != 0);
	else
		CHECK(!kerndat_has(&kd, KD_UFFD_EVENTS));
	if (kerndat_has(&kd, KD_UFFD_EVENTS))
		CHECK(kerndat_uffd_has(&kd, KD_UFFD_LAZY_EVENTS));
	if (kerndat_has(&kd, KD_RSEQ_CONFIG) || kerndat_has(&kd, KD_XSTATE))
		CHECK(kerndat_has(&kd, KD_PTRACE_SEIZE));
	if (kerndat_has(&kd, KD_XSTATE)) {
		CHECK(kd.xstate_size >= 576);
		CHECK((kd.xfeatures & 0x3) == 0x3); /* x87 and sse are always there */
	} else {
		CHECK(kd.xstate_size == 0);
	}
	CHECK(kd.unprivileged_userfaultfd >= -1 && kd.unprivileged_userfaultfd <= 1);

	json = print_to_string(kerndat_print_json, &kd);
	CHECK(json_valid_object(json));
	check_with_python(json);
}

int main(void)
{
	test_json_checker();
	test_all_present();
	test_one_missing();
	test_escaping();
	test_live_probe();
	if (fails) {
		fprintf(stderr, "%d check(s) failed\n", fails);
		return 1;
	}
	printf("all kerndat tests passed\n");
	return 0;
}
