/*
 * sparse.c - sparse (CXL DCD) regions through the C API: tags, extent
 * groups and their answers, tag-bounded allocation, deferred release,
 * pins, re-tagging, claims, forced release; NULL arguments and extent
 * handles that outlive their extent or context.
 */
#include "ctest.h"

#include <sys/mman.h>

#define TAG_A "11111111-2222-3333-4444-555555555555"
#define TAG_B "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
#define TAG_C "0000000c-0000-0000-0000-00000000000c"
#define TAG_E "0000000e-0000-0000-0000-00000000000e"

static uint8_t tag_a[DAXM_TAG_SIZE], tag_b[DAXM_TAG_SIZE], tag_c[DAXM_TAG_SIZE];
static uint8_t tag_e[DAXM_TAG_SIZE];
static const uint8_t untagged[DAXM_TAG_SIZE];

static void parse_tags(void)
{
	CHECK_OK(daxm_tag_parse(TAG_A, tag_a));
	CHECK_OK(daxm_tag_parse(TAG_B, tag_b));
	CHECK_OK(daxm_tag_parse(TAG_C, tag_c));
	CHECK_OK(daxm_tag_parse(TAG_E, tag_e));
}

static struct daxm_region *sparse_region(struct daxm_ctx *ctx, int id, uint64_t start,
					 uint32_t flags, uint32_t max_per_group)
{
	struct daxm_region_spec spec;
	struct daxm_region *r = NULL;

	daxm_region_spec_init(&spec);
	spec.id = id;
	spec.kind = DAXM_REGION_SPARSE;
	spec.start = start;
	spec.size = GiB;
	spec.flags = flags;
	if (max_per_group)
		spec.max_extents_per_group = max_per_group;
	CHECK_OK(daxm_region_new(ctx, &spec, &r));
	return r;
}

/* Take the next event; CHECK its type (and record count if >= 0). */
static struct daxm_event *next_event(const char *file, int line, struct daxm_ctx *ctx,
				     uint32_t type, int nr_records)
{
	struct daxm_event *ev = NULL;

	t_check_i64(file, line, "daxm_ctx_next_event()", daxm_ctx_next_event(ctx, &ev), 0);
	if (!ev)
		return NULL;
	t_check_i64(file, line, "event type", ev->type, type);
	if (nr_records >= 0)
		t_check_i64(file, line, "event nr_records", ev->nr_records, nr_records);
	return ev;
}
#define NEXT_EVENT(ctx, type, n) next_event(__FILE__, __LINE__, ctx, type, n)

/* The record results of the next GROUP event, in offer order. */
static void expect_group(const char *file, int line, struct daxm_ctx *ctx,
			 const int *results, int n)
{
	struct daxm_event *ev = next_event(file, line, ctx, DAXM_EVENT_GROUP, n);

	for (int i = 0; ev && i < n && i < (int)ev->nr_records; i++) {
		char expr[64];
		snprintf(expr, sizeof(expr), "group record %d result", i);
		t_check_i64(file, line, expr, ev->records[i].result, results[i]);
		t_result(ev->records[i].reason != NULL, file, line, "record reason != NULL", NULL);
	}
	daxm_event_free(ev);
}
#define EXPECT_GROUP(ctx, ...) \
	expect_group(__FILE__, __LINE__, ctx, (const int[]){ __VA_ARGS__ }, \
		     (int)(sizeof((const int[]){ __VA_ARGS__ }) / sizeof(int)))

static int count_extents(struct daxm_region *r)
{
	struct daxm_extent *e;
	int n = 0;

	daxm_extent_foreach(r, e)
		n++;
	return n;
}


/* ---- tags ------------------------------------------------------------- */

