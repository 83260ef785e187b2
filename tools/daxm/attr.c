/*
 * attr.c - daxm read / write: the model's sysfs text, one attribute at a
 * time (daxm_attr_read / daxm_attr_write), as cat and echo would on
 * /sys/bus/dax.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daxm.h"

const char daxm_usage_read[] =
	"daxm read PATH\n"
	"  print the attribute PATH (e.g. region0/available_size, dax0.1/mapping0/start)\n";

const char daxm_usage_write[] =
	"daxm write [--] PATH VALUE\n"
	"  write VALUE to the attribute PATH (e.g. dax0.1/size 0x200000), parsed\n"
	"  as the kernel parses it (\"2M\" is EINVAL); VALUE may start with '-'\n";

/* Positional arguments only; "--" ends options, --help prints the usage. */
static int positionals(struct daxm_cli *cli, int argc, char **argv, int want, char ***args)
{
	int first = 1;

	if (first < argc && (strcmp(argv[first], "-h") == 0 || strcmp(argv[first], "--help") == 0)) {
		fprintf(stdout, "usage: %s", cli->usage);
		return -1;
	}
	if (first < argc && strcmp(argv[first], "--") == 0)
		first++;
	if (argc - first != want)
		return daxm_usage_error(cli, "expected %d argument%s, got %d", want,
					want == 1 ? "" : "s", argc - first);
	*args = argv + first;
	return 0;
}

int daxm_cmd_read(struct daxm_cli *cli, int argc, char **argv)
{
	size_t len = 4096;
	char **args = NULL, *buf;
	long n;
	int rc;

	cli->usage = daxm_usage_read;
	rc = positionals(cli, argc, argv, 1, &args);
	if (rc)
		return rc < 0 ? DAXM_EXIT_OK : rc;
	for (;;) {
		buf = malloc(len);
		if (!buf)
			return daxm_fail_msg(cli, ENOMEM, "out of memory");
		n = daxm_attr_read(cli->ctx, args[0], buf, len);
		if (n != -ERANGE || len >= (64u << 20))
			break;
		free(buf);
		len *= 2;
	}
	if (n < 0) {
		rc = daxm_fail(cli, (int)n);
		free(buf);
		return rc;
	}
	rc = fwrite(buf, 1, (size_t)n, stdout) == (size_t)n ? DAXM_EXIT_OK
		: daxm_fail_msg(cli, EIO, "cannot write to stdout");
	free(buf);
	return rc;
}

int daxm_cmd_write(struct daxm_cli *cli, int argc, char **argv)
{
	char **args = NULL;
	int rc;

	cli->usage = daxm_usage_write;
	rc = positionals(cli, argc, argv, 2, &args);
	if (rc)
		return rc < 0 ? DAXM_EXIT_OK : rc;
	rc = daxm_attr_write(cli->ctx, args[0], args[1]);
	if (rc < 0)
		return daxm_fail(cli, rc);
	/* A 0-byte write changes nothing, but saving it is harmless. */
	cli->dirty = true;
	return DAXM_EXIT_OK;
}
