/*
 * region.c - daxm region add: a producer (hmem, pmem, CXL) adds a region
 * with its first device, as daxm_region_new() does.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "daxm.h"

const char daxm_usage_region_add[] =
	"daxm region add --kind dynamic|static|sparse --start ADDR --size SIZE\n"
	"                [--align A] [--id N] [--target-node N] [--numa-node N]\n"
	"                [--dev-id N] [--profile 6.1|6.12] [--idle] [--unbound]\n"
	"                [--revoke] [--no-sanitize]\n"
	"  --kind         dynamic (hmem, CXL RAM), static (pmem namespace) or\n"
	"                 sparse (CXL Dynamic Capacity)\n"
	"  --start/--size physical start and size (k/m/g/t suffixes, 0x...)\n"
	"  --align        4k, 2m (default) or 1g\n"
	"  --id           region id (default: the lowest free)\n"
	"  --target-node  NUMA node of the memory (default: none)\n"
	"  --dev-id       static regions: N of the one device daxR.N (default 0)\n"
	"  --profile      kernel behaviour to follow: 6.1 or 6.12 (default)\n"
	"  --idle         daxR.0 starts at size 0 (dynamic regions)\n"
	"  --unbound      daxR.0 starts unbound\n"
	"  --revoke       sparse: a forced release revokes extents at once\n"
	"  --no-sanitize  sparse: released capacity keeps its bytes\n";

enum {
	OPT_KIND = 256, OPT_START, OPT_SIZE, OPT_ALIGN, OPT_ID, OPT_TARGET_NODE,
	OPT_NUMA_NODE, OPT_DEV_ID, OPT_PROFILE, OPT_IDLE, OPT_UNBOUND, OPT_REVOKE,
	OPT_NO_SANITIZE,
};

static int region_add(struct daxm_cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{ "kind", required_argument, NULL, OPT_KIND },
		{ "start", required_argument, NULL, OPT_START },
		{ "size", required_argument, NULL, OPT_SIZE },
		{ "align", required_argument, NULL, OPT_ALIGN },
		{ "id", required_argument, NULL, OPT_ID },
		{ "target-node", required_argument, NULL, OPT_TARGET_NODE },
		{ "numa-node", required_argument, NULL, OPT_NUMA_NODE },
		{ "dev-id", required_argument, NULL, OPT_DEV_ID },
		{ "profile", required_argument, NULL, OPT_PROFILE },
		{ "idle", no_argument, NULL, OPT_IDLE },
		{ "unbound", no_argument, NULL, OPT_UNBOUND },
		{ "revoke", no_argument, NULL, OPT_REVOKE },
		{ "no-sanitize", no_argument, NULL, OPT_NO_SANITIZE },
		{ NULL, 0, NULL, 0 },
	};
	struct daxm_region_spec spec;
	struct daxm_region *region;
	struct daxm_dev *dev;
	bool have_kind = false, have_start = false, have_size = false;
	json_object *jdevs, *out;
	long value;
	int c, rc;

	cli->usage = daxm_usage_region_add;
	daxm_region_spec_init(&spec);
	while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
		rc = DAXM_EXIT_OK;
		switch (c) {
		case OPT_KIND:
			have_kind = true;
			if (strcmp(optarg, "dynamic") == 0)
				spec.kind = DAXM_REGION_DYNAMIC;
			else if (strcmp(optarg, "static") == 0)
				spec.kind = DAXM_REGION_STATIC;
			else if (strcmp(optarg, "sparse") == 0)
				spec.kind = DAXM_REGION_SPARSE;
			else
				rc = daxm_usage_error(cli, "--kind '%s': expected dynamic, static or sparse", optarg);
			break;
		case OPT_START:
			have_start = true;
			rc = daxm_opt_size(cli, "--start", optarg, &spec.start);
			break;
		case OPT_SIZE:
			have_size = true;
			rc = daxm_opt_size(cli, "--size", optarg, &spec.size);
			break;
		case OPT_ALIGN:
			rc = daxm_opt_size(cli, "--align", optarg, &spec.align);
			break;
		case OPT_ID:
			rc = daxm_opt_long(cli, "--id", optarg, -1, INT32_MAX, &value);
			spec.id = (int32_t)value;
			break;
		case OPT_TARGET_NODE:
			rc = daxm_opt_long(cli, "--target-node", optarg, -1, INT32_MAX, &value);
			spec.target_node = (int32_t)value;
			break;
		case OPT_NUMA_NODE:
			rc = daxm_opt_long(cli, "--numa-node", optarg, -1, INT32_MAX, &value);
			spec.numa_node = (int32_t)value;
			break;
		case OPT_DEV_ID:
			rc = daxm_opt_long(cli, "--dev-id", optarg, 0, INT32_MAX, &value);
			spec.dev_id = (int32_t)value;
			break;
		case OPT_PROFILE:
			if (strcmp(optarg, "6.1") == 0)
				spec.profile = DAXM_PROFILE_6_1;
			else if (strcmp(optarg, "6.12") == 0)
				spec.profile = DAXM_PROFILE_6_12;
			else
				rc = daxm_usage_error(cli, "--profile '%s': expected 6.1 or 6.12", optarg);
			break;
		case OPT_IDLE: spec.flags |= DAXM_REGION_IDLE; break;
		case OPT_UNBOUND: spec.flags |= DAXM_REGION_UNBOUND; break;
		case OPT_REVOKE: spec.flags |= DAXM_REGION_REVOKE; break;
		case OPT_NO_SANITIZE: spec.flags |= DAXM_REGION_NO_SANITIZE; break;
		default: return daxm_bad_option(cli, argv);
		}
		if (rc)
			return rc;
	}
	if (optind < argc)
		return daxm_usage_error(cli, "unexpected argument '%s'", argv[optind]);
	if (!have_kind || !have_start || !have_size)
		return daxm_usage_error(cli, "--kind, --start and --size are required");

	rc = daxm_region_new(cli->ctx, &spec, &region);
	if (rc < 0)
		return daxm_fail(cli, rc);
	cli->dirty = true;

	/* The new region with its first device (idle or not). */
	jdevs = json_object_new_array();
	daxm_dev_foreach(region, dev)
		json_object_array_add(jdevs, daxm_dev_to_json(dev, DAXM_JSON_MAPPINGS | DAXM_JSON_EXTENTS));
	out = json_object_new_array();
	json_object_array_add(out, daxm_region_to_json(region, jdevs, DAXM_JSON_EXTENTS));
	cli->out = out;
	snprintf(cli->note, sizeof(cli->note), "added region%d", daxm_region_get_id(region));
	return DAXM_EXIT_OK;
}

int daxm_cmd_region(struct daxm_cli *cli, int argc, char **argv)
{
	if (argc < 2) {
		cli->usage = daxm_usage_region_add;
		return daxm_usage_error(cli, "expected a sub-command: add");
	}
	if (strcmp(argv[1], "add") == 0) {
		cli->cmd = "region add";
		return region_add(cli, argc - 1, argv + 1);
	}
	cli->usage = daxm_usage_region_add;
	return daxm_usage_error(cli, "unknown sub-command '%s' (expected: add)", argv[1]);
}
