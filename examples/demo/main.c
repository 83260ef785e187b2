/*
 * daxm-demo - a first tour of libdaxmodel.
 *
 * Builds a model of two dax regions, carves devices out of the dynamic
 * one through the C API and through sysfs-style attribute writes (as
 * daxctl does on a real /sys/bus/dax), shows one refused operation, then
 * prints the result as `daxctl list -RDM` would: JSON on stdout, the
 * story of each step on stderr.
 *
 *   daxm-demo            # narrative + JSON
 *   daxm-demo | jq .     # JSON only
 *
 * Exits 0 when every step answers as Linux would, 1 otherwise.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <daxmodel.h>
#include <json-c/json.h>

#define MiB (1024ull * 1024)
#define GiB (1024 * MiB)

static int failures;

static const char *errno_name(int rc)
{
	switch (-rc) {
	case 0: return "0";
	case EINVAL: return "EINVAL";
	case EBUSY: return "EBUSY";
	case ENOSPC: return "ENOSPC";
	case ENXIO: return "ENXIO";
	case ENOMEM: return "ENOMEM";
	case ENODEV: return "ENODEV";
	case ENOENT: return "ENOENT";
	case EACCES: return "EACCES";
	default: return "?";
	}
}

/* Run one step: report it, and count it as a failure unless it returned @want. */
static void step(const char *what, int rc, int want)
{
	if (rc == want) {
		fprintf(stderr, "  %-7s %s\n", rc ? errno_name(rc) : "ok", what);
		if (rc) /* a refusal, as expected: say why */
			fprintf(stderr, "          %s\n", daxm_last_error());
		return;
	}
	fprintf(stderr, "  %s: got %s, expected %s: %s\n", what, errno_name(rc),
		errno_name(want), daxm_last_error());
	failures++;
}
#define STEP(call, want) step(#call, (call), (want))

static void expect(const char *what, uint64_t got, uint64_t want)
{
	if (got != want) {
		fprintf(stderr, "  unexpected %s: %#" PRIx64 ", expected %#" PRIx64 "\n",
			what, got, want);
		failures++;
	}
}

/* One device as `daxctl list -DM` prints it. */
static json_object *dev_json(struct daxm_dev *dev)
{
	json_object *jdev = json_object_new_object(), *jmaps = json_object_new_array();
	struct daxm_mapping *m;

	json_object_object_add(jdev, "chardev", json_object_new_string(daxm_dev_get_devname(dev)));
	json_object_object_add(jdev, "size", json_object_new_int64((int64_t)daxm_dev_get_size(dev)));
	if (daxm_dev_get_target_node(dev) >= 0)
		json_object_object_add(jdev, "target_node",
				       json_object_new_int(daxm_dev_get_target_node(dev)));
	json_object_object_add(jdev, "align", json_object_new_int64((int64_t)daxm_dev_get_align(dev)));
	json_object_object_add(jdev, "mode", json_object_new_string("devdax"));
	if (daxm_dev_is_enabled(dev) != 1)
		json_object_object_add(jdev, "state", json_object_new_string("disabled"));
	daxm_mapping_foreach(dev, m) { /* page_offset order (daxctl: reverse) */
		json_object *jm = json_object_new_object();
		json_object_object_add(jm, "page_offset",
				       json_object_new_int64((int64_t)daxm_mapping_get_offset(m)));
		json_object_object_add(jm, "start", json_object_new_int64((int64_t)daxm_mapping_get_start(m)));
		json_object_object_add(jm, "end", json_object_new_int64((int64_t)daxm_mapping_get_end(m)));
		json_object_object_add(jm, "size", json_object_new_int64((int64_t)daxm_mapping_get_size(m)));
		json_object_array_add(jmaps, jm);
	}
	json_object_object_add(jdev, "mappings", jmaps);
	return jdev;
}

/* One region as `daxctl list -R` prints it, with its non-idle devices. */
static json_object *region_json(struct daxm_region *region)
{
	json_object *jreg = json_object_new_object(), *jdevs = json_object_new_array();
	int id = daxm_region_get_id(region);
	struct daxm_dev *dev;
	char path[64];

	if (daxm_region_get_kind(region) == DAXM_REGION_STATIC)
		snprintf(path, sizeof(path), "/platform/e820/ndbus0/region%d", id);
	else
		snprintf(path, sizeof(path), "/platform/hmem.%d", id);
	json_object_object_add(jreg, "path", json_object_new_string(path));
	json_object_object_add(jreg, "id", json_object_new_int(id));
	json_object_object_add(jreg, "size", json_object_new_int64((int64_t)daxm_region_get_size(region)));
	if (daxm_region_get_available_size(region))
		json_object_object_add(jreg, "available_size",
				       json_object_new_int64((int64_t)daxm_region_get_available_size(region)));
	json_object_object_add(jreg, "align", json_object_new_int64((int64_t)daxm_region_get_align(region)));
	daxm_dev_foreach(region, dev)
		if (daxm_dev_get_size(dev) > 0) /* daxctl hides idle devices without -i */
			json_object_array_add(jdevs, dev_json(dev));
	json_object_object_add(jreg, "devices", jdevs);
	return jreg;
}

