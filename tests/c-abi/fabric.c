/*
 * fabric.c - the fabric manager's C API (include/daxmodel.h, "Fabric"):
 * daxm_fabric_* and the FM API commands daxm_fmapi_*, called the way a
 * manager written against libcxlmi calls them; every return code the
 * device gives, misuse, paging with generation numbers, host contexts used
 * with ordinary daxm_* calls, lifetimes.
 */
#define _DEFAULT_SOURCE
#include "fabric.h"

#include <stddef.h>
#include <syslog.h>

/* The layouts libcxlmi users rely on: the 40-byte extent, flexible arrays
 * right after their header (DAXM_FMAPI_SIZE), 84-byte tag entries. */
_Static_assert(sizeof(struct daxm_fmapi_extent) == 40, "extent record");
_Static_assert(sizeof(struct daxm_fmapi_dc_tag_info) == 84, "tag entry");
_Static_assert(offsetof(struct daxm_fmapi_initiate_dc_add_req, extents) ==
	       sizeof(struct daxm_fmapi_initiate_dc_add_req), "add extents");
_Static_assert(offsetof(struct daxm_fmapi_initiate_dc_release_req, extents) ==
	       sizeof(struct daxm_fmapi_initiate_dc_release_req), "release extents");
_Static_assert(offsetof(struct daxm_fmapi_get_dc_region_ext_list_rsp, extents) ==
	       sizeof(struct daxm_fmapi_get_dc_region_ext_list_rsp), "list extents");
_Static_assert(offsetof(struct daxm_fmapi_dc_list_tags_rsp, tags_list) ==
	       sizeof(struct daxm_fmapi_dc_list_tags_rsp), "tags list");
_Static_assert(sizeof(struct daxm_fmapi_initiate_dc_add_req) == 40, "add header");
_Static_assert(sizeof(struct daxm_fmapi_get_dc_region_ext_list_rsp) == 24, "list header");
_Static_assert(sizeof(struct daxm_fmapi_dc_list_tags_rsp) == 16, "tags header");

#define SHARABLE DAXM_FABRIC_REGION_SHARABLE
#define RO DAXM_FABRIC_REGION_READ_ONLY
#define FREE DAXM_FMAPI_SELECTION_POLICY_FREE
#define CONTIG DAXM_FMAPI_SELECTION_POLICY_CONTIGUOUS
#define PRESC DAXM_FMAPI_SELECTION_POLICY_PRESCRIPTIVE
#define ESA DAXM_FMAPI_SELECTION_POLICY_ENABLE_SHARED_ACCESS
#define FORCED DAXM_FMAPI_RELEASE_FORCED

/* ---- fixtures ------------------------------------------------------ */

static void fabric_quiet_log(struct daxm_fabric *f, int priority, const char *file,
			     int line, const char *fn, const char *msg)
{
	(void)f, (void)priority, (void)file, (void)line;
	if (fn && strcmp(fn, "verifyAfterCall") == 0)
		t_result(0, __FILE__, __LINE__, "no broken fabric invariant after a call", msg);
}

struct daxm_fabric *fabric_make(uint32_t profile, uint32_t hosts, uint32_t r0flags,
				uint32_t r1flags, uint32_t depth, uint32_t flags)
{
	struct daxm_fabric_spec spec;
	struct daxm_fabric *f = NULL;
	const char *verbose = getenv("DAXM_CTEST_VERBOSE");

	daxm_fabric_spec_init(&spec);
	spec.profile = profile;
	spec.num_hosts = hosts;
	spec.num_regions = 2;
	spec.regions[0].base = FB;
	spec.regions[0].decode_len = RLEN;
	spec.regions[0].flags = r0flags;
	spec.regions[0].supported_blk_sz_mask = 2 * MiB | 4 * MiB;
	spec.regions[1].base = FB + RLEN;
	spec.regions[1].decode_len = RLEN;
	spec.regions[1].flags = r1flags;
	spec.regions[1].supported_blk_sz_mask = 2 * MiB | 4 * MiB;
	spec.event_log_depth = depth;
	spec.flags = flags;
	CHECK_OK(daxm_fabric_new(&spec, &f));
	if (f && (!verbose || !*verbose || strcmp(verbose, "0") == 0))
		daxm_fabric_set_log_fn(f, fabric_quiet_log);
	return f;
}

struct daxm_ctx *fabric_host(struct daxm_fabric *f, unsigned host)
{
	struct daxm_ctx *ctx = NULL;

	CHECK_OK(daxm_fabric_get_host(f, host, &ctx));
	if (ctx)
		quiet_ctx(ctx);
	return ctx;
}

void fab_tag(uint8_t tag[DAXM_TAG_SIZE], unsigned n)
{
	memset(tag, 0, DAXM_TAG_SIZE);
	tag[0] = 0xfa;
	tag[1] = (uint8_t)(n >> 8);
	tag[2] = (uint8_t)n;
	tag[15] = 0x01;
}

struct daxm_fmapi_extent fx(uint64_t dpa, uint64_t len, const uint8_t *tag)
{
	struct daxm_fmapi_extent e;

	memset(&e, 0, sizeof(e));
	e.start_dpa = dpa;
	e.len = len;
	if (tag)
		memcpy(e.tag, tag, DAXM_TAG_SIZE);
	return e;
}

int fab_add(struct daxm_fabric *f, uint16_t host, uint8_t policy, uint8_t region,
	    uint64_t len, const uint8_t *tag)
{
	struct daxm_fmapi_initiate_dc_add_req req;

	memset(&req, 0, sizeof(req));
	req.host_id = host;
	req.selection_policy = policy;
	req.region_num = region;
	req.length = len;
	if (tag)
		memcpy(req.tag, tag, DAXM_TAG_SIZE);
	return daxm_fmapi_initiate_dc_add(f, &req, sizeof(req));
}

int fab_add_list(struct daxm_fabric *f, uint16_t host,
		 const struct daxm_fmapi_extent *ext, uint32_t n)
{
	size_t sz = DAXM_FMAPI_SIZE(struct daxm_fmapi_initiate_dc_add_req, extents, n);
	struct daxm_fmapi_initiate_dc_add_req *req = calloc(1, sz);
	int rc;

	if (!req)
		return -ENOMEM;
	req->host_id = host;
	req->selection_policy = PRESC;
	req->ext_count = n;
	if (n)
		memcpy(req->extents, ext, n * sizeof(*ext));
	rc = daxm_fmapi_initiate_dc_add(f, req, sz);
	free(req);
	return rc;
}

int fab_release_tag(struct daxm_fabric *f, uint16_t host, const uint8_t *tag,
		    uint8_t flags, uint64_t len)
{
	struct daxm_fmapi_initiate_dc_release_req req;

	memset(&req, 0, sizeof(req));
	req.host_id = host;
	req.flags = DAXM_FMAPI_REMOVAL_POLICY_TAG_BASED | flags;
	req.length = len;
	if (tag)
		memcpy(req.tag, tag, DAXM_TAG_SIZE);
	return daxm_fmapi_initiate_dc_release(f, &req, sizeof(req));
}

int fab_release_list(struct daxm_fabric *f, uint16_t host, uint8_t flags,
		     const struct daxm_fmapi_extent *ext, uint32_t n)
{
	size_t sz = DAXM_FMAPI_SIZE(struct daxm_fmapi_initiate_dc_release_req, extents, n);
	struct daxm_fmapi_initiate_dc_release_req *req = calloc(1, sz);
	int rc;

	if (!req)
		return -ENOMEM;
	req->host_id = host;
	req->flags = DAXM_FMAPI_REMOVAL_POLICY_PRESCRIPTIVE | flags;
	req->ext_count = n;
	if (n)
		memcpy(req->extents, ext, n * sizeof(*ext));
	rc = daxm_fmapi_initiate_dc_release(f, req, sz);
	free(req);
	return rc;
}

int fab_list(struct daxm_fabric *f, uint16_t host, uint32_t start, uint32_t count,
	     struct daxm_fmapi_get_dc_region_ext_list_rsp **out)
{
	struct daxm_fmapi_get_dc_region_ext_list_req req = {
		.host_id = host, .extent_count = count, .start_ext_index = start
	};
	size_t sz = DAXM_FMAPI_SIZE(struct daxm_fmapi_get_dc_region_ext_list_rsp, extents, count);
	struct daxm_fmapi_get_dc_region_ext_list_rsp *rsp = calloc(1, sz);
	int rc;

	*out = NULL;
	if (!rsp)
		return -ENOMEM;
	rc = daxm_fmapi_get_dc_region_ext_list(f, &req, rsp, sz);
	if (rc) {
		free(rsp);
		return rc;
	}
	*out = rsp;
	return 0;
}

uint32_t fab_total(struct daxm_fabric *f, uint16_t host)
{
	struct daxm_fmapi_get_dc_region_ext_list_rsp *rsp;
	uint32_t n;

	if (fab_list(f, host, 0, 0, &rsp))
		return UINT32_MAX;
	n = rsp->total_extents;
	free(rsp);
	return n;
}

uint32_t fab_gen(struct daxm_fabric *f, uint16_t host)
{
	struct daxm_fmapi_get_dc_region_ext_list_rsp *rsp;
	uint32_t g;

	if (fab_list(f, host, 0, 0, &rsp))
		return UINT32_MAX;
	g = rsp->list_generation_num;
	free(rsp);
	return g;
}

