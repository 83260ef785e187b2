/*
 * fabric_json.c - daxm fabric list and fabric events: the device, each
 * host and each tag as JSON, read through the FM API (Get DCD Info, Get
 * Host DC Region Configuration, Get DC Region Extent Lists, List Tags)
 * and each host's own context. Field names are libcxlmi's payload names
 * (the FM API's), with masks and bitmaps spelled out as lists.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
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

static void add_bool(json_object *obj, const char *key, bool value)
{
	json_object_object_add(obj, key, json_object_new_boolean(value));
}

/* The names of the set bits of @mask, from @names (NULL: the bit number). */
static json_object *bit_names(uint64_t mask, const char *const names[], int n)
{
	json_object *arr = json_object_new_array();

	for (int bit = 0; bit < 64; bit++) {
		if (!(mask & (1ull << bit)))
			continue;
		if (names && bit < n)
			json_object_array_add(arr, json_object_new_string(names[bit]));
		else
			json_object_array_add(arr, json_object_new_int(bit));
	}
	return arr;
}

/* The LDs whose bit is set in a 256-bit List Tags bitmap. */
static json_object *host_ids(const uint8_t map[32])
{
	json_object *arr = json_object_new_array();

	for (int ld = 0; ld < 256; ld++)
		if (map[ld / 8] & (1u << (ld % 8)))
			json_object_array_add(arr, json_object_new_int(ld));
	return arr;
}

static json_object *extent_to_json(const struct daxm_fmapi_extent *e)
{
	json_object *jext = json_object_new_object();

	add_u64(jext, "start_dpa", e->start_dpa);
	add_u64(jext, "len", e->len);
	json_object_object_add(jext, "tag", daxm_tag_to_json(e->tag));
	add_int(jext, "shared_seq", e->shared_seq);
	return jext;
}

/* 5601h for @host: budgets and (from region 0) every region. */
static int region_config(struct daxm_cli *cli, int host,
			 struct daxm_fmapi_get_host_dc_region_config_rsp *cfg)
{
	struct daxm_fmapi_get_host_dc_region_config_req req = {
		.host_id = (uint16_t)host, .region_cnt = 8, .start_region_id = 0,
	};
	int rc = daxm_fmapi_get_dc_reg_config(cli->fabric, &req, cfg);

	return rc ? daxm_fail_cxl(cli, rc) : DAXM_EXIT_OK;
}

static json_object *device_to_json(struct daxm_cli *cli, int *rc)
{
	static const char *const selection[] = { "free", "contiguous", "prescriptive", "enable_shared_access" };
	static const char *const removal[] = { "tag_based", "prescriptive" };
	struct daxm_fmapi_get_host_dc_region_config_rsp cfg;
	struct daxm_fmapi_get_dcd_info_rsp info;
	uint64_t masks[8];
	json_object *jdev, *jregions;
	int err;

	err = daxm_fmapi_get_dcd_info(cli->fabric, &info);
	if (err) {
		*rc = daxm_fail_cxl(cli, err);
		return NULL;
	}
	*rc = region_config(cli, 0, &cfg);
	if (*rc)
		return NULL;
	masks[0] = info.region_0_supported_blk_sz_mask;
	masks[1] = info.region_1_supported_blk_sz_mask;
	masks[2] = info.region_2_supported_blk_sz_mask;
	masks[3] = info.region_3_supported_blk_sz_mask;
	masks[4] = info.region_4_supported_blk_sz_mask;
	masks[5] = info.region_5_supported_blk_sz_mask;
	masks[6] = info.region_6_supported_blk_sz_mask;
	masks[7] = info.region_7_supported_blk_sz_mask;
	jdev = json_object_new_object();
	/* Exact (the payload's num_hosts is 8 bits and says 255 for 256). */
	add_int(jdev, "num_hosts", daxm_fabric_get_nr_hosts(cli->fabric));
	add_int(jdev, "num_supported_dc_regions", info.num_supported_dc_regions);
	json_object_object_add(jdev, "capacity_selection_policies",
			       bit_names(info.capacity_selection_policies, selection, 4));
	json_object_object_add(jdev, "capacity_removal_policies",
			       bit_names(info.capacity_removal_policies, removal, 2));
	json_object_object_add(jdev, "sanitize_on_release_config_mask",
			       bit_names(info.sanitize_on_release_config_mask, NULL, 0));
	add_u64(jdev, "total_dynamic_capacity", info.total_dynamic_capacity);
	jregions = json_object_new_array();
	for (int i = 0; i < cfg.regions_returned && i < 8; i++) {
		const struct daxm_fmapi_dc_region_config *r = &cfg.region_configs[i];
		json_object *jr = json_object_new_object(), *sizes = json_object_new_array();

		add_int(jr, "region_id", i);
		add_u64(jr, "base", r->base);
		add_u64(jr, "decode_len", r->decode_len);
		add_u64(jr, "region_len", r->region_len);
		add_u64(jr, "block_size", r->block_size);
		for (int bit = 0; bit < 64; bit++)
			if (masks[i] & (1ull << bit))
				json_object_array_add(sizes, json_object_new_uint64(1ull << bit));
		json_object_object_add(jr, "supported_blk_sz", sizes);
		add_bool(jr, "sharable", r->flags & DAXM_FMAPI_REGION_FLAG_SHARABLE);
		add_bool(jr, "read_only", r->flags & DAXM_FMAPI_REGION_FLAG_READ_ONLY);
		add_bool(jr, "sanitize_on_release", r->sanitize_on_release & DAXM_FMAPI_REGION_SANITIZE_ON_RELEASE);
		json_object_array_add(jregions, jr);
	}
	json_object_object_add(jdev, "regions", jregions);
	add_int(jdev, "events", daxm_fabric_get_nr_events(cli->fabric));
	return jdev;
}

