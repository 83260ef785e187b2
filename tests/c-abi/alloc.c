/*
 * alloc.c - the kernel's allocator through the C API: sizes, mappings,
 * align, the daxctl-create.sh layouts, seed/youngest, bind/unbind and the
 * iteration macros (kernel-dax.md §2-§3, §6; ndctl.md §3.2).
 */
#include "ctest.h"

/* An idle dynamic 1 GiB region at S0 with id 0 in a fresh context. */
static struct daxm_region *idle_region(struct daxm_ctx **ctx, uint32_t profile)
{
	*ctx = new_ctx();
	return add_region(*ctx, 0, DAXM_REGION_DYNAMIC, S0, GiB, DAXM_REGION_IDLE, profile);
}

static uint64_t sum_dev_sizes(struct daxm_region *r)
{
	struct daxm_dev *d;
	uint64_t sum = 0;

	daxm_dev_foreach(r, d)
		sum += daxm_dev_get_size(d);
	return sum;
}

/* ---- size ------------------------------------------------------------- */

void test_sizes(void)
{
	struct daxm_ctx *ctx;
	struct daxm_region *r = idle_region(&ctx, DAXM_PROFILE_6_12);
	struct daxm_dev *d0 = daxm_dev_get_first(r), *d = new_dev(r, 0);

	/* Refused sizes change nothing. */
	{
		const struct row rows[] = {
			ROW_ERR(daxm_dev_set_size(d, 1), EINVAL),
			ROW_ERR(daxm_dev_set_size(d, 4 * KiB), EINVAL),
			ROW_ERR(daxm_dev_set_size(d, 1 * MiB), EINVAL),
			ROW_ERR(daxm_dev_set_size(d, 3 * MiB), EINVAL),
			ROW_ERR(daxm_dev_set_size(d, 2 * MiB + 4 * KiB), EINVAL),
			ROW_ERR(daxm_dev_set_size(d, UINT64_MAX), EINVAL),
			ROW_ERR(daxm_dev_set_size(d, (1ull << 32) | 4096), EINVAL),
			ROW_ERR(daxm_dev_set_size(d, GiB + 2 * MiB), ENOSPC),
			ROW_ERR(daxm_dev_set_size(d, 2 * GiB), ENOSPC),
			ROW_ERR(daxm_dev_set_size(d, 1ull << 63), ENOSPC),
			ROW_ERR(daxm_dev_set_size(d, 0ull - 2 * MiB), ENOSPC),
		};
		CHECK_ROWS(rows);
	}
	CHECK_U64(daxm_dev_get_size(d), 0);
	CHECK_INT(daxm_dev_get_nr_mappings(d), 0);
	CHECK_U64(daxm_region_get_available_size(r), GiB);

	CHECK_OK(daxm_dev_set_size(d, 0)); /* the current size: no change */
	CHECK_OK(daxm_dev_set_size(d, GiB)); /* exact fit */
	EXPECT_RANGES(d, { S0, S0 + GiB - 1, 0 });
	CHECK_U64(daxm_region_get_available_size(r), 0);
	CHECK_OK(daxm_dev_set_size(d, GiB));
	CHECK_ERR(daxm_dev_set_size(d, GiB + 2 * MiB), ENOSPC);
	CHECK_ERR(daxm_dev_set_size(d, 0ull - 2 * MiB), ENOSPC);
	CHECK_ERR(daxm_dev_set_size(d0, 2 * MiB), ENOSPC);
	CHECK_ERR(daxm_region_create_dev(r, NULL), ENOSPC);
	CHECK_INT(count_devs(r), 2);

	CHECK_OK(daxm_dev_set_size(d, 512 * MiB)); /* trims the range */
	EXPECT_RANGES(d, { S0, S0 + 512 * MiB - 1, 0 });
	CHECK_U64(daxm_region_get_available_size(r), 512 * MiB);
	CHECK_OK(daxm_dev_set_size(d, 0));
	CHECK_INT(daxm_dev_get_nr_mappings(d), 0);
	CHECK_U64(daxm_dev_get_resource(d), S0); /* region start without ranges */
	CHECK_U64(daxm_region_get_available_size(r), GiB);
	daxm_unref(ctx);

	/* A 4 KiB-align region whose size is not a multiple of 2 MiB: device
	 * sizes stay multiples of 2 MiB (memremap_compat_align). */
	{
		struct daxm_region_spec spec;
		struct daxm_region *r4k;
		struct daxm_dev *e;

		ctx = new_ctx();
		daxm_region_spec_init(&spec);
		spec.start = S0;
		spec.size = 3 * MiB;
		spec.align = 4 * KiB;
		spec.flags = DAXM_REGION_IDLE;
		CHECK_OK(daxm_region_new(ctx, &spec, &r4k));
		e = daxm_dev_get_first(r4k);
		CHECK_U64(daxm_dev_get_align(e), 4 * KiB);
		CHECK_ERR(daxm_dev_set_size(e, 4 * KiB), EINVAL);
		CHECK_ERR(daxm_dev_set_size(e, 3 * MiB), EINVAL);
		CHECK_ERR(daxm_dev_set_size(e, 4 * MiB), ENOSPC);
		CHECK_OK(daxm_dev_set_size(e, 2 * MiB));
		CHECK_U64(daxm_region_get_available_size(r4k), 1 * MiB);
		CHECK_ERR(daxm_dev_set_size(e, 4 * MiB), ENOSPC);
		daxm_unref(ctx);
	}

	/* A region covering almost all of the 64-bit space: sizes and ends
	 * near 2^64 must not overflow (no input may trap). */
	{
		const uint64_t start = 2 * MiB, size = 0ull - 2 * MiB;
		struct daxm_region *big;
		struct daxm_dev *b0, *b1;
		char want[32];

		ctx = new_ctx();
		big = add_region(ctx, 0, DAXM_REGION_DYNAMIC, start, size, DAXM_REGION_IDLE,
				 DAXM_PROFILE_6_12);
		CHECK_U64(daxm_region_get_size(big), size);
		CHECK_U64(daxm_region_get_available_size(big), size);
		b0 = daxm_dev_get_first(big);
		CHECK_OK(daxm_dev_set_size(b0, size));
		CHECK_U64(daxm_dev_get_size(b0), size);
		EXPECT_RANGES(b0, { start, UINT64_MAX, 0 });
		CHECK_U64(daxm_region_get_available_size(big), 0);
		snprintf(want, sizeof(want), "%" PRIu64 "\n", size);
		CHECK_ATTR(ctx, "dax0.0/size", want);
		CHECK_ATTR(ctx, "dax0.0/mapping0/end", "0xffffffffffffffff\n");
		CHECK_OK(daxm_dev_set_size(b0, 0));

		/* The top 2 MiB by mapping, then the rest by size. */
		b1 = new_dev(big, 0);
		CHECK_OK(daxm_dev_set_mapping(b1, 0ull - 2 * MiB, UINT64_MAX));
		CHECK_OK(daxm_dev_set_size(b0, size - 2 * MiB));
		EXPECT_RANGES(b0, { start, 0ull - 2 * MiB - 1, 0 });
		CHECK_U64(daxm_region_get_available_size(big), 0);
		CHECK_ERR(daxm_dev_set_size(b1, 4 * MiB), ENOSPC);
		CHECK_OK(daxm_dev_set_size(b0, 2 * MiB));
		CHECK_OK(daxm_dev_set_size(b1, 0ull - 4 * MiB)); /* grows below itself */
		EXPECT_RANGES(b1, { 0ull - 2 * MiB, UINT64_MAX, 0 },
			      { start + 2 * MiB, 0ull - 2 * MiB - 1, 2 * MiB / PAGE });
		CHECK_U64(sum_dev_sizes(big) + daxm_region_get_available_size(big), size);
		daxm_unref(ctx);
	}
}