int fab_events(struct daxm_fabric *f, struct daxm_fabric_event *ev, int max)
{
	struct daxm_fabric_event e;
	int n = 0;

	while (daxm_fabric_next_event(f, &e) == 0) {
		if (n < max)
			ev[n] = e;
		n++;
	}
	return n;
}

struct daxm_region *fab_region(struct daxm_ctx *host)
{
	return daxm_region_get_by_id(host, 0);
}

int count_extents(struct daxm_region *r)
{
	struct daxm_extent *e;
	int n = 0;

	daxm_extent_foreach(r, e)
		n++;
	return n;
}

/* A tag-list response for @count entries (malloc'ed; the caller frees). */
static int fab_tags(struct daxm_fabric *f, uint32_t start, uint32_t count,
		    struct daxm_fmapi_dc_list_tags_rsp **out)
{
	struct daxm_fmapi_dc_list_tags_req req = { .start_idx = start, .tags_count = count };
	size_t sz = DAXM_FMAPI_SIZE(struct daxm_fmapi_dc_list_tags_rsp, tags_list, count);
	struct daxm_fmapi_dc_list_tags_rsp *rsp = calloc(1, sz);
	int rc;

	*out = NULL;
	if (!rsp)
		return -ENOMEM;
	rc = daxm_fmapi_dc_list_tags(f, &req, rsp, sz);
	if (rc) {
		free(rsp);
		return rc;
	}
	*out = rsp;
	return 0;
}

static int bit(const uint8_t map[32], unsigned ld)
{
	return (map[ld / 8] >> (ld % 8)) & 1;
}

static int bits(const uint8_t map[32])
{
	int n = 0;

	for (unsigned ld = 0; ld < 256; ld++)
		n += bit(map, ld);
	return n;
}

/* The last error mentions @what. */
#define CHECK_MSG(what) CHECK(strstr(daxm_last_error(), (what)) != NULL)

/* ---- creation, Get DCD Info, Get Host DC Region Config --------------- */

static int try_new(struct daxm_fabric_spec *spec)
{
	struct daxm_fabric *f = (struct daxm_fabric *)1;
	int rc = daxm_fabric_new(spec, &f);

	if (rc == 0)
		daxm_fabric_unref(f);
	else
		CHECK(f == NULL);
	return rc;
}

static void base_spec(struct daxm_fabric_spec *spec)
{
	daxm_fabric_spec_init(spec);
	spec->num_regions = 2;
	spec->regions[0].base = FB;
	spec->regions[0].decode_len = RLEN;
	spec->regions[1].base = FB + RLEN;
	spec->regions[1].decode_len = RLEN;
}

void test_fabric_new(void)
{
	struct daxm_fabric_spec spec;
	struct daxm_fabric *f;
	struct daxm_fmapi_get_dcd_info_rsp info;
	struct daxm_fmapi_get_host_dc_region_config_req creq;
	struct daxm_fmapi_get_host_dc_region_config_rsp cfg;
	int rc;

	/* Defaults. */
	memset(&spec, 0xff, sizeof(spec));
	daxm_fabric_spec_init(&spec);
	CHECK_U64(spec.struct_size, sizeof(spec));
	CHECK_INT(spec.profile, DAXM_FABRIC_PROFILE_SPEC);
	CHECK_INT(spec.num_regions, 0);
	CHECK_INT(spec.num_hosts, 1);
	CHECK_U64(spec.regions[7].block_size, 2 * MiB);
	CHECK_U64(spec.regions[3].base, 0);
	CHECK_INT(spec.max_extents_per_host, 512);
	CHECK_INT(spec.max_tags_per_host, 64);
	CHECK_INT(spec.event_log_depth, 64);
	CHECK_INT(spec.flags, 0);
	daxm_fabric_spec_init(NULL);

	/* Refusals: a negative errno, NULL out, a message. */
	CHECK_ERR(try_new(&spec), EINVAL); /* no region */
	CHECK_MSG("1 to 8 DC regions");
	CHECK_ERR(daxm_fabric_new(NULL, &f), EINVAL);
	base_spec(&spec);
	CHECK_ERR(daxm_fabric_new(&spec, NULL), EINVAL);
	spec.struct_size = 8;
	CHECK_ERR(try_new(&spec), EINVAL);
	CHECK_MSG("struct_size");
	base_spec(&spec);
	spec.profile = 9;
	CHECK_ERR(try_new(&spec), EINVAL);
	base_spec(&spec);
	spec.flags = 0x80;
	CHECK_ERR(try_new(&spec), EINVAL);
	base_spec(&spec);
	spec.num_regions = 9;
	CHECK_ERR(try_new(&spec), EINVAL);
	base_spec(&spec);
	spec.regions[1].flags = 0x100;
	CHECK_ERR(try_new(&spec), EINVAL);
	base_spec(&spec);
	spec.regions[0].base = FB + MiB;
	CHECK_ERR(try_new(&spec), EINVAL);
	CHECK_MSG("256 MiB");
	base_spec(&spec);
	spec.regions[1].base = FB; /* overlaps region 0 */
	CHECK_ERR(try_new(&spec), EINVAL);
	base_spec(&spec);
	spec.regions[1].base = 0xfffffffff0000000ull; /* wraps past 2^64 */
	spec.regions[1].decode_len = 512 * MiB;
	CHECK_ERR(try_new(&spec), EINVAL);
	base_spec(&spec);
	spec.regions[0].block_size = 3 * MiB;
	CHECK_ERR(try_new(&spec), EINVAL);
	base_spec(&spec);
	spec.num_hosts = 0;
	CHECK_ERR(try_new(&spec), EINVAL);
	spec.num_hosts = 257;
	CHECK_ERR(try_new(&spec), EINVAL);
	spec.num_hosts = UINT32_MAX;
	CHECK_ERR(try_new(&spec), EINVAL);
	spec.num_hosts = 256;
	CHECK_OK(try_new(&spec));
	base_spec(&spec);
	spec.max_extents_per_host = 0;
	CHECK_ERR(try_new(&spec), EINVAL);
	base_spec(&spec);
	spec.event_log_depth = 0;
	CHECK_ERR(try_new(&spec), EINVAL);
	base_spec(&spec);
	spec.profile = DAXM_FABRIC_PROFILE_MHSLD;
	spec.num_hosts = 9;
	CHECK_ERR(try_new(&spec), EINVAL);
	spec.num_hosts = 8;
	CHECK_OK(try_new(&spec));
	spec.regions[0].flags = SHARABLE; /* mhsld has no sharing */
	CHECK_ERR(try_new(&spec), EINVAL);
	/* QEMU: one host, no Sharable or sanitizing region. */
	base_spec(&spec);
	spec.profile = DAXM_FABRIC_PROFILE_QEMU;
	CHECK_OK(try_new(&spec));
	spec.num_hosts = 2;
	CHECK_ERR(try_new(&spec), EINVAL);
	spec.num_hosts = 1;
	spec.regions[0].flags = SHARABLE;
	CHECK_ERR(try_new(&spec), EINVAL);
	spec.regions[0].flags = DAXM_FABRIC_REGION_SANITIZE;
	CHECK_ERR(try_new(&spec), EINVAL);
	/* What a manager sees of it: Prescriptive only, no sanitize, no
	 * tags, no references. */
	f = fabric_make(DAXM_FABRIC_PROFILE_QEMU, 1, 0, 0, 64, 0);
	if (f) {
		struct daxm_fmapi_dc_add_ref_req ref;

		CHECK_OK(daxm_fmapi_get_dcd_info(f, &info));
		CHECK_INT(info.num_hosts, 1);
		CHECK_INT(info.capacity_selection_policies, 0x4);
		CHECK_INT(info.capacity_removal_policies, 0x2);
		CHECK_INT(info.sanitize_on_release_config_mask, 0);
		memset(&creq, 0, sizeof(creq));
		creq.region_cnt = 8;
		CHECK_OK(daxm_fmapi_get_dc_reg_config(f, &creq, &cfg));
		CHECK_INT(cfg.num_tags_supported, 0);
		CHECK_INT(cfg.num_extents_supported, 512);
		memset(&ref, 0, sizeof(ref));
		ref.tag[0] = 1;
		CHECK_INT(daxm_fmapi_dc_add_reference(f, &ref), DAXM_CXL_RC_UNSUPPORTED);
		daxm_fabric_unref(f);
	}
	(void)rc;

	/* 5600h. */
	f = fabric_make(DAXM_FABRIC_PROFILE_SPEC, 4, SHARABLE, SHARABLE | RO, 64, 0);
	if (!f)
		return;
	CHECK_INT(daxm_fabric_get_nr_hosts(f), 4);
	memset(&info, 0xee, sizeof(info));
	CHECK_OK(daxm_fmapi_get_dcd_info(f, &info));
	CHECK_INT(info.num_hosts, 4);
	CHECK_INT(info.num_supported_dc_regions, 2);
	CHECK_INT(info.capacity_selection_policies, 0x7); /* never bit 3 */
	CHECK_INT(info.capacity_removal_policies, 0x3);
	CHECK_INT(info.sanitize_on_release_config_mask, 0x3);
	CHECK_U64(info.total_dynamic_capacity, 2 * GiB);
	CHECK_U64(info.region_0_supported_blk_sz_mask, 6 * MiB); /* 2 and 4 MiB */
	CHECK_U64(info.region_1_supported_blk_sz_mask, 6 * MiB);
	CHECK_U64(info.region_2_supported_blk_sz_mask, 0);
	CHECK_U64(info.region_7_supported_blk_sz_mask, 0);

	/* 5601h. */
	memset(&creq, 0, sizeof(creq));
	creq.host_id = 3;
	creq.region_cnt = 8;
	memset(&cfg, 0xee, sizeof(cfg));
	CHECK_OK(daxm_fmapi_get_dc_reg_config(f, &creq, &cfg));
	CHECK_INT(cfg.host_id, 3);
	CHECK_INT(cfg.num_regions, 2);
	CHECK_INT(cfg.regions_returned, 2);
	CHECK_U64(cfg.region_configs[0].base, FB);
	CHECK_U64(cfg.region_configs[0].decode_len, RLEN); /* bytes, as libcxlmi */
	CHECK_U64(cfg.region_configs[0].region_len, RLEN);
	CHECK_U64(cfg.region_configs[0].block_size, 2 * MiB);
	CHECK_INT(cfg.region_configs[0].flags, DAXM_FMAPI_REGION_FLAG_SHARABLE);
	CHECK_INT(cfg.region_configs[1].flags,
		  DAXM_FMAPI_REGION_FLAG_SHARABLE | DAXM_FMAPI_REGION_FLAG_READ_ONLY);
	CHECK_INT(cfg.region_configs[1].sanitize_on_release, 0);
	CHECK_U64(cfg.region_configs[2].base, 0);
	CHECK_INT(cfg.num_extents_supported, 512);
	CHECK_INT(cfg.num_extents_available, 512);
	CHECK_INT(cfg.num_tags_supported, 64);
	CHECK_INT(cfg.num_tags_available, 64);
	creq.start_region_id = 1;
	creq.region_cnt = 1;
	CHECK_OK(daxm_fmapi_get_dc_reg_config(f, &creq, &cfg));
	CHECK_INT(cfg.regions_returned, 1);
	CHECK_U64(cfg.region_configs[0].base, FB + RLEN);
	creq.region_cnt = 0;
	CHECK_OK(daxm_fmapi_get_dc_reg_config(f, &creq, &cfg));
	CHECK_INT(cfg.regions_returned, 0);
	CHECK_INT(cfg.num_regions, 2);
	/* Invalid Input: no such host, start past the regions; ret unchanged. */
	creq.start_region_id = 2;
	memset(&cfg, 0xee, sizeof(cfg));
	CHECK_INT(daxm_fmapi_get_dc_reg_config(f, &creq, &cfg), DAXM_CXL_RC_INVALID_INPUT);
	CHECK_INT(cfg.host_id, 0xeeee);
	CHECK_MSG("Invalid Input");
	creq.start_region_id = 0;
	creq.host_id = 4;
	CHECK_INT(daxm_fmapi_get_dc_reg_config(f, &creq, &cfg), DAXM_CXL_RC_INVALID_INPUT);
	CHECK_MSG("no host 4");

	/* Return code names. */
	CHECK_STR(daxm_retcode_tostr(DAXM_CXL_RC_SUCCESS), "Success");
	CHECK_STR(daxm_retcode_tostr(DAXM_CXL_RC_INVALID_INPUT), "Invalid Input");
	CHECK_STR(daxm_retcode_tostr(DAXM_CXL_RC_UNSUPPORTED), "Unsupported");
	CHECK_STR(daxm_retcode_tostr(DAXM_CXL_RC_RETRY_REQUIRED), "Retry Required");
	CHECK_STR(daxm_retcode_tostr(DAXM_CXL_RC_INVALID_PHYSICAL_ADDRESS), "Invalid Physical Address");
	CHECK_STR(daxm_retcode_tostr(DAXM_CXL_RC_RESOURCES_EXHAUSTED), "Resources Exhausted");
	CHECK_STR(daxm_retcode_tostr(DAXM_CXL_RC_INVALID_EXTENT_LIST), "Invalid Extent List");
	CHECK_PTR(daxm_retcode_tostr(0x07), NULL);
	CHECK_PTR(daxm_retcode_tostr(-EINVAL), NULL);
	CHECK_PTR(daxm_retcode_tostr(0x10002), NULL);
	daxm_fabric_unref(f);
}

