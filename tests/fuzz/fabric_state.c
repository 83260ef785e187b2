/*
 * fabric_state.c - libFuzzer harness: fabric state files (daxm_fabric_load).
 *
 * The input is a file handed to daxm_fabric_load(). A refusal must be a
 * negative errno with no fabric (and, under LeakSanitizer, nothing left
 * allocated). An accepted file must give a fabric whose answers keep the
 * header's promises (check_fabric: Get DCD Info, each host's region
 * configuration, budgets and extent list, List Tags, and every host
 * context's model through check_model), whose save loads again and saves
 * byte-identically (fabric_roundtrip), and on which the next calls a
 * manager and the hosts would make (exercise_fabric: deliveries, the
 * manager's records, an add and a release per host, references, the
 * hosts' own calls through exercise_model) neither trap nor break an
 * invariant; the fabric after those calls must round-trip too.
 *
 * Dictionary: tests/fuzz/fabric_state.dict; seeds: tests/fuzz/corpus/fabric_state/
 * (saves of real fabrics, written by tests/fuzz/seeds.c).
 */
#include "common.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The fabric's log: a broken internal invariant (function
 * "verifyAfterCall", DAXMODEL_INTERNAL_CHECKS) fails the run. */
static void fabric_log(struct daxm_fabric *f, int priority, const char *file, int line,
		       const char *fn, const char *msg)
{
	(void)f, (void)priority, (void)file, (void)line;
	if (fn && strcmp(fn, "verifyAfterCall") == 0)
		fuzz_fail("fabric: internal invariant broken: %s", msg);
}

/* The fabric and every host context log through the harness's hooks. */
static void quiet_fabric(struct daxm_fabric *f)
{
	int hosts = daxm_fabric_get_nr_hosts(f);

	daxm_fabric_set_log_fn(f, fabric_log);
	daxm_fabric_set_log_priority(f, 6);
	for (int h = 0; h < hosts; h++) {
		struct daxm_ctx *ctx = NULL;

		if (daxm_fabric_get_host(f, (unsigned)h, &ctx) == 0) {
			fuzz_quiet(ctx);
			daxm_unref(ctx);
		}
	}
}

/* A positive return must be a CXL code the header lists. */
static int rc_cxl(int rc, const char *what)
{
	if (rc > 0 && !daxm_retcode_tostr(rc))
		fuzz_fail("%s returned %d, not a CXL return code", what, rc);
	if (rc < -4095)
		fuzz_fail("%s returned %d", what, rc);
	return rc;
}

/* ---- the promises a loaded fabric keeps ---------------------------------- */

struct layout {
	int hosts, regions;
	uint64_t base[8], len[8], block[8];
};

static void check_device(struct daxm_fabric *f, struct layout *l)
{
	struct daxm_fmapi_get_dcd_info_rsp info;
	struct daxm_fmapi_get_host_dc_region_config_req req = { .region_cnt = 8 };
	struct daxm_fmapi_get_host_dc_region_config_rsp cfg;
	uint64_t total = 0;

	l->hosts = daxm_fabric_get_nr_hosts(f);
	if (l->hosts < 1 || l->hosts > DAXM_FABRIC_MAX_HOSTS)
		fuzz_fail("a loaded fabric has %d hosts", l->hosts);
	if (daxm_fmapi_get_dcd_info(f, &info) != 0)
		fuzz_fail("Get DCD Info failed on a loaded fabric");
	if (rc_cxl(daxm_fmapi_get_dc_reg_config(f, &req, &cfg), "5601h") != 0)
		fuzz_fail("5601h for host 0 failed on a loaded fabric");
	l->regions = info.num_supported_dc_regions;
	if (l->regions < 1 || l->regions > 8 || cfg.num_regions != l->regions ||
	    cfg.regions_returned != l->regions)
		fuzz_fail("%d regions, 5601h says %d (%d returned)", l->regions, cfg.num_regions,
			  cfg.regions_returned);
	if (info.num_hosts != (l->hosts > 255 ? 255 : l->hosts))
		fuzz_fail("Get DCD Info: num_hosts %d for %d hosts", info.num_hosts, l->hosts);
	for (int i = 0; i < l->regions; i++) {
		const struct daxm_fmapi_dc_region_config *r = &cfg.region_configs[i];

		l->base[i] = r->base;
		l->len[i] = r->decode_len;
		l->block[i] = r->block_size;
		if (r->base % (256 * MiB) || r->decode_len == 0 || r->decode_len % (256 * MiB) ||
		    r->base + r->decode_len < r->base)
			fuzz_fail("region %d: base %#llx decode_len %#llx", i, (unsigned long long)r->base,
				  (unsigned long long)r->decode_len);
		if (i > 0 && r->base < l->base[i - 1] + l->len[i - 1])
			fuzz_fail("region %d overlaps or precedes region %d", i, i - 1);
		if (r->block_size < 64 || (r->block_size & (r->block_size - 1)) ||
		    r->decode_len % r->block_size)
			fuzz_fail("region %d: block size %#llx", i, (unsigned long long)r->block_size);
		total += r->decode_len;
	}
	if (info.total_dynamic_capacity != total)
		fuzz_fail("total_dynamic_capacity %#llx, regions hold %#llx",
			  (unsigned long long)info.total_dynamic_capacity, (unsigned long long)total);
}

