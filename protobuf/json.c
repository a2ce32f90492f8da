// SPDX-License-Identifier: GPL-2.0-or-later
/* JSON printing of any protobuf-c message by walking its descriptors. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "json.h"

void json_init(struct json *j, FILE *f)
{
	*j = (struct json){.f = f};
}

/* Comma, newline and indentation before an item of the current container. */
static void json_prelude(struct json *j)
{
	if (j->after_key) {
		j->after_key = false;
		return;
	}
	if (j->depth == 0)
		return;
	if (j->has_items & (1ull << j->depth))
		fputc(',', j->f);
	j->has_items |= 1ull << j->depth;
	fprintf(j->f, "\n%*s", (int)(2 * j->depth), "");
}

static void json_begin(struct json *j, char c)
{
	if (j->err)
		return;
	if (j->depth + 1 >= JSON_MAX_DEPTH) {
		j->err = -ELOOP;
		return;
	}
	json_prelude(j);
	fputc(c, j->f);
	j->depth++;
	j->has_items &= ~(1ull << j->depth);
}

static void json_end(struct json *j, char c)
{
	if (j->err)
		return;
	if (j->has_items & (1ull << j->depth))
		fprintf(j->f, "\n%*s", (int)(2 * (j->depth - 1)), "");
	j->depth--;
	fputc(c, j->f);
}

void json_begin_object(struct json *j)
{
	json_begin(j, '{');
}

void json_end_object(struct json *j)
{
	json_end(j, '}');
}

void json_begin_array(struct json *j)
{
	json_begin(j, '[');
}

void json_end_array(struct json *j)
{
	json_end(j, ']');
}

/* Length of the well-formed UTF-8 sequence at s, or 0 if it is not one. */
static size_t utf8_seq_len(const unsigned char *s)
{
	unsigned char c = s[0];
	unsigned char lo = 0x80, hi = 0xbf;
	size_t len;

	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4;
	else
		return 0;
	/* No overlong forms, no surrogates, nothing above U+10FFFF. */
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

/* A quoted, escaped string. Bytes that are not well-formed UTF-8 come out as
 * \u00XX so that the output stays valid JSON. */
static void json_quoted(struct json *j, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;

	fputc('"', j->f);
	while (*s) {
		unsigned char c = *s;
		size_t len;

		if (c == '"' || c == '\\') {
			fprintf(j->f, "\\%c", c);
		} else if (c == '\n') {
			fputs("\\n", j->f);
		} else if (c == '\t') {
			fputs("\\t", j->f);
		} else if (c == '\r') {
			fputs("\\r", j->f);
		} else if (c < 0x20 || c == 0x7f) {
			fprintf(j->f, "\\u%04x", c);
		} else if (c < 0x80) {
			fputc(c, j->f);
		} else if ((len = utf8_seq_len(s)) != 0) {
			fwrite(s, 1, len, j->f);
			s += len;
			continue;
		} else {
			fprintf(j->f, "\\u%04x", c);
		}
		s++;
	}
	fputc('"', j->f);
}

void json_key(struct json *j, const char *key)
{
	if (j->err)
		return;
	json_prelude(j);
	json_quoted(j, key);
	fputs(": ", j->f);
	j->after_key = true;
}

void json_string(struct json *j, const char *s)
{
	if (j->err)
		return;
	json_prelude(j);
	json_quoted(j, s ? s : "");
}

void json_u64(struct json *j, uint64_t v)
{
	if (j->err)
		return;
	json_prelude(j);
	fprintf(j->f, "%" PRIu64, v);
}

static void json_i64(struct json *j, int64_t v)
{
	json_prelude(j);
	fprintf(j->f, "%" PRId64, v);
}

static void json_raw(struct json *j, const char *text)
{
	json_prelude(j);
	fputs(text, j->f);
}

static void json_double(struct json *j, double v)
{
	/* JSON has no NaN or infinity. */
	if (!isfinite(v)) {
		json_raw(j, "null");
		return;
	}
	json_prelude(j);
	fprintf(j->f, "%.17g", v);
}

static void json_hex(struct json *j, const ProtobufCBinaryData *b)
{
	json_prelude(j);
	fputc('"', j->f);
	for (size_t i = 0; i < b->len; i++)
		fprintf(j->f, "%02x", b->data[i]);
	fputc('"', j->f);
}

/* Bytes one element of a repeated field takes in its C array. */
static size_t elem_size(ProtobufCType t)
{
	switch (t) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
	case PROTOBUF_C_TYPE_ENUM:
		return 4;
	case PROTOBUF_C_TYPE_FLOAT:
		return sizeof(float);
	case PROTOBUF_C_TYPE_BOOL:
		return sizeof(protobuf_c_boolean);
	case PROTOBUF_C_TYPE_BYTES:
		return sizeof(ProtobufCBinaryData);
	case PROTOBUF_C_TYPE_STRING:
	case PROTOBUF_C_TYPE_MESSAGE:
		return sizeof(void *);
	default:
		return 8;
	}
}