int main(void)
{
	struct daxm_ctx *ctx = NULL;
	struct daxm_region_spec spec;
	struct daxm_region *hmem, *pmem, *region;
	struct daxm_dev *dax1, *dax2, *dax3;
	json_object *list;
	char name[32];

	fprintf(stderr, "libdaxmodel %s\n", daxm_get_version());
	STEP(daxm_new(&ctx), 0);

	/* An hmem region as Linux creates it with region_idle=1: 1 GiB of
	 * soft-reserved memory on NUMA node 1, with an empty dax0.0. */
	daxm_region_spec_init(&spec);
	spec.id = 0;
	spec.start = 0x140000000;
	spec.size = 1 * GiB;
	spec.align = 2 * MiB;
	spec.target_node = 1;
	spec.flags = DAXM_REGION_IDLE;
	STEP(daxm_region_new(ctx, &spec, &hmem), 0);

	/* A pmem namespace in devdax mode: one fixed, bound device dax1.0. */
	daxm_region_spec_init(&spec);
	spec.id = 1;
	spec.kind = DAXM_REGION_STATIC;
	spec.start = 0x100000000;
	spec.size = 512 * MiB;
	spec.target_node = 0;
	STEP(daxm_region_new(ctx, &spec, &pmem), 0);

	fprintf(stderr, "carve dax0.1 and dax0.2 (API, then sysfs text), dax0.3:\n");
	STEP(daxm_region_create_dev(hmem, &dax1), 0);
	STEP(daxm_dev_set_size(dax1, 256 * MiB), 0);
	STEP(daxm_attr_write(ctx, "region0/create", "1"), 0);
	if (daxm_attr_read(ctx, "region0/create", name, sizeof(name)) < 0)
		name[0] = '\0';
	name[strcspn(name, "\n")] = '\0';
	fprintf(stderr, "          region0/create now reads \"%s\"\n", name);
	dax2 = daxm_dev_get_by_name(ctx, name);
	STEP(daxm_attr_write(ctx, "dax0.2/size", "0x10000000"), 0);
	STEP(daxm_region_create_dev(hmem, &dax3), 0);
	STEP(daxm_dev_set_size(dax3, 128 * MiB), 0);

	fprintf(stderr, "free dax0.1, leaving a hole at the region start:\n");
	STEP(daxm_attr_write(ctx, "dax0.1/size", "0"), 0);
	STEP(daxm_attr_write(ctx, "region0/delete", "dax0.1"), 0);

	fprintf(stderr, "grow dax0.3 to 512 MiB: first fit by address, split across holes:\n");
	STEP(daxm_dev_set_size(dax3, 512 * MiB), 0);

	fprintf(stderr, "place a new dax0.1 exactly, as daxctl create-device --input does:\n");
	STEP(daxm_region_create_dev(hmem, &dax1), 0);
	STEP(daxm_attr_write(ctx, "dax0.1/mapping", "0x17fe00000-0x17fffffff"), 0);

	fprintf(stderr, "bind dax0.2, then try to resize it:\n");
	STEP(daxm_dev_enable(dax2), 0);
	STEP(daxm_dev_set_size(dax2, 512 * MiB), -EBUSY);

	/* What Linux would show now. */
	expect("dax0.2 found by name", dax2 != NULL, 1);
	expect("dax0.3 mappings", (uint64_t)daxm_dev_get_nr_mappings(dax3), 3);
	expect("dax0.3 second range", daxm_mapping_get_start(daxm_mapping_get_next(
		daxm_mapping_get_first(dax3))), 0x140000000);
	expect("dax0.1 start", daxm_dev_get_resource(dax1), 0x17fe00000);
	expect("region0 available_size", daxm_region_get_available_size(hmem), 254 * MiB);
	expect("dax1.0 size", daxm_dev_get_size(daxm_dev_get_first(pmem)), 512 * MiB);

	list = json_object_new_array();
	daxm_region_foreach(ctx, region)
		json_object_array_add(list, region_json(region));
	puts(json_object_to_json_string_ext(list, JSON_C_TO_STRING_PRETTY |
						  JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(list);
	daxm_unref(ctx);

	if (failures)
		fprintf(stderr, "daxm-demo: %d step(s) did not behave as Linux does\n", failures);
	return failures ? 1 : 0;
}