/* Host @h's budgets and extent list (5601h, 5603h). */
static void check_host_list(struct daxm_fabric *f, const struct layout *l, int h)
{
	struct daxm_fmapi_get_host_dc_region_config_req creq = { .host_id = (uint16_t)h, .region_cnt = 8 };
	struct daxm_fmapi_get_host_dc_region_config_rsp cfg;
	struct daxm_fmapi_get_dc_region_ext_list_req req = { .host_id = (uint16_t)h };
	struct daxm_fmapi_get_dc_region_ext_list_rsp head, *rsp;
	size_t sz;

	if (rc_cxl(daxm_fmapi_get_dc_reg_config(f, &creq, &cfg), "5601h") != 0)
		fuzz_fail("5601h for host %d failed", h);
	if (cfg.num_extents_available > cfg.num_extents_supported ||
	    cfg.num_tags_available > cfg.num_tags_supported)
		fuzz_fail("host %d: budgets %u/%u extents, %u/%u tags", h, cfg.num_extents_available,
			  cfg.num_extents_supported, cfg.num_tags_available, cfg.num_tags_supported);
	if (rc_cxl(daxm_fmapi_get_dc_region_ext_list(f, &req, &head, sizeof(head)), "5603h") != 0)
		fuzz_fail("5603h totals for host %d failed", h);
	if ((uint64_t)head.total_extents + cfg.num_extents_available > cfg.num_extents_supported)
		fuzz_fail("host %d: %u extents listed, %u of %u available", h, head.total_extents,
			  cfg.num_extents_available, cfg.num_extents_supported);
	req.extent_count = head.total_extents;
	sz = DAXM_FMAPI_SIZE(struct daxm_fmapi_get_dc_region_ext_list_rsp, extents, req.extent_count);
	rsp = calloc(1, sz);
	if (!rsp)
		fuzz_fail("no memory");
	if (daxm_fmapi_get_dc_region_ext_list(f, &req, rsp, sz) != 0 ||
	    rsp->extents_returned != head.total_extents ||
	    rsp->list_generation_num != head.list_generation_num)
		fuzz_fail("host %d: a second 5603h disagrees with the first", h);
	for (uint32_t i = 0; i < rsp->extents_returned; i++) {
		const struct daxm_fmapi_extent *e = &rsp->extents[i];
		int in = -1;

		for (int r = 0; r < l->regions; r++)
			if (e->start_dpa >= l->base[r] && e->len <= l->len[r] &&
			    e->start_dpa - l->base[r] <= l->len[r] - e->len)
				in = r;
		if (e->len == 0 || in < 0 || e->start_dpa % l->block[in] || e->len % l->block[in])
			fuzz_fail("host %d: extent %u [%#llx +%#llx] is not whole blocks of one region", h, i,
				  (unsigned long long)e->start_dpa, (unsigned long long)e->len);
		if (i > 0 && e->start_dpa < rsp->extents[i - 1].start_dpa + rsp->extents[i - 1].len)
			fuzz_fail("host %d: extent %u is out of DPA order or overlaps", h, i);
	}
	free(rsp);
}

