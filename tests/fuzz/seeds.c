/*
 * seeds.c - writes the committed seed corpora of the state, sysfs and
 * fabric_state harnesses: `scripts/fuzz.sh --seeds` builds and runs it as
 *   fuzz-seeds STATE_DIR SYSFS_DIR [FABRIC_DIR]
 * State seeds are saves of real models (daxm_ctx_save); sysfs seeds are
 * inputs in tests/fuzz/sysfs.c's encoding; fabric seeds are saves of real
 * fabrics (daxm_fabric_save) in the middle of manager and host activity.
 * Re-run it when a state format or that encoding changes.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <daxmodel.h>

#define MiB (1024ull * 1024)
#define GiB (1024 * MiB)
#define S0 0x140000000ull

static const char *state_dir, *sysfs_dir, *fabric_dir;

static void must(int rc, const char *what)
{
	if (rc < 0) {
		fprintf(stderr, "seeds: %s: %d (%s)\n", what, rc, daxm_last_error());
		exit(1);
	}
}

static struct daxm_region *region(struct daxm_ctx *ctx, int id, uint32_t kind, uint64_t start,
				  uint64_t size, uint32_t flags, uint32_t profile)
{
	struct daxm_region_spec spec;
	struct daxm_region *r = NULL;

	daxm_region_spec_init(&spec);
	spec.id = id;
	spec.kind = kind;
	spec.start = start;
	spec.size = size;
	spec.flags = flags;
	spec.profile = profile;
	if (kind == DAXM_REGION_SPARSE) {
		spec.max_extents_per_group = 8;
		spec.max_extents = 64;
	}
	must(daxm_region_new(ctx, &spec, &r), "daxm_region_new");
	return r;
}

static struct daxm_dev *dev(struct daxm_region *r, uint64_t size)
{
	struct daxm_dev *d = NULL;
	must(daxm_region_create_dev(r, &d), "create");
	if (size)
		must(daxm_dev_set_size(d, size), "set_size");
	return d;
}

static void save(struct daxm_ctx *ctx, const char *name)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s.json", state_dir, name);
	must(daxm_ctx_save(ctx, path), path);
	daxm_unref(ctx);
}

static struct daxm_ctx *ctx_new(void)
{
	struct daxm_ctx *ctx = NULL;
	must(daxm_new(&ctx), "daxm_new");
	return ctx;
}

static void dynamic_states(void)
{
	struct daxm_ctx *ctx = ctx_new();
	struct daxm_region *r = region(ctx, 0, DAXM_REGION_DYNAMIC, S0, 64 * MiB, DAXM_REGION_IDLE,
				       DAXM_PROFILE_6_1);
	struct daxm_dev *a = dev(r, 8 * MiB), *b = dev(r, 4 * MiB);

	must(daxm_dev_set_size(a, 4 * MiB), "shrink");
	must(daxm_dev_set_size(b, 12 * MiB), "grow across a hole");
	must(daxm_dev_enable(b), "enable");
	(void)dev(r, 0);
	must(daxm_attr_write(ctx, "dax0.3/mapping", "0x143000000-0x1431fffff"), "mapping");
	must(daxm_dev_set_align(a, 4096), "align");
	save(ctx, "dynamic-6.1");

	ctx = ctx_new();
	r = region(ctx, 2, DAXM_REGION_DYNAMIC, 0x200000000ull, 32 * MiB, 0, DAXM_PROFILE_6_12);
	region(ctx, 1, DAXM_REGION_STATIC, S0, 16 * MiB, DAXM_REGION_UNBOUND, DAXM_PROFILE_6_12);
	must(daxm_attr_write(ctx, "device_dax/new_id", "dax2.0"), "new_id");
	save(ctx, "full-and-static-6.12");

	save(ctx_new(), "empty");
}

static void sparse_states(void)
{
	static const uint8_t tag_a[16] = { 0x11, 0x11, 0x11, 0x11, 0x22, 0x22, 0x33, 0x33,
					   0x44, 0x44, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55 };
	static const uint8_t tag_b[16] = { 0xaa, 0xbb, 0xcc, 0xdd, [15] = 1 };
	static const uint8_t untagged[16];
	struct daxm_extent_spec specs[4];
	struct daxm_ctx *ctx = ctx_new();
	struct daxm_region *r = region(ctx, 0, DAXM_REGION_SPARSE, S0, 128 * MiB, 0, DAXM_PROFILE_6_12);
	struct daxm_dev *d = daxm_dev_get_first(r), *e; /* the idle dax0.0 */
	struct daxm_event *ev;

	memset(specs, 0, sizeof(specs));
	specs[0].offset = 0, specs[0].length = 8 * MiB;
	specs[1].offset = 16 * MiB, specs[1].length = 4 * MiB, memcpy(specs[1].tag, tag_a, 16);
	specs[2].offset = 32 * MiB, specs[2].length = 4 * MiB, memcpy(specs[2].tag, tag_a, 16);
	specs[2].sequence = 1;
	specs[3].offset = 48 * MiB, specs[3].length = 2 * MiB, memcpy(specs[3].tag, tag_b, 16);
	must(daxm_region_add_extents(r, specs, 2, DAXM_GROUP_MORE), "stage");
	must(daxm_region_add_extents(r, specs + 2, 2, 0), "close");
	must(daxm_dev_set_tag(d, untagged), "set_tag");
	must(daxm_dev_set_size(d, 4 * MiB), "size");
	e = dev(r, 0);
	must(daxm_dev_claim_tag(e, tag_a), "claim");
	must(daxm_extent_get(daxm_extent_get_first(r)), "pin");
	must(daxm_region_release_extents(r, 0, 2 * MiB, NULL, 0), "deferred release");
	/* one more group left open, and the events not taken */
	specs[0].offset = 64 * MiB;
	must(daxm_region_add_extents(r, specs, 1, DAXM_GROUP_MORE), "open group");
	while (daxm_ctx_get_nr_events(ctx) > 2 && daxm_ctx_next_event(ctx, &ev) == 0)
		daxm_event_free(ev);
	must(daxm_dev_set_path(e, "/dev/dax0.2"), "path");
	save(ctx, "sparse-tags-pins-open-group");

	ctx = ctx_new();
	r = region(ctx, 3, DAXM_REGION_SPARSE, 0x400000000ull, 64 * MiB,
		   DAXM_REGION_REVOKE | DAXM_REGION_NO_SANITIZE, DAXM_PROFILE_6_1);
	region(ctx, 0, DAXM_REGION_DYNAMIC, S0, 16 * MiB, DAXM_REGION_IDLE, DAXM_PROFILE_6_12);
	d = daxm_dev_get_first(r);
	specs[0].offset = 0, specs[0].length = 8 * MiB, memcpy(specs[0].tag, tag_b, 16);
	specs[0].sequence = 0;
	must(daxm_region_add_extents(r, specs, 1, DAXM_GROUP_SHAREABLE), "shareable");
	must(daxm_dev_claim_tag(d, tag_b), "claim");
	must(daxm_dev_enable(d), "enable");
	must(daxm_region_release_extents(r, 0, 8 * MiB, tag_b, DAXM_RELEASE_FORCED), "revoke");
	save(ctx, "sparse-revoked-and-dynamic");
}

