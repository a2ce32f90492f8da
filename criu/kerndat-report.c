// SPDX-License-Identifier: GPL-2.0-or-later
/* The `relive check` report: a table for people, JSON for scripts. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

#include "kerndat-report.h"
#include "kerndat.h"

static bool item_needed(enum kd_item i)
{
	return kerndat_item_category(i) != KD_OPTIONAL;
}

unsigned kerndat_nr_missing(const struct kerndat *kd)
{
	unsigned n = 0;

	for (enum kd_item i = 0; i < KD_NR_ITEMS; i++)
		if (item_needed(i) && !kd->item[i].present)
			n++;
	return n;
}

int kerndat_report_missing(const struct kerndat *kd, FILE *err)
{
	for (enum kd_item i = 0; i < KD_NR_ITEMS; i++)
		if (item_needed(i) && !kd->item[i].present)
			fprintf(err, "relive check: missing %s feature %s: %s\n",
				kerndat_category_name(kerndat_item_category(i)),
				kerndat_item_name(i), kd->item[i].detail);
	return kerndat_nr_missing(kd) ? -ENOTSUP : 0;
}

void json_print_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(out, "\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", out);
		else if (*p == '\t')
			fputs("\\t", out);
		else if (*p < 0x20 || *p >= 0x7f)
			/* Bytes >= 0x80 may not be UTF-8: escape them one by one. */
			fprintf(out, "\\u%04x", *p);
		else
			fputc(*p, out);
	}
	fputc('"', out);
}

static void print_uffd_features(const struct kerndat *kd, FILE *out, bool json)
{
	bool first = true;

	for (unsigned bit = 0; bit < 64; bit++) {
		const char *name = kerndat_uffd_feature_name(bit);
		char unknown[16];

		if (!(kd->uffd_features & (1ULL << bit)))
			continue;
		if (!name) {
			snprintf(unknown, sizeof(unknown), "BIT%u", bit);
			name = unknown;
		}
		if (json) {
			fputs(first ? "" : ", ", out);
			json_print_string(out, name);
		} else {
			fprintf(out, " %s", name);
		}
		first = false;
	}
}

static void print_xfeatures(const struct kerndat *kd, FILE *out)
{
	for (unsigned bit = 0; bit < 64; bit++) {
		const char *name = kerndat_xfeature_name(bit);

		if (!(kd->xfeatures & (1ULL << bit)))
			continue;
		if (name)
			fprintf(out, " %s", name);
		else
			fprintf(out, " bit%u", bit);
	}
}

void kerndat_print_table(const struct kerndat *kd, FILE *out)
{
	unsigned missing = kerndat_nr_missing(kd), optional_missing = 0;

	fprintf(out, "Kernel %s\n\n", kd->release);
	fprintf(out, "%-9s %-20s %-3s  %s\n", "CATEGORY", "FEATURE", "OK", "DETAIL");
	for (enum kd_item i = 0; i < KD_NR_ITEMS; i++) {
		fprintf(out, "%-9s %-20s %-3s  %s\n",
			kerndat_category_name(kerndat_item_category(i)), kerndat_item_name(i),
			kd->item[i].present ? "yes" : "NO", kd->item[i].detail);
		if (!item_needed(i) && !kd->item[i].present)
			optional_missing++;
	}
	fputc('\n', out);
	if (kd->uffd_api_ok) {
		fprintf(out, "userfaultfd features (0x%" PRIx64 "):", kd->uffd_features);
		print_uffd_features(kd, out, false);
		fputc('\n', out);
	} else {
		fprintf(out, "userfaultfd features: unknown (no userfaultfd)\n");
	}
	if (kd->unprivileged_userfaultfd >= 0)
		fprintf(out, "vm.unprivileged_userfaultfd: %d%s\n", kd->unprivileged_userfaultfd,
			kd->unprivileged_userfaultfd
			    ? ""
			    : " (kernel-mode faults need CAP_SYS_PTRACE in the creator)");
	else
		fprintf(out, "vm.unprivileged_userfaultfd: unknown\n");
	if (kd->xstate_size) {
		fprintf(out, "xstate: %u bytes, xfeatures 0x%" PRIx64 ":", kd->xstate_size,
			kd->xfeatures);
		print_xfeatures(kd, out);
		fputc('\n', out);
	}
	if (missing)
		fprintf(out,
			"Result: NOT OK: %u required or lazy feature(s) missing, %u optional "
			"missing\n",
			missing, optional_missing);
	else
		fprintf(out,
			"Result: OK: every required and lazy feature is present (%u optional "
			"missing)\n",
			optional_missing);
}

void kerndat_print_json(const struct kerndat *kd, FILE *out)
{
	bool first = true;

	fputs("{\"kernel\": ", out);
	json_print_string(out, kd->release);
	fputs(", \"ok\": ", out);
	fputs(kerndat_nr_missing(kd) ? "false" : "true", out);
	fputs(", \"items\": [", out);
	for (enum kd_item i = 0; i < KD_NR_ITEMS; i++) {
		fputs(i ? ", {\"name\": " : "{\"name\": ", out);
		json_print_string(out, kerndat_item_name(i));
		fputs(", \"category\": ", out);
		json_print_string(out, kerndat_category_name(kerndat_item_category(i)));
		fprintf(out,
			", \"present\": %s, \"detail\": ", kd->item[i].present ? "true" : "false");
		json_print_string(out, kd->item[i].detail);
		fputc('}', out);
	}
	fputs("], \"missing\": [", out);
	for (enum kd_item i = 0; i < KD_NR_ITEMS; i++) {
		if (!item_needed(i) || kd->item[i].present)
			continue;
		fputs(first ? "" : ", ", out);
		json_print_string(out, kerndat_item_name(i));
		first = false;
	}
	fputs("], \"uffd_features\": ", out);
	if (kd->uffd_api_ok) {
		fputc('[', out);
		print_uffd_features(kd, out, true);
		fputc(']', out);
	} else {
		fputs("null", out);
	}
	fputs(", \"unprivileged_userfaultfd\": ", out);
	if (kd->unprivileged_userfaultfd >= 0)
		fprintf(out, "%d", kd->unprivileged_userfaultfd);
	else
		fputs("null", out);
	fprintf(out, ", \"xstate_size\": %u, \"xfeatures\": \"0x%" PRIx64 "\"}\n", kd->xstate_size,
		kd->xfeatures);
}
