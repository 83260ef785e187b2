/*
 * list.c - daxm list: regions, devices, mappings and extents as JSON.
 *
 * daxctl's rules (ndctl reference §2.5), except that the output is always
 * an array ("[]" when nothing matches) and that regions, devices and
 * mappings come in id / page_offset order.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <string.h>

#include "daxm.h"

const char daxm_usage_list[] =
	"daxm list [-R] [-D] [-M] [-E] [-i] [-r REGION] [-d DEV]\n"
	"  -R, --regions    list regions (with -D: devices nested under \"devices\")\n"
	"  -D, --devices    list devices (the default)\n"
	"  -M, --mappings   add each device's \"mappings\"\n"
	"  -E, --extents    add sparse regions' \"extents\" and sparse devices' \"tag\"\n"
	"                   (-E alone lists regions)\n"
	"  -i, --idle       include devices of size 0\n"
	"  -r, --region R   only region R (N, regionN or all); alone, implies -R\n"
	"  -d, --dev DEV    only device DEV (daxR.N, R.N or all), and with -R only\n"
	"                   the region holding it; alone, implies -D\n";

struct list_params {
	bool regions, devs, mappings, extents, idle;
	int region_id;          /* -1: all */
	int dev_region, dev_id; /* -1: all */
};

static bool dev_matches(const struct list_params *p, struct daxm_dev *dev)
{
	if (p->dev_region < 0)
		return true;
	return daxm_region_get_id(daxm_dev_get_region(dev)) == p->dev_region &&
	       daxm_dev_get_id(dev) == p->dev_id;
}

/* The devices of @region that pass the filters, or NULL if none does. */
static json_object *list_devs(const struct list_params *p, struct daxm_region *region,
			      unsigned int flags)
{
	json_object *jdevs = NULL;
	struct daxm_dev *dev;

	daxm_dev_foreach(region, dev) {
		if (!dev_matches(p, dev) || !daxm_dev_is_listed(dev, p->idle))
			continue;
		if (!jdevs)
			jdevs = json_object_new_array();
		json_object_array_add(jdevs, daxm_dev_to_json(dev, flags));
	}
	return jdevs;
}

int daxm_cmd_list(struct daxm_cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{ "regions", no_argument, NULL, 'R' },
		{ "devices", no_argument, NULL, 'D' },
		{ "mappings", no_argument, NULL, 'M' },
		{ "extents", no_argument, NULL, 'E' },
		{ "idle", no_argument, NULL, 'i' },
		{ "region", required_argument, NULL, 'r' },
		{ "dev", required_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 },
	};
	struct list_params p = { .region_id = -1, .dev_region = -1, .dev_id = -1 };
	const char *region_arg = NULL, *dev_arg = NULL;
	struct daxm_region *region;
	unsigned int flags = 0;
	json_object *out;
	int c;

	cli->usage = daxm_usage_list;
	while ((c = getopt_long(argc, argv, "RDMEir:d:", options, NULL)) != -1) {
		switch (c) {
		case 'R': p.regions = true; break;
		case 'D': p.devs = true; break;
		case 'M': p.mappings = true; break;
		case 'E': p.extents = true; break;
		case 'i': p.idle = true; break;
		case 'r': region_arg = optarg; break;
		case 'd': dev_arg = optarg; break;
		default: return daxm_bad_option(cli, argv);
		}
	}
	if (optind < argc)
		return daxm_usage_error(cli, "unexpected argument '%s'", argv[optind]);
	if (region_arg && daxm_parse_region_name(region_arg, true, &p.region_id))
		return daxm_usage_error(cli, "'%s' is not a region (N, regionN or all)", region_arg);
	if (dev_arg && daxm_parse_dev_name(dev_arg, true, &p.dev_region, &p.dev_id))
		return daxm_usage_error(cli, "'%s' is not a device (daxR.N, R.N or all)", dev_arg);

	/* As daxctl: -r alone lists regions, -d alone devices, nothing devices. */
	if (!p.regions && !p.devs) {
		p.regions = region_arg || p.extents;
		p.devs = dev_arg != NULL;
		if (!p.regions && !p.devs)
			p.devs = true;
	}
	if (p.mappings)
		flags |= DAXM_JSON_MAPPINGS;
	if (p.extents)
		flags |= DAXM_JSON_EXTENTS;

	out = json_object_new_array();
	daxm_region_foreach(cli->ctx, region) {
		int id = daxm_region_get_id(region);

		if (p.region_id >= 0 && id != p.region_id)
			continue;
		/* A device filter also picks the region that holds the device. */
		if (p.dev_region >= 0 && id != p.dev_region)
			continue;
		if (p.regions) {
			json_object *jdevs = p.devs ? list_devs(&p, region, flags) : NULL;

			json_object_array_add(out, daxm_region_to_json(region, jdevs, flags));
		} else {
			json_object *jdevs = list_devs(&p, region, flags);
			size_t i;

			for (i = 0; jdevs && i < json_object_array_length(jdevs); i++)
				json_object_array_add(out, json_object_get(json_object_array_get_idx(jdevs, i)));
			json_object_put(jdevs);
		}
	}
	cli->out = out;
	return DAXM_EXIT_OK;
}