void test_tags(void)
{
	uint8_t tag[DAXM_TAG_SIZE];
	char buf[64];
	static const uint8_t want_a[DAXM_TAG_SIZE] = { 0x11, 0x11, 0x11, 0x11, 0x22, 0x22,
						       0x33, 0x33, 0x44, 0x44, 0x55, 0x55,
						       0x55, 0x55, 0x55, 0x55 };

	CHECK_OK(daxm_tag_parse(TAG_A, tag));
	CHECK(memcmp(tag, want_a, sizeof(tag)) == 0);
	CHECK_OK(daxm_tag_parse("AAAAAAAA-BBBB-CCCC-DDDD-EEEEEEEEEEEE", tag));
	CHECK_INT(daxm_tag_format(tag, buf, sizeof(buf)), 36);
	CHECK_STR(buf, TAG_B);
	memset(tag, 0xff, sizeof(tag));
	CHECK_OK(daxm_tag_parse("untagged", tag));
	CHECK(memcmp(tag, untagged, sizeof(tag)) == 0);

	const struct row rows[] = {
		ROW_ERR(daxm_tag_parse(NULL, tag), EINVAL),
		ROW_ERR(daxm_tag_parse(TAG_A, NULL), EINVAL),
		ROW_ERR(daxm_tag_parse("", tag), EINVAL),
		ROW_ERR(daxm_tag_parse("1111111-2222-3333-4444-555555555555", tag), EINVAL),
		ROW_ERR(daxm_tag_parse("11111111-2222-3333-4444-5555555555555", tag), EINVAL),
		ROW_ERR(daxm_tag_parse("11111111-2222-3333-4444-55555555555g", tag), EINVAL),
		ROW_ERR(daxm_tag_parse("11111111+2222-3333-4444-555555555555", tag), EINVAL),
		ROW_ERR(daxm_tag_parse("111111112222333344445555555555555555", tag), EINVAL),
		ROW_ERR(daxm_tag_parse("Untagged ", tag), EINVAL),
		ROW_ERR(daxm_tag_format(NULL, buf, sizeof(buf)), EINVAL),
		ROW_ERR(daxm_tag_format(want_a, NULL, sizeof(buf)), EINVAL),
		ROW_ERR(daxm_tag_format(want_a, buf, 36), ERANGE),
		ROW_ERR(daxm_tag_format(want_a, buf, 0), ERANGE),
		ROW_I(daxm_tag_format(want_a, buf, 37), 36),
	};
	CHECK_ROWS(rows);
	CHECK_INT(daxm_tag_format(want_a, buf, 37), 36);
	CHECK_STR(buf, TAG_A);
}

/* ---- NULL arguments and other kinds of region ---------------------------- */

