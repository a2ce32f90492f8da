// SPDX-License-Identifier: GPL-2.0-or-later
/* Semantic validation of image messages. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "img.h"
#include "validate.h"

#include "inventory.pb-c.h"

static int check_inventory(const InventoryEntry *e, char *why, size_t n)
{
	if (e->page_size != 4096) {
		snprintf(why, n, "page size %u, only 4096 is supported", e->page_size);
		return -EINVAL;
	}
	if (e->root_pid == 0 || e->root_pid > 4194304) {
		snprintf(why, n, "root pid %u out of range", e->root_pid);
		return -EINVAL;
	}
	return 0;
}

int img_validate(enum img_type type, unsigned idx, const ProtobufCMessage *msg, char *why,
		 size_t whylen)
{
	switch (type) {
	case IMG_INVENTORY:
		return check_inventory((const InventoryEntry *)msg, why, whylen);
	default:
		return 0;
	}
}