/* ---- mapping ------------------------------------------------------------- */

void test_mappings(void)
{
	struct daxm_ctx *ctx;
	struct daxm_region *r = idle_region(&ctx, DAXM_PROFILE_6_12);
	struct daxm_region *r61 = add_region(ctx, 1, DAXM_REGION_DYNAMIC, S0 + GiB, GiB,
					     DAXM_REGION_IDLE, DAXM_PROFILE_6_1);
	struct daxm_dev *d = new_dev(r, 0), *u = new_dev(r, 0);
	struct daxm_dev *d61 = new_dev(r61, 0);
	const uint64_t top = 0ull - GiB; /* a region at the top of the space */
	struct daxm_region *rt = add_region(ctx, 2, DAXM_REGION_DYNAMIC, top, GiB,
					    DAXM_REGION_IDLE, DAXM_PROFILE_6_12);
	struct daxm_dev *t = daxm_dev_get_first(rt);

	CHECK_OK(daxm_dev_set_mapping(d, S0 + 4 * MiB, S0 + 6 * MiB - 1));
	EXPECT_RANGES(d, { S0 + 4 * MiB, S0 + 6 * MiB - 1, 0 });

	/* Refused ranges change nothing (kernel-dax.md §2.2, §3.5). */
	{
		const struct row rows[] = {
			/* overlap */
			ROW_ERR(daxm_dev_set_mapping(d, S0 + 4 * MiB, S0 + 6 * MiB - 1), ENOMEM),
			ROW_ERR(daxm_dev_set_mapping(u, S0 + 4 * MiB, S0 + 6 * MiB - 1), ENOMEM),
			ROW_ERR(daxm_dev_set_mapping(u, S0 + 2 * MiB, S0 + 6 * MiB - 1), ENOMEM),
			ROW_ERR(daxm_dev_set_mapping(u, S0 + 5 * MiB, S0 + 7 * MiB - 1), ENOMEM),
			/* outside the region (even inside another one) */
			ROW_ERR(daxm_dev_set_mapping(u, S0 - 2 * MiB, S0 - 1), ENOMEM),
			ROW_ERR(daxm_dev_set_mapping(u, S0 - 2 * MiB, S0 + 2 * MiB - 1), ENOMEM),
			ROW_ERR(daxm_dev_set_mapping(u, S0 + GiB - 2 * MiB, S0 + GiB + 2 * MiB - 1), ENOMEM),
			ROW_ERR(daxm_dev_set_mapping(u, S0 + GiB, S0 + GiB + 2 * MiB - 1), ENOMEM),
			ROW_ERR(daxm_dev_set_mapping(u, 0, 2 * MiB - 1), ENOMEM),
			/* wrapped: end < start, length a multiple of 2 MiB */
			ROW_ERR(daxm_dev_set_mapping(u, S0 + 10 * MiB, S0 + 8 * MiB - 1), ENOMEM),
			ROW_ERR(daxm_dev_set_mapping(u, UINT64_MAX - 2 * MiB + 1, 0ull - 4 * MiB - 1), ENOMEM),
			ROW_ERR(daxm_dev_set_mapping(d, S0 + GiB - 2 * MiB, 2 * MiB - 1), ENOMEM),
			/* ends at 2^64 - 1, starts near 2^64 */
			ROW_ERR(daxm_dev_set_mapping(u, S0 + 8 * MiB, UINT64_MAX), ENOMEM),
			ROW_ERR(daxm_dev_set_mapping(u, 0ull - 2 * MiB, UINT64_MAX), ENOMEM),
			ROW_ERR(daxm_dev_set_mapping(u, 0ull - 4 * MiB, 0ull - 2 * MiB - 1), ENOMEM),
		};
		CHECK_ROWS(rows);
	}
	CHECK_INT(daxm_dev_get_nr_mappings(u), 0);
	CHECK_INT(daxm_dev_get_nr_mappings(d), 1);
	CHECK_U64(daxm_region_get_available_size(r), GiB - 2 * MiB);

	/*
	 * A length that wraps to 0 (END = START - 1, or [0, 2^64 - 1]) is the
	 * kernel's 0-size allocation (alloc_dev_dax_range): nothing to do on a
	 * device without ranges, -EBUSY ("0-size allocation must be first")
	 * on one with ranges. A wrapped length that is not a multiple of
	 * 2 MiB is the misaligned case below (6.12: success, no change).
	 */
	CHECK_OK(daxm_dev_set_mapping(u, S0 + 10 * MiB, S0 + 10 * MiB - 1));
	CHECK_OK(daxm_dev_set_mapping(u, 0, UINT64_MAX));
	CHECK_OK(daxm_dev_set_mapping(u, UINT64_MAX, 0)); /* length 2 */
	CHECK_INT(daxm_dev_get_nr_mappings(u), 0);
	CHECK_U64(daxm_dev_get_size(u), 0);
	CHECK_ERR(daxm_dev_set_mapping(d, S0 + 10 * MiB, S0 + 10 * MiB - 1), EBUSY);
	CHECK_ERR(daxm_dev_set_mapping(d, 0, UINT64_MAX), EBUSY);
	CHECK_ERR(daxm_dev_set_mapping(d61, UINT64_MAX, 0), ENXIO); /* 6.1 */
	CHECK_INT(daxm_dev_get_nr_mappings(d), 1);

	/* Adjacent ranges are not merged; page_offset = size so far. */
	CHECK_OK(daxm_dev_set_mapping(d, S0 + 6 * MiB, S0 + 8 * MiB - 1));
	CHECK_OK(daxm_dev_set_mapping(d, S0 + 2 * MiB, S0 + 4 * MiB - 1)); /* below: fine */
	EXPECT_RANGES(d, { S0 + 4 * MiB, S0 + 6 * MiB - 1, 0 },
		      { S0 + 6 * MiB, S0 + 8 * MiB - 1, 0x200 },
		      { S0 + 2 * MiB, S0 + 4 * MiB - 1, 0x400 });

	/* Length not a multiple of 2 MiB: 6.12 succeeds with no change... */
	CHECK_OK(daxm_dev_set_mapping(u, S0 + 10 * MiB, S0 + 10 * MiB + 4 * KiB - 1));
	CHECK_OK(daxm_dev_set_mapping(u, S0 + 10 * MiB, S0 + 13 * MiB - 1));
	CHECK_INT(daxm_dev_get_nr_mappings(u), 0);
	CHECK_U64(daxm_dev_get_size(u), 0);
	/* ...6.1 fails ENXIO. */
	CHECK_ERR(daxm_dev_set_mapping(d61, S0 + GiB, S0 + GiB + 4 * KiB - 1), ENXIO);
	CHECK_ERR(daxm_dev_set_mapping(d61, S0 + GiB, S0 + GiB + 3 * MiB - 1), ENXIO);
	CHECK_INT(daxm_dev_get_nr_mappings(d61), 0);
	CHECK_OK(daxm_dev_set_mapping(d61, S0 + GiB, S0 + GiB + 2 * MiB - 1));
	CHECK_INT(daxm_dev_get_nr_mappings(d61), 1);

	/* The granularity is max(align, 2 MiB): with align 1 GiB, 2 MiB is short. */
	CHECK_OK(daxm_dev_set_align(u, GiB));
	CHECK_OK(daxm_dev_set_mapping(u, S0 + 20 * MiB, S0 + 22 * MiB - 1));
	CHECK_INT(daxm_dev_get_nr_mappings(u), 0);
	CHECK_OK(daxm_dev_set_align(u, 2 * MiB));

	/* Allowed on a bound device; start not alignment-checked, but such a
	 * device cannot be bound. */
	CHECK_OK(daxm_dev_enable(d));
	CHECK_OK(daxm_dev_set_mapping(d, S0 + 30 * MiB, S0 + 32 * MiB - 1));
	CHECK_INT(daxm_dev_get_nr_mappings(d), 4);
	CHECK_OK(daxm_dev_set_mapping(u, S0 + 40 * MiB + 4 * KiB, S0 + 42 * MiB + 4 * KiB - 1));
	EXPECT_RANGES(u, { S0 + 40 * MiB + 4 * KiB, S0 + 42 * MiB + 4 * KiB - 1, 0 });
	CHECK_ERR(daxm_dev_enable(u), EINVAL);
	CHECK_INT(daxm_dev_is_enabled(u), 0);
	CHECK_U64(daxm_region_get_available_size(r), GiB - 10 * MiB);

	/* The top of the address space: end = 2^64 - 1 is a valid range end. */
	CHECK_OK(daxm_dev_set_mapping(t, 0ull - 2 * MiB, UINT64_MAX));
	EXPECT_RANGES(t, { 0ull - 2 * MiB, UINT64_MAX, 0 });
	CHECK_ATTR(ctx, "dax2.0/mapping0/end", "0xffffffffffffffff\n");
	CHECK_OK(daxm_dev_set_size(t, 4 * MiB)); /* the hole before the first range */
	EXPECT_RANGES(t, { 0ull - 2 * MiB, UINT64_MAX, 0 },
		      { top, top + 2 * MiB - 1, 0x200 });
	CHECK_OK(daxm_dev_set_size(t, GiB)); /* extends range 1 in place */
	EXPECT_RANGES(t, { 0ull - 2 * MiB, UINT64_MAX, 0 },
		      { top, 0ull - 2 * MiB - 1, 0x200 });
	CHECK_U64(daxm_region_get_available_size(rt), 0);
	CHECK_ERR(daxm_dev_set_size(t, GiB + 2 * MiB), ENOSPC);
	CHECK_OK(daxm_dev_set_size(t, 2 * MiB)); /* drops range 1 whole */
	EXPECT_RANGES(t, { 0ull - 2 * MiB, UINT64_MAX, 0 });
	daxm_unref(ctx);
}