static void check_tags(struct daxm_fabric *f, const struct layout *l)
{
	struct daxm_fmapi_dc_list_tags_req req = { 0 };
	struct daxm_fmapi_dc_list_tags_rsp head, *rsp;
	size_t sz;
	int rc = rc_cxl(daxm_fmapi_dc_list_tags(f, &req, &head, sizeof(head)), "5608h");

	if (rc == DAXM_CXL_RC_UNSUPPORTED)
		return;
	if (rc != 0)
		fuzz_fail("5608h totals: %d", rc);
	req.tags_count = head.total_num_tags;
	sz = DAXM_FMAPI_SIZE(struct daxm_fmapi_dc_list_tags_rsp, tags_list, req.tags_count);
	rsp = calloc(1, sz);
	if (!rsp)
		fuzz_fail("no memory");
	if (daxm_fmapi_dc_list_tags(f, &req, rsp, sz) != 0 || rsp->num_tags_returned != head.total_num_tags ||
	    rsp->generation_num != head.generation_num)
		fuzz_fail("a second 5608h disagrees with the first");
	for (uint32_t i = 0; i < rsp->num_tags_returned; i++) {
		const struct daxm_fmapi_dc_tag_info *t = &rsp->tags_list[i];
		static const uint8_t null_tag[16];

		if (memcmp(t->tag, null_tag, 16) == 0)
			fuzz_fail("List Tags lists the null tag");
		for (int ld = l->hosts; ld < 256; ld++)
			if ((t->ref_bitmap[ld / 8] | t->pending_ref_bitmap[ld / 8]) & (1u << (ld % 8)))
				fuzz_fail("tag %u names LD %d of %d hosts", i, ld, l->hosts);
	}
	free(rsp);
}

static void check_fabric(struct daxm_fabric *f)
{
	struct layout l;

	check_device(f, &l);
	for (int h = 0; h < l.hosts; h++) {
		struct daxm_ctx *ctx = NULL;

		check_host_list(f, &l, h);
		if (daxm_fabric_get_host(f, (unsigned)h, &ctx) != 0)
			fuzz_fail("host %d of a live fabric has no context", h);
		if (daxm_ctx_get_panic(ctx, NULL, 0) == 0) {
			struct daxm_region *r = daxm_region_get_first(ctx);

			if (!r || daxm_region_get_next(r) || daxm_region_get_kind(r) != DAXM_REGION_SPARSE ||
			    daxm_region_get_start(r) != l.base[0] ||
			    daxm_region_get_size(r) != l.base[l.regions - 1] + l.len[l.regions - 1] - l.base[0])
				fuzz_fail("host %d's context is not one sparse region over the DPA range", h);
			check_model(ctx, NULL);
		}
		daxm_unref(ctx);
	}
	check_tags(f, &l);
}

/* Save to A, load A (must succeed), check, save to B: A == B. Returns the
 * loaded copy (the caller unrefs it). */
static struct daxm_fabric *fabric_roundtrip(struct daxm_fabric *f)
{
	char a[PATH_MAX], b[PATH_MAX];
	struct daxm_fabric *copy = NULL;
	uint8_t *da, *db;
	size_t na = 0, nb = 0;
	int rc;

	fuzz_path(a, sizeof(a), "fabric-roundtrip-a.json");
	fuzz_path(b, sizeof(b), "fabric-roundtrip-b.json");
	if ((rc = daxm_fabric_save(f, a)) != 0)
		fuzz_fail("daxm_fabric_save of a live fabric failed: %d", rc);
	if ((rc = daxm_fabric_load(a, &copy)) != 0 || !copy)
		fuzz_fail("daxm_fabric_load refuses the file daxm_fabric_save wrote: %d", rc);
	quiet_fabric(copy);
	check_fabric(copy);
	if ((rc = daxm_fabric_save(copy, b)) != 0)
		fuzz_fail("daxm_fabric_save of a loaded fabric failed: %d", rc);
	da = fuzz_read_file(a, &na);
	db = fuzz_read_file(b, &nb);
	if (!da || !db)
		fuzz_fail("cannot read back the saved files");
	if (na != nb || memcmp(da, db, na) != 0) {
		size_t i = 0;

		while (i < na && i < nb && da[i] == db[i])
			i++;
		fuzz_fail("fabric save -> load -> save is not byte-identical: %zu vs %zu bytes, first "
			  "difference at byte %zu: ...%.60s... vs ...%.60s...", na, nb, i,
			  (const char *)da + (i > 20 ? i - 20 : 0), (const char *)db + (i > 20 ? i - 20 : 0));
	}
	free(da);
	free(db);
	return copy;
}

/* ---- what a manager and the hosts do next ---------------------------------- */

static void drain_manager(struct daxm_fabric *f, int hosts, int regions)
{
	struct daxm_fabric_event ev;
	int guard = 0, rc;

	while ((rc = daxm_fabric_next_event(f, &ev)) == 0) {
		if ((ev.event_type != DAXM_DC_EVENT_ADD_CAPACITY_RESPONSE &&
		     ev.event_type != DAXM_DC_EVENT_CAPACITY_RELEASED) ||
		    ev.host_id >= hosts || ev.region_index >= regions || (ev.flags & ~DAXM_DC_EVENT_MORE))
			fuzz_fail("manager record: type %u host %u region %u flags %#x", ev.event_type,
				  ev.host_id, ev.region_index, ev.flags);
		if (++guard > 1000000)
			fuzz_fail("the manager's queue does not drain");
	}
	if (rc != -EAGAIN)
		fuzz_fail("daxm_fabric_next_event: %d", rc);
}

