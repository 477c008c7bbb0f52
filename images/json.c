/* JSON output for ckptctl show: a writer that only tracks whether each open
 * level already holds an item (for the commas), and a walker over protobuf-c
 * descriptors so that a new field in a .proto shows up with no code here. */
#include "images/json.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <string.h>

void json_init(struct json *j, FILE *f, bool pretty)
{
	*j = (struct json){ .f = f, .pretty = pretty };
}

int json_finish(struct json *j)
{
	if (j->err)
		return j->err;
	if (j->depth)
		return -EINVAL;
	fputc('\n', j->f);
	if (fflush(j->f) == EOF || ferror(j->f))
		return -EIO;
	return 0;
}

/* Length of the valid UTF-8 sequence at s (at most len bytes), 0 if none. */
static size_t utf8_len(const unsigned char *s, size_t len)
{
	unsigned char c = s[0];
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4;
	else
		return 0;
	if (len < n)
		return 0;
	/* The second byte's range excludes overlong forms, surrogates and
	 * code points above U+10FFFF. */
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
	for (size_t i = 2; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

/* The short escapes JSON has; other control characters become \u00XX. */
static const char *const short_escape[128] = {
	['"'] = "\\\"", ['\\'] = "\\\\", ['\n'] = "\\n", ['\r'] = "\\r",
	['\t'] = "\\t", ['\b'] = "\\b", ['\f'] = "\\f",
};

void json_write_string(FILE *f, const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;

	fputc('"', f);
	while (i < len) {
		unsigned char c = s[i];
		size_t n;

		if (c < 128 && short_escape[c]) {
			fputs(short_escape[c], f);
			i++;
			continue;
		}
		n = c < 0x20 ? 0 : utf8_len(s + i, len - i);
		if (!n) {
			/* a control character, or a byte that is not UTF-8 */
			fprintf(f, "\\u%04x", c);
			i++;
			continue;
		}
		fwrite(s + i, 1, n, f);
		i += n;
	}
	fputc('"', f);
}

static void json_indent(struct json *j)
{
	fputc('\n', j->f);
	for (unsigned i = 0; i < j->depth; i++)
		fputs("  ", j->f);
}

/* The comma, newline and key before any value. */
static void json_item(struct json *j, const char *key)
{
	uint64_t bit = 1ull << j->depth;

	if (j->has_items & bit)
		fputc(',', j->f);
	j->has_items |= bit;
	if (j->pretty && j->depth)
		json_indent(j);
	if (key) {
		json_write_string(j->f, key, strlen(key));
		fputs(j->pretty ? ": " : ":", j->f);
	}
}

static void json_open(struct json *j, const char *key, char c)
{
	json_item(j, key);
	fputc(c, j->f);
	if (j->depth + 1 >= JSON_MAX_DEPTH) {
		j->err = -E2BIG;
		return;
	}
	j->depth++;
	j->has_items &= ~(1ull << j->depth);
}

static void json_close(struct json *j, char c)
{
	bool items = j->has_items & (1ull << j->depth);

	if (!j->depth) {
		j->err = j->err ? j->err : -EINVAL;
		return;
	}
	j->depth--;
	if (items && j->pretty)
		json_indent(j);
	fputc(c, j->f);
}

void json_obj_begin(struct json *j, const char *key)
{
	json_open(j, key, '{');
}

void json_obj_end(struct json *j)
{
	json_close(j, '}');
}

void json_arr_begin(struct json *j, const char *key)
{
	json_open(j, key, '[');
}

void json_arr_end(struct json *j)
{
	json_close(j, ']');
}

void json_strn(struct json *j, const char *key, const char *s, size_t len)
{
	json_item(j, key);
	json_write_string(j->f, s, len);
}

void json_str(struct json *j, const char *key, const char *s)
{
	if (!s) {
		json_null(j, key);
		return;
	}
	json_strn(j, key, s, strlen(s));
}

void json_hex(struct json *j, const char *key, const void *data, size_t len)
{
	const unsigned char *p = data;

	json_item(j, key);
	fputc('"', j->f);
	for (size_t i = 0; i < len; i++)
		fprintf(j->f, "%02x", p[i]);
	fputc('"', j->f);
}

void json_u64(struct json *j, const char *key, uint64_t v)
{
	json_item(j, key);
	fprintf(j->f, "%" PRIu64, v);
}

void json_i64(struct json *j, const char *key, int64_t v)
{
	json_item(j, key);
	fprintf(j->f, "%" PRId64, v);
}

void json_double(struct json *j, const char *key, double v)
{
	if (!isfinite(v)) {
		json_null(j, key);
		return;
	}
	json_item(j, key);
	fprintf(j->f, "%.17g", v);
}

void json_bool(struct json *j, const char *key, bool v)
{
	json_item(j, key);
	fputs(v ? "true" : "false", j->f);
}

void json_null(struct json *j, const char *key)
{
	json_item(j, key);
	fputs("null", j->f);
}

/* ---- protobuf-c messages ---- */

static size_t field_elem_size(ProtobufCType type)
{
	switch (type) {
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
	case PROTOBUF_C_TYPE_DOUBLE:
		return 8;
	case PROTOBUF_C_TYPE_BOOL:
		return sizeof(protobuf_c_boolean);
	case PROTOBUF_C_TYPE_STRING:
	case PROTOBUF_C_TYPE_MESSAGE:
		return sizeof(void *);
	case PROTOBUF_C_TYPE_BYTES:
		return sizeof(ProtobufCBinaryData);
	default:
		return 4;
	}
}

static void json_enum(struct json *j, const char *key, const ProtobufCFieldDescriptor *fd,
		      int value)
{
	const ProtobufCEnumValue *ev = NULL;

	if (fd->descriptor)
		ev = protobuf_c_enum_descriptor_get_value(fd->descriptor, value);
	if (ev)
		json_str(j, key, ev->name);
	else
		json_i64(j, key, value);
}

/* One value of field fd stored at p. */
static void json_value(struct json *j, const char *key, const ProtobufCFieldDescriptor *fd,
		       const void *p)
{
	switch (fd->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		json_i64(j, key, *(const int32_t *)p);
		break;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		json_u64(j, key, *(const uint32_t *)p);
		break;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		json_i64(j, key, *(const int64_t *)p);
		break;
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		json_u64(j, key, *(const uint64_t *)p);
		break;
	case PROTOBUF_C_TYPE_FLOAT:
		json_double(j, key, *(const float *)p);
		break;
	case PROTOBUF_C_TYPE_DOUBLE:
		json_double(j, key, *(const double *)p);
		break;
	case PROTOBUF_C_TYPE_BOOL:
		json_bool(j, key, *(const protobuf_c_boolean *)p);
		break;
	case PROTOBUF_C_TYPE_ENUM:
		json_enum(j, key, fd, *(const int *)p);
		break;
	case PROTOBUF_C_TYPE_STRING:
		json_str(j, key, *(char *const *)p);
		break;
	case PROTOBUF_C_TYPE_BYTES: {
		const ProtobufCBinaryData *b = p;

		json_hex(j, key, b->data, b->len);
		break;
	}
	case PROTOBUF_C_TYPE_MESSAGE:
		json_msg(j, key, *(ProtobufCMessage *const *)p);
		break;
	default:
		json_null(j, key);
		break;
	}
}

/* Whether a non-repeated field holds a value (as protobuf-c's packer sees it). */
static bool field_present(const ProtobufCMessage *msg, const ProtobufCFieldDescriptor *fd)
{
	const char *base = (const char *)msg;

	if (fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
		return *(const uint32_t *)(base + fd->quantifier_offset) == fd->id;
	if (fd->label != PROTOBUF_C_LABEL_OPTIONAL)
		return true;
	if (fd->type == PROTOBUF_C_TYPE_STRING || fd->type == PROTOBUF_C_TYPE_MESSAGE) {
		const void *ptr = *(const void *const *)(base + fd->offset);

		return ptr && ptr != fd->default_value;
	}
	return *(const protobuf_c_boolean *)(base + fd->quantifier_offset);
}

void json_msg_fields(struct json *j, const ProtobufCMessage *msg)
{
	const ProtobufCMessageDescriptor *d = msg->descriptor;
	const char *base = (const char *)msg;

	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *fd = &d->fields[i];
		const void *member = base + fd->offset;

		if (fd->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n = *(const size_t *)(base + fd->quantifier_offset);
			const char *arr = *(const char *const *)member;
			size_t sz = field_elem_size(fd->type);

			json_arr_begin(j, fd->name);
			for (size_t k = 0; k < n; k++)
				json_value(j, NULL, fd, arr + k * sz);
			json_arr_end(j);
		} else if (field_present(msg, fd)) {
			json_value(j, fd->name, fd, member);
		}
	}
}

void json_msg(struct json *j, const char *key, const ProtobufCMessage *msg)
{
	if (!msg) {
		json_null(j, key);
		return;
	}
	if (j->depth + 1 >= JSON_MAX_DEPTH) {
		j->err = -E2BIG;
		json_null(j, key);
		return;
	}
	json_obj_begin(j, key);
	json_msg_fields(j, msg);
	json_obj_end(j);
}