/* ---- align --------------------------------------------------------------- */

void test_align(void)
{
	struct daxm_ctx *ctx;
	struct daxm_region *r = idle_region(&ctx, DAXM_PROFILE_6_12);
	struct daxm_dev *d = new_dev(r, 0), *e = new_dev(r, 0);

	{
		const struct row rows[] = {
			ROW_ERR(daxm_dev_set_align(d, 0), EINVAL),
			ROW_ERR(daxm_dev_set_align(d, 1), EINVAL),
			ROW_ERR(daxm_dev_set_align(d, 8 * KiB), EINVAL),
			ROW_ERR(daxm_dev_set_align(d, 12345), EINVAL),
			ROW_ERR(daxm_dev_set_align(d, 1 * MiB), EINVAL),
			ROW_ERR(daxm_dev_set_align(d, 3 * MiB), EINVAL),
			ROW_ERR(daxm_dev_set_align(d, 4 * MiB), EINVAL),
			ROW_ERR(daxm_dev_set_align(d, 2 * GiB), EINVAL),
			ROW_ERR(daxm_dev_set_align(d, UINT64_MAX), EINVAL),
			/* would be valid if truncated to 32 bits */
			ROW_ERR(daxm_dev_set_align(d, (1ull << 32) | 4096), EINVAL),
			ROW_ERR(daxm_dev_set_align(d, (1ull << 40) | (2 * MiB)), EINVAL),
		};
		CHECK_ROWS(rows);
	}
	CHECK_U64(daxm_dev_get_align(d), 2 * MiB);

	CHECK_OK(daxm_dev_set_align(d, 4 * KiB));
	CHECK_U64(daxm_dev_get_align(d), 4 * KiB);
	CHECK_ERR(daxm_dev_set_size(d, 4 * KiB), EINVAL); /* still 2 MiB granules */
	CHECK_ERR(daxm_dev_set_size(d, 4 * MiB + 4 * KiB), EINVAL);
	CHECK_OK(daxm_dev_set_size(d, 4 * MiB));
	CHECK_ERR(daxm_dev_set_align(d, GiB), EINVAL); /* the 4 MiB range */
	CHECK_U64(daxm_dev_get_align(d), 4 * KiB); /* old align kept */
	CHECK_OK(daxm_dev_set_align(d, 2 * MiB));

	/* 1 GiB on an empty device is fine; sizes then go by 1 GiB. */
	CHECK_OK(daxm_dev_set_align(e, GiB));
	CHECK_ERR(daxm_dev_set_size(e, 2 * MiB), EINVAL);
	CHECK_ERR(daxm_dev_set_size(e, GiB), ENOSPC);
	CHECK_OK(daxm_dev_set_align(e, 2 * MiB));

	/* Bound: valid values EBUSY, invalid ones still EINVAL. */
	CHECK_OK(daxm_dev_enable(d));
	CHECK_ERR(daxm_dev_set_align(d, 2 * MiB), EBUSY);
	CHECK_ERR(daxm_dev_set_align(d, 4 * KiB), EBUSY);
	CHECK_ERR(daxm_dev_set_align(d, 12345), EINVAL);
	CHECK_OK(daxm_dev_disable(d));
	daxm_unref(ctx);

	/* A 1 GiB device at a 1 GiB-aligned start (qemu-devdax.md). */
	ctx = new_ctx();
	r = add_region(ctx, 0, DAXM_REGION_DYNAMIC, 0x200000000ull, 2 * GiB,
		       DAXM_REGION_IDLE, DAXM_PROFILE_6_12);
	d = new_dev(r, 0);
	CHECK_OK(daxm_dev_set_align(d, GiB));
	CHECK_OK(daxm_dev_set_size(d, GiB));
	EXPECT_RANGES(d, { 0x200000000ull, 0x200000000ull + GiB - 1, 0 });
	CHECK_OK(daxm_dev_enable(d));
	CHECK_U64(daxm_dev_get_align(d), GiB);
	daxm_unref(ctx);
}