void test_sparse_null(void)
{
	struct daxm_ctx *ctx = new_ctx();
	struct daxm_region *dyn = add_region(ctx, 0, DAXM_REGION_DYNAMIC, S0, GiB,
					     DAXM_REGION_IDLE, DAXM_PROFILE_6_12);
	struct daxm_region *sp = sparse_region(ctx, 1, S0 + GiB, 0, 0);
	struct daxm_dev *dd = new_dev(dyn, 0), *sd = daxm_dev_get_first(sp);
	struct daxm_extent_spec one = ext(0, 2 * MiB, NULL, 0), bad = one, bad2 = one;
	struct daxm_event *ev = (struct daxm_event *)&ev; /* must be overwritten */
	uint8_t tag[DAXM_TAG_SIZE];

	bad.reserved = 1;
	bad2.reserved2 = 1;
	const struct row rows[] = {
		ROW_ERR(daxm_region_add_extents(NULL, &one, 1, 0), EINVAL),
		ROW_ERR(daxm_region_add_extents(sp, NULL, 1, 0), EINVAL),
		ROW_ERR(daxm_region_add_extents(sp, &one, 1, 0x80), EINVAL),
		ROW_ERR(daxm_region_add_extents(sp, &bad, 1, 0), EINVAL),
		ROW_ERR(daxm_region_add_extents(sp, &bad2, 1, 0), EINVAL),
		ROW_ERR(daxm_region_add_extents(dyn, &one, 1, 0), EOPNOTSUPP),
		ROW_ERR(daxm_region_release_extents(NULL, 0, 2 * MiB, NULL, 0), EINVAL),
		ROW_ERR(daxm_region_release_extents(sp, 0, 0, NULL, 0), EINVAL),
		ROW_ERR(daxm_region_release_extents(sp, 0ull - 2 * MiB, 4 * MiB, NULL, 0), EINVAL),
		ROW_ERR(daxm_region_release_extents(sp, 0, 2 * MiB, NULL, 0x80), EINVAL),
		ROW_ERR(daxm_region_release_extents(dyn, 0, 2 * MiB, NULL, 0), EOPNOTSUPP),
		ROW_P(daxm_extent_get_first(NULL), NULL),
		ROW_P(daxm_extent_get_first(dyn), NULL),
		ROW_P(daxm_extent_get_first(sp), NULL),
		ROW_P(daxm_extent_get_next(NULL), NULL),
		ROW_P(daxm_extent_ref(NULL), NULL),
		ROW_P(daxm_extent_get_region(NULL), NULL),
		ROW_ERR(daxm_extent_get_id(NULL), EINVAL),
		ROW_U(daxm_extent_get_offset(NULL), DAXM_INVALID),
		ROW_U(daxm_extent_get_length(NULL), DAXM_INVALID),
		ROW_ERR(daxm_extent_get_tag(NULL, tag), EINVAL),
		ROW_ERR(daxm_extent_get_sequence(NULL), EINVAL),
		ROW_ERR(daxm_extent_get_refcount(NULL), EINVAL),
		ROW_ERR(daxm_extent_get_state(NULL), EINVAL),
		ROW_ERR(daxm_extent_get(NULL), EINVAL),
		ROW_ERR(daxm_extent_put(NULL), EINVAL),
		ROW_ERR(daxm_extent_set_tag(NULL, tag, 0), EINVAL),
		ROW_ERR(daxm_dev_set_tag(NULL, tag), EINVAL),
		ROW_ERR(daxm_dev_set_tag(dd, untagged), EOPNOTSUPP),
		ROW_ERR(daxm_dev_get_tag(NULL, tag), EINVAL),
		ROW_ERR(daxm_dev_get_tag(sd, NULL), EINVAL),
		ROW_ERR(daxm_dev_claim_tag(NULL, tag), EINVAL),
		ROW_ERR(daxm_dev_claim_tag(sd, NULL), EINVAL),
		ROW_ERR(daxm_dev_claim_tag(dd, untagged), EOPNOTSUPP),
		ROW_U(daxm_dev_get_lost_bytes(NULL), DAXM_INVALID),
		ROW_U(daxm_dev_get_lost_bytes(dd), 0),
		ROW_ERR(daxm_ctx_next_event(NULL, &ev), EINVAL),
		ROW_ERR(daxm_ctx_next_event(ctx, NULL), EINVAL),
		ROW_ERR(daxm_ctx_get_nr_events(NULL), EINVAL),
		ROW_I(daxm_ctx_get_nr_events(ctx), 0),
	};
	CHECK_ROWS(rows);
	daxm_extent_unref(NULL);
	daxm_event_free(NULL);
	t_result(1, __FILE__, __LINE__, "daxm_extent_unref(NULL), daxm_event_free(NULL)", NULL);
	/* An empty queue answers -EAGAIN and sets *out to NULL. */
	CHECK_ERR(daxm_ctx_next_event(ctx, &ev), EAGAIN);
	CHECK_PTR(ev, NULL);
	{
		struct daxm_extent *e;
		int n = 0;
		daxm_extent_foreach(NULL, e) n++;
		CHECK_INT(n, 0);
	}
	/* Nothing was staged by the refused calls: closing yields no extent. */
	CHECK_OK(daxm_region_add_extents(sp, NULL, 0, 0));
	CHECK_INT(count_extents(sp), 0);
	CHECK_U64(daxm_region_get_available_size(sp), 0);
	daxm_unref(ctx);
}

/* ---- the sparse lifecycle ------------------------------------------------- */

