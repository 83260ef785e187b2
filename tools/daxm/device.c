/*
 * device.c - daxm create-device, destroy-device, reconfigure-device,
 * enable-device, disable-device: daxctl's device flows (ndctl reference
 * §2.2, §2.3) on the model, with the model's errnos passed on unchanged.
 *
 * Where daxctl is not copied (reference §5.2):
 *  - create-device takes the device the create made (not a possibly older
 *    seed), and a failure after the create removes that device again
 *    instead of leaving an idle one behind;
 *  - destroy-device of daxR.0 (or on a static region) is refused with the
 *    library's errno before anything changes, instead of shrinking the
 *    device and reporting success;
 *  - reconfigure-device -a works alone, -s prints the device, and when
 *    -s and -a are given and the second change is refused, the first is
 *    undone.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "daxm.h"

const char daxm_usage_create_device[] =
	"daxm create-device -r REGION [-s SIZE] [-a ALIGN] [--tag UUID|untagged]\n"
	"                   [--claim UUID|untagged|0]\n"
	"  -r, --region R   the region to create the device in\n"
	"  -s, --size S     size (default: all available; on a sparse region with\n"
	"                   --tag, all free capacity of that tag)\n"
	"  -a, --align A    4k, 2m or 1g (default: the region's)\n"
	"  --tag T          sparse regions: allocate only from extents tagged T\n"
	"  --claim T        sparse regions: take the whole tag group T in one step\n"
	"                   (\"untagged\" or \"0\": one free untagged extent); not with -s\n";

const char daxm_usage_destroy_device[] =
	"daxm destroy-device DEV [-f|--force]\n"
	"  disable (with --force), shrink to 0 and delete DEV (daxR.N or R.N)\n";

const char daxm_usage_reconfigure_device[] =
	"daxm reconfigure-device DEV [-s SIZE] [-a ALIGN]\n"
	"  resize DEV and/or change its align (at least one of -s, -a)\n";

const char daxm_usage_enable_device[] = "daxm enable-device DEV\n";
const char daxm_usage_disable_device[] = "daxm disable-device DEV\n";

enum { OPT_TAG = 256, OPT_CLAIM };

/* The one positional argument left after the options: a device. */
static struct daxm_dev *positional_dev(struct daxm_cli *cli, int argc, char **argv, int *rc)
{
	if (optind >= argc) {
		*rc = daxm_usage_error(cli, "expected a device (daxR.N or R.N)");
		return NULL;
	}
	if (optind + 1 < argc) {
		*rc = daxm_usage_error(cli, "unexpected argument '%s': one device at a time",
				       argv[optind + 1]);
		return NULL;
	}
	return daxm_find_dev(cli, argv[optind], rc);
}

static bool same_tag(const uint8_t a[DAXM_TAG_SIZE], const uint8_t b[DAXM_TAG_SIZE])
{
	return memcmp(a, b, DAXM_TAG_SIZE) == 0;
}

/*
 * Free capacity of @tag on a sparse region: the accepted extents of that
 * tag minus the device ranges inside them (what a device with that tag
 * selected can still grow by; available_size counts every tag).
 */
static uint64_t tag_free_bytes(struct daxm_region *region, const uint8_t tag[DAXM_TAG_SIZE])
{
	uint64_t base = daxm_region_get_start(region), total = 0;
	struct daxm_extent *extent;

	daxm_extent_foreach(region, extent) {
		uint64_t off = daxm_extent_get_offset(extent), len = daxm_extent_get_length(extent);
		uint8_t etag[DAXM_TAG_SIZE];
		struct daxm_dev *dev;
		uint64_t used = 0;

		if (daxm_extent_get_state(extent) != DAXM_EXTENT_ACCEPTED ||
		    daxm_extent_get_tag(extent, etag) < 0 || !same_tag(etag, tag))
			continue;
		daxm_dev_foreach(region, dev) {
			struct daxm_mapping *m;

			daxm_mapping_foreach(dev, m) {
				/* Region-relative [lo, hi) of the range, clipped to the extent. */
				uint64_t lo = daxm_mapping_get_start(m) - base;
				uint64_t hi = lo + daxm_mapping_get_size(m);

				if (lo < off)
					lo = off;
				if (hi > off + len)
					hi = off + len;
				if (hi > lo)
					used += hi - lo;
			}
		}
		total += used < len ? len - used : 0;
	}
	return total;
}

