/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Printing a struct kerndat: the `relive check` table, its JSON, the verdict. */
#ifndef RELIVE_KERNDAT_REPORT_H
#define RELIVE_KERNDAT_REPORT_H

#include <stdio.h>

struct kerndat;

/* One line per item (category, status, detail), the userfaultfd features,
 * and a last line with the verdict. */
void kerndat_print_table(const struct kerndat *kd, FILE *out);

/* One JSON object and a newline: kernel release, items (name, category,
 * present, detail), uffd features as names, ok, missing. */
void kerndat_print_json(const struct kerndat *kd, FILE *out);

/* Number of required and lazy items that are absent. */
unsigned kerndat_nr_missing(const struct kerndat *kd);

/* Name each absent required or lazy item on err, one line each. Returns 0
 * when there is none, -ENOTSUP otherwise. */
int kerndat_report_missing(const struct kerndat *kd, FILE *err);

/* s as a JSON string literal with quotes; every byte outside printable
 * ASCII is escaped, so the output is valid JSON whatever s holds. */
void json_print_string(FILE *out, const char *s);

#endif
