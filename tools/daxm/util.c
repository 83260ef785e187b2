/*
 * util.c - daxm: error reports, number / tag / name parsing, lookups.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daxm.h"

/* ---- errors ------------------------------------------------------------ */

#define E(name) { name, #name }
static const struct {
	int err;
	const char *name;
} errno_names[] = {
	E(EPERM), E(ENOENT), E(ESRCH), E(EINTR), E(EIO), E(ENXIO), E(E2BIG),
	E(ENOEXEC), E(EBADF), E(ECHILD), E(EAGAIN), E(ENOMEM), E(EACCES),
	E(EFAULT), E(EBUSY), E(EEXIST), E(EXDEV), E(ENODEV), E(ENOTDIR),
	E(EISDIR), E(EINVAL), E(ENFILE), E(EMFILE), E(ETXTBSY), E(EFBIG),
	E(ENOSPC), E(ESPIPE), E(EROFS), E(EMLINK), E(EPIPE), E(EDOM), E(ERANGE),
	E(EDEADLK), E(ENAMETOOLONG), E(ENOLCK), E(ENOSYS), E(ENOTEMPTY),
	E(ELOOP), E(ENODATA), E(EOVERFLOW), E(EILSEQ), E(EOPNOTSUPP),
	E(ETIMEDOUT), E(ESTALE), E(EDQUOT), E(ECANCELED),
};
#undef E

const char *daxm_errno_name(int err)
{
	static _Thread_local char other[24];
	size_t i;

	if (err < 0)
		err = err == INT_MIN ? INT_MAX : -err;
	for (i = 0; i < sizeof(errno_names) / sizeof(errno_names[0]); i++)
		if (errno_names[i].err == err)
			return errno_names[i].name;
	snprintf(other, sizeof(other), "E%d", err);
	return other;
}

int daxm_fail(struct daxm_cli *cli, int rc)
{
	const char *msg = daxm_last_error();

	fprintf(stderr, "daxm %s: %s: %s\n", cli->cmd, daxm_errno_name(rc),
		*msg ? msg : "(no message)");
	return DAXM_EXIT_FAIL;
}

int daxm_fail_cxl(struct daxm_cli *cli, int rc)
{
	const char *name = daxm_retcode_tostr(rc);
	const char *msg = daxm_last_error();

	if (rc <= 0 || !name)
		return daxm_fail(cli, rc < 0 ? rc : -EINVAL);
	fprintf(stderr, "daxm %s: %s: %s\n", cli->cmd, name, *msg ? msg : "(no message)");
	return DAXM_EXIT_FAIL;
}

int daxm_fail_msg(struct daxm_cli *cli, int err, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "daxm %s: %s: ", cli->cmd, daxm_errno_name(err));
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return DAXM_EXIT_FAIL;
}

/* The synopsis of a usage text: its first line and the lines that go
 * on with more [options]; the descriptions are for `daxm help`. */
static void print_synopsis(const char *usage)
{
	const char *line = usage;

	fputs("usage: ", stderr);
	while (*line) {
		const char *end = strchrnul(line, '\n'), *p = line;

		while (*p == ' ')
			p++;
		if (line != usage && *p != '[')
			break;
		fprintf(stderr, "%s%.*s\n", line == usage ? "" : "       ", (int)(end - line), line);
		line = *end ? end + 1 : end;
	}
	fputs("(daxm help describes every command)\n", stderr);
}

int daxm_usage_error(struct daxm_cli *cli, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "daxm %s: ", cli->cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (cli->usage)
		print_synopsis(cli->usage);
	return DAXM_EXIT_USAGE;
}

int daxm_bad_option(struct daxm_cli *cli, char **argv)
{
	/* getopt_long leaves optind past the word it could not use. */
	const char *word = optind > 0 ? argv[optind - 1] : "?";

	if (optopt > 0 && optopt < 128 && isprint(optopt) && word[0] == '-' && word[1] != '-')
		return daxm_usage_error(cli, "unknown option or missing value: -%c", optopt);
	return daxm_usage_error(cli, "unknown option or missing value: %s", word);
}

/* ---- numbers and tags --------------------------------------------------- */

int daxm_parse_size(const char *text, uint64_t *out)
{
	unsigned long long value;
	uint64_t unit = 1;
	char *end;

	/* strtoull would skip blanks and accept a sign (-1 = 2^64-1). */
	if (!text || !isdigit((unsigned char)text[0]))
		return -EINVAL;
	errno = 0;
	value = strtoull(text, &end, 0);
	if (errno == ERANGE)
		return -ERANGE;
	if (errno || end == text)
		return -EINVAL;
	switch (*end) {
	case 'k': case 'K': unit = 1ull << 10; end++; break;
	case 'm': case 'M': unit = 1ull << 20; end++; break;
	case 'g': case 'G': unit = 1ull << 30; end++; break;
	case 't': case 'T': unit = 1ull << 40; end++; break;
	default: break;
	}
	if (*end)
		return -EINVAL;
	if (value > UINT64_MAX / unit)
		return -ERANGE;
	*out = (uint64_t)value * unit;
	return 0;
}