/* Undo a create-device that failed part-way: unbind, shrink, delete. */
static void create_rollback(struct daxm_cli *cli, struct daxm_region *region, struct daxm_dev *dev)
{
	const char *name = daxm_dev_get_devname(dev);
	char saved[64];
	int rc = 0;

	snprintf(saved, sizeof(saved), "%s", name ? name : "?");
	if (daxm_dev_is_enabled(dev) == 1)
		rc = daxm_dev_disable(dev);
	if (!rc && daxm_dev_get_size(dev) != 0)
		rc = daxm_dev_set_size(dev, 0);
	if (!rc)
		rc = daxm_region_destroy_dev(region, dev);
	if (rc) {
		daxm_fail(cli, rc);
		fprintf(stderr, "daxm %s: %s was left behind\n", cli->cmd, saved);
	}
}

int daxm_cmd_create_device(struct daxm_cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{ "region", required_argument, NULL, 'r' },
		{ "size", required_argument, NULL, 's' },
		{ "align", required_argument, NULL, 'a' },
		{ "tag", required_argument, NULL, OPT_TAG },
		{ "claim", required_argument, NULL, OPT_CLAIM },
		{ NULL, 0, NULL, 0 },
	};
	const char *region_arg = NULL;
	bool have_size = false, have_align = false, have_tag = false, have_claim = false;
	uint8_t tag[DAXM_TAG_SIZE];
	uint64_t size = 0, align = 0;
	struct daxm_region *region;
	struct daxm_dev *dev;
	int c, rc = DAXM_EXIT_OK;

	cli->usage = daxm_usage_create_device;
	while ((c = getopt_long(argc, argv, "r:s:a:", options, NULL)) != -1) {
		switch (c) {
		case 'r': region_arg = optarg; break;
		case 's':
			have_size = true;
			rc = daxm_opt_size(cli, "--size", optarg, &size);
			break;
		case 'a':
			have_align = true;
			rc = daxm_opt_size(cli, "--align", optarg, &align);
			break;
		case OPT_TAG:
			if (have_claim)
				return daxm_usage_error(cli, "--tag and --claim exclude each other");
			have_tag = true;
			rc = daxm_opt_tag(cli, "--tag", optarg, false, tag);
			break;
		case OPT_CLAIM:
			if (have_tag)
				return daxm_usage_error(cli, "--tag and --claim exclude each other");
			have_claim = true;
			rc = daxm_opt_tag(cli, "--claim", optarg, true, tag);
			break;
		default: return daxm_bad_option(cli, argv);
		}
		if (rc)
			return rc;
	}
	if (optind < argc)
		return daxm_usage_error(cli, "unexpected argument '%s'", argv[optind]);
	if (!region_arg)
		return daxm_usage_error(cli, "-r REGION is required");
	if (have_claim && have_size)
		return daxm_usage_error(cli, "--claim sizes the device to the tag group: not with --size");
	region = daxm_find_region(cli, region_arg, &rc);
	if (!region)
		return rc;

	/* daxctl's flow: create, align, (tag), size, enable. */
	rc = daxm_region_create_dev(region, &dev);
	if (rc < 0)
		return daxm_fail(cli, rc);
	cli->dirty = true;
	if (have_align && (rc = daxm_dev_set_align(dev, align)) < 0)
		goto fail;
	if (have_tag && (rc = daxm_dev_set_tag(dev, tag)) < 0)
		goto fail;
	if (have_claim) {
		rc = daxm_dev_claim_tag(dev, tag);
	} else {
		if (!have_size)
			size = have_tag ? tag_free_bytes(region, tag) : daxm_region_get_available_size(region);
		if (!have_size && size == 0) {
			daxm_fail_msg(cli, ENOSPC, "%s: no free capacity%s", daxm_dev_get_devname(dev),
				      have_tag ? " with that tag" : "");
			create_rollback(cli, region, dev);
			return DAXM_EXIT_FAIL;
		}
		rc = daxm_dev_set_size(dev, size);
	}
	if (rc < 0)
		goto fail;
	rc = daxm_dev_enable(dev);
	if (rc < 0)
		goto fail;

	cli->out = json_object_new_array();
	json_object_array_add(cli->out, daxm_dev_to_json(dev, DAXM_JSON_EXTENTS));
	snprintf(cli->note, sizeof(cli->note), "created 1 device");
	return DAXM_EXIT_OK;

