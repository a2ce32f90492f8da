// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests of the JSON printer: exact output for known messages. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "util.h"

#include "core.pb-c.h"
#include "mm.pb-c.h"
#include "pstree.pb-c.h"

static int fails;

/* Print msg (or run fn) into a string. */
static char *to_json(const ProtobufCMessage *msg)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	struct json j;

	if (!f)
		return NULL;
	json_init(&j, f);
	json_message(&j, msg);
	if (json_finish(&j) < 0) {
		fclose(f);
		free(out);
		return NULL;
	}
	fclose(f);
	return out;
}

static void expect_exact(const char *what, const ProtobufCMessage *msg, const char *want)
{
	_cleanup_free_ char *got = to_json(msg);

	if (!got || strcmp(got, want) != 0) {
		fprintf(stderr, "%s: got:\n%s\nwant:\n%s\n", what, got ? got : "(error)", want);
		fails++;
	}
}

static void expect_contains(const char *what, const ProtobufCMessage *msg, const char *want)
{
	_cleanup_free_ char *got = to_json(msg);

	if (!got || !strstr(got, want)) {
		fprintf(stderr, "%s: missing %s in:\n%s\n", what, want, got ? got : "(error)");
		fails++;
	}
}

static void test_vma(void)
{
	VmaEntry v = VMA_ENTRY__INIT;

	v.start = 4096;
	v.end = 8192;
	v.prot = 5;
	v.flags = 2;
	v.kind = VMA_KIND__VMA_FILE_PRIVATE;
	/* quote, backslash, newline, a control byte, UTF-8 é, a stray 0xff */
	v.path = "/a\"b\\c\n\x01\xc3\xa9\xff";
	v.has_vmflags = true;
	v.vmflags = 3;
	expect_exact("vma", &v.base,
		     "{\n"
		     "  \"start\": 4096,\n"
		     "  \"end\": 8192,\n"
		     "  \"prot\": 5,\n"
		     "  \"flags\": 2,\n"
		     "  \"kind\": \"VMA_FILE_PRIVATE\",\n"
		     "  \"path\": \"/a\\\"b\\\\c\\n\\u0001\xc3\xa9\\u00ff\",\n"
		     "  \"vmflags\": 3\n"
		     "}\n");
	/* An enum value the schema does not know comes out as its number. */
	v.kind = 42;
	expect_contains("unknown enum", &v.base, "\"kind\": 42,");
	/* Optional fields appear only when present. */
	v.has_pgoff = true;
	v.pgoff = 0;
	expect_contains("present optional zero", &v.base, "\"pgoff\": 0,");
}

static void test_pstree(void)
{
	PstreeEntry p = PSTREE_ENTRY__INIT;
	uint32_t threads[] = {7, 4194304};

	p.pid = 7;
	p.pgid = 7;
	p.sid = 1;
	expect_exact("empty repeated", &p.base,
		     "{\n  \"pid\": 7,\n  \"ppid\": 0,\n  \"pgid\": 7,\n  \"sid\": 1,\n"
		     "  \"threads\": []\n}\n");
	p.n_threads = 2;
	p.threads = threads;
	expect_exact("repeated", &p.base,
		     "{\n  \"pid\": 7,\n  \"ppid\": 0,\n  \"pgid\": 7,\n  \"sid\": 1,\n"
		     "  \"threads\": [\n    7,\n    4194304\n  ]\n}\n");
}

static void test_thread(void)
{
	ThreadCoreEntry t = THREAD_CORE_ENTRY__INIT;
	UserRegsEntry r = USER_REGS_ENTRY__INIT;
	RseqEntry q = RSEQ_ENTRY__INIT;
	uint8_t x[] = {0x00, 0xff, 0x10, 0xab};
	ProtobufCBinaryData pend[2] = {{1, x + 1}, {0, NULL}};

	r.ip = 0xffffffffffffffffull;
	r.cs = 0x33;
	q.signature = 0x53053053;
	t.tid = 9;
	t.regs = &r;
	t.xstate = (ProtobufCBinaryData){sizeof(x), x};
	t.n_pending = 2;
	t.pending = pend;
	t.rseq = &q;
	t.has_in_syscall = true;
	t.in_syscall = true;
	t.has_robust_list = true;
	expect_contains("bytes as hex", &t.base, "\"xstate\": \"00ff10ab\",");
	expect_contains("repeated bytes", &t.base, "\"pending\": [\n    \"ff\",\n    \"\"\n  ],");
	expect_contains("nested message", &t.base, "\"regs\": {\n    \"r15\": 0,");
	expect_contains("u64 max", &t.base, "\"ip\": 18446744073709551615,");
	expect_contains("nested last field", &t.base, "\"gs\": 0\n  },");
	expect_contains("bool", &t.base, "\"in_syscall\": true\n}");
	expect_contains("optional zero", &t.base, "\"robust_list\": 0,");
	expect_contains("second nested", &t.base,
			"\"rseq\": {\n    \"rseq_abi_pointer\": 0,\n    \"rseq_abi_size\": 0,\n"
			"    \"signature\": 1392848979,\n    \"flags\": 0\n  },");
}

static void test_core_enum_and_signed(void)
{
	TaskCoreEntry c = TASK_CORE_ENTRY__INIT;

	c.pid = 1;
	c.state = TASK_STATE__TASK_ZOMBIE;
	c.comm = "";
	c.has_exit_code = true;
	c.exit_code = -2;
	c.has_nice = true;
	c.nice = -20;
	expect_contains("enum name", &c.base, "\"state\": \"TASK_ZOMBIE\",");
	expect_contains("negative int", &c.base, "\"exit_code\": -2,");
	expect_contains("empty string", &c.base, "\"comm\": \"\",");
	expect_contains("last signed", &c.base, "\"nice\": -20\n}");
}

int main(void)
{
	test_vma();
	test_pstree();
	test_thread();
	test_core_enum_and_signed();
	printf("test-json: %s\n", fails ? "FAILED" : "ok");
	return fails ? 1 : 0;
}