/* ---- an add, delivered; a release deferred by a device on a host ----- */

void test_fabric_commands(void)
{
	struct daxm_fabric *f = fabric_make(DAXM_FABRIC_PROFILE_SPEC, 4, SHARABLE, SHARABLE | RO, 64, 0);
	struct daxm_fmapi_get_dc_region_ext_list_rsp *rsp;
	struct daxm_fabric_event ev[8];
	struct daxm_event *hev = NULL;
	struct daxm_ctx *h0;
	struct daxm_region *r;
	struct daxm_dev *dev = NULL;
	struct daxm_extent *x;
	uint8_t t1[16], got[16];
	uint32_t g0;

	if (!f)
		return;
	h0 = fabric_host(f, 0);
	r = fab_region(h0);
	CHECK(r != NULL);
	CHECK_INT(daxm_region_get_kind(r), DAXM_REGION_SPARSE);
	CHECK_U64(daxm_region_get_start(r), FB);
	CHECK_U64(daxm_region_get_size(r), 2 * RLEN);
	fab_tag(t1, 1);

	/* The offer starts; nothing moves until a delivery. */
	g0 = fab_gen(f, 0);
	CHECK_OK(fab_add(f, 0, FREE, 0, 4 * MiB, t1));
	CHECK_INT(fab_total(f, 0), 0);
	CHECK_INT(count_extents(r), 0);
	CHECK_INT(daxm_fabric_get_nr_events(f), 0);
	CHECK_INT(daxm_ctx_get_nr_events(h0), 0);
	CHECK_INT(daxm_fabric_deliver(f, 1), 0); /* another host: nothing to say */

	/* Host 0 reads its log and answers by itself. */
	CHECK_INT(daxm_fabric_deliver(f, 0), 1);
	CHECK_INT(daxm_fabric_get_nr_events(f), 1);
	CHECK_INT(fab_events(f, ev, 8), 1);
	CHECK_INT(ev[0].event_type, DAXM_DC_EVENT_ADD_CAPACITY_RESPONSE);
	CHECK_INT(ev[0].host_id, 0);
	CHECK_INT(ev[0].region_index, 0);
	CHECK_INT(ev[0].flags, 0);
	CHECK_U64(ev[0].extent.start_dpa, FB);
	CHECK_U64(ev[0].extent.len, 4 * MiB);
	CHECK(memcmp(ev[0].extent.tag, t1, 16) == 0);
	CHECK_INT(ev[0].extent.shared_seq, 0);
	CHECK_INT(ev[0].num_avail_extents, 511);
	CHECK_INT(ev[0].num_avail_tags, 63);
	memset(&ev[1], 0xee, sizeof(ev[1]));
	CHECK_ERR(daxm_fabric_next_event(f, &ev[1]), EAGAIN);
	CHECK_INT(ev[1].event_type, 0); /* zeroed */
	CHECK_INT(daxm_fabric_deliver(f, 0), 0);

	/* The manager's list and the host's region agree. */
	CHECK_OK(fab_list(f, 0, 0, 4, &rsp));
	if (rsp) {
		CHECK_INT(rsp->host_id, 0);
		CHECK_INT(rsp->extents_returned, 1);
		CHECK_INT(rsp->total_extents, 1);
		CHECK(rsp->list_generation_num != g0);
		CHECK_U64(rsp->extents[0].start_dpa, FB);
		CHECK_U64(rsp->extents[0].len, 4 * MiB);
		CHECK(memcmp(rsp->extents[0].tag, t1, 16) == 0);
		free(rsp);
	}
	x = daxm_extent_get_first(r);
	CHECK(x != NULL);
	CHECK_U64(daxm_extent_get_offset(x), 0);
	CHECK_U64(daxm_extent_get_length(x), 4 * MiB);
	CHECK_OK(daxm_extent_get_tag(x, got));
	CHECK(memcmp(got, t1, 16) == 0);
	CHECK_U64(daxm_region_get_available_size(r), 4 * MiB);

	/* The user's queue on the host context is whole: the group event. */
	CHECK_INT(daxm_ctx_get_nr_events(h0), 1);
	CHECK_OK(daxm_ctx_next_event(h0, &hev));
	if (hev) {
		CHECK_INT(hev->type, DAXM_EVENT_GROUP);
		CHECK_INT(hev->nr_records, 1);
		CHECK_INT(hev->records[0].result, 0);
		CHECK_U64(hev->records[0].length, 4 * MiB);
		daxm_event_free(hev);
	}

	/* Ordinary daxm_* calls on the host: a device on the manager's tag. */
	CHECK_OK(daxm_region_create_dev(r, &dev));
	CHECK_OK(daxm_dev_set_tag(dev, t1));
	CHECK_OK(daxm_dev_set_size(dev, 4 * MiB));
	CHECK_ATTR(h0, "dax0.1/size", "4194304\n");
	CHECK_U64(daxm_mapping_get_start(daxm_mapping_get_first(dev)), FB);
	CHECK_ATTR(h0, "region0/available_size", "0\n");

	/* The manager asks for the tag back: the host defers (a device maps it). */
	CHECK_OK(fab_release_tag(f, 0, t1, 0, 0));
	CHECK_INT(daxm_fabric_deliver(f, 0), 0);
	CHECK_INT(daxm_fabric_get_nr_events(f), 0);
	CHECK_INT(fab_total(f, 0), 1);
	CHECK_INT(daxm_extent_get_state(x), DAXM_EXTENT_RELEASING);
	CHECK_OK(daxm_ctx_next_event(h0, &hev));
	if (hev) {
		CHECK_INT(hev->type, DAXM_EVENT_RELEASE_DEFERRED);
		daxm_event_free(hev);
	}
	/* The host lets go: its answer waits in the host until a delivery. */
	CHECK_OK(daxm_dev_set_size(dev, 0));
	CHECK_OK(daxm_ctx_next_event(h0, &hev));
	if (hev) {
		CHECK_INT(hev->type, DAXM_EVENT_RELEASED);
		daxm_event_free(hev);
	}
	CHECK_INT(daxm_fabric_get_nr_events(f), 0);
	CHECK_INT(fab_total(f, 0), 1);
	g0 = fab_gen(f, 0);
	CHECK_INT(daxm_fabric_run(f), 1);
	CHECK_INT(fab_events(f, ev, 8), 1);
	CHECK_INT(ev[0].event_type, DAXM_DC_EVENT_CAPACITY_RELEASED);
	CHECK_INT(ev[0].host_id, 0);
	CHECK_U64(ev[0].extent.start_dpa, FB);
	CHECK_U64(ev[0].extent.len, 4 * MiB);
	CHECK_INT(fab_total(f, 0), 0);
	CHECK(fab_gen(f, 0) != g0);
	CHECK_INT(count_extents(r), 0);
	CHECK_OK(daxm_region_destroy_dev(r, dev));

	/* Contiguous and Prescriptive on another host; chains carry More. */
	CHECK_OK(fab_add(f, 2, CONTIG, 1, 6 * MiB, NULL));
	{
		struct daxm_fmapi_extent e[3] = {
			fx(FB + 64 * MiB, 2 * MiB, NULL), fx(FB + 128 * MiB, 4 * MiB, NULL),
			fx(FB + 256 * MiB, 2 * MiB, NULL),
		};
		CHECK_OK(fab_add_list(f, 2, e, 3));
	}
	CHECK_INT(daxm_fabric_deliver(f, 2), 2);
	CHECK_INT(fab_events(f, ev, 8), 4);
	CHECK_INT(ev[0].region_index, 1);
	CHECK_U64(ev[0].extent.start_dpa, FB + RLEN);
	CHECK_U64(ev[0].extent.len, 6 * MiB);
	CHECK_INT(ev[0].flags, 0);
	CHECK_INT(ev[1].flags, DAXM_DC_EVENT_MORE);
	CHECK_INT(ev[2].flags, DAXM_DC_EVENT_MORE);
	CHECK_INT(ev[3].flags, 0);
	CHECK_U64(ev[3].extent.start_dpa, FB + 256 * MiB);
	CHECK_INT(ev[3].host_id, 2);
	CHECK_INT(fab_total(f, 2), 4);
	daxm_unref(h0);
	daxm_fabric_unref(f);
}