/* ---- daxctl-create.sh layouts (ndctl.md §3.2) ---------------------------- */

/* Shrink to 0 and destroy (CHECKed). */
static void drop_dev(struct daxm_region *r, struct daxm_dev *d)
{
	CHECK_OK(daxm_dev_set_size(d, 0));
	CHECK_OK(daxm_region_destroy_dev(r, d));
}

void test_scenarios(void)
{
	struct daxm_ctx *ctx;
	struct daxm_region *r = idle_region(&ctx, DAXM_PROFILE_6_12);
	struct daxm_dev *d0 = daxm_dev_get_first(r), *d1, *d2, *d3, *d4;
	uint64_t s = GiB / 4;

	/* test 2: a hole in the middle and space at the end. */
	CHECK_OK(daxm_dev_set_size(d0, s));
	EXPECT_RANGES(d0, { S0, S0 + s - 1, 0 });
	d1 = new_dev(r, s);
	d2 = new_dev(r, s);
	CHECK_STR(daxm_dev_get_devname(d1), "dax0.1");
	CHECK_STR(daxm_dev_get_devname(d2), "dax0.2");
	EXPECT_RANGES(d1, { S0 + s, S0 + 2 * s - 1, 0 });
	EXPECT_RANGES(d2, { S0 + 2 * s, S0 + 3 * s - 1, 0 });
	drop_dev(r, d1);
	CHECK_U64(daxm_region_get_available_size(r), 2 * s);
	d1 = new_dev(r, 2 * s);
	CHECK_STR(daxm_dev_get_devname(d1), "dax0.1"); /* lowest free id */
	EXPECT_RANGES(d1, { S0 + s, S0 + 2 * s - 1, 0 },
		      { S0 + 3 * s, S0 + 4 * s - 1, s / PAGE });
	CHECK_ATTR(ctx, "dax0.1/mapping1/page_offset", "0x10000\n");
	CHECK_U64(daxm_region_get_available_size(r), 0);
	CHECK_ERR(daxm_region_create_dev(r, NULL), ENOSPC);
	CHECK_INT(count_devs(r), 3);
	drop_dev(r, d1);
	drop_dev(r, d2);
	CHECK_OK(daxm_dev_set_size(d0, 0));
	CHECK_U64(daxm_region_get_available_size(r), GiB);

	/* test 3: space at the beginning and at the end. */
	d1 = new_dev(r, s);
	d2 = new_dev(r, s);
	d3 = new_dev(r, s);
	EXPECT_RANGES(d3, { S0 + 2 * s, S0 + 3 * s - 1, 0 });
	drop_dev(r, d1);
	d1 = new_dev(r, 2 * s);
	CHECK_STR(daxm_dev_get_devname(d1), "dax0.1");
	EXPECT_RANGES(d1, { S0, S0 + s - 1, 0 }, { S0 + 3 * s, S0 + 4 * s - 1, s / PAGE });
	CHECK_U64(daxm_region_get_available_size(r), 0);
	drop_dev(r, d1);
	drop_dev(r, d2);
	drop_dev(r, d3);

	/* test 4: two devices grown alternately interleave (s = A/8). */
	s = GiB / 8;
	CHECK_OK(daxm_dev_set_size(d0, s));
	d1 = new_dev(r, s);
	for (uint64_t n = 2; n <= 4; n++) {
		CHECK_OK(daxm_dev_set_size(d0, n * s));
		CHECK_OK(daxm_dev_set_size(d1, n * s));
	}
	EXPECT_RANGES(d0, { S0, S0 + s - 1, 0 },
		      { S0 + 2 * s, S0 + 3 * s - 1, s / PAGE },
		      { S0 + 4 * s, S0 + 5 * s - 1, 2 * s / PAGE },
		      { S0 + 6 * s, S0 + 7 * s - 1, 3 * s / PAGE });
	EXPECT_RANGES(d1, { S0 + s, S0 + 2 * s - 1, 0 },
		      { S0 + 3 * s, S0 + 4 * s - 1, s / PAGE },
		      { S0 + 5 * s, S0 + 6 * s - 1, 2 * s / PAGE },
		      { S0 + 7 * s, S0 + 8 * s - 1, 3 * s / PAGE });
	CHECK_U64(daxm_region_get_available_size(r), 0);

	/* Shrinking across ranges drops whole trailing ranges, then trims. */
	CHECK_OK(daxm_dev_set_size(d1, s + s / 2));
	EXPECT_RANGES(d1, { S0 + s, S0 + 2 * s - 1, 0 },
		      { S0 + 3 * s, S0 + 3 * s + s / 2 - 1, s / PAGE });
	CHECK_U64(daxm_region_get_available_size(r), 2 * s + s / 2);
	drop_dev(r, d1);
	CHECK_OK(daxm_dev_set_size(d0, 0));

	/* test 5: growing towards the beginning and in place (s = A/4). */
	s = GiB / 4;
	d1 = new_dev(r, s);
	d2 = new_dev(r, s);
	d3 = new_dev(r, s);
	d4 = new_dev(r, s);
	CHECK_STR(daxm_dev_get_devname(d4), "dax0.4");
	drop_dev(r, d1);
	drop_dev(r, d4);
	CHECK_OK(daxm_dev_set_size(d2, 2 * s));
	EXPECT_RANGES(d2, { S0 + s, S0 + 2 * s - 1, 0 }, { S0, S0 + s - 1, s / PAGE });
	CHECK_OK(daxm_dev_set_size(d3, 2 * s));
	EXPECT_RANGES(d3, { S0 + 2 * s, S0 + 4 * s - 1, 0 });
	CHECK_U64(daxm_region_get_available_size(r), 0);
	CHECK_U64(sum_dev_sizes(r), GiB);
	daxm_unref(ctx);

	/* qemu-devdax.md: dax0.0 of 64M with its neighbour freed, grown to 192M:
	 * mapping0 extended, mapping1 after the next device, pgoff 0x8000. */
	r = idle_region(&ctx, DAXM_PROFILE_6_1);
	d0 = daxm_dev_get_first(r);
	CHECK_OK(daxm_dev_set_size(d0, 64 * MiB));
	d1 = new_dev(r, 64 * MiB);
	d2 = new_dev(r, 64 * MiB);
	drop_dev(r, d1);
	CHECK_OK(daxm_dev_set_size(d0, 192 * MiB));
	EXPECT_RANGES(d0, { S0, 0x147ffffffull, 0 }, { 0x14c000000ull, 0x14fffffffull, 0x8000 });
	CHECK_OK(daxm_dev_set_size(d0, 96 * MiB)); /* shrink: last range first */
	EXPECT_RANGES(d0, { S0, 0x145ffffffull, 0 });
	CHECK_U64(daxm_dev_get_size(d2), 64 * MiB);
	daxm_unref(ctx);
}