int daxm_parse_long(const char *text, long min, long max, long *out)
{
	const char *digits = text;
	long value;
	char *end;

	if (!text)
		return -EINVAL;
	if (*digits == '-')
		digits++;
	if (!isdigit((unsigned char)*digits))
		return -EINVAL;
	errno = 0;
	value = strtol(text, &end, 10);
	if (errno == ERANGE)
		return -ERANGE;
	if (errno || *end)
		return -EINVAL;
	if (value < min || value > max)
		return -ERANGE;
	*out = value;
	return 0;
}

int daxm_parse_tag(const char *text, bool allow_zero, uint8_t tag[DAXM_TAG_SIZE])
{
	if (text && allow_zero && strcmp(text, "0") == 0) {
		memset(tag, 0, DAXM_TAG_SIZE);
		return 0;
	}
	return daxm_tag_parse(text, tag) < 0 ? -EINVAL : 0;
}

int daxm_opt_size(struct daxm_cli *cli, const char *what, const char *text, uint64_t *out)
{
	int rc = daxm_parse_size(text, out);

	if (rc == -ERANGE)
		return daxm_usage_error(cli, "%s '%s' is too large", what, text);
	if (rc)
		return daxm_usage_error(cli, "%s '%s' is not a size (a number, 0x..., optionally k/m/g/t)",
					what, text);
	return 0;
}

int daxm_opt_long(struct daxm_cli *cli, const char *what, const char *text,
		  long min, long max, long *out)
{
	int rc = daxm_parse_long(text, min, max, out);

	if (rc == -ERANGE)
		return daxm_usage_error(cli, "%s '%s' is out of range (%ld..%ld)", what, text, min, max);
	if (rc)
		return daxm_usage_error(cli, "%s '%s' is not a decimal number", what, text);
	return 0;
}

int daxm_opt_tag(struct daxm_cli *cli, const char *what, const char *text,
		 bool allow_zero, uint8_t tag[DAXM_TAG_SIZE])
{
	if (daxm_parse_tag(text, allow_zero, tag))
		return daxm_usage_error(cli, "%s '%s' is not a UUID or \"untagged\"%s", what, text,
					allow_zero ? " or \"0\"" : "");
	return 0;
}

/* ---- names -------------------------------------------------------------- */

/* A non-negative decimal id with no sign, blank or leading zero. */
static int parse_id(const char *text, const char **end, int *id)
{
	long value = 0;
	const char *p = text;

	if (!isdigit((unsigned char)*p) || (p[0] == '0' && isdigit((unsigned char)p[1])))
		return -EINVAL;
	for (; isdigit((unsigned char)*p); p++) {
		value = value * 10 + (*p - '0');
		if (value > INT_MAX)
			return -ERANGE;
	}
	*id = (int)value;
	*end = p;
	return 0;
}

int daxm_parse_region_name(const char *text, bool allow_all, int *id)
{
	const char *end;

	if (!text)
		return -EINVAL;
	if (allow_all && strcmp(text, "all") == 0) {
		*id = -1;
		return 0;
	}
	if (strncmp(text, "region", 6) == 0)
		text += 6;
	if (parse_id(text, &end, id) || *end)
		return -EINVAL;
	return 0;
}

int daxm_parse_dev_name(const char *text, bool allow_all, int *region, int *dev)
{
	const char *end;

	if (!text)
		return -EINVAL;
	if (allow_all && strcmp(text, "all") == 0) {
		*region = *dev = -1;
		return 0;
	}
	if (strncmp(text, "dax", 3) == 0)
		text += 3;
	if (parse_id(text, &end, region) || *end != '.')
		return -EINVAL;
	if (parse_id(end + 1, &end, dev) || *end)
		return -EINVAL;
	return 0;
}

struct daxm_region *daxm_find_region(struct daxm_cli *cli, const char *text, int *rc)
{
	struct daxm_region *region;
	int id;

	if (daxm_parse_region_name(text, false, &id)) {
		*rc = daxm_usage_error(cli, "'%s' is not a region (N or regionN)", text);
		return NULL;
	}
	region = daxm_region_get_by_id(cli->ctx, id);
	if (!region)
		*rc = daxm_fail_msg(cli, ENOENT, "region%d does not exist", id);
	return region;
}

struct daxm_dev *daxm_find_dev(struct daxm_cli *cli, const char *text, int *rc)
{
	struct daxm_dev *dev;
	char name[64];
	int region, id;

	if (daxm_parse_dev_name(text, false, &region, &id)) {
		*rc = daxm_usage_error(cli, "'%s' is not a device (daxR.N or R.N)", text);
		return NULL;
	}
	snprintf(name, sizeof(name), "dax%d.%d", region, id);
	dev = daxm_dev_get_by_name(cli->ctx, name);
	if (!dev)
		*rc = daxm_fail_msg(cli, ENOENT, "%s does not exist", name);
	return dev;
}