/* ---- every return code the device gives, reachable from C ----------- */

void test_fabric_codes(void)
{
	struct daxm_fabric *f = fabric_make(DAXM_FABRIC_PROFILE_SPEC, 4, SHARABLE, SHARABLE | RO, 64, 0);
	struct daxm_fabric *small;
	struct daxm_fabric_event ev[4];
	struct daxm_fmapi_set_dc_region_config_req set;
	struct daxm_fmapi_get_host_dc_region_config_req creq = { .host_id = 0, .region_cnt = 8 };
	struct daxm_fmapi_get_host_dc_region_config_rsp cfg;
	struct daxm_ctx *h2;
	uint8_t t2[16], t3[16];

	if (!f)
		return;
	fab_tag(t2, 2);
	fab_tag(t3, 3);

	/* Invalid Input. */
	CHECK_INT(fab_add(f, 4, FREE, 0, 2 * MiB, NULL), DAXM_CXL_RC_INVALID_INPUT);
	CHECK_MSG("no host 4");
	CHECK_INT(fab_add(f, 0, 5, 0, 2 * MiB, NULL), DAXM_CXL_RC_INVALID_INPUT);
	CHECK_MSG("selection policy");
	CHECK_INT(fab_add(f, 0, FREE, 2, 2 * MiB, NULL), DAXM_CXL_RC_INVALID_INPUT);
	CHECK_INT(fab_add(f, 0, FREE, 0, 3 * MiB, NULL), DAXM_CXL_RC_INVALID_INPUT);
	CHECK_INT(fab_add(f, 0, FREE, 0, 0, NULL), DAXM_CXL_RC_INVALID_INPUT);
	CHECK_OK(fab_add(f, 1, FREE, 0, 2 * MiB, t2));
	CHECK_INT(fab_add(f, 1, FREE, 0, 2 * MiB, t2), DAXM_CXL_RC_INVALID_INPUT); /* tag exists */
	CHECK_INT(fab_add(f, 3, ESA, 0, 0, t2), DAXM_CXL_RC_INVALID_INPUT);      /* not accepted yet */
	CHECK_INT(fab_release_tag(f, 0, t3, 0, 0), DAXM_CXL_RC_INVALID_INPUT);   /* host holds none */
	CHECK_INT(fab_release_tag(f, 0, NULL, 0, 0), DAXM_CXL_RC_INVALID_INPUT);
	{
		struct daxm_fmapi_initiate_dc_release_req req;
		memset(&req, 0, sizeof(req));
		req.flags = 0x5; /* removal policy 5 */
		CHECK_INT(daxm_fmapi_initiate_dc_release(f, &req, sizeof(req)), DAXM_CXL_RC_INVALID_INPUT);
	}

	/* Invalid Extent List. */
	CHECK_INT(fab_add_list(f, 0, NULL, 0), DAXM_CXL_RC_INVALID_EXTENT_LIST);
	{
		struct daxm_fmapi_extent bad = fx(FB + MiB, 2 * MiB, NULL);
		struct daxm_fmapi_extent two[2] = { fx(FB, 4 * MiB, NULL), fx(FB + 2 * MiB, 2 * MiB, NULL) };
		struct daxm_fmapi_extent across[2] = { fx(FB, 2 * MiB, NULL), fx(FB + RLEN, 2 * MiB, NULL) };
		struct daxm_fmapi_extent outside = fx(FB + 2 * RLEN, 2 * MiB, NULL);
		CHECK_INT(fab_add_list(f, 0, &bad, 1), DAXM_CXL_RC_INVALID_EXTENT_LIST);
		CHECK_INT(fab_add_list(f, 0, two, 2), DAXM_CXL_RC_INVALID_EXTENT_LIST);
		CHECK_INT(fab_add_list(f, 0, across, 2), DAXM_CXL_RC_INVALID_EXTENT_LIST);
		CHECK_INT(fab_add_list(f, 0, &outside, 1), DAXM_CXL_RC_INVALID_EXTENT_LIST);
		CHECK_INT(fab_release_list(f, 0, 0, NULL, 0), DAXM_CXL_RC_INVALID_EXTENT_LIST);
		CHECK_INT(fab_release_list(f, 0, 0, &bad, 1), DAXM_CXL_RC_INVALID_EXTENT_LIST);
	}
	/* Host 1's pending blocks, named for host 0: Invalid Extent List too. */
	{
		struct daxm_fmapi_extent theirs = fx(FB, 2 * MiB, NULL);
		CHECK_INT(fab_add_list(f, 0, &theirs, 1), DAXM_CXL_RC_INVALID_EXTENT_LIST);
	}

	/* Resources Exhausted. */
	CHECK_INT(fab_add(f, 0, FREE, 0, 2 * RLEN, NULL), DAXM_CXL_RC_RESOURCES_EXHAUSTED);
	CHECK_INT(fab_add(f, 0, CONTIG, 0, RLEN, NULL), DAXM_CXL_RC_RESOURCES_EXHAUSTED); /* t2 holds 2 MiB */
	CHECK_INT(fab_release_tag(f, 1, t2, 0, 4 * MiB), DAXM_CXL_RC_RESOURCES_EXHAUSTED);

	/* Invalid Physical Address: an unforced release of pending capacity,
	 * a DPA that is not the host's. */
	CHECK_INT(fab_release_tag(f, 1, t2, 0, 0), DAXM_CXL_RC_INVALID_PHYSICAL_ADDRESS);
	{
		struct daxm_fmapi_extent none = fx(FB + 512 * MiB, 2 * MiB, NULL);
		CHECK_INT(fab_release_list(f, 0, 0, &none, 1), DAXM_CXL_RC_INVALID_PHYSICAL_ADDRESS);
	}

	/* Unsupported: reconfiguring a region that has allocated blocks. */
	memset(&set, 0, sizeof(set));
	set.region_id = 0;
	set.block_sz = 4 * MiB;
	CHECK_INT(daxm_fmapi_set_dc_region_config(f, &set), DAXM_CXL_RC_UNSUPPORTED);
	CHECK_MSG("still allocated");
	/* Region 1 is free: it can change; every host's log gets a record. */
	set.region_id = 1;
	CHECK_OK(daxm_fmapi_set_dc_region_config(f, &set));
	CHECK_OK(daxm_fmapi_set_dc_region_config(f, &set)); /* same: no event */
	CHECK_OK(daxm_fmapi_get_dc_reg_config(f, &creq, &cfg));
	CHECK_U64(cfg.region_configs[1].block_size, 4 * MiB);
	CHECK_U64(cfg.region_configs[0].block_size, 2 * MiB);
	CHECK_INT(daxm_fabric_deliver(f, 3), 0); /* read, nothing to answer */
	set.region_id = 5;
	CHECK_INT(daxm_fmapi_set_dc_region_config(f, &set), DAXM_CXL_RC_INVALID_INPUT);
	set.region_id = 1;
	set.block_sz = 3 * MiB;
	CHECK_INT(daxm_fmapi_set_dc_region_config(f, &set), DAXM_CXL_RC_INVALID_INPUT);
	set.block_sz = 1 * MiB; /* a power of two outside the mask */
	CHECK_INT(daxm_fmapi_set_dc_region_config(f, &set), DAXM_CXL_RC_INVALID_INPUT);

	/* A forced release of a pending offer: the offer is dead. Host 1
	 * still answers it; the device refuses (Invalid PA) and tells the
	 * manager with an Add Capacity Response of length 0. */
	h2 = fabric_host(f, 1);
	CHECK_OK(fab_release_tag(f, 1, t2, FORCED, 0));
	CHECK_INT(fab_total(f, 1), 0);
	CHECK_INT(daxm_fabric_deliver(f, 1), 1);
	CHECK_INT(fab_events(f, ev, 4), 1);
	CHECK_INT(ev[0].event_type, DAXM_DC_EVENT_ADD_CAPACITY_RESPONSE);
	CHECK_INT(ev[0].host_id, 1);
	CHECK_U64(ev[0].extent.len, 0);
	CHECK_INT(fab_total(f, 1), 0);
	CHECK_INT(count_extents(fab_region(h2)), 0); /* the host unwound */
	CHECK_INT(fab_add(f, 1, FREE, 0, 2 * MiB, t2), 0); /* the tag is free again */
	daxm_unref(h2);

	/* Retry Required: the host's log is full (depth 2). */
	small = fabric_make(DAXM_FABRIC_PROFILE_SPEC, 1, 0, 0, 2, 0);
	if (small) {
		struct daxm_fmapi_extent e[3] = {
			fx(FB, 2 * MiB, NULL), fx(FB + 4 * MiB, 2 * MiB, NULL), fx(FB + 8 * MiB, 2 * MiB, NULL),
		};
		CHECK_INT(fab_add_list(small, 0, e, 3), DAXM_CXL_RC_RETRY_REQUIRED);
		CHECK_MSG("Retry Required");
		CHECK_OK(fab_add_list(small, 0, e, 2));
		CHECK_INT(fab_add_list(small, 0, &e[2], 1), DAXM_CXL_RC_RETRY_REQUIRED);
		CHECK_INT(daxm_fabric_run(small), 1);
		CHECK_OK(fab_add_list(small, 0, &e[2], 1)); /* room again */
		/* A forced release never answers Retry Required: its records
		 * are dropped from the full log and counted; the host never
		 * learns and keeps the two extents the device revoked. */
		CHECK_OK(fab_add(small, 0, FREE, 0, 2 * MiB, NULL));
		CHECK_INT(daxm_fabric_get_log_overflows(small, 0), 0);
		CHECK_OK(fab_release_list(small, 0, FORCED, e, 2));
		CHECK_INT(daxm_fabric_get_log_overflows(small, 0), 2);
		CHECK_INT(daxm_fabric_run(small), 2);
		CHECK_INT(fab_total(small, 0), 2);
		{
			struct daxm_ctx *h = fabric_host(small, 0);
			CHECK_INT(count_extents(fab_region(h)), 4);
			daxm_unref(h);
		}
		CHECK_INT(daxm_fabric_get_log_overflows(small, 0), 2);
		CHECK_ERR(daxm_fabric_get_log_overflows(small, 1), ENOENT);
		daxm_fabric_unref(small);
	}

	/* Unsupported in a profile: mhsld has no references nor List Tags,
	 * and no Enable Shared Access (Invalid Input). */
	small = fabric_make(DAXM_FABRIC_PROFILE_MHSLD, 2, 0, 0, 64, 0);
	if (small) {
		struct daxm_fmapi_dc_add_ref_req ref;
		struct daxm_fmapi_dc_remove_ref_req unref;
		struct daxm_fmapi_dc_list_tags_req lreq = { 0, 0 };
		struct daxm_fmapi_dc_list_tags_rsp lrsp;
		memcpy(ref.tag, t2, 16);
		memcpy(unref.tag, t2, 16);
		CHECK_INT(daxm_fmapi_dc_add_reference(small, &ref), DAXM_CXL_RC_UNSUPPORTED);
		CHECK_INT(daxm_fmapi_dc_remove_reference(small, &unref), DAXM_CXL_RC_UNSUPPORTED);
		CHECK_INT(daxm_fmapi_dc_list_tags(small, &lreq, &lrsp, sizeof(lrsp)), DAXM_CXL_RC_UNSUPPORTED);
		CHECK_INT(fab_add(small, 1, ESA, 0, 0, t2), DAXM_CXL_RC_INVALID_INPUT);
		daxm_fabric_unref(small);
	}

	/* Sanitize that cannot be configured: Unsupported; a release asking
	 * for it there: Invalid Input. */
	small = fabric_make(DAXM_FABRIC_PROFILE_SPEC, 1, DAXM_FABRIC_REGION_SANITIZE_FIXED, 0, 64, 0);
	if (small) {
		memset(&set, 0, sizeof(set));
		set.block_sz = 2 * MiB;
		set.sanitize_on_release = 1;
		CHECK_INT(daxm_fmapi_set_dc_region_config(small, &set), DAXM_CXL_RC_UNSUPPORTED);
		CHECK_OK(fab_add(small, 0, FREE, 0, 2 * MiB, t3));
		CHECK_INT(daxm_fabric_run(small), 1);
		CHECK_INT(fab_release_tag(small, 0, t3, DAXM_FMAPI_RELEASE_SANITIZE, 0), DAXM_CXL_RC_INVALID_INPUT);
		CHECK_OK(fab_release_tag(small, 0, t3, 0, 0));
		daxm_fabric_unref(small);
	}
	daxm_fabric_unref(f);
}