/* ---- seed and youngest (kernel-lab README "Rules confirmed") ------------- */

void test_seed_youngest(void)
{
	struct daxm_ctx *ctx;
	struct daxm_region *r = idle_region(&ctx, DAXM_PROFILE_6_12);
	struct daxm_dev *d1, *d2, *d3, *d4;

	/* The producer's dax0.0 is never the seed. */
	CHECK_PTR(daxm_region_get_dev_seed(r), NULL);
	CHECK_PTR(daxm_region_get_dev_youngest(r), NULL);
	CHECK_ATTR(ctx, "region0/seed", "\n");
	CHECK_ATTR(ctx, "region0/create", "\n");

	d1 = new_dev(r, 0);
	CHECK_PTR(daxm_region_get_dev_seed(r), d1);
	CHECK_PTR(daxm_region_get_dev_youngest(r), d1);
	CHECK_ATTR(ctx, "region0/seed", "dax0.1\n");
	CHECK_ATTR(ctx, "region0/create", "dax0.1\n");

	d2 = new_dev(r, 0);
	CHECK_PTR(daxm_region_get_dev_seed(r), d1);
	CHECK_PTR(daxm_region_get_dev_youngest(r), d2);
	CHECK_ATTR(ctx, "region0/seed", "dax0.1\n");
	CHECK_ATTR(ctx, "region0/create", "dax0.2\n");

	/* Binding the seed clears it. */
	CHECK_OK(daxm_dev_set_size(d1, 2 * MiB));
	CHECK_PTR(daxm_region_get_dev_seed(r), d1); /* sizing does not */
	CHECK_OK(daxm_dev_enable(d1));
	CHECK_PTR(daxm_region_get_dev_seed(r), NULL);
	CHECK_PTR(daxm_region_get_dev_youngest(r), d2);
	CHECK_ATTR(ctx, "region0/seed", "\n");
	CHECK_OK(daxm_dev_disable(d1)); /* and unbinding does not bring it back */
	CHECK_PTR(daxm_region_get_dev_seed(r), NULL);

	/* A create with no seed makes a new one. */
	d3 = new_dev(r, 0);
	CHECK_STR(daxm_dev_get_devname(d3), "dax0.3");
	CHECK_PTR(daxm_region_get_dev_seed(r), d3);
	CHECK_PTR(daxm_region_get_dev_youngest(r), d3);

	/* Deleting the seed and youngest clears both; neither passes to the
	 * older idle dax0.2. */
	CHECK_OK(daxm_region_destroy_dev(r, d3));
	CHECK_PTR(daxm_region_get_dev_seed(r), NULL);
	CHECK_PTR(daxm_region_get_dev_youngest(r), NULL);
	CHECK_ATTR(ctx, "region0/seed", "\n");
	CHECK_ATTR(ctx, "region0/create", "\n");

	d3 = new_dev(r, 0); /* id 3 again */
	CHECK_STR(daxm_dev_get_devname(d3), "dax0.3");
	CHECK_PTR(daxm_region_get_dev_seed(r), d3);

	/* Deleting or binding other devices leaves seed and youngest alone. */
	CHECK_OK(daxm_region_destroy_dev(r, d2));
	CHECK_OK(daxm_dev_enable(d1));
	CHECK_PTR(daxm_region_get_dev_seed(r), d3);
	CHECK_PTR(daxm_region_get_dev_youngest(r), d3);

	/* A refused create leaves them alone too. */
	d4 = new_dev(r, 0); /* dax0.2: lowest free */
	CHECK_STR(daxm_dev_get_devname(d4), "dax0.2");
	CHECK_OK(daxm_dev_set_size(d4, GiB - 2 * MiB));
	CHECK_ERR(daxm_region_create_dev(r, NULL), ENOSPC);
	CHECK_PTR(daxm_region_get_dev_seed(r), d3);
	CHECK_PTR(daxm_region_get_dev_youngest(r), d4);
	daxm_unref(ctx);
}