void test_sparse(void)
{
	struct daxm_ctx *ctx = new_ctx();
	struct daxm_region *r, *small;
	struct daxm_dev *d0, *d, *u, *c, *c2;
	struct daxm_extent *a0, *a1, *xu, *xb, *xu2, *e;
	struct daxm_event *ev;
	uint8_t tag[DAXM_TAG_SIZE];

	parse_tags();
	r = sparse_region(ctx, 0, S0, DAXM_REGION_IDLE, 0);
	d0 = daxm_dev_get_first(r);

	/* No capacity until extents arrive (kernel-dax.md §6.54, §6.55). */
	CHECK_INT(daxm_region_get_kind(r), DAXM_REGION_SPARSE);
	CHECK_U64(daxm_region_get_size(r), GiB);
	CHECK_U64(daxm_region_get_available_size(r), 0);
	CHECK_U64(daxm_dev_get_size(d0), 0);
	CHECK_PTR(daxm_region_get_dev_seed(r), NULL);
	CHECK_ERR(daxm_region_create_dev(r, NULL), ENOSPC);

	/* One closed group: tag A (two extents) and one untagged extent. */
	{
		const struct daxm_extent_spec g[] = {
			ext(0, 64 * MiB, tag_a, 0),
			ext(128 * MiB, 64 * MiB, tag_a, 1),
			ext(256 * MiB, 32 * MiB, NULL, 0),
		};
		CHECK_OK(daxm_region_add_extents(r, g, 3, 0));
	}
	CHECK_INT(daxm_ctx_get_nr_events(ctx), 1);
	ev = NEXT_EVENT(ctx, DAXM_EVENT_GROUP, 3);
	if (ev && ev->nr_records == 3) {
		CHECK_INT(ev->region_id, 0);
		CHECK_INT(ev->records[0].result, 0);
		CHECK_INT(ev->records[1].result, 0);
		CHECK_INT(ev->records[2].result, 0);
		CHECK_U64(ev->records[1].offset, 128 * MiB);
		CHECK_U64(ev->records[1].length, 64 * MiB);
		CHECK(memcmp(ev->records[1].tag, tag_a, DAXM_TAG_SIZE) == 0);
		CHECK_INT(ev->records[1].sequence, 1);
	}
	daxm_event_free(ev);
	CHECK_INT(daxm_ctx_get_nr_events(ctx), 0);
	CHECK_U64(daxm_region_get_available_size(r), 160 * MiB);
	CHECK_ATTR(ctx, "region0/available_size", "167772160\n");
	CHECK_INT(count_extents(r), 3);
	a0 = daxm_extent_ref(extent_at(r, 0));
	a1 = daxm_extent_ref(extent_at(r, 128 * MiB));
	xu = daxm_extent_ref(extent_at(r, 256 * MiB));
	CHECK(a0 && a1 && xu);
	CHECK_PTR(daxm_extent_get_first(r), a0); /* acceptance order */
	CHECK_PTR(daxm_extent_get_region(a0), r);
	CHECK_U64(daxm_extent_get_length(a1), 64 * MiB);
	CHECK_INT(daxm_extent_get_sequence(a1), 1);
	CHECK_INT(daxm_extent_get_state(a0), DAXM_EXTENT_ACCEPTED);
	CHECK_INT(daxm_extent_get_refcount(a0), 0);
	CHECK_OK(daxm_extent_get_tag(a1, tag));
	CHECK(memcmp(tag, tag_a, DAXM_TAG_SIZE) == 0);
	CHECK_OK(daxm_extent_get_tag(xu, tag));
	CHECK(memcmp(tag, untagged, DAXM_TAG_SIZE) == 0);
	CHECK(daxm_extent_get_id(a0) >= 0 && daxm_extent_get_id(a1) >= 0 &&
	      daxm_extent_get_id(a0) != daxm_extent_get_id(a1));

	/* A group left open is staged: invisible until it closes. */
	{
		const struct daxm_extent_spec b = ext(512 * MiB, 32 * MiB, tag_b, 0);
		CHECK_OK(daxm_region_add_extents(r, &b, 1, DAXM_GROUP_MORE));
		CHECK_INT(daxm_ctx_get_nr_events(ctx), 0);
		CHECK_INT(count_extents(r), 3);
		CHECK_U64(daxm_region_get_available_size(r), 160 * MiB);
		CHECK_OK(daxm_region_add_extents(r, NULL, 0, 0));
		EXPECT_GROUP(ctx, 0);
		CHECK_U64(daxm_region_get_available_size(r), 192 * MiB);
		xb = daxm_extent_ref(extent_at(r, 512 * MiB));
		CHECK(xb != NULL);
	}

	/* Rejections, one record each, in offer order. */
	{
		const struct daxm_extent_spec g[] = {
			ext(1 * MiB, 2 * MiB, NULL, 0),          /* offset not 2M */
			ext(600 * MiB, 3 * MiB, NULL, 0),        /* length not 2M */
			ext(GiB, 2 * MiB, NULL, 0),              /* outside */
			ext(GiB - 2 * MiB, 4 * MiB, NULL, 0),    /* partly outside */
			ext(32 * MiB, 64 * MiB, NULL, 0),        /* partial overlap */
			ext(768 * MiB, 32 * MiB, tag_a, 0),      /* tag A exists */
		};
		CHECK_OK(daxm_region_add_extents(r, g, 6, 0));
		EXPECT_GROUP(ctx, -EINVAL, -EINVAL, -ERANGE, -ERANGE, -EBUSY, -EEXIST);
	}
	/* A tag group is all or nothing; untagged extents stand alone. */
	{
		const struct daxm_extent_spec g[] = {
			ext(640 * MiB, 32 * MiB, tag_c, 0),
			ext(GiB, 2 * MiB, tag_c, 1),
			ext(704 * MiB, 32 * MiB, NULL, 0),
		};
		CHECK_OK(daxm_region_add_extents(r, g, 3, 0));
		EXPECT_GROUP(ctx, -ECANCELED, -ERANGE, 0);
	}
	CHECK_INT(count_extents(r), 5);
	CHECK_PTR(extent_at(r, 640 * MiB), NULL);
	xu2 = daxm_extent_ref(extent_at(r, 704 * MiB));
	CHECK(xu2 != NULL);
	CHECK_U64(daxm_region_get_available_size(r), 224 * MiB);

	/* Sizing needs a tag: an old client fails loudly. */
	d = new_dev(r, 0);
	CHECK_STR(daxm_dev_get_devname(d), "dax0.1");
	CHECK_ERR(daxm_dev_set_size(d, 2 * MiB), EOPNOTSUPP);
	CHECK_ERR(daxm_attr_write(ctx, "dax0.1/size", "2097152"), EOPNOTSUPP);
	memset(tag, 0xff, sizeof(tag));
	CHECK_INT(daxm_dev_get_tag(d, tag), 0);
	CHECK(memcmp(tag, untagged, DAXM_TAG_SIZE) == 0);
	CHECK_OK(daxm_dev_set_tag(d, tag_a));
	CHECK_INT(daxm_dev_get_tag(d, tag), 1);
	CHECK(memcmp(tag, tag_a, DAXM_TAG_SIZE) == 0);
	CHECK_ATTR(ctx, "dax0.1/tag", TAG_A "\n");

	/* Tag-bounded first fit in acceptance order; in place inside an extent. */
	CHECK_OK(daxm_dev_set_size(d, 96 * MiB));
	EXPECT_RANGES(d, { S0, S0 + 64 * MiB - 1, 0 },
		      { S0 + 128 * MiB, S0 + 160 * MiB - 1, 64 * MiB / PAGE });
	CHECK_OK(daxm_dev_set_size(d, 128 * MiB));
	EXPECT_RANGES(d, { S0, S0 + 64 * MiB - 1, 0 },
		      { S0 + 128 * MiB, S0 + 192 * MiB - 1, 64 * MiB / PAGE });
	CHECK_INT(daxm_extent_get_refcount(a0), 1);
	CHECK_INT(daxm_extent_get_refcount(a1), 1); /* one range, one reference */
	CHECK_ERR(daxm_dev_set_size(d, 130 * MiB), ENOSPC); /* tag A is full */
	CHECK_ERR(daxm_dev_set_tag(d, tag_b), EBUSY);       /* sized */
	CHECK_ERR(daxm_dev_set_mapping(d, S0 + 300 * MiB, S0 + 302 * MiB - 1), EOPNOTSUPP);
	CHECK_U64(daxm_region_get_available_size(r), 96 * MiB);

	/* An untagged device draws on untagged extents only. */
	u = new_dev(r, 0);
	CHECK_OK(daxm_dev_set_tag(u, untagged));
	CHECK_INT(daxm_dev_get_tag(u, tag), 1);
	CHECK_OK(daxm_dev_set_size(u, 32 * MiB));
	EXPECT_RANGES(u, { S0 + 256 * MiB, S0 + 288 * MiB - 1, 0 });
	CHECK_INT(daxm_extent_get_refcount(xu), 1);

	/* Releasing a referenced tag group is deferred... */
	CHECK_ERR(daxm_region_release_extents(r, 0, 2 * MiB, tag_b, 0), EINVAL); /* wrong tag */
	CHECK_INT(daxm_ctx_get_nr_events(ctx), 0);
	CHECK_OK(daxm_region_release_extents(r, 0, 2 * MiB, tag_a, 0));
	daxm_event_free(NEXT_EVENT(ctx, DAXM_EVENT_RELEASE_DEFERRED, -1));
	CHECK_INT(daxm_extent_get_state(a0), DAXM_EXTENT_RELEASING);
	CHECK_INT(daxm_extent_get_state(a1), DAXM_EXTENT_RELEASING);
	CHECK_ERR(daxm_extent_get(a0), EBUSY);
	CHECK_U64(daxm_region_get_available_size(r), 64 * MiB);
	/* ...each extent goes when its last reference drops. */
	CHECK_OK(daxm_dev_set_size(d, 64 * MiB));
	daxm_event_free(NEXT_EVENT(ctx, DAXM_EVENT_RELEASED, -1));
	CHECK_INT(daxm_extent_get_state(a1), DAXM_EXTENT_RELEASED);
	CHECK_INT(daxm_extent_get_state(a0), DAXM_EXTENT_RELEASING);
	CHECK_OK(daxm_dev_set_size(d, 0));
	daxm_event_free(NEXT_EVENT(ctx, DAXM_EVENT_RELEASED, -1));
	CHECK_INT(daxm_ctx_get_nr_events(ctx), 0);
	{
		const struct row rows[] = {
			ROW_I(daxm_extent_get_state(a0), DAXM_EXTENT_RELEASED),
			ROW_U(daxm_extent_get_offset(a0), 0), /* still readable */
			ROW_U(daxm_extent_get_length(a0), 64 * MiB),
			ROW_ERR(daxm_extent_get(a0), ENODEV),
			ROW_ERR(daxm_extent_put(a0), ENODEV),
			ROW_ERR(daxm_extent_set_tag(a0, tag_e, 0), ENODEV),
			ROW_P(daxm_extent_get_next(a0), NULL),
		};
		CHECK_ROWS(rows);
	}
	CHECK_INT(count_extents(r), 3);
	CHECK_U64(daxm_region_get_available_size(r), 64 * MiB);

	/* Pins defer a release too; put completes it. */
	CHECK_ERR(daxm_extent_put(xu2), EINVAL); /* no pin held */
	CHECK_OK(daxm_extent_get(xu2));
	CHECK_INT(daxm_extent_get_refcount(xu2), 1);
	CHECK_OK(daxm_region_release_extents(r, 704 * MiB, 32 * MiB, NULL, 0));
	daxm_event_free(NEXT_EVENT(ctx, DAXM_EVENT_RELEASE_DEFERRED, -1));
	CHECK_ERR(daxm_extent_get(xu2), EBUSY);
	CHECK_OK(daxm_extent_put(xu2));
	daxm_event_free(NEXT_EVENT(ctx, DAXM_EVENT_RELEASED, -1));
	CHECK_INT(daxm_extent_get_state(xu2), DAXM_EXTENT_RELEASED);
	CHECK_ERR(daxm_extent_put(xu2), ENODEV);

	/* A range with no extent is acknowledged at once. */
	CHECK_OK(daxm_region_release_extents(r, 900 * MiB, 2 * MiB, NULL, 0));
	daxm_event_free(NEXT_EVENT(ctx, DAXM_EVENT_RELEASED, -1));

	/* Re-tagging: only while nothing references the extent. */
	CHECK_ERR(daxm_extent_set_tag(xu, tag_e, 0), EBUSY); /* u uses it */
	CHECK_ERR(daxm_extent_set_tag(xb, tag_b, 0x80), EINVAL);
	CHECK_OK(daxm_extent_set_tag(xb, tag_e, 0));
	CHECK_OK(daxm_extent_get_tag(xb, tag));
	CHECK(memcmp(tag, tag_e, DAXM_TAG_SIZE) == 0);

	/* Claiming a whole tag group. */
	c = new_dev(r, 0);
	c2 = new_dev(r, 0);
	CHECK_ERR(daxm_dev_claim_tag(c, tag_b), ENOENT); /* B was re-tagged */
	CHECK_OK(daxm_dev_claim_tag(c, tag_e));
	CHECK_U64(daxm_dev_get_size(c), 32 * MiB);
	CHECK_INT(daxm_dev_get_tag(c, tag), 1);
	CHECK(memcmp(tag, tag_e, DAXM_TAG_SIZE) == 0);
	EXPECT_RANGES(c, { S0 + 512 * MiB, S0 + 544 * MiB - 1, 0 });
	CHECK_ERR(daxm_dev_claim_tag(c, tag_e), EBUSY);  /* has size */
	CHECK_ERR(daxm_dev_claim_tag(c2, tag_e), EBUSY); /* capacity in use */
	CHECK_ERR(daxm_extent_set_tag(xb, tag_c, 0), EBUSY);

	/* Forced release without DAXM_REGION_REVOKE: logged and ignored. */
	CHECK_OK(daxm_region_release_extents(r, 512 * MiB, 2 * MiB, tag_e, DAXM_RELEASE_FORCED));
	daxm_event_free(NEXT_EVENT(ctx, DAXM_EVENT_FORCED_IGNORED, -1));
	CHECK_U64(daxm_dev_get_size(c), 32 * MiB);
	CHECK_INT(daxm_extent_get_state(xb), DAXM_EXTENT_ACCEPTED);

	/* A group larger than max_extents_per_group stages nothing. */
	small = sparse_region(ctx, 1, S0 + GiB, 0, 2);
	{
		const struct daxm_extent_spec g[] = {
			ext(0, 2 * MiB, NULL, 0),
			ext(2 * MiB, 2 * MiB, NULL, 0),
			ext(4 * MiB, 2 * MiB, NULL, 0),
		};
		CHECK_ERR(daxm_region_add_extents(small, g, 3, 0), E2BIG);
		CHECK_INT(daxm_ctx_get_nr_events(ctx), 0);
		CHECK_OK(daxm_region_add_extents(small, g, 2, DAXM_GROUP_MORE));
		CHECK_ERR(daxm_region_add_extents(small, g + 2, 1, DAXM_GROUP_MORE), E2BIG);
		CHECK_OK(daxm_region_add_extents(small, NULL, 0, 0));
		EXPECT_GROUP(ctx, 0, 0);
		CHECK_U64(daxm_region_get_available_size(small), 4 * MiB);
	}

	/* Extent handles outlive the context. */
	e = daxm_extent_ref(xb);
	CHECK_PTR(daxm_dev_ref(c), c);
	daxm_unref(ctx);
	{
		const struct row rows[] = {
			ROW_ERR(daxm_extent_get_id(e), ENODEV),
			ROW_U(daxm_extent_get_offset(e), DAXM_INVALID),
			ROW_U(daxm_extent_get_length(e), DAXM_INVALID),
			ROW_P(daxm_extent_get_region(e), NULL),
			ROW_P(daxm_extent_get_next(e), NULL),
			ROW_ERR(daxm_extent_get_sequence(e), ENODEV),
			ROW_ERR(daxm_extent_get_refcount(e), ENODEV),
			ROW_ERR(daxm_extent_get_state(e), ENODEV),
			ROW_ERR(daxm_extent_get(e), ENODEV),
			ROW_ERR(daxm_extent_put(e), ENODEV),
			ROW_ERR(daxm_extent_set_tag(e, tag_c, 0), ENODEV),
			ROW_ERR(daxm_dev_set_tag(c, tag_c), ENODEV),
			ROW_ERR(daxm_dev_claim_tag(c, tag_c), ENODEV),
			ROW_U(daxm_dev_get_lost_bytes(c), DAXM_INVALID),
		};
		CHECK_ROWS(rows);
	}
	daxm_dev_unref(c);
	daxm_extent_unref(e);
	daxm_extent_unref(a0);
	daxm_extent_unref(a1);
	daxm_extent_unref(xu);
	daxm_extent_unref(xb);
	daxm_extent_unref(xu2);
}