/* ---- paging: extent lists and tag lists with generation numbers ------ */

void test_fabric_paging(void)
{
	struct daxm_fabric *f = fabric_make(DAXM_FABRIC_PROFILE_SPEC, 2, SHARABLE, 0, 64, 0);
	struct daxm_fmapi_get_dc_region_ext_list_rsp *rsp;
	struct daxm_fmapi_dc_list_tags_rsp *tags;
	struct daxm_fmapi_extent e[5];
	struct daxm_fabric_event ev[8];
	uint32_t gen, tgen;
	uint8_t t[16];

	if (!f)
		return;
	for (int k = 0; k < 5; k++)
		e[k] = fx(FB + (uint64_t)k * 4 * MiB, 2 * MiB, NULL);
	CHECK_OK(fab_add_list(f, 0, e, 5));
	CHECK_INT(daxm_fabric_deliver(f, 0), 1);
	CHECK_INT(fab_events(f, ev, 8), 5);

	/* extent_count 0: the total and the generation only. */
	CHECK_OK(fab_list(f, 0, 0, 0, &rsp));
	if (!rsp)
		return;
	CHECK_INT(rsp->extents_returned, 0);
	CHECK_INT(rsp->total_extents, 5);
	gen = rsp->list_generation_num;
	free(rsp);

	/* Pages of 2, in DPA order, each with the same generation. */
	for (uint32_t start = 0; start < 6; start += 2) {
		CHECK_OK(fab_list(f, 0, start, 2, &rsp));
		if (!rsp)
			continue;
		CHECK_INT(rsp->start_ext_index, start);
		CHECK_INT(rsp->extents_returned, start < 4 ? 2 : 1);
		CHECK_INT(rsp->total_extents, 5);
		CHECK_INT(rsp->list_generation_num, gen);
		for (uint32_t k = 0; k < rsp->extents_returned; k++)
			CHECK_U64(rsp->extents[k].start_dpa, FB + (uint64_t)(start + k) * 4 * MiB);
		free(rsp);
	}
	CHECK_OK(fab_list(f, 0, 5, 3, &rsp)); /* at the end: nothing, fine */
	if (rsp) {
		CHECK_INT(rsp->extents_returned, 0);
		free(rsp);
	}
	CHECK_INT(fab_list(f, 0, 6, 1, &rsp), DAXM_CXL_RC_INVALID_INPUT);
	CHECK_INT(fab_list(f, 2, 0, 1, &rsp), DAXM_CXL_RC_INVALID_INPUT);
	CHECK_INT(fab_list(f, 1, 0, 1, &rsp), 0); /* host 1: an empty list */
	if (rsp) {
		CHECK_INT(rsp->total_extents, 0);
		free(rsp);
	}

	/* The list changes between pages: the generation says so. */
	CHECK_OK(fab_release_list(f, 0, 0, &e[4], 1));
	CHECK_INT(fab_gen(f, 0), gen); /* asked, not released yet */
	CHECK_INT(daxm_fabric_deliver(f, 0), 1);
	CHECK(fab_gen(f, 0) != gen);
	CHECK_INT(fab_total(f, 0), 4);

	/* A response smaller than extent_count asks for: -ERANGE, untouched. */
	{
		struct daxm_fmapi_get_dc_region_ext_list_req req = { .host_id = 0, .extent_count = 2 };
		size_t sz = DAXM_FMAPI_SIZE(struct daxm_fmapi_get_dc_region_ext_list_rsp, extents, 2);
		struct daxm_fmapi_get_dc_region_ext_list_rsp *small = malloc(sz);
		if (small) {
			memset(small, 0xee, sz);
			CHECK_ERR(daxm_fmapi_get_dc_region_ext_list(f, &req, small, sz - 1), ERANGE);
			CHECK_INT(small->host_id, 0xeeee);
			req.extent_count = UINT32_MAX;
			CHECK_ERR(daxm_fmapi_get_dc_region_ext_list(f, &req, small, sz), ERANGE);
			req.extent_count = 2;
			CHECK_OK(daxm_fmapi_get_dc_region_ext_list(f, &req, small, sz));
			CHECK_INT(small->extents_returned, 2);
			req.extent_count = 0; /* the header alone is enough for 0 */
			CHECK_OK(daxm_fmapi_get_dc_region_ext_list(f, &req, small, sizeof(*small)));
			free(small);
		}
	}

	/* List Tags: 5 tags offered to host 1 (pending), then accepted. */
	CHECK_OK(fab_tags(f, 0, 0, &tags));
	if (!tags)
		return;
	CHECK_INT(tags->total_num_tags, 0);
	tgen = tags->generation_num;
	free(tags);
	for (unsigned k = 0; k < 5; k++) {
		fab_tag(t, 10 + k);
		CHECK_OK(fab_add(f, 1, FREE, 0, 2 * MiB, t));
	}
	CHECK_OK(fab_tags(f, 0, 8, &tags));
	if (tags) {
		CHECK(tags->generation_num != tgen);
		tgen = tags->generation_num;
		CHECK_INT(tags->total_num_tags, 5);
		CHECK_INT(tags->num_tags_returned, 5);
		CHECK_INT(tags->validity_bitmap, 0x3);
		CHECK_INT(bit(tags->tags_list[0].pending_ref_bitmap, 1), 1);
		CHECK_INT(bits(tags->tags_list[0].pending_ref_bitmap), 1);
		CHECK_INT(bits(tags->tags_list[0].ref_bitmap), 0);
		CHECK_INT(tags->tags_list[0].flags, 0);
		free(tags);
	}
	CHECK_INT(daxm_fabric_deliver(f, 1), 5); /* five offers, five answers */
	for (uint32_t start = 0; start < 6; start += 2) {
		CHECK_OK(fab_tags(f, start, 2, &tags));
		if (!tags)
			continue;
		CHECK(tags->generation_num != tgen); /* the answers changed the bitmaps */
		CHECK_INT(tags->total_num_tags, 5);
		CHECK_INT(tags->num_tags_returned, start < 4 ? 2 : 1);
		for (uint32_t k = 0; k < tags->num_tags_returned; k++) {
			fab_tag(t, 10 + start + k); /* creation order */
			CHECK(memcmp(tags->tags_list[k].tag, t, 16) == 0);
			CHECK_INT(bit(tags->tags_list[k].ref_bitmap, 1), 1);
			CHECK_INT(bits(tags->tags_list[k].pending_ref_bitmap), 0);
		}
		free(tags);
	}
	CHECK_OK(fab_tags(f, 5, 1, &tags)); /* at the end */
	if (tags) {
		CHECK_INT(tags->num_tags_returned, 0);
		free(tags);
	}
	CHECK_INT(fab_tags(f, 6, 1, &tags), DAXM_CXL_RC_INVALID_INPUT);
	{
		struct daxm_fmapi_dc_list_tags_req req = { .start_idx = 0, .tags_count = 1 };
		struct daxm_fmapi_dc_list_tags_rsp hdr;
		CHECK_ERR(daxm_fmapi_dc_list_tags(f, &req, &hdr, sizeof(hdr)), ERANGE);
		req.tags_count = 0;
		CHECK_OK(daxm_fmapi_dc_list_tags(f, &req, &hdr, sizeof(hdr)));
		CHECK_INT(hdr.total_num_tags, 5);
		CHECK_INT(hdr.num_tags_returned, 0);
	}
	daxm_fabric_unref(f);
}

