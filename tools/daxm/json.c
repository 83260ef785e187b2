/*
 * json.c - daxm: regions, devices, mappings, extents and events as JSON,
 * with daxctl's field names, order and omission rules (daxctl/json.c,
 * ndctl reference §2.5), built with json-c only.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "daxm.h"

static void add_u64(json_object *obj, const char *key, uint64_t value)
{
	json_object_object_add(obj, key, json_object_new_uint64(value));
}

static void add_int(json_object *obj, const char *key, int64_t value)
{
	json_object_object_add(obj, key, json_object_new_int64(value));
}

static void add_str(json_object *obj, const char *key, const char *value)
{
	json_object_object_add(obj, key, json_object_new_string(value));
}

json_object *daxm_tag_to_json(const uint8_t tag[DAXM_TAG_SIZE])
{
	char text[DAXM_TAG_SIZE * 2 + 5];

	if (daxm_tag_format(tag, text, sizeof(text)) < 0)
		snprintf(text, sizeof(text), "?");
	return json_object_new_string(text);
}

static void add_tag(json_object *obj, const char *key, const uint8_t tag[DAXM_TAG_SIZE])
{
	json_object_object_add(obj, key, daxm_tag_to_json(tag));
}

bool daxm_dev_is_listed(struct daxm_dev *dev, bool idle)
{
	uint64_t size = daxm_dev_get_size(dev);

	return idle || (size != 0 && size != DAXM_INVALID);
}

/* {page_offset, start, end, size}, as daxctl -M prints one mappingK. */
static json_object *mapping_to_json(struct daxm_mapping *mapping)
{
	json_object *jmap = json_object_new_object();

	add_u64(jmap, "page_offset", daxm_mapping_get_offset(mapping));
	add_u64(jmap, "start", daxm_mapping_get_start(mapping));
	add_u64(jmap, "end", daxm_mapping_get_end(mapping));
	add_u64(jmap, "size", daxm_mapping_get_size(mapping));
	return jmap;
}

json_object *daxm_dev_to_json(struct daxm_dev *dev, unsigned int flags)
{
	struct daxm_region *region = daxm_dev_get_region(dev);
	json_object *jdev = json_object_new_object();
	uint8_t tag[DAXM_TAG_SIZE];
	int node = daxm_dev_get_target_node(dev);
	uint64_t align = daxm_dev_get_align(dev);

	add_str(jdev, "chardev", daxm_dev_get_devname(dev));
	add_u64(jdev, "size", daxm_dev_get_size(dev));
	if (node >= 0)
		add_int(jdev, "target_node", node);
	if (align > 0 && align != DAXM_INVALID)
		add_u64(jdev, "align", align);
	add_str(jdev, "mode", "devdax");
	if (daxm_dev_is_enabled(dev) != 1)
		add_str(jdev, "state", "disabled");
	/* Sparse-region devices: the tag they allocate from, when selected. */
	if ((flags & DAXM_JSON_EXTENTS) && daxm_region_get_kind(region) == DAXM_REGION_SPARSE &&
	    daxm_dev_get_tag(dev, tag) == 1)
		add_tag(jdev, "tag", tag);
	if (flags & DAXM_JSON_MAPPINGS) {
		/* As daxctl: no "mappings" key for a device without ranges.
		 * libdaxmodel gives mapping0 first: page_offset order. */
		json_object *jmaps = NULL;
		struct daxm_mapping *mapping;

		daxm_mapping_foreach(dev, mapping) {
			if (!jmaps) {
				jmaps = json_object_new_array();
				json_object_object_add(jdev, "mappings", jmaps);
			}
			json_object_array_add(jmaps, mapping_to_json(mapping));
		}
	}
	return jdev;
}

/*
 * daxctl prints the sysfs path of the region's parent device without the
 * /sys/devices prefix. The model has no sysfs: give each kind the path
 * its Linux producer would have (hmem, a pmem namespace, a CXL region).
 */
static void region_path(struct daxm_region *region, char *buf, size_t len)
{
	int id = daxm_region_get_id(region);

	switch (daxm_region_get_kind(region)) {
	case DAXM_REGION_STATIC:
		snprintf(buf, len, "/platform/e820_pmem/ndbus0/region%d", id);
		break;
	case DAXM_REGION_SPARSE:
		snprintf(buf, len, "/platform/ACPI0017:00/root0/decoder0.0/region%d/dax_region%d", id, id);
		break;
	default:
		snprintf(buf, len, "/platform/hmem.%d", id);
		break;
	}
}

static const char *extent_state_name(int state)
{
	switch (state) {
	case DAXM_EXTENT_ACCEPTED: return "accepted";
	case DAXM_EXTENT_RELEASING: return "releasing";
	case DAXM_EXTENT_RELEASED: return "released";
	default: return "unknown";
	}
}