static void json_value(struct json *j, const ProtobufCFieldDescriptor *f, const void *p)
{
	if (j->err)
		return;
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		json_i64(j, *(const int32_t *)p);
		break;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		json_u64(j, *(const uint32_t *)p);
		break;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		json_i64(j, *(const int64_t *)p);
		break;
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		json_u64(j, *(const uint64_t *)p);
		break;
	case PROTOBUF_C_TYPE_FLOAT:
		json_double(j, *(const float *)p);
		break;
	case PROTOBUF_C_TYPE_DOUBLE:
		json_double(j, *(const double *)p);
		break;
	case PROTOBUF_C_TYPE_BOOL:
		json_raw(j, *(const protobuf_c_boolean *)p ? "true" : "false");
		break;
	case PROTOBUF_C_TYPE_ENUM: {
		int v = *(const int *)p;
		const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(
		    (const ProtobufCEnumDescriptor *)f->descriptor, v);

		/* An unknown value (validation would have refused it) is
		 * printed as its number rather than hidden. */
		if (ev)
			json_string(j, ev->name);
		else
			json_i64(j, v);
		break;
	}
	case PROTOBUF_C_TYPE_STRING:
		json_string(j, *(const char *const *)p);
		break;
	case PROTOBUF_C_TYPE_BYTES:
		json_hex(j, (const ProtobufCBinaryData *)p);
		break;
	case PROTOBUF_C_TYPE_MESSAGE: {
		const ProtobufCMessage *m = *(const ProtobufCMessage *const *)p;

		if (m)
			json_message(j, m);
		else
			json_raw(j, "null");
		break;
	}
	}
}

static bool field_present(const ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f)
{
	const char *base = (const char *)msg;

	if (f->label == PROTOBUF_C_LABEL_REQUIRED)
		return true;
	if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
		return *(const uint32_t *)(base + f->quantifier_offset) == f->id;
	if (f->label == PROTOBUF_C_LABEL_NONE)
		return true;
	/* Optional: pointers are NULL (or the default) when absent; the rest
	 * carry a has_ flag. */
	if (f->type == PROTOBUF_C_TYPE_MESSAGE)
		return *(const void *const *)(base + f->offset) != NULL;
	if (f->type == PROTOBUF_C_TYPE_STRING) {
		const char *s = *(const char *const *)(base + f->offset);

		return s && s != f->default_value;
	}
	return *(const protobuf_c_boolean *)(base + f->quantifier_offset);
}

void json_message(struct json *j, const ProtobufCMessage *msg)
{
	const ProtobufCMessageDescriptor *d = msg->descriptor;
	const char *base = (const char *)msg;

	json_begin_object(j);
	for (unsigned i = 0; i < d->n_fields && !j->err; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];

		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n = *(const size_t *)(base + f->quantifier_offset);
			const char *arr = *(const char *const *)(base + f->offset);
			size_t sz = elem_size(f->type);

			json_key(j, f->name);
			json_begin_array(j);
			for (size_t k = 0; k < n && !j->err; k++)
				json_value(j, f, arr + k * sz);
			json_end_array(j);
		} else if (field_present(msg, f)) {
			json_key(j, f->name);
			json_value(j, f, base + f->offset);
		}
	}
	json_end_object(j);
}

int json_finish(struct json *j)
{
	if (j->err)
		return j->err;
	fputc('\n', j->f);
	if (fflush(j->f) == EOF || ferror(j->f))
		return -EIO;
	return 0;
}