/* ---- sharing, references, revocation -------------------------------- */

void test_fabric_shared(void)
{
	struct daxm_fabric *f = fabric_make(DAXM_FABRIC_PROFILE_SPEC, 4, SHARABLE, SHARABLE | RO, 64, 0);
	struct daxm_fmapi_get_dc_region_ext_list_rsp *rsp;
	struct daxm_fmapi_dc_list_tags_rsp *tags;
	struct daxm_fmapi_dc_add_ref_req ref;
	struct daxm_fmapi_dc_remove_ref_req unref;
	struct daxm_fabric_event ev[8];
	struct daxm_ctx *h1;
	struct daxm_extent *x;
	uint8_t t1[16], t9[16];
	uint32_t tgen;

	if (!f)
		return;
	fab_tag(t1, 1);
	fab_tag(t9, 9);
	CHECK_OK(fab_add(f, 0, FREE, 0, 4 * MiB, t1));
	CHECK_INT(daxm_fabric_run(f), 1);
	CHECK_INT(fab_events(f, ev, 8), 1);

	/* Enable Shared Access: host 1 reaches t1 through the read-only region. */
	CHECK_OK(fab_add(f, 1, ESA, 1, 0, t1));
	CHECK_OK(fab_tags(f, 0, 4, &tags));
	if (tags) {
		CHECK_INT(bits(tags->tags_list[0].ref_bitmap), 1);
		CHECK_INT(bit(tags->tags_list[0].pending_ref_bitmap, 1), 1);
		free(tags);
	}
	CHECK_INT(fab_add(f, 1, ESA, 1, 0, t1), DAXM_CXL_RC_INVALID_INPUT); /* pending there */
	CHECK_INT(fab_add(f, 2, ESA, 1, 0, t9), DAXM_CXL_RC_INVALID_INPUT); /* unknown tag */
	CHECK_INT(daxm_fabric_deliver(f, 1), 1);
	CHECK_INT(fab_events(f, ev, 8), 1);
	CHECK_INT(ev[0].host_id, 1);
	CHECK_INT(ev[0].region_index, 1);
	CHECK_U64(ev[0].extent.start_dpa, FB + RLEN);
	CHECK_INT(ev[0].extent.shared_seq, 0);
	CHECK_OK(fab_list(f, 1, 0, 4, &rsp));
	if (rsp) {
		CHECK_INT(rsp->total_extents, 1);
		CHECK_U64(rsp->extents[0].start_dpa, FB + RLEN);
		CHECK(memcmp(rsp->extents[0].tag, t1, 16) == 0);
		free(rsp);
	}
	h1 = fabric_host(f, 1);
	x = daxm_extent_get_first(fab_region(h1));
	CHECK(x != NULL);
	CHECK_U64(daxm_extent_get_offset(x), RLEN);
	CHECK_INT(daxm_extent_get_sequence(x), 0);
	CHECK_INT(fab_add(f, 1, ESA, 0, 0, t1), DAXM_CXL_RC_INVALID_INPUT); /* already holds it */

	/* The manager's reference keeps the capacity once no host holds it. */
	memcpy(ref.tag, t1, 16);
	memcpy(unref.tag, t1, 16);
	CHECK_OK(daxm_fmapi_dc_add_reference(f, &ref));
	CHECK_OK(daxm_fmapi_dc_add_reference(f, &ref)); /* idempotent */
	CHECK_OK(fab_release_tag(f, 0, t1, 0, 0));
	CHECK_OK(fab_release_tag(f, 1, t1, 0, 0));
	CHECK_INT(daxm_fabric_run(f), 2);
	CHECK_INT(fab_events(f, ev, 8), 2);
	CHECK_INT(ev[0].event_type, DAXM_DC_EVENT_CAPACITY_RELEASED);
	CHECK_INT(ev[1].event_type, DAXM_DC_EVENT_CAPACITY_RELEASED);
	CHECK_INT(ev[0].host_id + ev[1].host_id, 1);
	CHECK_INT(count_extents(fab_region(h1)), 0);
	CHECK_OK(fab_tags(f, 0, 4, &tags));
	if (tags) {
		CHECK_INT(tags->total_num_tags, 1);
		CHECK_INT(tags->tags_list[0].flags, DAXM_FMAPI_TAG_FM_HOLDS_REFERENCE);
		CHECK_INT(bits(tags->tags_list[0].ref_bitmap), 0);
		tgen = tags->generation_num;
		free(tags);
	}
	/* A later host shares it again from the reference alone. */
	CHECK_OK(fab_add(f, 2, ESA, 0, 0, t1));
	CHECK_INT(daxm_fabric_deliver(f, 2), 1);
	CHECK_INT(fab_total(f, 2), 1);
	CHECK_OK(fab_release_tag(f, 2, t1, 0, 0));
	CHECK_INT(daxm_fabric_deliver(f, 2), 1);
	/* Dropping the reference frees the tag: List Tags forgets it. */
	CHECK_OK(daxm_fmapi_dc_remove_reference(f, &unref));
	CHECK_OK(fab_tags(f, 0, 4, &tags));
	if (tags) {
		CHECK_INT(tags->total_num_tags, 0);
		CHECK(tags->generation_num != tgen);
		free(tags);
	}
	CHECK_INT(daxm_fmapi_dc_remove_reference(f, &unref), DAXM_CXL_RC_INVALID_INPUT);
	CHECK_INT(daxm_fmapi_dc_add_reference(f, &ref), DAXM_CXL_RC_INVALID_INPUT);
	daxm_unref(h1);
	daxm_fabric_unref(f);

	/* Forced release of accepted capacity: a Linux host keeps the extent
	 * (its view goes stale); a revoking host drops it. */
	for (int revoke = 0; revoke < 2; revoke++) {
		struct daxm_ctx *h;
		struct daxm_fmapi_extent e = fx(FB, 2 * MiB, NULL);

		f = fabric_make(DAXM_FABRIC_PROFILE_SPEC, 1, 0, 0, 64,
				revoke ? DAXM_FABRIC_HOSTS_REVOKE : 0);
		if (!f)
			return;
		h = fabric_host(f, 0);
		CHECK_OK(fab_add_list(f, 0, &e, 1));
		CHECK_INT(daxm_fabric_run(f), 1);
		fab_events(f, ev, 8);
		CHECK_OK(fab_release_list(f, 0, FORCED, &e, 1));
		CHECK_INT(fab_total(f, 0), 0);
		CHECK_INT(daxm_fabric_run(f), 0);
		CHECK_INT(count_extents(fab_region(h)), revoke ? 0 : 1);
		CHECK_INT(daxm_fabric_get_nr_events(f), 0); /* nobody answered */
		memset(ref.tag, 0, 16);
		ref.tag[0] = 1;
		CHECK_INT(daxm_fmapi_dc_add_reference(f, &ref), DAXM_CXL_RC_INVALID_INPUT);
		daxm_unref(h);
		daxm_fabric_unref(f);
	}
}