/* ---- bind / unbind / destroy errnos -------------------------------------- */

void test_bind(void)
{
	struct daxm_ctx *ctx;
	struct daxm_region *r = idle_region(&ctx, DAXM_PROFILE_6_12);
	struct daxm_region *r1 = add_region(ctx, 1, DAXM_REGION_DYNAMIC, S0 + GiB, GiB,
					    DAXM_REGION_IDLE, DAXM_PROFILE_6_1);
	struct daxm_dev *d0 = daxm_dev_get_first(r), *d1 = new_dev(r, 0);
	struct daxm_dev *other = new_dev(r1, 0);

	{
		const struct row rows[] = {
			ROW_ERR(daxm_dev_enable(d0), ENXIO),    /* size 0 */
			ROW_ERR(daxm_dev_disable(d0), ENODEV),  /* not bound */
			ROW_ERR(daxm_region_destroy_dev(r, d0), EBUSY),  /* id 0 */
			ROW_ERR(daxm_region_destroy_dev(r, other), ENXIO), /* not r's */
			ROW_ERR(daxm_region_destroy_dev(r1, d1), ENXIO),
			ROW_ERR(daxm_dev_enable(d1), ENXIO),
			ROW_I(daxm_dev_is_enabled(d0), 0),
		};
		CHECK_ROWS(rows);
	}

	CHECK_OK(daxm_dev_set_size(d1, 2 * MiB));
	CHECK_ERR(daxm_region_destroy_dev(r, d1), EBUSY); /* sized */
	CHECK_OK(daxm_dev_enable(d1));
	CHECK_INT(daxm_dev_is_enabled(d1), 1);
	{
		const struct row rows[] = {
			ROW_ERR(daxm_dev_enable(d1), EBUSY),
			ROW_ERR(daxm_dev_set_size(d1, 2 * MiB), EBUSY), /* even the same size */
			ROW_ERR(daxm_dev_set_size(d1, 4 * MiB), EBUSY),
			ROW_ERR(daxm_dev_set_size(d1, 0), EBUSY),
			ROW_ERR(daxm_dev_set_size(d1, 3 * MiB), EINVAL), /* misaligned first */
			ROW_ERR(daxm_dev_set_align(d1, 2 * MiB), EBUSY),
			ROW_ERR(daxm_region_destroy_dev(r, d1), EBUSY), /* bound */
		};
		CHECK_ROWS(rows);
	}
	CHECK_U64(daxm_dev_get_size(d1), 2 * MiB);
	CHECK_OK(daxm_dev_disable(d1));
	CHECK_INT(daxm_dev_is_enabled(d1), 0);
	CHECK_ERR(daxm_dev_disable(d1), ENODEV); /* twice is reported */
	CHECK_OK(daxm_dev_enable(d1)); /* rebind */
	CHECK_OK(daxm_dev_disable(d1));
	CHECK_ERR(daxm_region_destroy_dev(r, d1), EBUSY);
	CHECK_OK(daxm_dev_set_size(d1, 0));
	CHECK_OK(daxm_region_destroy_dev(r, d1));
	CHECK_INT(count_devs(r), 1);

	/* Through the driver files (6.1 profile: plain bind works). */
	CHECK_OK(daxm_dev_set_size(other, 2 * MiB));
	CHECK_OK(daxm_attr_write(ctx, "device_dax/bind", "dax1.1"));
	CHECK_INT(daxm_dev_is_enabled(other), 1);
	{
		const struct row rows[] = {
			ROW_ERR(daxm_attr_write(ctx, "device_dax/bind", "dax1.1"), EBUSY),
			ROW_ERR(daxm_attr_write(ctx, "device_dax/bind", "dax1.0"), ENXIO),
			ROW_ERR(daxm_attr_write(ctx, "device_dax/bind", "dax1.9"), ENODEV),
			ROW_ERR(daxm_attr_write(ctx, "device_dax/bind", "\n"), ENODEV),
			ROW_I(daxm_attr_write(ctx, "device_dax/bind", ""), 0), /* zero bytes */
			ROW_ERR(daxm_attr_write(ctx, "device_dax/unbind", "dax1.0"), ENODEV),
			ROW_ERR(daxm_attr_write(ctx, "device_dax/unbind", "dax9.9"), ENODEV),
			ROW_ERR(daxm_attr_write(ctx, "device_dax/bogus", "dax1.1"), ENOENT),
			ROW_ERR(daxm_attr_write(ctx, "region1/delete", "dax1.1"), EBUSY),
		};
		CHECK_ROWS(rows);
	}
	CHECK_OK(daxm_attr_write(ctx, "device_dax/unbind", "dax1.1\n"));
	CHECK_INT(daxm_dev_is_enabled(other), 0);
	CHECK_ERR(daxm_attr_write(ctx, "device_dax/unbind", "dax1.1"), ENODEV);
	CHECK_OK(daxm_attr_write(ctx, "device_dax/bind", "dax1.1\n"));
	CHECK_INT(daxm_dev_is_enabled(other), 1);

	/* 6.12: hmem regions are typed for kmem, so device_dax/bind answers
	 * ENODEV until the name is written to new_id, which probes it
	 * (kernel-lab README "Rules confirmed"). */
	d1 = new_dev(r, 2 * MiB);
	CHECK_STR(daxm_dev_get_devname(d1), "dax0.1");
	CHECK_ERR(daxm_attr_write(ctx, "device_dax/bind", "dax0.1"), ENODEV);
	CHECK_INT(daxm_dev_is_enabled(d1), 0);
	CHECK_OK(daxm_attr_write(ctx, "device_dax/new_id", "dax0.1"));
	CHECK_INT(daxm_dev_is_enabled(d1), 1);
	CHECK_OK(daxm_attr_write(ctx, "device_dax/unbind", "dax0.1"));
	CHECK_OK(daxm_attr_write(ctx, "device_dax/bind", "dax0.1"));
	CHECK_INT(daxm_dev_is_enabled(d1), 1);
	CHECK_OK(daxm_attr_write(ctx, "device_dax/unbind", "dax0.1"));
	CHECK_OK(daxm_attr_write(ctx, "device_dax/remove_id", "dax0.1"));
	CHECK_ERR(daxm_attr_write(ctx, "device_dax/bind", "dax0.1"), ENODEV);
	CHECK_OK(daxm_dev_enable(d1)); /* the API binds as daxctl does */
	CHECK_INT(daxm_dev_is_enabled(d1), 1);
	daxm_unref(ctx);
}

