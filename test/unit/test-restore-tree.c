// SPDX-License-Identifier: GPL-2.0-or-later
/* The creation plan of a restored tree: parents, sessions, groups, refusals. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image-set.h"
#include "log.h"
#include "restore-tree.h"

static int fails;
#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c)) {                                                                        \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c);      \
			fails++;                                                                   \
		}                                                                                  \
	} while (0)

#define MAX_ROWS 8

/* One process: pid, ppid, pgid, sid. */
struct row {
	uint32_t pid, ppid, pgid, sid;
};

struct want {
	int parent;
	bool setsid, own_group;
	uint32_t join;
};

struct tcase {
	const char *name;
	bool shell_job;
	int result; /* 0, -ENOTSUP or -EINVAL */
	struct row rows[MAX_ROWS];
	struct want want[MAX_ROWS];
};

static const struct tcase cases[] = {
    {"single session leader", false, 0, {{10, 0, 10, 10}}, {{-1, true, false, 0}}},
    {"shell job in relive's group", true, 0, {{10, 0, 5, 5}}, {{-1, false, false, 0}}},
    {"shell job leading its group", true, 0, {{10, 0, 10, 5}}, {{-1, false, true, 0}}},
    {"not a session leader, no shell job", false, -ENOTSUP, {{10, 0, 10, 5}}, {}},
    {"three levels: own group, grandchild moved, session below the root",
     false,
     0,
     {{10, 0, 10, 10}, {11, 10, 11, 10}, {12, 11, 10, 10}, {13, 10, 13, 13}, {14, 13, 13, 13}},
     {{-1, true, false, 0},
      {0, false, true, 0},
      {1, false, false, 10},
      {0, true, false, 0},
      {3, false, false, 13}}},
    {"child of a shell job inherits relive's group",
     true,
     0,
     {{10, 0, 5, 5}, {11, 10, 5, 5}},
     {{-1, false, false, 0}, {0, false, false, 0}}},
    {"child leaves relive's group and comes back",
     true,
     -ENOTSUP,
     {{10, 0, 5, 5}, {11, 10, 11, 5}, {12, 11, 5, 5}},
     {}},
    {"session not inherited from the parent",
     false,
     -ENOTSUP,
     {{10, 0, 10, 10}, {11, 10, 11, 11}, {12, 11, 12, 10}},
     {}},
    {"group without a leader in the tree",
     false,
     -ENOTSUP,
     {{10, 0, 10, 10}, {11, 10, 99, 10}},
     {}},
    {"session leader in a foreign group", false, -EINVAL, {{10, 0, 10, 10}, {11, 10, 10, 11}}, {}},
    {"group led from another session",
     false,
     -EINVAL,
     {{10, 0, 10, 10}, {11, 10, 11, 11}, {12, 10, 11, 10}},
     {}},
};

static void run_case(const struct tcase *tc)
{
	PstreeEntry entries[MAX_ROWS], *pstree[MAX_ROWS];
	uint32_t threads[MAX_ROWS];
	struct image_set set = {.pstree = pstree};
	struct tree_step *steps = NULL;
	int r;

	for (size_t i = 0; i < MAX_ROWS && tc->rows[i].pid; i++) {
		pstree_entry__init(&entries[i]);
		entries[i].pid = tc->rows[i].pid;
		entries[i].ppid = tc->rows[i].ppid;
		entries[i].pgid = tc->rows[i].pgid;
		entries[i].sid = tc->rows[i].sid;
		threads[i] = tc->rows[i].pid;
		entries[i].n_threads = 1;
		entries[i].threads = &threads[i];
		pstree[i] = &entries[i];
		set.nr_procs = i + 1;
	}
	r = restore_tree_plan(&set, tc->shell_job, &steps);
	if (r != tc->result) {
		fprintf(stderr, "case \"%s\": result %d, expected %d\n", tc->name, r, tc->result);
		fails++;
	}
	if (r == 0 && tc->result == 0) {
		for (size_t i = 0; i < set.nr_procs; i++) {
			const struct want *w = &tc->want[i];

			if (steps[i].parent == w->parent && steps[i].setsid == w->setsid &&
			    steps[i].own_group == w->own_group && steps[i].join_pgid == w->join)
				continue;
			fprintf(stderr,
				"case \"%s\": process %u: parent %d setsid %d own group %d join "
				"%u\n",
				tc->name, tc->rows[i].pid, steps[i].parent, steps[i].setsid,
				steps[i].own_group, steps[i].join_pgid);
			fails++;
		}
	}
	free(steps);
}

int main(void)
{
	log_init(LOG_ERROR, NULL);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run_case(&cases[i]);
	{
		PstreeEntry a = PSTREE_ENTRY__INIT, b = PSTREE_ENTRY__INIT, *ps[] = {&a, &b};
		struct image_set set = {.pstree = ps, .nr_procs = 2};

		a.pid = 7;
		b.pid = 9;
		CHECK(restore_tree_find(&set, 9) == 1);
		CHECK(restore_tree_find(&set, 7) == 0);
		CHECK(restore_tree_find(&set, 8) == -1);
	}
	if (fails) {
		fprintf(stderr, "%d checks failed\n", fails);
		return 1;
	}
	printf("all checks passed\n");
	return 0;
}