/* ---- misuse: NULL, sizes, unknown hosts, direct capacity on a host ---- */

static int log_calls, log_prio;
static char log_text[512];

static void record_log(struct daxm_fabric *f, int priority, const char *file, int line,
		       const char *fn, const char *msg)
{
	(void)f, (void)file, (void)line, (void)fn;
	log_calls++;
	log_prio = priority;
	snprintf(log_text, sizeof(log_text), "%s", msg);
}

void test_fabric_misuse(void)
{
	struct daxm_fabric *f = fabric_make(DAXM_FABRIC_PROFILE_SPEC, 2, SHARABLE, 0, 64, 0);
	struct daxm_fmapi_get_dcd_info_rsp info;
	struct daxm_fmapi_get_host_dc_region_config_req creq = { 0 };
	struct daxm_fmapi_get_host_dc_region_config_rsp cfg;
	struct daxm_fmapi_set_dc_region_config_req set = { 0 };
	struct daxm_fmapi_get_dc_region_ext_list_req lreq = { 0 };
	struct daxm_fmapi_get_dc_region_ext_list_rsp lrsp;
	struct daxm_fmapi_initiate_dc_add_req add;
	struct daxm_fmapi_initiate_dc_release_req rel;
	struct daxm_fmapi_dc_add_ref_req ref = { { 0 } };
	struct daxm_fmapi_dc_remove_ref_req unref = { { 0 } };
	struct daxm_fmapi_dc_list_tags_req treq = { 0 };
	struct daxm_fmapi_dc_list_tags_rsp trsp;
	struct daxm_fabric_event ev;
	struct daxm_ctx *ctx = (struct daxm_ctx *)1, *h0;
	struct daxm_region *other;
	struct daxm_extent_spec spec;
	struct daxm_extent *x;
	uint8_t tag[DAXM_TAG_SIZE], before[DAXM_TAG_SIZE], after[DAXM_TAG_SIZE];
	char path[64];

	if (!f)
		return;
	memset(&add, 0, sizeof(add));
	memset(&rel, 0, sizeof(rel));

	/* A NULL fabric: -EINVAL and a message, for every call. */
	{
		struct row rows[] = {
			ROW_ERR(daxm_fmapi_get_dcd_info(NULL, &info), EINVAL),
			ROW_ERR(daxm_fmapi_get_dc_reg_config(NULL, &creq, &cfg), EINVAL),
			ROW_ERR(daxm_fmapi_set_dc_region_config(NULL, &set), EINVAL),
			ROW_ERR(daxm_fmapi_get_dc_region_ext_list(NULL, &lreq, &lrsp, sizeof(lrsp)), EINVAL),
			ROW_ERR(daxm_fmapi_initiate_dc_add(NULL, &add, sizeof(add)), EINVAL),
			ROW_ERR(daxm_fmapi_initiate_dc_release(NULL, &rel, sizeof(rel)), EINVAL),
			ROW_ERR(daxm_fmapi_dc_add_reference(NULL, &ref), EINVAL),
			ROW_ERR(daxm_fmapi_dc_remove_reference(NULL, &unref), EINVAL),
			ROW_ERR(daxm_fmapi_dc_list_tags(NULL, &treq, &trsp, sizeof(trsp)), EINVAL),
			ROW_ERR(daxm_fabric_get_nr_hosts(NULL), EINVAL),
			ROW_ERR(daxm_fabric_get_host(NULL, 0, &ctx), EINVAL),
			ROW_ERR(daxm_fabric_deliver(NULL, 0), EINVAL),
			ROW_ERR(daxm_fabric_run(NULL), EINVAL),
			ROW_ERR(daxm_fabric_next_event(NULL, &ev), EINVAL),
			ROW_ERR(daxm_fabric_get_nr_events(NULL), EINVAL),
			ROW_ERR(daxm_fabric_get_log_overflows(NULL, 0), EINVAL),
			ROW_ERR(daxm_fabric_get_log_priority(NULL), EINVAL),
			ROW_P(daxm_fabric_ref(NULL), NULL),
			ROW_P(daxm_fabric_get_userdata(NULL), NULL),
		};
		CHECK_ROWS(rows);
	}
	daxm_clear_last_error();
	CHECK_ERR(daxm_fmapi_initiate_dc_add(NULL, &add, sizeof(add)), EINVAL);
	CHECK_STR(daxm_last_error(), "daxm_fmapi_initiate_dc_add: NULL fabric");
	daxm_fabric_unref(NULL);
	daxm_fabric_set_event_fn(NULL, NULL);
	daxm_fabric_set_userdata(NULL, NULL);
	daxm_fabric_set_log_fn(NULL, NULL);
	daxm_fabric_set_log_priority(NULL, 3);

	/* NULL structs. */
	{
		struct row rows[] = {
			ROW_ERR(daxm_fmapi_get_dcd_info(f, NULL), EINVAL),
			ROW_ERR(daxm_fmapi_get_dc_reg_config(f, NULL, &cfg), EINVAL),
			ROW_ERR(daxm_fmapi_get_dc_reg_config(f, &creq, NULL), EINVAL),
			ROW_ERR(daxm_fmapi_set_dc_region_config(f, NULL), EINVAL),
			ROW_ERR(daxm_fmapi_get_dc_region_ext_list(f, NULL, &lrsp, sizeof(lrsp)), EINVAL),
			ROW_ERR(daxm_fmapi_get_dc_region_ext_list(f, &lreq, NULL, sizeof(lrsp)), EINVAL),
			ROW_ERR(daxm_fmapi_initiate_dc_add(f, NULL, sizeof(add)), EINVAL),
			ROW_ERR(daxm_fmapi_initiate_dc_release(f, NULL, sizeof(rel)), EINVAL),
			ROW_ERR(daxm_fmapi_dc_add_reference(f, NULL), EINVAL),
			ROW_ERR(daxm_fmapi_dc_remove_reference(f, NULL), EINVAL),
			ROW_ERR(daxm_fmapi_dc_list_tags(f, NULL, &trsp, sizeof(trsp)), EINVAL),
			ROW_ERR(daxm_fmapi_dc_list_tags(f, &treq, NULL, sizeof(trsp)), EINVAL),
			ROW_ERR(daxm_fabric_get_host(f, 0, NULL), EINVAL),
			ROW_ERR(daxm_fabric_next_event(f, NULL), EINVAL),
		};
		CHECK_ROWS(rows);
	}
	CHECK_MSG("NULL");

	/* Sizes: a request below its header, extents past the size given. */
	CHECK_ERR(daxm_fmapi_initiate_dc_add(f, &add, sizeof(add) - 1), EINVAL);
	CHECK_ERR(daxm_fmapi_initiate_dc_add(f, &add, 0), EINVAL);
	CHECK_ERR(daxm_fmapi_initiate_dc_release(f, &rel, sizeof(rel) - 8), EINVAL);
	add.selection_policy = PRESC;
	add.ext_count = 1; /* the header alone cannot hold it */
	CHECK_ERR(daxm_fmapi_initiate_dc_add(f, &add, sizeof(add)), EINVAL);
	CHECK_MSG("ext_count 1");
	add.ext_count = UINT32_MAX;
	CHECK_ERR(daxm_fmapi_initiate_dc_add(f, &add, sizeof(add)), EINVAL);
	rel.flags = DAXM_FMAPI_REMOVAL_POLICY_PRESCRIPTIVE;
	rel.ext_count = 3;
	CHECK_ERR(daxm_fmapi_initiate_dc_release(f, &rel, sizeof(rel) + 2 * sizeof(rel.extents[0])), EINVAL);
	{
		size_t sz = DAXM_FMAPI_SIZE(struct daxm_fmapi_initiate_dc_add_req, extents, 2);
		struct daxm_fmapi_initiate_dc_add_req *two = calloc(1, sz);
		if (two) {
			two->selection_policy = PRESC;
			two->ext_count = 2;
			two->extents[0] = fx(FB, 2 * MiB, NULL);
			two->extents[1] = fx(FB + 4 * MiB, 2 * MiB, NULL);
			CHECK_ERR(daxm_fmapi_initiate_dc_add(f, two, sz - 1), EINVAL);
			CHECK_INT(fab_total(f, 0), 0);
			CHECK_OK(daxm_fmapi_initiate_dc_add(f, two, sz));
			free(two);
		}
	}
	/* Extents are read only for Prescriptive: a Free request's ext_count
	 * is reserved, whatever it says. */
	add.selection_policy = FREE;
	add.length = 2 * MiB;
	add.ext_count = UINT32_MAX;
	CHECK_OK(daxm_fmapi_initiate_dc_add(f, &add, sizeof(add)));
	CHECK_INT(daxm_fabric_run(f), 2);

	/* Hosts that do not exist. */
	CHECK_ERR(daxm_fabric_get_host(f, 2, &ctx), ENOENT);
	CHECK(ctx == NULL);
	CHECK_ERR(daxm_fabric_get_host(f, UINT32_MAX, &ctx), ENOENT);
	CHECK_ERR(daxm_fabric_deliver(f, 2), ENOENT);
	CHECK_ERR(daxm_fabric_deliver(f, 65536), ENOENT);
	CHECK_MSG("no host 65536");

	/* An empty queue is no failure: -EAGAIN, nothing logged. */
	daxm_fabric_set_log_fn(f, record_log);
	daxm_fabric_set_log_priority(f, LOG_DEBUG);
	fab_events(f, &ev, 1);
	log_calls = 0;
	CHECK_ERR(daxm_fabric_next_event(f, &ev), EAGAIN);
	CHECK_INT(log_calls, 0);
	/* A refusal is logged at LOG_INFO with the last error's text, misuse
	 * at LOG_ERR; the priority filters. */
	CHECK_INT(fab_add(f, 7, FREE, 0, 2 * MiB, NULL), DAXM_CXL_RC_INVALID_INPUT);
	CHECK_INT(log_calls, 1);
	CHECK_INT(log_prio, LOG_INFO);
	CHECK_STR(log_text, daxm_last_error());
	CHECK_ERR(daxm_fabric_get_host(f, 9, &ctx), ENOENT);
	CHECK_INT(log_prio, LOG_ERR);
	daxm_fabric_set_log_priority(f, LOG_WARNING);
	CHECK_INT(daxm_fabric_get_log_priority(f), LOG_WARNING);
	CHECK_INT(fab_add(f, 7, FREE, 0, 2 * MiB, NULL), DAXM_CXL_RC_INVALID_INPUT);
	CHECK_INT(log_calls, 2);
	daxm_fabric_set_log_priority(f, 99);
	CHECK_INT(daxm_fabric_get_log_priority(f), 7);
	daxm_fabric_set_log_fn(f, NULL);
	daxm_fabric_set_log_priority(f, LOG_WARNING);

	/* A host's bound region gets capacity only from the fabric. */
	h0 = fabric_host(f, 0);
	memset(&spec, 0, sizeof(spec));
	spec.offset = 64 * MiB;
	spec.length = 2 * MiB;
	CHECK_ERR(daxm_region_add_extents(fab_region(h0), &spec, 1, 0), EPERM);
	CHECK_MSG("fabric manager");
	CHECK_ERR(daxm_region_release_extents(fab_region(h0), 0, 2 * MiB, NULL, 0), EPERM);
	CHECK_INT(count_extents(fab_region(h0)), 3);
	/* Nor can the host re-tag it (found by tests/fuzz/fabric.c: the host's
	 * view left the device's list, and a Tag-based release of the old tag
	 * no longer reached the extent): by call or by sysfs. */
	x = daxm_extent_get_first(fab_region(h0));
	CHECK_OK(daxm_extent_get_tag(x, before));
	fab_tag(tag, 77);
	CHECK_ERR(daxm_extent_set_tag(x, tag, 0), EPERM);
	CHECK_MSG("device");
	CHECK_ERR(daxm_extent_set_tag(x, tag, DAXM_TAG_WHOLE_GROUP), EPERM);
	snprintf(path, sizeof(path), "region0/extent%d/tag", daxm_extent_get_id(x));
	CHECK_ERR(daxm_attr_write(h0, path, "9f1c2e3a-0000-4000-8000-000000000001"), EPERM);
	CHECK_OK(daxm_extent_get_tag(x, after));
	CHECK(memcmp(before, after, DAXM_TAG_SIZE) == 0);
	/* Other regions of the host are its own. */
	other = add_region(h0, -1, DAXM_REGION_SPARSE, S0, GiB, 0, DAXM_PROFILE_6_12);
	spec.offset = 0;
	CHECK_OK(daxm_region_add_extents(other, &spec, 1, 0));
	CHECK_INT(count_extents(other), 1);
	CHECK_OK(daxm_extent_set_tag(daxm_extent_get_first(other), tag, 0));
	CHECK_OK(daxm_region_release_extents(other, 0, 2 * MiB, tag, 0));
	daxm_unref(h0);
	daxm_fabric_unref(f);
}