/* 5603h, all of it (one call: nothing else runs in this process). */
static int extent_list(struct daxm_cli *cli, int host,
		       struct daxm_fmapi_get_dc_region_ext_list_rsp **out)
{
	struct daxm_fmapi_get_dc_region_ext_list_req req = { .host_id = (uint16_t)host };
	struct daxm_fmapi_get_dc_region_ext_list_rsp head, *rsp;
	size_t sz;
	int err;

	*out = NULL;
	err = daxm_fmapi_get_dc_region_ext_list(cli->fabric, &req, &head, sizeof(head));
	if (err)
		return daxm_fail_cxl(cli, err);
	req.extent_count = head.total_extents;
	sz = DAXM_FMAPI_SIZE(struct daxm_fmapi_get_dc_region_ext_list_rsp, extents, req.extent_count);
	rsp = calloc(1, sz);
	if (!rsp)
		return daxm_fail_msg(cli, ENOMEM, "no memory for %u extents", req.extent_count);
	err = daxm_fmapi_get_dc_region_ext_list(cli->fabric, &req, rsp, sz);
	if (err) {
		free(rsp);
		return daxm_fail_cxl(cli, err);
	}
	*out = rsp;
	return DAXM_EXIT_OK;
}

/* The host's region0 as `daxm list -RDME` (with -i: idle devices too). */
static json_object *host_region_to_json(struct daxm_ctx *ctx, bool idle)
{
	struct daxm_region *region = daxm_region_get_by_id(ctx, 0);
	json_object *jdevs = json_object_new_array();
	struct daxm_dev *dev;

	if (!region) {
		json_object_put(jdevs);
		return NULL;
	}
	daxm_dev_foreach(region, dev)
		if (daxm_dev_is_listed(dev, idle))
			json_object_array_add(jdevs, daxm_dev_to_json(dev, DAXM_JSON_MAPPINGS | DAXM_JSON_EXTENTS));
	return daxm_region_to_json(region, jdevs, DAXM_JSON_EXTENTS);
}

static json_object *host_to_json(struct daxm_cli *cli, int host, bool idle, int *rc)
{
	struct daxm_fmapi_get_host_dc_region_config_rsp cfg;
	struct daxm_fmapi_get_dc_region_ext_list_rsp *list;
	struct daxm_ctx *ctx = NULL;
	json_object *jhost, *jexts, *jregion;
	int err;

	*rc = region_config(cli, host, &cfg);
	if (*rc)
		return NULL;
	*rc = extent_list(cli, host, &list);
	if (*rc)
		return NULL;
	jhost = json_object_new_object();
	add_int(jhost, "host_id", host);
	add_u64(jhost, "num_extents_supported", cfg.num_extents_supported);
	add_u64(jhost, "num_extents_available", cfg.num_extents_available);
	add_u64(jhost, "num_tags_supported", cfg.num_tags_supported);
	add_u64(jhost, "num_tags_available", cfg.num_tags_available);
	add_u64(jhost, "list_generation_num", list->list_generation_num);
	jexts = json_object_new_array();
	for (uint32_t i = 0; i < list->extents_returned; i++)
		json_object_array_add(jexts, extent_to_json(&list->extents[i]));
	json_object_object_add(jhost, "extents", jexts);
	free(list);
	err = daxm_fabric_get_host(cli->fabric, (unsigned)host, &ctx);
	if (err == 0) {
		add_int(jhost, "events", daxm_ctx_get_nr_events(ctx));
		/* A host that panicked shows no region (its sysfs is gone). */
		jregion = host_region_to_json(ctx, idle);
		if (jregion)
			json_object_object_add(jhost, "region", jregion);
		daxm_unref(ctx);
	}
	return jhost;
}