static void exercise_fabric(struct daxm_fabric *f)
{
	struct layout l;
	uint8_t tag[16] = { 0xf0, 0x22, [15] = 0x5a };

	check_device(f, &l);
	if (daxm_fabric_run(f) < 0)
		fuzz_fail("daxm_fabric_run failed: %s", daxm_last_error());
	drain_manager(f, l.hosts, l.regions);
	/* each host (at most 8): its own calls, then an add and a release */
	for (int h = 0; h < l.hosts && h < 8; h++) {
		struct daxm_fmapi_initiate_dc_add_req add;
		struct daxm_fmapi_initiate_dc_release_req rel;
		struct daxm_ctx *ctx = NULL;

		if (daxm_fabric_get_host(f, (unsigned)h, &ctx) == 0) {
			if (daxm_ctx_get_panic(ctx, NULL, 0) == 0)
				exercise_model(ctx);
			daxm_unref(ctx);
		}
		tag[1] = (uint8_t)h;
		memset(&add, 0, sizeof(add));
		add.host_id = (uint16_t)h;
		add.selection_policy = DAXM_FMAPI_SELECTION_POLICY_FREE;
		add.region_num = (uint8_t)(h % l.regions);
		add.length = l.block[h % l.regions];
		memcpy(add.tag, tag, 16);
		rc_cxl(daxm_fmapi_initiate_dc_add(f, &add, sizeof(add)), "5604h");
		if (daxm_fabric_deliver(f, (unsigned)h) < 0)
			fuzz_fail("daxm_fabric_deliver(%d) failed: %s", h, daxm_last_error());
		memset(&rel, 0, sizeof(rel));
		rel.host_id = (uint16_t)h;
		rel.flags = DAXM_FMAPI_REMOVAL_POLICY_TAG_BASED;
		memcpy(rel.tag, tag, 16);
		rc_cxl(daxm_fmapi_initiate_dc_release(f, &rel, sizeof(rel)), "5605h");
		struct daxm_fmapi_dc_add_ref_req ref;
		memcpy(ref.tag, tag, 16);
		rc_cxl(daxm_fmapi_dc_add_reference(f, &ref), "5606h");
		struct daxm_fmapi_dc_remove_ref_req unref;
		memcpy(unref.tag, tag, 16);
		rc_cxl(daxm_fmapi_dc_remove_reference(f, &unref), "5607h");
	}
	/* the same configuration again: no change, no event */
	for (int r = 0; r < l.regions; r++) {
		struct daxm_fmapi_set_dc_region_config_req set = { .region_id = (uint8_t)r,
								   .block_sz = l.block[r] };
		struct daxm_fmapi_get_host_dc_region_config_req creq = { .region_cnt = 8 };
		struct daxm_fmapi_get_host_dc_region_config_rsp cfg;

		if (daxm_fmapi_get_dc_reg_config(f, &creq, &cfg) == 0)
			set.sanitize_on_release = cfg.region_configs[r].sanitize_on_release & 1;
		rc_cxl(daxm_fmapi_set_dc_region_config(f, &set), "5602h");
	}
	if (daxm_fabric_run(f) < 0)
		fuzz_fail("daxm_fabric_run failed: %s", daxm_last_error());
	drain_manager(f, l.hosts, l.regions);
	check_fabric(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[PATH_MAX];
	struct daxm_fabric *f = (struct daxm_fabric *)1;
	int rc;

	fuzz_path(path, sizeof(path), "fabric-state-input.json");
	fuzz_write_file(path, data, size);
	rc = daxm_fabric_load(path, &f);
	if (fuzz_verbose())
		fprintf(stderr, "fuzz: fabric load: %d %s\n", rc, rc ? daxm_last_error() : "");
	if (rc != 0) {
		if (rc > 0 || rc < -4095 || f != NULL)
			fuzz_fail("daxm_fabric_load refused with %d and fabric %p", rc, (void *)f);
		return 0;
	}
	if (!f)
		fuzz_fail("daxm_fabric_load = 0 without a fabric");
	quiet_fabric(f);
	check_fabric(f);
	daxm_fabric_unref(fabric_roundtrip(f));
	exercise_fabric(f);
	daxm_fabric_unref(fabric_roundtrip(f));
	daxm_fabric_unref(f);
	return 0;
}