/* ---- lifetimes and callbacks ------------------------------------------ */

static int fabric_events_seen, host_events_seen, fabric_nr_seen;

static void on_fabric_event(struct daxm_fabric *f)
{
	struct daxm_fabric_event ev;

	CHECK_PTR(daxm_fabric_get_userdata(f), &fabric_events_seen);
	fabric_events_seen++;
	/* No lock is held: the callback may drain the queue. */
	while (daxm_fabric_next_event(f, &ev) == 0)
		;
}

static void on_host_event(struct daxm_ctx *ctx)
{
	struct daxm_fabric *f = daxm_get_userdata(ctx);
	struct daxm_event *e;

	host_events_seen++;
	/* Neither the host's lock nor the fabric's is held. */
	fabric_nr_seen = daxm_fabric_get_nr_events(f);
	while (daxm_ctx_next_event(ctx, &e) == 0)
		daxm_event_free(e);
}

void test_fabric_lifetime(void)
{
	struct daxm_fabric *f = fabric_make(DAXM_FABRIC_PROFILE_SPEC, 3, SHARABLE, 0, 64, 0);
	struct daxm_ctx *h, *again, *h2;
	struct daxm_region *r;
	struct daxm_dev *d = NULL;
	struct daxm_ctx *loaded = NULL;
	uint8_t t1[16];

	if (!f)
		return;
	fab_tag(t1, 1);

	/* The same context each time; references balance. */
	h = fabric_host(f, 1);
	again = fabric_host(f, 1);
	CHECK_PTR(again, h);
	daxm_unref(again);
	CHECK(daxm_fabric_ref(f) == f);
	daxm_fabric_unref(f);

	/* Callbacks run with no lock held and may call back in. */
	daxm_fabric_set_userdata(f, &fabric_events_seen);
	daxm_fabric_set_event_fn(f, on_fabric_event);
	daxm_set_userdata(h, f);
	daxm_set_event_fn(h, on_host_event);
	CHECK_OK(fab_add(f, 1, FREE, 0, 4 * MiB, t1));
	CHECK_INT(fabric_events_seen, 0);
	CHECK_INT(daxm_fabric_deliver(f, 1), 1);
	CHECK_INT(fabric_events_seen, 1);
	CHECK_INT(host_events_seen, 1);
	CHECK_INT(fabric_nr_seen, 1);
	CHECK_INT(daxm_fabric_get_nr_events(f), 0); /* drained by the callback */
	CHECK_INT(daxm_fabric_run(f), 0);
	CHECK_INT(fabric_events_seen, 1); /* nothing queued: no call */
	daxm_set_event_fn(h, NULL);
	daxm_fabric_set_event_fn(f, NULL);

	/* A host context saves and loads like any other. */
	r = fab_region(h);
	CHECK_OK(daxm_region_create_dev(r, &d));
	CHECK_OK(daxm_dev_claim_tag(d, t1));
	CHECK_OK(daxm_ctx_save(h, state_path("fabric-host.json")));
	CHECK_OK(daxm_ctx_load(state_path("fabric-host.json"), &loaded));
	if (loaded) {
		CHECK_ATTR(loaded, "dax0.1/size", "4194304\n");
		daxm_unref(loaded);
	}
	{
		const char *names[] = { "fabric-host.json" };
		state_clean(names, 1);
	}

	/* Host 2 over-released by its user is down: deliveries skip it, and
	 * it is not handed out again. */
	h2 = fabric_host(f, 2);
	CHECK_OK(fab_add(f, 2, FREE, 0, 2 * MiB, NULL));
	daxm_unref(h2);
	daxm_unref(h2); /* one more than taken: the context closes */
	CHECK_INT(daxm_fabric_deliver(f, 2), 0);
	CHECK_ERR(daxm_fabric_get_host(f, 2, &h2), ENODEV);
	CHECK_INT(fab_total(f, 2), 0);

	/* The fabric goes first: the host context stays valid and answers
	 * -ENODEV, as do objects the caller still references. */
	daxm_region_ref(r);
	daxm_dev_ref(d);
	daxm_fabric_unref(f);
	CHECK_PTR(daxm_region_get_first(h), NULL);
	CHECK_ERR(daxm_ctx_get_nr_events(h), ENODEV);
	CHECK_U64(daxm_region_get_size(r), DAXM_INVALID);
	CHECK_U64(daxm_dev_get_size(d), DAXM_INVALID);
	CHECK_ERR(daxm_region_create_dev(r, NULL), ENODEV);
	daxm_dev_unref(d);
	daxm_region_unref(r);
	daxm_unref(h);

	/* The host context goes first, then the fabric. */
	f = fabric_make(DAXM_FABRIC_PROFILE_SPEC, 2, 0, 0, 64, 0);
	if (!f)
		return;
	h = fabric_host(f, 0);
	CHECK_OK(fab_add(f, 0, FREE, 0, 2 * MiB, NULL));
	daxm_unref(h);
	CHECK_INT(daxm_fabric_run(f), 1); /* the host still runs */
	CHECK_INT(fab_total(f, 0), 1);
	h = fabric_host(f, 0);
	CHECK_INT(count_extents(fab_region(h)), 1);
	daxm_unref(h);
	daxm_fabric_unref(f);
}
