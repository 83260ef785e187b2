/*
 * abi.c - the general rules of daxmodel.h: NULL arguments, region specs,
 * region kinds, and handles kept alive past the deletion of their object.
 */
#include "ctest.h"

#include <limits.h>

/* A void function: passes if it returns. */
#define CHECK_RETURNS(call) \
	do { call; t_result(1, __FILE__, __LINE__, #call, NULL); } while (0)

static int dummy_log_calls;
static void dummy_log(struct daxm_ctx *ctx, int priority, const char *file,
		      int line, const char *fn, const char *msg)
{
	(void)ctx, (void)priority, (void)file, (void)line, (void)fn, (void)msg;
	dummy_log_calls++;
}

/* ---- version -------------------------------------------------------- */

void test_version(void)
{
	char want[32];

	snprintf(want, sizeof(want), "%d.%d.%d", DAXM_VERSION_MAJOR,
		 DAXM_VERSION_MINOR, DAXM_VERSION_PATCH);
	CHECK_STR(daxm_get_version(), want);
	CHECK(daxm_get_version() == daxm_get_version()); /* static storage */
	CHECK(daxm_last_error() != NULL);
	CHECK_U64(DAXM_INVALID, UINT64_MAX);
}

/* ---- NULL for every pointer parameter ------------------------------- */

void test_null_args(void)
{
	struct daxm_ctx *ctx = new_ctx();
	struct daxm_region *r = add_region(ctx, 0, DAXM_REGION_DYNAMIC, S0, GiB,
					   DAXM_REGION_IDLE, DAXM_PROFILE_6_12);
	struct daxm_dev *d0 = daxm_dev_get_first(r);
	struct daxm_dev *dout = NULL;
	struct daxm_region_spec spec;
	char buf[64];
	int x = 0;

	daxm_region_spec_init(&spec);
	spec.start = S0 + GiB;
	spec.size = GiB;

	const struct row rows[] = {
		/* context */
		ROW_ERR(daxm_new(NULL), EINVAL),
		ROW_P(daxm_ref(NULL), NULL),
		ROW_ERR(daxm_get_log_priority(NULL), EINVAL),
		ROW_P(daxm_get_userdata(NULL), NULL),
		/* sysfs text */
		ROW_ERR(daxm_attr_write(NULL, "region0/create", "1"), EINVAL),
		ROW_ERR(daxm_attr_write(ctx, NULL, "1"), EINVAL),
		ROW_ERR(daxm_attr_write(ctx, "dax0.0/size", NULL), EINVAL),
		ROW_ERR(daxm_attr_write(NULL, NULL, NULL), EINVAL),
		ROW_ERR(daxm_attr_read(NULL, "region0/size", buf, sizeof(buf)), EINVAL),
		ROW_ERR(daxm_attr_read(ctx, NULL, buf, sizeof(buf)), EINVAL),
		ROW_ERR(daxm_attr_read(ctx, "region0/size", NULL, sizeof(buf)), EINVAL),
		ROW_ERR(daxm_attr_read(ctx, "region0/size", NULL, 0), EINVAL),
		ROW_ERR(daxm_attr_read(NULL, NULL, NULL, 0), EINVAL),
		/* regions */
		ROW_ERR(daxm_region_new(NULL, &spec, NULL), EINVAL),
		ROW_ERR(daxm_region_new(ctx, NULL, NULL), EINVAL),
		ROW_ERR(daxm_region_new(NULL, NULL, NULL), EINVAL),
		ROW_P(daxm_region_get_first(NULL), NULL),
		ROW_P(daxm_region_get_next(NULL), NULL),
		ROW_P(daxm_region_get_by_id(NULL, 0), NULL),
		ROW_P(daxm_region_ref(NULL), NULL),
		ROW_P(daxm_region_get_ctx(NULL), NULL),
		ROW_ERR(daxm_region_get_id(NULL), EINVAL),
		ROW_ERR(daxm_region_get_kind(NULL), EINVAL),
		ROW_ERR(daxm_region_get_profile(NULL), EINVAL),
		ROW_U(daxm_region_get_start(NULL), DAXM_INVALID),
		ROW_U(daxm_region_get_size(NULL), DAXM_INVALID),
		ROW_U(daxm_region_get_align(NULL), DAXM_INVALID),
		ROW_U(daxm_region_get_available_size(NULL), DAXM_INVALID),
		ROW_ERR(daxm_region_get_target_node(NULL), EINVAL),
		ROW_ERR(daxm_region_create_dev(NULL, NULL), EINVAL),
		ROW_ERR(daxm_region_create_dev(NULL, &dout), EINVAL),
		ROW_P(daxm_region_get_dev_seed(NULL), NULL),
		ROW_P(daxm_region_get_dev_youngest(NULL), NULL),
		ROW_ERR(daxm_region_destroy_dev(NULL, d0), EINVAL),
		ROW_ERR(daxm_region_destroy_dev(r, NULL), EINVAL),
		ROW_ERR(daxm_region_destroy_dev(NULL, NULL), EINVAL),
		/* devices */
		ROW_P(daxm_dev_get_first(NULL), NULL),
		ROW_P(daxm_dev_get_next(NULL), NULL),
		ROW_P(daxm_dev_get_by_name(NULL, "dax0.0"), NULL),
		ROW_P(daxm_dev_get_by_name(ctx, NULL), NULL),
		ROW_P(daxm_dev_ref(NULL), NULL),
		ROW_P(daxm_dev_get_region(NULL), NULL),
		ROW_P(daxm_dev_get_ctx(NULL), NULL),
		ROW_ERR(daxm_dev_get_id(NULL), EINVAL),
		ROW_P(daxm_dev_get_devname(NULL), NULL),
		ROW_U(daxm_dev_get_size(NULL), DAXM_INVALID),
		ROW_ERR(daxm_dev_set_size(NULL, 0), EINVAL),
		ROW_ERR(daxm_dev_set_size(NULL, 2 * MiB), EINVAL),
		ROW_U(daxm_dev_get_align(NULL), DAXM_INVALID),
		ROW_ERR(daxm_dev_set_align(NULL, 2 * MiB), EINVAL),
		ROW_ERR(daxm_dev_set_mapping(NULL, S0, S0 + 2 * MiB - 1), EINVAL),
		ROW_U(daxm_dev_get_resource(NULL), DAXM_INVALID),
		ROW_ERR(daxm_dev_get_target_node(NULL), EINVAL),
		ROW_ERR(daxm_dev_get_nr_mappings(NULL), EINVAL),
		ROW_ERR(daxm_dev_is_enabled(NULL), EINVAL),
		ROW_ERR(daxm_dev_enable(NULL), EINVAL),
		ROW_ERR(daxm_dev_disable(NULL), EINVAL),
		/* mappings */
		ROW_P(daxm_mapping_get_first(NULL), NULL),
		ROW_P(daxm_mapping_get_next(NULL), NULL),
		ROW_P(daxm_mapping_ref(NULL), NULL),
		ROW_P(daxm_mapping_get_dev(NULL), NULL),
		ROW_ERR(daxm_mapping_get_id(NULL), EINVAL),
		ROW_U(daxm_mapping_get_start(NULL), DAXM_INVALID),
		ROW_U(daxm_mapping_get_end(NULL), DAXM_INVALID),
		ROW_U(daxm_mapping_get_size(NULL), DAXM_INVALID),
		ROW_U(daxm_mapping_get_offset(NULL), DAXM_INVALID),
		/* lookups that find nothing */
		ROW_P(daxm_region_get_by_id(ctx, -1), NULL),
		ROW_P(daxm_region_get_by_id(ctx, 1), NULL),
		ROW_P(daxm_region_get_by_id(ctx, INT_MIN), NULL),
		ROW_P(daxm_region_get_by_id(ctx, INT_MAX), NULL),
		ROW_P(daxm_dev_get_by_name(ctx, ""), NULL),
		ROW_P(daxm_dev_get_by_name(ctx, "dax0"), NULL),
		ROW_P(daxm_dev_get_by_name(ctx, "dax0."), NULL),
		ROW_P(daxm_dev_get_by_name(ctx, "dax0.9"), NULL),
		ROW_P(daxm_dev_get_by_name(ctx, "dax1.0"), NULL),
		ROW_P(daxm_dev_get_by_name(ctx, "dax0.0x"), NULL),
		ROW_P(daxm_dev_get_by_name(ctx, "dax0.-1"), NULL),
		ROW_P(daxm_dev_get_by_name(ctx, "region0"), NULL),
	};
	CHECK_ROWS(rows);
	CHECK(dout == NULL);

	/* Void functions: a NULL object is a no-op. */
	CHECK_RETURNS(daxm_unref(NULL));
	CHECK_RETURNS(daxm_set_log_fn(NULL, dummy_log));
	CHECK_RETURNS(daxm_set_log_fn(NULL, NULL));
	CHECK_RETURNS(daxm_set_log_priority(NULL, 7));
	CHECK_RETURNS(daxm_set_userdata(NULL, &x));
	CHECK_RETURNS(daxm_region_spec_init(NULL));
	CHECK_RETURNS(daxm_region_unref(NULL));
	CHECK_RETURNS(daxm_dev_unref(NULL));
	CHECK_RETURNS(daxm_mapping_unref(NULL));
	CHECK(dummy_log_calls == 0);

	/* Optional out parameters. */
	CHECK_OK(daxm_region_new(ctx, &spec, NULL));
	CHECK(daxm_region_get_by_id(ctx, 1) != NULL);
	CHECK_OK(daxm_region_create_dev(r, NULL));
	CHECK(daxm_dev_get_by_name(ctx, "dax0.1") != NULL);

	/* Iteration macros over NULL run zero times. */
	{
		struct daxm_region *ri, *rn;
		struct daxm_dev *di, *dn;
		struct daxm_mapping *mi, *mn;
		int n = 0;
		daxm_region_foreach(NULL, ri) n++;
		daxm_region_foreach_safe(NULL, ri, rn) n++;
		daxm_dev_foreach(NULL, di) n++;
		daxm_dev_foreach_safe(NULL, di, dn) n++;
		daxm_mapping_foreach(NULL, mi) n++;
		daxm_mapping_foreach_safe(NULL, mi, mn) n++;
		CHECK_INT(n, 0);
	}

	/* Nothing above changed the model. */
	CHECK_U64(daxm_region_get_available_size(r), GiB);
	CHECK_INT(count_devs(r), 2);
	CHECK_U64(daxm_dev_get_size(d0), 0);
	daxm_unref(ctx);
}

/* ---- region specs ----------------------------------------------------- */

enum field { F_NONE, F_STRUCT_SIZE, F_ID, F_KIND, F_PROFILE, F_START, F_SIZE,
	     F_ALIGN, F_FLAGS, F_MAX_GROUP, F_MAX_EXTENTS };

static void set_field(struct daxm_region_spec *s, enum field f, uint64_t v)
{
	switch (f) {
	case F_NONE: break;
	case F_STRUCT_SIZE: s->struct_size = (uint32_t)v; break;
	case F_ID: s->id = (int32_t)v; break;
	case F_KIND: s->kind = (uint32_t)v; break;
	case F_PROFILE: s->profile = (uint32_t)v; break;
	case F_START: s->start = v; break;
	case F_SIZE: s->size = v; break;
	case F_ALIGN: s->align = v; break;
	case F_FLAGS: s->flags = (uint32_t)v; break;
	case F_MAX_GROUP: s->max_extents_per_group = (uint32_t)v; break;
	case F_MAX_EXTENTS: s->max_extents = (uint32_t)v; break;
	}
}

/* Base of the bad specs: 1 GiB at 8 GiB, clear of region0 at S0. */
#define SPEC_BASE 0x200000000ull

void test_region_spec(void)
{
	struct daxm_region_spec spec;
	struct daxm_ctx *ctx = new_ctx();
	struct daxm_region *r, *out;

	/* Defaults: every field set, whatever was there before. */
	memset(&spec, 0xa5, sizeof(spec));
	daxm_region_spec_init(&spec);
	CHECK_INT(spec.struct_size, sizeof(spec));
	CHECK_INT(spec.id, -1);
	CHECK_INT(spec.kind, DAXM_REGION_DYNAMIC);
	CHECK_INT(spec.profile, DAXM_PROFILE_6_12);
	CHECK_U64(spec.start, 0);
	CHECK_U64(spec.size, 0);
	CHECK_U64(spec.align, 2 * MiB);
	CHECK_INT(spec.target_node, -1);
	CHECK_INT(spec.numa_node, -1);
	CHECK_INT(spec.dev_id, 0);
	CHECK_INT(spec.flags, 0);
	CHECK_INT(spec.max_extents_per_group, 100);
	CHECK_INT(spec.max_extents, 1048576);

	/* The defaults alone are refused: start and size must be set. */
	CHECK_ERR(daxm_region_new(ctx, &spec, NULL), EINVAL);

	r = add_region(ctx, -1, DAXM_REGION_DYNAMIC, S0, GiB, 0, DAXM_PROFILE_6_12);
	CHECK_INT(daxm_region_get_id(r), 0);

	static const struct spec_case {
		int line;
		enum field f1;
		uint64_t v1;
		enum field f2;
		uint64_t v2;
		int want;
	} bad[] = {
		{ __LINE__, F_STRUCT_SIZE, 0, F_NONE, 0, -EINVAL },
		{ __LINE__, F_STRUCT_SIZE, 4, F_NONE, 0, -EINVAL },
		{ __LINE__, F_STRUCT_SIZE, sizeof(struct daxm_region_spec) - 4, F_NONE, 0, -EINVAL },
		{ __LINE__, F_KIND, 0, F_NONE, 0, -EINVAL },
		{ __LINE__, F_KIND, 4, F_NONE, 0, -EINVAL },
		{ __LINE__, F_KIND, UINT32_MAX, F_NONE, 0, -EINVAL },
		{ __LINE__, F_PROFILE, 0, F_NONE, 0, -EINVAL },
		{ __LINE__, F_PROFILE, 3, F_NONE, 0, -EINVAL },
		{ __LINE__, F_PROFILE, UINT32_MAX, F_NONE, 0, -EINVAL },
		{ __LINE__, F_FLAGS, 0x10, F_NONE, 0, -EINVAL },
		{ __LINE__, F_FLAGS, 0x80000000u, F_NONE, 0, -EINVAL },
		{ __LINE__, F_SIZE, 0, F_NONE, 0, -EINVAL },
		{ __LINE__, F_KIND, DAXM_REGION_SPARSE, F_MAX_GROUP, 0, -EINVAL },
		{ __LINE__, F_KIND, DAXM_REGION_SPARSE, F_MAX_EXTENTS, 0, -EINVAL },
		{ __LINE__, F_SIZE, 3 * MiB, F_NONE, 0, -EINVAL },
		{ __LINE__, F_SIZE, GiB + 4 * KiB, F_NONE, 0, -EINVAL },
		{ __LINE__, F_SIZE, UINT64_MAX, F_NONE, 0, -EINVAL },
		{ __LINE__, F_START, SPEC_BASE + 4 * KiB, F_NONE, 0, -EINVAL },
		{ __LINE__, F_START, SPEC_BASE + 1 * MiB, F_NONE, 0, -EINVAL },
		{ __LINE__, F_ALIGN, 0, F_NONE, 0, -EINVAL },
		{ __LINE__, F_ALIGN, 8 * KiB, F_NONE, 0, -EINVAL },
		{ __LINE__, F_ALIGN, 3 * MiB, F_NONE, 0, -EINVAL },
		{ __LINE__, F_ALIGN, 4 * MiB, F_NONE, 0, -EINVAL },
		{ __LINE__, F_ALIGN, 2 * GiB, F_NONE, 0, -EINVAL },
		{ __LINE__, F_ALIGN, UINT64_MAX, F_NONE, 0, -EINVAL },
		{ __LINE__, F_ALIGN, (1ull << 32) | 4096, F_NONE, 0, -EINVAL },
		{ __LINE__, F_ALIGN, GiB, F_START, SPEC_BASE + 2 * MiB, -EINVAL },
		/* start + size - 1 passes 2^64 - 1 */
		{ __LINE__, F_START, 0ull - GiB, F_SIZE, 2 * GiB, -EINVAL },
		{ __LINE__, F_START, 0ull - 2 * MiB, F_SIZE, 4 * MiB, -EINVAL },
		{ __LINE__, F_START, 4 * MiB, F_SIZE, 0ull - 2 * MiB, -EINVAL },
		/* IDLE is for dynamic regions only */
		{ __LINE__, F_KIND, DAXM_REGION_STATIC, F_FLAGS, DAXM_REGION_IDLE, -EINVAL },
		/* id in use */
		{ __LINE__, F_ID, 0, F_NONE, 0, -EEXIST },
		/* overlaps region0 [S0, S0 + 1 GiB) */
		{ __LINE__, F_START, S0, F_NONE, 0, -EBUSY },
		{ __LINE__, F_START, S0 + 512 * MiB, F_NONE, 0, -EBUSY },
		{ __LINE__, F_START, S0 - 512 * MiB, F_NONE, 0, -EBUSY },
		{ __LINE__, F_START, S0 + GiB - 2 * MiB, F_SIZE, 4 * MiB, -EBUSY },
		{ __LINE__, F_START, S0 - 2 * MiB, F_SIZE, 4 * MiB, -EBUSY },
		{ __LINE__, F_START, S0 - 2 * MiB, F_SIZE, 2 * GiB, -EBUSY },
		{ __LINE__, F_START, S0 + 2 * MiB, F_SIZE, 2 * MiB, -EBUSY },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char expr[160];
		daxm_region_spec_init(&spec);
		spec.start = SPEC_BASE;
		spec.size = GiB;
		set_field(&spec, bad[i].f1, bad[i].v1);
		set_field(&spec, bad[i].f2, bad[i].v2);
		out = NULL;
		snprintf(expr, sizeof(expr),
			 "daxm_region_new(spec {start %#" PRIx64 ", size %#" PRIx64 ", align %#" PRIx64
			 ", kind %u, profile %u, flags %#x, id %d, struct_size %u})",
			 spec.start, spec.size, spec.align, spec.kind, spec.profile,
			 spec.flags, spec.id, spec.struct_size);
		t_check_i64(__FILE__, bad[i].line, expr, daxm_region_new(ctx, &spec, &out),
			    bad[i].want);
		t_result(out == NULL, __FILE__, bad[i].line, "no region returned on failure", NULL);
	}
	/* Nothing was added by the refused specs. */
	{
		struct daxm_region *it;
		int n = 0;
		daxm_region_foreach(ctx, it) n++;
		CHECK_INT(n, 1);
	}

	/* Accepted edge cases: adjacency, the top of the address space,
	 * explicit and default ids, 4 KiB and 1 GiB align. */
	r = add_region(ctx, -1, DAXM_REGION_DYNAMIC, S0 + GiB, GiB, 0, DAXM_PROFILE_6_12);
	CHECK_INT(daxm_region_get_id(r), 1);
	r = add_region(ctx, -1, DAXM_REGION_STATIC, S0 - GiB, GiB, 0, DAXM_PROFILE_6_1);
	CHECK_INT(daxm_region_get_id(r), 2);
	r = add_region(ctx, 7, DAXM_REGION_DYNAMIC, 0ull - GiB, GiB, DAXM_REGION_IDLE,
		       DAXM_PROFILE_6_12);
	CHECK_INT(daxm_region_get_id(r), 7);
	CHECK_U64(daxm_region_get_start(r), 0ull - GiB);
	CHECK_U64(daxm_region_get_size(r), GiB);
	CHECK_U64(daxm_region_get_available_size(r), GiB);
	daxm_region_spec_init(&spec);
	spec.start = 0x310000000ull + 4 * KiB;
	spec.size = 3 * MiB + 4 * KiB;
	spec.align = 4 * KiB;
	CHECK_OK(daxm_region_new(ctx, &spec, &r));
	CHECK_INT(daxm_region_get_id(r), 3);
	CHECK_U64(daxm_region_get_align(r), 4 * KiB);
	CHECK_U64(daxm_region_get_size(r), 3 * MiB + 4 * KiB);

	daxm_region_spec_init(&spec);
	spec.id = 8;
	spec.start = 0x400000000ull;
	spec.size = 2 * GiB;
	spec.align = GiB;
	CHECK_OK(daxm_region_new(ctx, &spec, &r));
	CHECK_U64(daxm_region_get_align(r), GiB);
	CHECK_U64(daxm_dev_get_align(daxm_dev_get_first(r)), GiB);

	CHECK_ERR(daxm_region_new(ctx, &spec, NULL), EEXIST); /* same id, same place */
	spec.id = -1;
	CHECK_ERR(daxm_region_new(ctx, &spec, NULL), EBUSY); /* same place */

	/* Id order, whatever the creation order. */
	{
		static const int want[] = { 0, 1, 2, 3, 7, 8 };
		struct daxm_region *it;
		size_t n = 0;
		daxm_region_foreach(ctx, it) {
			if (n < sizeof(want) / sizeof(want[0]))
				CHECK_INT(daxm_region_get_id(it), want[n]);
			CHECK(daxm_region_get_by_id(ctx, daxm_region_get_id(it)) == it);
			n++;
		}
		CHECK_INT(n, sizeof(want) / sizeof(want[0]));
	}
	daxm_unref(ctx);
}

/* ---- what each region kind starts with -------------------------------- */

void test_region_kinds(void)
{
	struct daxm_ctx *ctx = new_ctx();
	struct daxm_region_spec spec;
	struct daxm_region *full, *unbound, *idle, *stat, *stat_unbound;
	struct daxm_dev *d, *out = NULL;

	/* Dynamic, full, bound (hmem/CXL RAM after boot). */
	daxm_region_spec_init(&spec);
	spec.id = 0;
	spec.start = S0;
	spec.size = GiB;
	spec.target_node = 1;
	spec.numa_node = 0;
	CHECK_OK(daxm_region_new(ctx, &spec, &full));
	d = daxm_dev_get_first(full);
	CHECK_INT(daxm_region_get_kind(full), DAXM_REGION_DYNAMIC);
	CHECK_INT(daxm_region_get_profile(full), DAXM_PROFILE_6_12);
	CHECK_INT(daxm_region_get_target_node(full), 1);
	CHECK_PTR(daxm_region_get_ctx(full), ctx);
	CHECK_U64(daxm_region_get_available_size(full), 0);
	CHECK_STR(daxm_dev_get_devname(d), "dax0.0");
	CHECK_INT(daxm_dev_get_id(d), 0);
	CHECK_PTR(daxm_dev_get_region(d), full);
	CHECK_PTR(daxm_dev_get_ctx(d), ctx);
	CHECK_PTR(daxm_dev_get_by_name(ctx, "dax0.0"), d);
	CHECK_U64(daxm_dev_get_size(d), GiB);
	CHECK_U64(daxm_dev_get_align(d), 2 * MiB);
	CHECK_U64(daxm_dev_get_resource(d), S0);
	CHECK_INT(daxm_dev_get_target_node(d), 1);
	CHECK_INT(daxm_dev_is_enabled(d), 1);
	EXPECT_RANGES(d, { S0, S0 + GiB - 1, 0 });
	CHECK_PTR(daxm_mapping_get_dev(daxm_mapping_get_first(d)), d);
	CHECK_PTR(daxm_dev_get_next(d), NULL);
	CHECK_ERR(daxm_region_create_dev(full, &out), ENOSPC);
	CHECK_PTR(out, NULL);
	CHECK_INT(count_devs(full), 1);
	CHECK_PTR(daxm_region_get_dev_seed(full), NULL);
	CHECK_PTR(daxm_region_get_dev_youngest(full), NULL);

	/* Dynamic, full, unbound; 6.1 profile. */
	unbound = add_region(ctx, 1, DAXM_REGION_DYNAMIC, S0 + GiB, GiB,
			     DAXM_REGION_UNBOUND, DAXM_PROFILE_6_1);
	d = daxm_dev_get_first(unbound);
	CHECK_INT(daxm_region_get_profile(unbound), DAXM_PROFILE_6_1);
	CHECK_INT(daxm_region_get_target_node(unbound), -1);
	CHECK_INT(daxm_dev_get_target_node(d), -1);
	CHECK_U64(daxm_dev_get_size(d), GiB);
	CHECK_INT(daxm_dev_is_enabled(d), 0);

	/* Dynamic, idle (hmem region_idle=1). */
	idle = add_region(ctx, 2, DAXM_REGION_DYNAMIC, S0 + 2 * GiB, GiB,
			  DAXM_REGION_IDLE, DAXM_PROFILE_6_12);
	d = daxm_dev_get_first(idle);
	CHECK_STR(daxm_dev_get_devname(d), "dax2.0");
	CHECK_U64(daxm_dev_get_size(d), 0);
	CHECK_INT(daxm_dev_get_nr_mappings(d), 0);
	CHECK_PTR(daxm_mapping_get_first(d), NULL);
	CHECK_U64(daxm_dev_get_resource(d), S0 + 2 * GiB);
	CHECK_INT(daxm_dev_is_enabled(d), 0);
	CHECK_U64(daxm_region_get_available_size(idle), GiB);
	CHECK_PTR(daxm_region_get_dev_seed(idle), NULL);

	/* Static (pmem devdax namespace), device id from dev_id. */
	daxm_region_spec_init(&spec);
	spec.id = 3;
	spec.kind = DAXM_REGION_STATIC;
	spec.start = S0 + 3 * GiB;
	spec.size = 256 * MiB;
	spec.dev_id = 5;
	CHECK_OK(daxm_region_new(ctx, &spec, &stat));
	d = daxm_dev_get_first(stat);
	CHECK_INT(daxm_region_get_kind(stat), DAXM_REGION_STATIC);
	CHECK_STR(daxm_dev_get_devname(d), "dax3.5");
	CHECK_INT(daxm_dev_get_id(d), 5);
	CHECK_PTR(daxm_dev_get_by_name(ctx, "dax3.5"), d);
	CHECK_PTR(daxm_dev_get_by_name(ctx, "dax3.0"), NULL);
	CHECK_U64(daxm_dev_get_size(d), 256 * MiB);
	CHECK_INT(daxm_dev_is_enabled(d), 1);
	CHECK_U64(daxm_region_get_available_size(stat), 0);
	EXPECT_RANGES(d, { S0 + 3 * GiB, S0 + 3 * GiB + 256 * MiB - 1, 0 });
	{
		const struct row rows[] = {
			ROW_ERR(daxm_region_create_dev(stat, NULL), EOPNOTSUPP),
			ROW_ERR(daxm_region_destroy_dev(stat, d), EOPNOTSUPP),
			ROW_ERR(daxm_dev_set_size(d, 256 * MiB), EACCES),
			ROW_ERR(daxm_dev_set_size(d, 0), EACCES),
			ROW_ERR(daxm_dev_set_align(d, 2 * MiB), EACCES),
			ROW_ERR(daxm_dev_set_mapping(d, S0 + 4 * GiB, S0 + 4 * GiB + 2 * MiB - 1), EACCES),
			ROW_P(daxm_region_get_dev_seed(stat), NULL),
			ROW_P(daxm_region_get_dev_youngest(stat), NULL),
		};
		CHECK_ROWS(rows);
	}
	CHECK_OK(daxm_dev_disable(d));
	CHECK_ERR(daxm_dev_set_size(d, 0), EACCES); /* read-only even unbound */
	CHECK_OK(daxm_dev_enable(d));

	stat_unbound = add_region(ctx, 4, DAXM_REGION_STATIC, S0 + 4 * GiB, 64 * MiB,
				  DAXM_REGION_UNBOUND, DAXM_PROFILE_6_12);
	d = daxm_dev_get_first(stat_unbound);
	CHECK_STR(daxm_dev_get_devname(d), "dax4.0");
	CHECK_INT(daxm_dev_is_enabled(d), 0);
	CHECK_OK(daxm_dev_enable(d));
	CHECK_INT(daxm_dev_is_enabled(d), 1);
	daxm_unref(ctx);
}

/* ---- handles kept alive past destroy and shrink ------------------------- */

void test_deleted_handles(void)
{
	struct daxm_ctx *ctx = new_ctx();
	struct daxm_region *r = add_region(ctx, 0, DAXM_REGION_DYNAMIC, S0, GiB,
					   DAXM_REGION_IDLE, DAXM_PROFILE_6_12);
	struct daxm_dev *dead = new_dev(r, 0), *d1, *d2, *out = NULL;
	struct daxm_mapping *m0, *m1, *m1b;

	/* A device deleted by destroy. */
	CHECK_PTR(daxm_dev_ref(dead), dead);
	CHECK_OK(daxm_region_destroy_dev(r, dead));
	{
		const struct row rows[] = {
			ROW_ERR(daxm_dev_get_id(dead), ENODEV),
			ROW_U(daxm_dev_get_size(dead), DAXM_INVALID),
			ROW_ERR(daxm_dev_set_size(dead, 0), ENODEV),
			ROW_ERR(daxm_dev_set_size(dead, 2 * MiB), ENODEV),
			ROW_U(daxm_dev_get_align(dead), DAXM_INVALID),
			ROW_ERR(daxm_dev_set_align(dead, 2 * MiB), ENODEV),
			ROW_ERR(daxm_dev_set_mapping(dead, S0, S0 + 2 * MiB - 1), ENODEV),
			ROW_U(daxm_dev_get_resource(dead), DAXM_INVALID),
			ROW_ERR(daxm_dev_get_target_node(dead), ENODEV),
			ROW_ERR(daxm_dev_get_nr_mappings(dead), ENODEV),
			ROW_ERR(daxm_dev_is_enabled(dead), ENODEV),
			ROW_ERR(daxm_dev_enable(dead), ENODEV),
			ROW_ERR(daxm_dev_disable(dead), ENODEV),
			ROW_ERR(daxm_region_destroy_dev(r, dead), ENODEV),
			ROW_P(daxm_dev_get_region(dead), NULL),
			ROW_P(daxm_dev_get_ctx(dead), NULL),
			ROW_P(daxm_dev_get_next(dead), NULL),
			ROW_P(daxm_mapping_get_first(dead), NULL),
			ROW_P(daxm_dev_get_by_name(ctx, "dax0.1"), NULL),
		};
		CHECK_ROWS(rows);
	}
	CHECK_STR(daxm_dev_get_devname(dead), "dax0.1"); /* keeps its name */
	CHECK_INT(count_devs(r), 1);
	CHECK_U64(daxm_region_get_available_size(r), GiB);

	/* The id is free again; the new dax0.1 is a new object. */
	CHECK_OK(daxm_region_create_dev(r, &out));
	d1 = out;
	CHECK(d1 != NULL && d1 != dead);
	CHECK_STR(daxm_dev_get_devname(d1), "dax0.1");
	CHECK_PTR(daxm_dev_get_by_name(ctx, "dax0.1"), d1);
	CHECK_ERR(daxm_dev_get_id(dead), ENODEV);
	CHECK_PTR(daxm_dev_ref(dead), dead); /* a second reference on a zombie */
	daxm_dev_unref(dead);
	daxm_dev_unref(dead); /* the last one frees it */
	CHECK_INT(daxm_dev_get_id(d1), 1);

	/* Mappings deleted by a shrink: d1 = [0,2M) + [4M,6M), d2 = [2M,4M). */
	CHECK_OK(daxm_dev_set_size(d1, 2 * MiB));
	d2 = new_dev(r, 2 * MiB);
	CHECK_OK(daxm_dev_set_size(d1, 4 * MiB));
	EXPECT_RANGES(d1, { S0, S0 + 2 * MiB - 1, 0 },
		      { S0 + 4 * MiB, S0 + 6 * MiB - 1, 2 * MiB / PAGE });
	m0 = daxm_mapping_ref(daxm_mapping_get_first(d1));
	m1 = daxm_mapping_ref(daxm_mapping_get_next(m0));
	CHECK(m0 != NULL && m1 != NULL);
	CHECK_INT(daxm_mapping_get_id(m1), 1);
	CHECK_PTR(daxm_mapping_get_dev(m1), d1);

	CHECK_OK(daxm_dev_set_size(d1, 2 * MiB)); /* drops range 1 */
	{
		const struct row rows[] = {
			ROW_ERR(daxm_mapping_get_id(m1), ENODEV),
			ROW_U(daxm_mapping_get_start(m1), DAXM_INVALID),
			ROW_U(daxm_mapping_get_end(m1), DAXM_INVALID),
			ROW_U(daxm_mapping_get_size(m1), DAXM_INVALID),
			ROW_U(daxm_mapping_get_offset(m1), DAXM_INVALID),
			ROW_P(daxm_mapping_get_dev(m1), NULL),
			ROW_P(daxm_mapping_get_next(m1), NULL),
			ROW_P(daxm_mapping_ref(m1), m1),
			/* mapping0 is untouched */
			ROW_I(daxm_mapping_get_id(m0), 0),
			ROW_U(daxm_mapping_get_end(m0), S0 + 2 * MiB - 1),
			ROW_P(daxm_mapping_get_next(m0), NULL),
			ROW_P(daxm_mapping_get_dev(m0), d1),
		};
		CHECK_ROWS(rows);
	}
	daxm_mapping_unref(m1); /* the extra reference taken by the row */

	/* Grow again: a new mapping1 object; the zombie stays a zombie. */
	CHECK_OK(daxm_dev_set_size(d1, 4 * MiB));
	m1b = daxm_mapping_get_next(m0);
	CHECK(m1b != NULL && m1b != m1);
	CHECK_INT(daxm_mapping_get_id(m1b), 1);
	CHECK_U64(daxm_mapping_get_offset(m1), DAXM_INVALID);
	daxm_mapping_unref(m1);

	/* Extension in place and a partial trim keep the mapping alive. */
	CHECK_PTR(daxm_mapping_ref(m1b), m1b);
	CHECK_OK(daxm_dev_set_size(d1, 8 * MiB));
	CHECK_U64(daxm_mapping_get_end(m1b), S0 + 10 * MiB - 1);
	CHECK_U64(daxm_mapping_get_size(m1b), 6 * MiB);
	CHECK_OK(daxm_dev_set_size(d1, 4 * MiB));
	CHECK_INT(daxm_mapping_get_id(m1b), 1);
	CHECK_U64(daxm_mapping_get_start(m1b), S0 + 4 * MiB);
	CHECK_U64(daxm_mapping_get_end(m1b), S0 + 6 * MiB - 1);
	CHECK_U64(daxm_mapping_get_size(m1b), 2 * MiB);
	CHECK_U64(daxm_mapping_get_offset(m1b), 2 * MiB / PAGE);

	/* Shrink to 0 deletes both; then the device itself goes. */
	CHECK_OK(daxm_dev_set_size(d1, 0));
	CHECK_U64(daxm_mapping_get_start(m0), DAXM_INVALID);
	CHECK_ERR(daxm_mapping_get_id(m1b), ENODEV);
	CHECK_PTR(daxm_dev_ref(d1), d1);
	CHECK_OK(daxm_region_destroy_dev(r, d1));
	CHECK_ERR(daxm_dev_get_nr_mappings(d1), ENODEV);
	daxm_mapping_unref(m1b);
	daxm_dev_unref(d1);
	daxm_mapping_unref(m0); /* outlives its device */

	CHECK_U64(daxm_dev_get_size(d2), 2 * MiB);
	CHECK_U64(daxm_region_get_available_size(r), GiB - 2 * MiB);
	daxm_unref(ctx);
}

/* ---- handles kept alive past daxm_unref() of the context ---------------- */

void test_ctx_unref_handles(void)
{
	struct daxm_ctx *ctx = new_ctx();
	struct daxm_region *r = add_region(ctx, 0, DAXM_REGION_DYNAMIC, S0, GiB,
					   DAXM_REGION_IDLE, DAXM_PROFILE_6_12);
	struct daxm_region *s = add_region(ctx, 1, DAXM_REGION_STATIC, S0 + GiB, GiB, 0,
					   DAXM_PROFILE_6_12);
	struct daxm_dev *d = new_dev(r, 4 * MiB), *sd = daxm_dev_get_first(s);
	struct daxm_dev *out = NULL;
	struct daxm_mapping *m = daxm_mapping_get_first(d);

	CHECK_PTR(daxm_region_ref(r), r);
	CHECK_PTR(daxm_region_ref(s), s);
	CHECK_PTR(daxm_dev_ref(d), d);
	CHECK_PTR(daxm_dev_ref(sd), sd);
	CHECK_PTR(daxm_mapping_ref(m), m);

	/* An extra context reference keeps everything alive. */
	CHECK_PTR(daxm_ref(ctx), ctx);
	daxm_unref(ctx);
	CHECK_PTR(daxm_region_get_ctx(r), ctx);
	CHECK_U64(daxm_dev_get_size(d), 4 * MiB);

	daxm_unref(ctx); /* the last one: the model is gone */
	{
		const struct row rows[] = {
			ROW_P(daxm_region_get_ctx(r), NULL),
			ROW_ERR(daxm_region_get_id(r), ENODEV),
			ROW_ERR(daxm_region_get_kind(r), ENODEV),
			ROW_ERR(daxm_region_get_profile(r), ENODEV),
			ROW_U(daxm_region_get_start(r), DAXM_INVALID),
			ROW_U(daxm_region_get_size(r), DAXM_INVALID),
			ROW_U(daxm_region_get_align(r), DAXM_INVALID),
			ROW_U(daxm_region_get_available_size(r), DAXM_INVALID),
			ROW_ERR(daxm_region_get_target_node(r), ENODEV),
			ROW_P(daxm_region_get_next(r), NULL),
			ROW_ERR(daxm_region_create_dev(r, &out), ENODEV),
			ROW_ERR(daxm_region_create_dev(s, NULL), ENODEV),
			ROW_P(daxm_region_get_dev_seed(r), NULL),
			ROW_P(daxm_region_get_dev_youngest(r), NULL),
			ROW_ERR(daxm_region_destroy_dev(r, d), ENODEV),
			ROW_P(daxm_dev_get_first(r), NULL),
			ROW_P(daxm_dev_get_first(s), NULL),
			ROW_ERR(daxm_dev_get_id(d), ENODEV),
			ROW_U(daxm_dev_get_size(d), DAXM_INVALID),
			ROW_ERR(daxm_dev_set_size(d, 0), ENODEV),
			ROW_ERR(daxm_dev_set_align(d, 4096), ENODEV),
			ROW_ERR(daxm_dev_set_mapping(d, S0 + 8 * MiB, S0 + 10 * MiB - 1), ENODEV),
			ROW_ERR(daxm_dev_is_enabled(d), ENODEV),
			ROW_ERR(daxm_dev_enable(d), ENODEV),
			ROW_ERR(daxm_dev_disable(sd), ENODEV),
			ROW_ERR(daxm_dev_is_enabled(sd), ENODEV),
			ROW_ERR(daxm_dev_get_nr_mappings(d), ENODEV),
			ROW_ERR(daxm_dev_get_target_node(d), ENODEV),
			ROW_U(daxm_dev_get_resource(d), DAXM_INVALID),
			ROW_U(daxm_dev_get_align(sd), DAXM_INVALID),
			ROW_P(daxm_dev_get_region(d), NULL),
			ROW_P(daxm_dev_get_ctx(d), NULL),
			ROW_P(daxm_dev_get_next(d), NULL),
			ROW_P(daxm_mapping_get_first(d), NULL),
			ROW_ERR(daxm_mapping_get_id(m), ENODEV),
			ROW_U(daxm_mapping_get_start(m), DAXM_INVALID),
			ROW_U(daxm_mapping_get_end(m), DAXM_INVALID),
			ROW_U(daxm_mapping_get_size(m), DAXM_INVALID),
			ROW_U(daxm_mapping_get_offset(m), DAXM_INVALID),
			ROW_P(daxm_mapping_get_dev(m), NULL),
			ROW_P(daxm_mapping_get_next(m), NULL),
		};
		CHECK_ROWS(rows);
	}
	CHECK_PTR(out, NULL);
	CHECK(daxm_region_get_target_node(r) < -1);
	CHECK_STR(daxm_dev_get_devname(d), "dax0.1");
	CHECK_STR(daxm_dev_get_devname(sd), "dax1.0");

	/* Release in an order unlike creation. */
	daxm_region_unref(r);
	daxm_dev_unref(sd);
	daxm_mapping_unref(m);
	daxm_region_unref(s);
	daxm_dev_unref(d);
}