/* sysfs.c inputs: see its encoding comment. */
static void sysfs_seed(const char *name, const uint8_t *bytes, size_t n)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", sysfs_dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(bytes, 1, n, f) != n || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}
#define SEED(name, ...) \
	sysfs_seed(name, (const uint8_t[]){ __VA_ARGS__ }, sizeof((const uint8_t[]){ __VA_ARGS__ }))

static void sysfs_seeds(void)
{
	/* top, regions-1; region: producer, id, kind, slot, wild, size, align,
	 * devices-1; device: id, ranges, (gap, len)*, bound, node, align;
	 * seed, create, damage */
	SEED("hmem-idle", 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
	/* 6.1 hmem, 64 MiB: dax0.0 bound (16 MiB), idle dax0.1, dax0.2 with
	 * two ranges named by create */
	SEED("hmem-three-devices", 0, 0,
	     0, 0, 0, 2, 0, 16, 0, 2,
	     0, 1, 0, 7, 1, 2, 0,
	     0, 0, 0, 2, 0,
	     0, 2, 0, 3, 2, 3, 0, 2, 0,
	     0, 2, 0);
	/* 6.12: a static pmem region (one bound device of two ranges) and an
	 * hmem region with an idle and a bound device */
	SEED("pmem-and-hmem-6.12", 1, 1,
	     1, 1, 1, 1, 0, 0, 0, 0,
	     0, 2, 0, 7, 0, 7, 1, 0, 0,
	     0,
	     0, 0, 0, 0, 0, 0, 0, 1,
	     0, 0, 0, 0, 0,
	     0, 1, 0, 3, 1, 0, 0,
	     0, 0, 0);
	/* a cxl-like nested producer directory, no osrelease */
	SEED("cxl-nested-no-release", 2, 0, 0x82, 3, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
	/* damaged: dax_region/id replaced by INT32_MAX, mapping0/end removed */
	SEED("damaged", 0, 0,
	     0, 0, 0, 0, 0, 0, 0, 0,
	     0, 1, 0, 0, 1, 0, 0,
	     0, 0,
	     2, 10, 2, 5, 2, 1, 1);
}

/* ---- fabric states ------------------------------------------------------ */

#define FB 0x1000000000ull

static struct daxm_fabric *fabric(uint32_t profile, uint32_t hosts, uint32_t r0flags, uint32_t depth,
				  uint32_t flags)
{
	struct daxm_fabric_spec spec;
	struct daxm_fabric *f = NULL;

	daxm_fabric_spec_init(&spec);
	spec.profile = profile;
	spec.num_hosts = hosts;
	spec.num_regions = 2;
	spec.regions[0].base = FB;
	spec.regions[0].decode_len = GiB;
	spec.regions[0].flags = r0flags;
	spec.regions[1].base = FB + GiB;
	spec.regions[1].decode_len = GiB;
	spec.regions[1].supported_blk_sz_mask = 2 * MiB | 4 * MiB;
	spec.event_log_depth = depth;
	spec.max_extents_per_host = 64;
	spec.max_tags_per_host = 8;
	spec.flags = flags;
	must(daxm_fabric_new(&spec, &f), "daxm_fabric_new");
	return f;
}

static void ftag(uint8_t tag[16], unsigned n)
{
	memset(tag, 0, 16);
	tag[0] = 0xfa;
	tag[2] = (uint8_t)n;
	tag[15] = 1;
}

/* A CXL return code is a refusal the seed did not plan: stop. */
static void fm(int rc, const char *what)
{
	if (rc != 0) {
		fprintf(stderr, "seeds: %s: %d (%s)\n", what, rc, daxm_last_error());
		exit(1);
	}
}

static void add(struct daxm_fabric *f, uint16_t host, uint8_t policy, uint8_t region, uint64_t len,
		unsigned tagn)
{
	struct daxm_fmapi_initiate_dc_add_req req;

	memset(&req, 0, sizeof(req));
	req.host_id = host;
	req.selection_policy = policy;
	req.region_num = region;
	req.length = len;
	if (tagn)
		ftag(req.tag, tagn);
	fm(daxm_fmapi_initiate_dc_add(f, &req, sizeof(req)), "add");
}

static void add_list(struct daxm_fabric *f, uint16_t host, uint64_t dpa, uint64_t len, unsigned n,
		     unsigned tagn)
{
	size_t sz = DAXM_FMAPI_SIZE(struct daxm_fmapi_initiate_dc_add_req, extents, n);
	struct daxm_fmapi_initiate_dc_add_req *req = calloc(1, sz);

	if (!req)
		exit(1);
	req->host_id = host;
	req->selection_policy = DAXM_FMAPI_SELECTION_POLICY_PRESCRIPTIVE;
	req->ext_count = n;
	for (unsigned i = 0; i < n; i++) {
		req->extents[i].start_dpa = dpa + 2 * i * len;
		req->extents[i].len = len;
		if (tagn)
			ftag(req->extents[i].tag, tagn);
		req->extents[i].shared_seq = (uint16_t)i;
	}
	fm(daxm_fmapi_initiate_dc_add(f, req, sz), "add list");
	free(req);
}

static void release_tag(struct daxm_fabric *f, uint16_t host, unsigned tagn, uint8_t flags)
{
	struct daxm_fmapi_initiate_dc_release_req req;

	memset(&req, 0, sizeof(req));
	req.host_id = host;
	req.flags = DAXM_FMAPI_REMOVAL_POLICY_TAG_BASED | flags;
	ftag(req.tag, tagn);
	fm(daxm_fmapi_initiate_dc_release(f, &req, sizeof(req)), "release");
}

/* A device on host @h claiming tag @tagn; returns it. */
static struct daxm_dev *claim(struct daxm_fabric *f, unsigned h, unsigned tagn)
{
	struct daxm_ctx *ctx = NULL;
	struct daxm_dev *d = NULL;
	uint8_t tag[16];

	must(daxm_fabric_get_host(f, h, &ctx), "get_host");
	ftag(tag, tagn);
	must(daxm_region_create_dev(daxm_region_get_by_id(ctx, 0), &d), "create");
	must(daxm_dev_claim_tag(d, tag), "claim");
	daxm_unref(ctx); /* the fabric keeps the host (and the device) */
	return d;
}

static void fabric_save(struct daxm_fabric *f, const char *name)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s.json", fabric_dir, name);
	must(daxm_fabric_save(f, path), path);
	daxm_fabric_unref(f);
}

static void fabric_states(void)
{
	struct daxm_fabric_event ev;
	struct daxm_dev *d;

	/* spec, 3 hosts: a deferred release, a completed one not reported, a
	 * kept force-released extent, a pending offer, a shared tag with a
	 * reference, unread manager records, devices on two hosts */
	struct daxm_fabric *f = fabric(DAXM_FABRIC_PROFILE_SPEC, 3, DAXM_FABRIC_REGION_SHARABLE, 16, 0);
	add(f, 0, DAXM_FMAPI_SELECTION_POLICY_FREE, 1, 8 * MiB, 1);
	add(f, 0, DAXM_FMAPI_SELECTION_POLICY_CONTIGUOUS, 1, 4 * MiB, 3);
	add_list(f, 1, FB, 4 * MiB, 2, 2);
	add(f, 1, DAXM_FMAPI_SELECTION_POLICY_FREE, 1, 2 * MiB, 4);
	daxm_fabric_run(f);
	claim(f, 0, 1);
	d = claim(f, 0, 3);
	claim(f, 1, 2);
	add(f, 2, DAXM_FMAPI_SELECTION_POLICY_ENABLE_SHARED_ACCESS, 0, 0, 2);
	daxm_fabric_deliver(f, 2);
	struct daxm_fmapi_dc_add_ref_req ref;
	ftag(ref.tag, 2);
	fm(daxm_fmapi_dc_add_reference(f, &ref), "reference");
	release_tag(f, 0, 1, 0);
	release_tag(f, 0, 3, 0);
	daxm_fabric_deliver(f, 0);
	must(daxm_dev_set_size(d, 0), "shrink");
	release_tag(f, 1, 4, DAXM_FMAPI_RELEASE_FORCED);
	daxm_fabric_deliver(f, 1);
	add(f, 2, DAXM_FMAPI_SELECTION_POLICY_CONTIGUOUS, 1, 4 * MiB, 5);
	daxm_fabric_next_event(f, &ev);
	fabric_save(f, "spec-three-hosts-in-flight");

	/* spec, revoking hosts, a sanitizing region: a forced release takes
	 * a device's memory; Set DC Region Config changes a block size */
	f = fabric(DAXM_FABRIC_PROFILE_SPEC, 2, DAXM_FABRIC_REGION_SANITIZE, 4, DAXM_FABRIC_HOSTS_REVOKE);
	add(f, 0, DAXM_FMAPI_SELECTION_POLICY_FREE, 0, 6 * MiB, 7);
	daxm_fabric_run(f);
	claim(f, 0, 7);
	release_tag(f, 0, 7, DAXM_FMAPI_RELEASE_FORCED | DAXM_FMAPI_RELEASE_SANITIZE);
	daxm_fabric_run(f);
	struct daxm_fmapi_set_dc_region_config_req set = { .region_id = 1, .block_sz = 4 * MiB };
	fm(daxm_fmapi_set_dc_region_config(f, &set), "set region config");
	add(f, 1, DAXM_FMAPI_SELECTION_POLICY_FREE, 1, 8 * MiB, 8);
	fabric_save(f, "spec-revoke-sanitize-config");

	/* mhsld, 4 heads: one offer accepted, one pending, untagged capacity */
	f = fabric(DAXM_FABRIC_PROFILE_MHSLD, 4, 0, 8, 0);
	add(f, 3, DAXM_FMAPI_SELECTION_POLICY_FREE, 0, 4 * MiB, 0);
	add(f, 2, DAXM_FMAPI_SELECTION_POLICY_FREE, 1, 2 * MiB, 9);
	daxm_fabric_deliver(f, 3);
	fabric_save(f, "mhsld-four-heads");

	/* qemu: one host, prescriptive only; an offer longer than the 8-deep
	 * log (records dropped), then one that fits */
	f = fabric(DAXM_FABRIC_PROFILE_QEMU, 1, 0, 8, 0);
	add_list(f, 0, FB, 2 * MiB, 3, 10);
	daxm_fabric_run(f);
	add_list(f, 0, FB + GiB, 2 * MiB, 10, 11);
	fabric_save(f, "qemu-dropped-records");

	/* spec, a never-used fabric */
	fabric_save(fabric(DAXM_FABRIC_PROFILE_SPEC, 1, 0, 64, 0), "spec-empty");
}

int main(int argc, char **argv)
{
	if (argc != 3 && argc != 4) {
		fprintf(stderr, "usage: %s STATE_DIR SYSFS_DIR [FABRIC_DIR]\n", argv[0]);
		return 2;
	}
	state_dir = argv[1];
	sysfs_dir = argv[2];
	fabric_dir = argc == 4 ? argv[3] : NULL;
	dynamic_states();
	sparse_states();
	sysfs_seeds();
	if (fabric_dir)
		fabric_states();
	return 0;
}