/* ---- forced release with DAXM_REGION_REVOKE ----------------------------- */

/* The permissions /proc/self/maps shows for the mapping holding @addr
 * ("rw-s", "---p", ...), or "" when none does. */
static const char *map_perms(const void *addr)
{
	static char perms[8];
	char line[512];
	FILE *f = fopen("/proc/self/maps", "r");

	perms[0] = 0;
	while (f && fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;
		char p[8];
		if (sscanf(line, "%lx-%lx %7s", &lo, &hi, p) == 3 && (uintptr_t)addr >= lo &&
		    (uintptr_t)addr < hi) {
			snprintf(perms, sizeof(perms), "%s", p);
			break;
		}
	}
	if (f)
		fclose(f);
	return perms;
}

void test_sparse_revoke(void)
{
	struct daxm_ctx *ctx = new_ctx();
	struct daxm_region *r = sparse_region(ctx, 3, S0, DAXM_REGION_REVOKE, 0);
	struct daxm_dev *v;
	const struct daxm_extent_spec g[] = {
		ext(0, 64 * MiB, NULL, 0),
		ext(128 * MiB, 64 * MiB, NULL, 0),
	};
	struct daxm_event *ev;
	int lost = 0, applied = 0;

	CHECK_OK(daxm_region_add_extents(r, g, 1, 0));
	EXPECT_GROUP(ctx, 0);
	CHECK_OK(daxm_region_add_extents(r, g + 1, 1, 0));
	EXPECT_GROUP(ctx, 0);
	v = new_dev(r, 0);
	CHECK_OK(daxm_dev_set_tag(v, untagged));
	CHECK_OK(daxm_dev_set_size(v, 96 * MiB));
	EXPECT_RANGES(v, { S0, S0 + 64 * MiB - 1, 0 },
		      { S0 + 128 * MiB, S0 + 160 * MiB - 1, 0x4000 });
	struct daxm_view *view = NULL;
	CHECK_OK(daxm_dev_map(v, PROT_READ | PROT_WRITE, &view));
	CHECK_STR(map_perms(daxm_view_get_addr(view)), "rw-s");

	/* Revoking the first extent drops its range; the later one keeps
	 * its order with a renumbered page offset. */
	CHECK_OK(daxm_region_release_extents(r, 0, 2 * MiB, NULL, DAXM_RELEASE_FORCED));
	while (daxm_ctx_next_event(ctx, &ev) == 0) {
		if (ev->type == DAXM_EVENT_FORCED_APPLIED)
			applied++;
		if (ev->type == DAXM_EVENT_DEV_LOST_MEMORY) {
			lost++;
			CHECK_STR(ev->device, "dax3.1");
		}
		daxm_event_free(ev);
	}
	CHECK_INT(applied, 1);
	CHECK_INT(lost, 1);
	EXPECT_RANGES(v, { S0 + 128 * MiB, S0 + 160 * MiB - 1, 0 });
	CHECK_U64(daxm_dev_get_lost_bytes(v), 64 * MiB);
	CHECK_INT(count_extents(r), 1);
	CHECK_U64(daxm_region_get_available_size(r), 32 * MiB);
	/* The view of the device that lost memory is revoked: no access. */
	CHECK_STR(map_perms(daxm_view_get_addr(view)), "---p");
	CHECK_OK(daxm_view_unmap(view));
	daxm_unref(ctx);
}