fail:
	daxm_fail(cli, rc);
	create_rollback(cli, region, dev);
	return DAXM_EXIT_FAIL;
}

int daxm_cmd_destroy_device(struct daxm_cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{ "force", no_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	struct daxm_region *region;
	struct daxm_dev *dev;
	bool force = false;
	int c, rc = DAXM_EXIT_OK;

	cli->usage = daxm_usage_destroy_device;
	while ((c = getopt_long(argc, argv, "f", options, NULL)) != -1) {
		if (c != 'f')
			return daxm_bad_option(cli, argv);
		force = true;
	}
	dev = positional_dev(cli, argc, argv, &rc);
	if (!dev)
		return rc;
	region = daxm_dev_get_region(dev);

	/* Devices that cannot be deleted: let the library say why, first. */
	if (daxm_dev_get_id(dev) == 0 || daxm_region_get_kind(region) == DAXM_REGION_STATIC) {
		rc = daxm_region_destroy_dev(region, dev);
		if (rc < 0)
			return daxm_fail(cli, rc);
		cli->dirty = true;
		snprintf(cli->note, sizeof(cli->note), "destroyed 1 device");
		return DAXM_EXIT_OK;
	}
	if (daxm_dev_is_enabled(dev) == 1) {
		if (!force)
			return daxm_fail_msg(cli, ENXIO, "%s is active, specify --force for deletion",
					     daxm_dev_get_devname(dev));
		rc = daxm_dev_disable(dev);
		if (rc < 0)
			return daxm_fail(cli, rc);
		cli->dirty = true;
	}
	if (daxm_dev_get_size(dev) != 0) {
		rc = daxm_dev_set_size(dev, 0);
		if (rc < 0)
			return daxm_fail(cli, rc);
		cli->dirty = true;
	}
	rc = daxm_region_destroy_dev(region, dev);
	if (rc < 0)
		return daxm_fail(cli, rc);
	cli->dirty = true;
	snprintf(cli->note, sizeof(cli->note), "destroyed 1 device");
	return DAXM_EXIT_OK;
}

/*
 * reconfigure-device -s and -a together. The order matters: a size must
 * be a multiple of max(align, 2 MiB) when it is set. The size goes first
 * when it fits both the current and the new align (growing toward a
 * larger align), else the align first (a smaller align before a size
 * that needs it; a size the new align refuses then fails after an align
 * that is exactly undone). When the second step is refused, the first
 * is undone (a size shrunk and grown back may take other ranges).
 * Returns 0, the first step's -errno (nothing changed), or 1: refused
 * and reported.
 */
static int reconfigure_both(struct daxm_cli *cli, struct daxm_dev *dev, uint64_t size,
			    uint64_t align)
{
	uint64_t old_size = daxm_dev_get_size(dev), old_align = daxm_dev_get_align(dev);
	uint64_t old_unit = old_align < (2u << 20) ? (2u << 20) : old_align;
	uint64_t new_unit = align < (2u << 20) ? (2u << 20) : align;
	bool size_first = size % old_unit == 0 && size % new_unit == 0;
	int rc, undo;

	rc = size_first ? daxm_dev_set_size(dev, size) : daxm_dev_set_align(dev, align);
	if (rc < 0)
		return rc;
	cli->dirty = true;
	rc = size_first ? daxm_dev_set_align(dev, align) : daxm_dev_set_size(dev, size);
	if (rc < 0) {
		daxm_fail(cli, rc);
		undo = size_first ? daxm_dev_set_size(dev, old_size) : daxm_dev_set_align(dev, old_align);
		if (undo < 0) {
			daxm_fail(cli, undo);
			fprintf(stderr, "daxm %s: %s is left half reconfigured\n", cli->cmd,
				daxm_dev_get_devname(dev));
		}
		return 1; /* reported */
	}
	return 0;
}

int daxm_cmd_reconfigure_device(struct daxm_cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{ "size", required_argument, NULL, 's' },
		{ "align", required_argument, NULL, 'a' },
		{ NULL, 0, NULL, 0 },
	};
	bool have_size = false, have_align = false;
	uint64_t size = 0, align = 0;
	struct daxm_dev *dev;
	int c, rc = DAXM_EXIT_OK;

	cli->usage = daxm_usage_reconfigure_device;
	while ((c = getopt_long(argc, argv, "s:a:", options, NULL)) != -1) {
		switch (c) {
		case 's':
			have_size = true;
			rc = daxm_opt_size(cli, "--size", optarg, &size);
			break;
		case 'a':
			have_align = true;
			rc = daxm_opt_size(cli, "--align", optarg, &align);
			break;
		default: return daxm_bad_option(cli, argv);
		}
		if (rc)
			return rc;
	}
	if (!have_size && !have_align)
		return daxm_usage_error(cli, "at least one of -s/--size and -a/--align is required");
	dev = positional_dev(cli, argc, argv, &rc);
	if (!dev)
		return rc;

	if (!have_align)
		rc = daxm_dev_set_size(dev, size);
	else if (!have_size)
		rc = daxm_dev_set_align(dev, align);
	else
		rc = reconfigure_both(cli, dev, size, align);
	if (rc > 0)
		return DAXM_EXIT_FAIL;
	if (rc < 0)
		return daxm_fail(cli, rc);
	cli->dirty = true;
	cli->out = json_object_new_array();
	json_object_array_add(cli->out, daxm_dev_to_json(dev, DAXM_JSON_EXTENTS));
	snprintf(cli->note, sizeof(cli->note), "reconfigured 1 device");
	return DAXM_EXIT_OK;
}

/* enable-device / disable-device: one device, no options. */
static int xable(struct daxm_cli *cli, int argc, char **argv, bool enable)
{
	static const struct option options[] = { { NULL, 0, NULL, 0 } };
	struct daxm_dev *dev;
	int c, rc = DAXM_EXIT_OK;

	cli->usage = enable ? daxm_usage_enable_device : daxm_usage_disable_device;
	while ((c = getopt_long(argc, argv, "", options, NULL)) != -1)
		return daxm_bad_option(cli, argv);
	dev = positional_dev(cli, argc, argv, &rc);
	if (!dev)
		return rc;
	rc = enable ? daxm_dev_enable(dev) : daxm_dev_disable(dev);
	if (rc < 0)
		return daxm_fail(cli, rc);
	cli->dirty = true;
	snprintf(cli->note, sizeof(cli->note), "%s 1 device", enable ? "enabled" : "disabled");
	return DAXM_EXIT_OK;
}

int daxm_cmd_enable_device(struct daxm_cli *cli, int argc, char **argv)
{
	return xable(cli, argc, argv, true);
}

int daxm_cmd_disable_device(struct daxm_cli *cli, int argc, char **argv)
{
	return xable(cli, argc, argv, false);
}