/* ---- iteration macros ---------------------------------------------------- */

void test_iteration(void)
{
	struct daxm_ctx *ctx = new_ctx();
	struct daxm_region *r, *rn, *r0;
	struct daxm_dev *d, *dn, *big;
	struct daxm_mapping *m, *mn;
	int n, last;

	/* Regions come in id order, not creation order. */
	add_region(ctx, 2, DAXM_REGION_DYNAMIC, S0 + 2 * GiB, GiB, DAXM_REGION_IDLE,
		   DAXM_PROFILE_6_12);
	r0 = add_region(ctx, 0, DAXM_REGION_DYNAMIC, S0, GiB, DAXM_REGION_IDLE,
			DAXM_PROFILE_6_12);
	add_region(ctx, 1, DAXM_REGION_STATIC, S0 + GiB, GiB, 0, DAXM_PROFILE_6_12);
	n = 0;
	daxm_region_foreach(ctx, r)
		CHECK_INT(daxm_region_get_id(r), n++);
	CHECK_INT(n, 3);
	n = 0;
	daxm_region_foreach_safe(ctx, r, rn)
		CHECK_INT(daxm_region_get_id(r), n++);
	CHECK_INT(n, 3);

	/* Devices come in id order, also when ids are reused. */
	for (int i = 1; i <= 6; i++)
		new_dev(r0, 0);
	CHECK_OK(daxm_region_destroy_dev(r0, daxm_dev_get_by_name(ctx, "dax0.3")));
	{
		static const int want[] = { 0, 1, 2, 4, 5, 6 };
		n = 0;
		daxm_dev_foreach(r0, d) {
			if (n < 6)
				CHECK_INT(daxm_dev_get_id(d), want[n]);
			CHECK_PTR(daxm_dev_get_region(d), r0);
			n++;
		}
		CHECK_INT(n, 6);
	}
	new_dev(r0, 0);
	n = 0;
	daxm_dev_foreach(r0, d)
		CHECK_INT(daxm_dev_get_id(d), n++);
	CHECK_INT(n, 7);

	/* _safe: destroy the odd ids, then everything but dax0.0. */
	n = 0;
	daxm_dev_foreach_safe(r0, d, dn) {
		if (daxm_dev_get_id(d) % 2) {
			CHECK_OK(daxm_region_destroy_dev(r0, d));
			n++;
		}
	}
	CHECK_INT(n, 3);
	CHECK_INT(count_devs(r0), 4);
	n = 0;
	daxm_dev_foreach_safe(r0, d, dn) {
		if (daxm_dev_get_id(d) != 0)
			CHECK_OK(daxm_region_destroy_dev(r0, d));
		n++;
	}
	CHECK_INT(n, 4);
	CHECK_INT(count_devs(r0), 1);

	/* Mappings come in page_offset order, whatever their addresses. */
	big = new_dev(r0, 0);
	CHECK_OK(daxm_dev_set_mapping(big, S0 + 40 * MiB, S0 + 42 * MiB - 1));
	CHECK_OK(daxm_dev_set_mapping(big, S0 + 20 * MiB, S0 + 24 * MiB - 1));
	CHECK_OK(daxm_dev_set_mapping(big, S0 + 2 * MiB, S0 + 4 * MiB - 1));
	n = 0;
	daxm_mapping_foreach(big, m) {
		static const uint64_t pgoff[] = { 0, 0x200, 0x600 };
		CHECK_INT(daxm_mapping_get_id(m), n);
		if (n < 3)
			CHECK_U64(daxm_mapping_get_offset(m), pgoff[n]);
		CHECK_PTR(daxm_mapping_get_dev(m), big);
		n++;
	}
	CHECK_INT(n, 3);

	/* _safe: shrink away the current (last) mapping inside the loop. */
	n = 0;
	last = -1;
	daxm_mapping_foreach_safe(big, m, mn) {
		last = daxm_mapping_get_id(m);
		if (mn == NULL)
			CHECK_OK(daxm_dev_set_size(big, daxm_dev_get_size(big) -
						   daxm_mapping_get_size(m)));
		n++;
	}
	CHECK_INT(n, 3);
	CHECK_INT(last, 2);
	EXPECT_RANGES(big, { S0 + 40 * MiB, S0 + 42 * MiB - 1, 0 },
		      { S0 + 20 * MiB, S0 + 24 * MiB - 1, 0x200 });
	daxm_unref(ctx);
}
