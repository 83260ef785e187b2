/*
 * seeds.c - writes the committed seed corpora of the state and sysfs
 * harnesses: `scripts/fuzz.sh --seeds` builds and runs it as
 *   fuzz-seeds STATE_DIR SYSFS_DIR
 * State seeds are saves of real models (daxm_ctx_save); sysfs seeds are
 * inputs in tests/fuzz/sysfs.c's encoding. Re-run it when the state format or
 * that encoding changes.
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

static const char *state_dir, *sysfs_dir;

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

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: %s STATE_DIR SYSFS_DIR\n", argv[0]);
		return 2;
	}
	state_dir = argv[1];
	sysfs_dir = argv[2];
	dynamic_states();
	sparse_states();
	sysfs_seeds();
	return 0;
}
