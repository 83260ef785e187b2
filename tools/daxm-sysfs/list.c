/*
 * list.c - the model's own listing, shaped like `daxctl list -RDMi`
 * (ndctl reference §2.5: region keys path, id, size, available_size when
 * non-zero, align, devices; device keys chardev, size, target_node when
 * >= 0, align, mode, state "disabled" when unbound, mappings highest
 * mappingK first, omitted when the device has none). It is read through
 * the model's getters, not through the tree, so comparing it with what
 * daxctl printed through the tree checks the tree.
 */
#define _GNU_SOURCE
#include <inttypes.h>

#include "daxm-sysfs.h"

static void list_mappings(struct daxm_dev *dev, FILE *out)
{
	int n = daxm_dev_get_nr_mappings(dev);
	bool first = true;

	if (n <= 0)
		return;
	fprintf(out, ",\n        \"mappings\":[");
	for (int k = n - 1; k >= 0; k--) {
		struct daxm_mapping *m;

		daxm_mapping_foreach(dev, m) {
			if (daxm_mapping_get_id(m) != k)
				continue;
			fprintf(out, "%s\n          {\"page_offset\":%" PRIu64 ",\"start\":%" PRIu64
				",\"end\":%" PRIu64 ",\"size\":%" PRIu64 "}",
				first ? "" : ",", daxm_mapping_get_offset(m),
				daxm_mapping_get_start(m), daxm_mapping_get_end(m),
				daxm_mapping_get_size(m));
			first = false;
		}
	}
	fprintf(out, "\n        ]");
}

static void list_dev(struct daxm_dev *dev, FILE *out, bool first)
{
	int node = daxm_dev_get_target_node(dev);
	uint64_t align = daxm_dev_get_align(dev);

	fprintf(out, "%s\n      {\n        \"chardev\":\"%s\",\n        \"size\":%" PRIu64,
		first ? "" : ",", daxm_dev_get_devname(dev), daxm_dev_get_size(dev));
	if (node >= 0)
		fprintf(out, ",\n        \"target_node\":%d", node);
	if (align > 0 && align != DAXM_INVALID)
		fprintf(out, ",\n        \"align\":%" PRIu64, align);
	fprintf(out, ",\n        \"mode\":\"devdax\"");
	if (daxm_dev_is_enabled(dev) != 1)
		fprintf(out, ",\n        \"state\":\"disabled\"");
	list_mappings(dev, out);
	fprintf(out, "\n      }");
}

void list_model(struct daxm_ctx *ctx, FILE *out)
{
	struct daxm_region *region;
	bool first = true;

	fprintf(out, "[");
	daxm_region_foreach(ctx, region) {
		uint64_t avail = daxm_region_get_available_size(region);
		struct daxm_dev *dev;
		char parent[64];
		bool dfirst = true;

		tree_parent_name(region, parent, sizeof(parent));
		fprintf(out, "%s\n  {\n    \"path\":\"/platform/%s\",\n    \"id\":%d,\n"
			"    \"size\":%" PRIu64, first ? "" : ",", parent,
			daxm_region_get_id(region), daxm_region_get_size(region));
		if (avail > 0 && avail != DAXM_INVALID)
			fprintf(out, ",\n    \"available_size\":%" PRIu64, avail);
		fprintf(out, ",\n    \"align\":%" PRIu64, daxm_region_get_align(region));
		daxm_dev_foreach(region, dev) {
			if (dfirst)
				fprintf(out, ",\n    \"devices\":[");
			list_dev(dev, out, dfirst);
			dfirst = false;
		}
		if (!dfirst)
			fprintf(out, "\n    ]");
		fprintf(out, "\n  }");
		first = false;
	}
	fprintf(out, "\n]\n");
}
