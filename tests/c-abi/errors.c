/*
 * errors.c - documented error paths that the other areas do not reach:
 * one call per errno the header promises, each checked for its value and,
 * where the contract says what the message names, for that too.
 */
#include "ctest.h"

#include <sys/mman.h>

static int last_error_has(const char *word)
{
	const char *msg = daxm_last_error();
	return msg && strstr(msg, word) != NULL;
}

void test_error_paths(void)
{
	struct daxm_ctx *ctx = new_ctx();
	struct daxm_region_spec spec;
	struct daxm_region *r = NULL;

	/* Region ids below -1 and negative static device ids: -EINVAL,
	 * nothing added. */
	daxm_region_spec_init(&spec);
	spec.start = S0;
	spec.size = 1 * GiB;
	spec.id = -2;
	CHECK_ERR(daxm_region_new(ctx, &spec, &r), EINVAL);
	CHECK(last_error_has("id -2"));
	spec.id = 0;
	spec.kind = DAXM_REGION_STATIC;
	spec.dev_id = -1;
	CHECK_ERR(daxm_region_new(ctx, &spec, &r), EINVAL);
	CHECK(last_error_has("static device id"));
	CHECK_PTR(daxm_region_get_first(ctx), NULL);

	/* Extent counts past 2^20 in one call (or a size_t that does not fit
	 * an int) are -E2BIG before @specs is read. */
	struct daxm_region *sp = add_region(ctx, 1, DAXM_REGION_SPARSE, 0x1000000000ull, 1 * GiB, 0,
					    DAXM_PROFILE_6_12);
	struct daxm_extent_spec e;
	memset(&e, 0, sizeof(e));
	e.length = 4 * MiB;
	CHECK_ERR(daxm_region_add_extents(sp, &e, ((size_t)1 << 20) + 1, 0), E2BIG);
	CHECK_ERR(daxm_region_add_extents(sp, &e, SIZE_MAX, 0), E2BIG);
	CHECK_OK(daxm_region_add_extents(sp, &e, 1, 0));
	struct daxm_extent *x = daxm_extent_get_first(sp);
	CHECK(x != NULL);

	/* NULL tag buffers, and tag text that is not a UUID. */
	CHECK_ERR(daxm_extent_get_tag(x, NULL), EINVAL);
	CHECK_ERR(daxm_extent_set_tag(x, NULL, 0), EINVAL);
	CHECK_ERR(daxm_attr_write(ctx, "region1/extent0/tag", "0f0e0d0c-0b0a-4908-8706"), EINVAL);
	CHECK(last_error_has("not a UUID"));
	CHECK_STR(attr(ctx, "region1/extent0/tag"), "00000000-0000-0000-0000-000000000000\n");

	/* A mapped device keeps its tag: -EBUSY. */
	struct daxm_dev *d = NULL;
	CHECK_OK(daxm_region_create_dev(sp, &d));
	uint8_t zero[DAXM_TAG_SIZE] = { 0 }, other[DAXM_TAG_SIZE];
	CHECK_OK(daxm_tag_parse("0f0e0d0c-0b0a-4908-8706-050403020100", other));
	CHECK_OK(daxm_dev_set_tag(d, zero));
	CHECK_OK(daxm_dev_set_size(d, 2 * MiB));
	struct daxm_view *view = NULL;
	CHECK_OK(daxm_dev_map(d, PROT_READ, &view));
	CHECK_ERR(daxm_dev_set_tag(d, other), EBUSY);
	CHECK_OK(daxm_view_unmap(view));
	CHECK_ERR(daxm_dev_set_tag(d, other), EBUSY); /* still sized */
	CHECK_OK(daxm_dev_set_size(d, 0));
	CHECK_OK(daxm_dev_set_tag(d, other));

	/* A device of another region: -ENXIO, and it stays. */
	struct daxm_region *dyn = add_region(ctx, 2, DAXM_REGION_DYNAMIC, S0, 1 * GiB, DAXM_REGION_IDLE,
					     DAXM_PROFILE_6_12);
	struct daxm_dev *d2 = new_dev(dyn, 0);
	CHECK_ERR(daxm_region_destroy_dev(sp, d2), ENXIO);
	CHECK_PTR(daxm_dev_get_by_name(ctx, "dax2.1"), d2);

	/* Saving where no file can be made: the errno of the file
	 * operation. */
	CHECK_ERR(daxm_ctx_save(ctx, "/nonexistent-daxm-dir/state.json"), ENOENT);
	CHECK(last_error_has("/nonexistent-daxm-dir/state.json"));

	daxm_unref(ctx);
}

/* A pointer the library handed out stays valid until the context is
 * freed: a deleted device or trimmed mapping answers -ENODEV or the
 * sentinel, a released extent reads DAXM_EXTENT_RELEASED, however many
 * objects come and go in between (run under AddressSanitizer, a freed
 * object would show here). */
void test_borrowed_pointers(void)
{
	struct daxm_ctx *ctx = new_ctx();
	struct daxm_region *dyn = add_region(ctx, 0, DAXM_REGION_DYNAMIC, S0, 1 * GiB, DAXM_REGION_IDLE,
					     DAXM_PROFILE_6_12);
	struct daxm_dev *gone = new_dev(dyn, 0);
	CHECK_OK(daxm_attr_write(ctx, "region0/delete", "dax0.1"));
	struct daxm_dev *split = new_dev(dyn, 2 * MiB);
	struct daxm_dev *wedge = new_dev(dyn, 2 * MiB);
	CHECK_OK(daxm_dev_set_size(split, 4 * MiB)); /* two ranges, around wedge */
	struct daxm_mapping *second = daxm_mapping_get_next(daxm_mapping_get_first(split));
	CHECK(second != NULL);
	CHECK_OK(daxm_dev_set_size(split, 2 * MiB)); /* trims the second range */

	struct daxm_region *sp = add_region(ctx, 1, DAXM_REGION_SPARSE, 0x1000000000ull, 1 * GiB, 0,
					    DAXM_PROFILE_6_12);
	struct daxm_extent_spec e;
	memset(&e, 0, sizeof(e));
	e.length = 2 * MiB;
	CHECK_OK(daxm_region_add_extents(sp, &e, 1, 0));
	struct daxm_extent *released = daxm_extent_get_first(sp);
	CHECK_OK(daxm_region_release_extents(sp, 0, 2 * MiB, NULL, 0));

	for (int round = 0; round < 3; round++) {
		/* churn: objects come and go, memory is reused */
		for (int i = 0; i < 200; i++) {
			struct daxm_dev *d = new_dev(dyn, 0);
			CHECK_OK(daxm_region_destroy_dev(dyn, d));
			CHECK_OK(daxm_region_add_extents(sp, &e, 1, 0));
			CHECK_OK(daxm_region_release_extents(sp, 0, 2 * MiB, NULL, 0));
		}
		CHECK_STR(daxm_dev_get_devname(gone), "dax0.1");
		CHECK_U64(daxm_dev_get_size(gone), DAXM_INVALID);
		CHECK_ERR(daxm_dev_set_size(gone, 2 * MiB), ENODEV);
		CHECK_U64(daxm_mapping_get_start(second), DAXM_INVALID);
		CHECK_ERR(daxm_mapping_get_id(second), ENODEV);
		CHECK_INT(daxm_extent_get_state(released), DAXM_EXTENT_RELEASED);
		CHECK_INT(daxm_extent_get_refcount(released), 0);
		CHECK_ERR(daxm_extent_get(released), ENODEV);
	}
	CHECK_U64(daxm_dev_get_size(wedge), 2 * MiB);
	daxm_unref(ctx);
}