/* 5608h, all of it; *@unsupported when the profile has no List Tags. */
static json_object *tags_to_json(struct daxm_cli *cli, bool *unsupported, uint32_t *generation,
				 int *rc)
{
	struct daxm_fmapi_dc_list_tags_req req = { 0 };
	struct daxm_fmapi_dc_list_tags_rsp head, *rsp;
	json_object *jtags;
	size_t sz;
	int err;

	*rc = DAXM_EXIT_OK;
	*unsupported = false;
	err = daxm_fmapi_dc_list_tags(cli->fabric, &req, &head, sizeof(head));
	if (err == DAXM_CXL_RC_UNSUPPORTED) {
		*unsupported = true;
		return NULL;
	}
	if (err) {
		*rc = daxm_fail_cxl(cli, err);
		return NULL;
	}
	req.tags_count = head.total_num_tags;
	sz = DAXM_FMAPI_SIZE(struct daxm_fmapi_dc_list_tags_rsp, tags_list, req.tags_count);
	rsp = calloc(1, sz);
	if (!rsp) {
		*rc = daxm_fail_msg(cli, ENOMEM, "no memory for %u tags", req.tags_count);
		return NULL;
	}
	err = daxm_fmapi_dc_list_tags(cli->fabric, &req, rsp, sz);
	if (err) {
		free(rsp);
		*rc = daxm_fail_cxl(cli, err);
		return NULL;
	}
	*generation = rsp->generation_num;
	jtags = json_object_new_array();
	for (uint32_t i = 0; i < rsp->num_tags_returned; i++) {
		const struct daxm_fmapi_dc_tag_info *t = &rsp->tags_list[i];
		json_object *jt = json_object_new_object();

		json_object_object_add(jt, "tag", daxm_tag_to_json(t->tag));
		add_bool(jt, "fm_holds_reference", t->flags & DAXM_FMAPI_TAG_FM_HOLDS_REFERENCE);
		json_object_object_add(jt, "ref_hosts", host_ids(t->ref_bitmap));
		json_object_object_add(jt, "pending_ref_hosts", host_ids(t->pending_ref_bitmap));
		json_object_array_add(jtags, jt);
	}
	free(rsp);
	return jtags;
}

json_object *daxm_fabric_to_json(struct daxm_cli *cli, unsigned int flags, int host, int *rc)
{
	json_object *out = json_object_new_object();
	int hosts = daxm_fabric_get_nr_hosts(cli->fabric);

	*rc = DAXM_EXIT_OK;
	if (flags & DAXM_FABRIC_LIST_DEVICE) {
		json_object *jdev = device_to_json(cli, rc);

		if (!jdev)
			goto failed;
		json_object_object_add(out, "device", jdev);
	}
	if (flags & DAXM_FABRIC_LIST_HOSTS) {
		json_object *jhosts = json_object_new_array();

		json_object_object_add(out, "hosts", jhosts);
		for (int h = 0; h < hosts; h++) {
			json_object *jhost;

			if (host >= 0 && h != host)
				continue;
			jhost = host_to_json(cli, h, flags & DAXM_FABRIC_LIST_IDLE, rc);
			if (!jhost)
				goto failed;
			json_object_array_add(jhosts, jhost);
		}
	}
	if (flags & DAXM_FABRIC_LIST_TAGS) {
		uint32_t generation = 0;
		bool unsupported;
		json_object *jtags = tags_to_json(cli, &unsupported, &generation, rc);

		if (*rc)
			goto failed;
		/* Without List Tags (mhsld, qemu) there is no "tags" key. */
		if (jtags) {
			add_u64(out, "tags_generation_num", generation);
			json_object_object_add(out, "tags", jtags);
		}
	}
	return out;
failed:
	json_object_put(out);
	return NULL;
}

json_object *daxm_fabric_event_to_json(const struct daxm_fabric_event *event)
{
	json_object *jev = json_object_new_object();
	const char *type;

	switch (event->event_type) {
	case DAXM_DC_EVENT_ADD_CAPACITY_RESPONSE: type = "add_capacity_response"; break;
	case DAXM_DC_EVENT_CAPACITY_RELEASED: type = "capacity_released"; break;
	default: type = "unknown"; break;
	}
	json_object_object_add(jev, "event_type", json_object_new_string(type));
	add_int(jev, "host_id", event->host_id);
	add_int(jev, "region_index", event->region_index);
	add_bool(jev, "more", event->flags & DAXM_DC_EVENT_MORE);
	json_object_object_add(jev, "extent", extent_to_json(&event->extent));
	add_u64(jev, "num_avail_extents", event->num_avail_extents);
	add_u64(jev, "num_avail_tags", event->num_avail_tags);
	return jev;
}