static json_object *extent_to_json(struct daxm_extent *extent)
{
	json_object *jext = json_object_new_object();
	uint8_t tag[DAXM_TAG_SIZE] = { 0 };

	daxm_extent_get_tag(extent, tag);
	add_int(jext, "id", daxm_extent_get_id(extent));
	add_u64(jext, "offset", daxm_extent_get_offset(extent));
	add_u64(jext, "length", daxm_extent_get_length(extent));
	add_tag(jext, "tag", tag);
	add_int(jext, "sequence", daxm_extent_get_sequence(extent));
	add_int(jext, "refcount", daxm_extent_get_refcount(extent));
	add_str(jext, "state", extent_state_name(daxm_extent_get_state(extent)));
	return jext;
}

json_object *daxm_region_to_json(struct daxm_region *region, json_object *jdevs,
				 unsigned int flags)
{
	json_object *jregion = json_object_new_object();
	uint64_t available = daxm_region_get_available_size(region);
	char path[128];

	region_path(region, path, sizeof(path));
	add_str(jregion, "path", path);
	add_int(jregion, "id", daxm_region_get_id(region));
	add_u64(jregion, "size", daxm_region_get_size(region));
	if (available != 0 && available != DAXM_INVALID)
		add_u64(jregion, "available_size", available);
	add_u64(jregion, "align", daxm_region_get_align(region));
	if (jdevs && json_object_array_length(jdevs) > 0)
		json_object_object_add(jregion, "devices", jdevs);
	else
		json_object_put(jdevs);
	if ((flags & DAXM_JSON_EXTENTS) && daxm_region_get_kind(region) == DAXM_REGION_SPARSE) {
		/* Acceptance order: the order tag-bounded allocation walks. */
		json_object *jexts = json_object_new_array();
		struct daxm_extent *extent;

		daxm_extent_foreach(region, extent)
			json_object_array_add(jexts, extent_to_json(extent));
		json_object_object_add(jregion, "extents", jexts);
	}
	return jregion;
}

static const char *event_type_name(uint32_t type)
{
	switch (type) {
	case DAXM_EVENT_GROUP: return "group";
	case DAXM_EVENT_RELEASE_DEFERRED: return "release_deferred";
	case DAXM_EVENT_RELEASED: return "released";
	case DAXM_EVENT_FORCED_IGNORED: return "forced_ignored";
	case DAXM_EVENT_FORCED_APPLIED: return "forced_applied";
	case DAXM_EVENT_DEV_LOST_MEMORY: return "dev_lost_memory";
	case DAXM_EVENT_KERNEL_WARNING: return "kernel_warning";
	default: return "unknown";
	}
}

json_object *daxm_event_to_json(const struct daxm_event *event)
{
	json_object *jev = json_object_new_object(), *jrecs = json_object_new_array();
	uint32_t i;

	add_str(jev, "type", event_type_name(event->type));
	add_int(jev, "region", event->region_id);
	add_u64(jev, "request_id", event->request_id);
	if (event->device)
		add_str(jev, "device", event->device);
	if (event->type == DAXM_EVENT_KERNEL_WARNING && event->warn_function) {
		json_object *jw = json_object_new_object();

		add_str(jw, "file", event->warn_file ? event->warn_file : "");
		add_int(jw, "line", (int64_t)event->warn_line);
		add_str(jw, "function", event->warn_function);
		add_str(jw, "message", event->warn_message ? event->warn_message : "");
		json_object_object_add(jw, "once", json_object_new_boolean(event->warn_flags & DAXM_WARN_ONCE));
		json_object_object_add(jw, "panicked", json_object_new_boolean(event->warn_flags & DAXM_WARN_PANIC));
		json_object_object_add(jev, "warning", jw);
	}
	for (i = 0; event->records && i < event->nr_records; i++) {
		const struct daxm_extent_record *rec = &event->records[i];
		json_object *jrec = json_object_new_object();

		add_u64(jrec, "offset", rec->offset);
		add_u64(jrec, "length", rec->length);
		add_tag(jrec, "tag", rec->tag);
		add_int(jrec, "sequence", rec->sequence);
		add_str(jrec, "result", rec->result ? daxm_errno_name(rec->result) : "ok");
		add_str(jrec, "reason", rec->reason ? rec->reason : "");
		json_object_array_add(jrecs, jrec);
	}
	json_object_object_add(jev, "records", jrecs);
	return jev;
}

int daxm_print_json(json_object *obj)
{
	/* An empty array prints as "[]" (pretty printing would split it). */
	int style = json_object_is_type(obj, json_type_array) && json_object_array_length(obj) == 0
		    ? JSON_C_TO_STRING_PLAIN : JSON_C_TO_STRING_PRETTY;
	const char *text = json_object_to_json_string_ext(obj, style | JSON_C_TO_STRING_NOSLASHESCAPE);

	if (!text || fputs(text, stdout) == EOF || fputc('\n', stdout) == EOF)
		return -EIO;
	return 0;
}