/* ---- lookups ---------------------------------------------------------- */

/* daxm_extent_get_by_id / _by_offset: accepted and releasing extents by
 * their id and by any byte they hold; NULL (with a message) for holes,
 * released extents, past the end, other region kinds; a released
 * extent's getters keep answering. */
void test_extent_lookup(void)
{
	struct daxm_ctx *ctx = new_ctx();
	struct daxm_region *r, *dyn;

	parse_tags();
	r = sparse_region(ctx, 0, S0, DAXM_REGION_IDLE, 0);
	dyn = add_region(ctx, 1, DAXM_REGION_DYNAMIC, S0 + 4 * GiB, GiB, DAXM_REGION_IDLE, DAXM_PROFILE_6_12);
	{
		const struct daxm_extent_spec g[] = {
			ext(64 * MiB, 32 * MiB, tag_a, 0),
			ext(0, 2 * MiB, NULL, 0),
		};
		CHECK_OK(daxm_region_add_extents(r, g, 2, 0));
	}
	struct daxm_extent *a = daxm_extent_get_by_id(r, 0), *u = daxm_extent_get_by_id(r, 1);
	CHECK_U64(daxm_extent_get_offset(a), 64 * MiB);
	CHECK_U64(daxm_extent_get_offset(u), 0);
	CHECK_PTR(daxm_extent_get_by_offset(r, 64 * MiB), a);
	CHECK_PTR(daxm_extent_get_by_offset(r, 96 * MiB - 1), a);
	CHECK_PTR(daxm_extent_get_by_offset(r, 2 * MiB - 1), u);
	daxm_clear_last_error();
	CHECK_PTR(daxm_extent_get_by_offset(r, 96 * MiB), NULL);
	CHECK(strstr(daxm_last_error(), "no extent at offset 0x6000000") != NULL);
	CHECK_PTR(daxm_extent_get_by_offset(r, GiB), NULL);
	CHECK_PTR(daxm_extent_get_by_offset(r, UINT64_MAX), NULL);
	CHECK_PTR(daxm_extent_get_by_id(r, 2), NULL);
	CHECK_PTR(daxm_extent_get_by_id(r, -1), NULL);
	CHECK_PTR(daxm_extent_get_by_id(dyn, 0), NULL);
	CHECK_PTR(daxm_extent_get_by_offset(dyn, 0), NULL);
	CHECK_PTR(daxm_extent_get_by_id(NULL, 0), NULL);

	/* Pinned: releasing, still found; released: gone, getters answer. */
	daxm_extent_ref(a);
	CHECK_OK(daxm_extent_get(a));
	CHECK_OK(daxm_region_release_extents(r, 64 * MiB, 2 * MiB, tag_a, 0));
	CHECK_PTR(daxm_extent_get_by_id(r, 0), a);
	CHECK_INT(daxm_extent_get_state(a), DAXM_EXTENT_RELEASING);
	CHECK_OK(daxm_extent_put(a));
	CHECK_PTR(daxm_extent_get_by_id(r, 0), NULL);
	CHECK_PTR(daxm_extent_get_by_offset(r, 64 * MiB), NULL);
	CHECK_INT(daxm_extent_get_state(a), DAXM_EXTENT_RELEASED);
	CHECK_INT(daxm_extent_get_refcount(a), 0);
	CHECK_U64(daxm_extent_get_length(a), 32 * MiB);
	CHECK_INT(daxm_extent_get_id(a), 0);
	daxm_extent_unref(a);
	daxm_unref(ctx);
}
