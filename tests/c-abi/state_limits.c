/*
 * state_limits.c - what a state file may and may not hold at the edges of
 * the numbers (request ids, orders, ids, limits, group sizes, big
 * documents), saves racing each other, and paths that are bytes rather
 * than text. Each case failed before the fix that came with it (issue 10).
 */
#include "ctest.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define SPARSE_START 0x1000000000ull
#define TAG_A "aaaaaaaa-0000-4000-8000-000000000001"

static const char device0[] =
	"{\"id\":0,\"align\":2097152,\"bound\":false,\"tag\":null,\"lost_bytes\":0,"
	"\"path\":null,\"probe_failed\":false,\"ranges\":[]}";

/* A document with one region of @kind ("sparse" or "dynamic") at
 * SPARSE_START (1 GiB), written into a malloc'ed buffer. */
static char *document(const char *next_request, const char *kind, unsigned group_limit,
		      const char *extents, const char *staged, const char *devices)
{
	size_t cap = strlen(extents) + strlen(staged) + strlen(devices) + 1024;
	char *buf = malloc(cap);
	if (!buf)
		return NULL;
	snprintf(buf, cap,
		 "{\"format\":\"libdaxmodel-state\",\"version\":1,\"next_request_id\":%s,"
		 "\"driver_ids\":[],\"regions\":[{\"id\":0,\"kind\":\"%s\",\"profile\":\"6.12\","
		 "\"start\":%llu,\"size\":1073741824,\"align\":2097152,\"target_node\":-1,"
		 "\"numa_node\":-1,\"max_extents_per_group\":%u,\"max_extents\":1048576,"
		 "\"revoke\":false,\"sanitize\":true,\"seed\":null,\"youngest\":null,"
		 "\"extents\":[%s],\"staged\":[%s],\"staged_shareable\":false,\"devices\":[%s]}],"
		 "\"events\":[]}",
		 next_request, kind, SPARSE_START, group_limit, extents, staged, devices);
	return buf;
}

/* An accepted extent record of tag A. */
static void extent_json(char *buf, size_t cap, const char *id, const char *order, uint64_t offset)
{
	snprintf(buf, cap,
		 "{\"id\":%s,\"order\":%s,\"offset\":%llu,\"length\":2097152,\"tag\":\"" TAG_A "\","
		 "\"sequence\":0,\"sequenced\":false,\"state\":\"accepted\",\"pins\":0,"
		 "\"release_request\":0}",
		 id, order, (unsigned long long)offset);
}

/* Loads @text (freed here); returns the errno and the context in *@out. */
static int load_text(char *text, struct daxm_ctx **out)
{
	int rc = text ? load_bytes(state_path("limits.json"), text, strlen(text), out) : -ENOMEM;
	free(text);
	return rc;
}

/* Offers one untagged 2 MiB extent at @offset and returns the request id
 * of the group's answer (0 if there was none). */
static uint64_t offer(struct daxm_ctx *ctx, struct daxm_region *r, uint64_t offset)
{
	struct daxm_extent_spec s = ext(offset, 2 * MiB, NULL, 0);
	CHECK_OK(daxm_region_add_extents(r, &s, 1, 0));
	struct daxm_event *ev = NULL;
	uint64_t id = 0;
	if (daxm_ctx_next_event(ctx, &ev) == 0 && ev) {
		CHECK_INT(ev->type, DAXM_EVENT_GROUP);
		CHECK_INT(ev->nr_records, 1);
		if (ev->nr_records == 1)
			CHECK_INT(ev->records[0].result, 0);
		id = ev->request_id;
	}
	daxm_event_free(ev);
	return id;
}

static int count_extents(struct daxm_region *r)
{
	int n = 0;
	struct daxm_extent *e;
	daxm_extent_foreach(r, e) n++;
	return n;
}

/* Request ids: a file may start anywhere from 1; after 2^64-1 the next
 * request is 1 again (0 means "no request"); 0 is refused. */
void test_state_request_ids(void)
{
	struct daxm_ctx *ctx = NULL;
	CHECK_OK(load_text(document("18446744073709551615", "sparse", 100, "", "", device0), &ctx));
	struct daxm_region *r = daxm_region_get_by_id(ctx, 0);
	CHECK(r != NULL);
	if (r) {
		CHECK_U64(offer(ctx, r, 0), UINT64_MAX);
		CHECK_U64(offer(ctx, r, 2 * MiB), 1);
		CHECK_U64(offer(ctx, r, 4 * MiB), 2);
	}
	daxm_unref(ctx);
	CHECK_ERR(load_text(document("0", "sparse", 100, "", "", device0), &ctx), EINVAL);
	CHECK(strstr(daxm_last_error(), "next_request_id") != NULL);
	state_clean((const char *const[]){ "limits.json" }, 1);
}

/* Orders rank extents: at most 2^63-1, so the next acceptance cannot
 * wrap to 0 and fall out of the order-sorted lists. */
void test_state_orders(void)
{
	char e[512];
	struct daxm_ctx *ctx = NULL;
	extent_json(e, sizeof(e), "0", "18446744073709551615", 0);
	CHECK_ERR(load_text(document("1", "sparse", 100, e, "", device0), &ctx), EINVAL);
	CHECK(strstr(daxm_last_error(), "order") != NULL);
	extent_json(e, sizeof(e), "0", "9223372036854775808", 0);
	CHECK_ERR(load_text(document("1", "sparse", 100, e, "", device0), &ctx), EINVAL);

	extent_json(e, sizeof(e), "0", "9223372036854775807", 0);
	CHECK_OK(load_text(document("1", "sparse", 100, e, "", device0), &ctx));
	struct daxm_region *r = daxm_region_get_by_id(ctx, 0);
	if (r) {
		offer(ctx, r, 64 * MiB);
		CHECK_INT(count_extents(r), 2); /* the new extent is listed */
		CHECK_U64(daxm_region_get_available_size(r), 4 * MiB);
		struct daxm_extent *last = extent_at(r, 64 * MiB);
		CHECK(last != NULL);
	}
	daxm_unref(ctx);
	state_clean((const char *const[]){ "limits.json" }, 1);
}

/* Ids: a loaded id may be anything 0..INT_MAX; ids below it stay free and
 * are handed out lowest first; above INT_MAX is refused. A loaded pin
 * count may be INT_MAX; no pin goes beyond it. */
void test_state_ids(void)
{
	char devices[512], e[512];
	struct daxm_ctx *ctx = NULL;
	snprintf(devices, sizeof(devices),
		 "%s,{\"id\":2147483647,\"align\":2097152,\"bound\":false,\"tag\":null,"
		 "\"lost_bytes\":0,\"path\":null,\"probe_failed\":false,\"ranges\":[]}",
		 device0);
	CHECK_OK(load_text(document("1", "dynamic", 100, "", "", devices), &ctx));
	struct daxm_region *r = daxm_region_get_by_id(ctx, 0);
	CHECK(daxm_dev_get_by_name(ctx, "dax0.2147483647") != NULL);
	for (int want = 1; r && want <= 300; want++) {
		struct daxm_dev *d = NULL;
		CHECK_OK(daxm_region_create_dev(r, &d));
		if (want == 1 || want == 300)
			CHECK_INT(daxm_dev_get_id(d), want);
	}
	daxm_unref(ctx);
	snprintf(devices, sizeof(devices),
		 "%s,{\"id\":2147483648,\"align\":2097152,\"bound\":false,\"tag\":null,"
		 "\"lost_bytes\":0,\"path\":null,\"probe_failed\":false,\"ranges\":[]}",
		 device0);
	CHECK_ERR(load_text(document("1", "dynamic", 100, "", "", devices), &ctx), EINVAL);

	extent_json(e, sizeof(e), "2147483647", "0", 0);
	CHECK_OK(load_text(document("1", "sparse", 100, e, "", device0), &ctx));
	r = daxm_region_get_by_id(ctx, 0);
	if (r) {
		offer(ctx, r, 2 * MiB);
		CHECK_INT(daxm_extent_get_id(extent_at(r, 2 * MiB)), 0);
		CHECK_INT(daxm_extent_get_id(extent_at(r, 0)), 2147483647);
	}
	daxm_unref(ctx);
	extent_json(e, sizeof(e), "2147483648", "0", 0);
	CHECK_ERR(load_text(document("1", "sparse", 100, e, "", device0), &ctx), EINVAL);

	/* Pins: at most INT_MAX; daxm_extent_get() refuses the next one,
	 * whichever side of the context lock answers it. */
	extent_json(e, sizeof(e), "0", "0", 0);
	{
		char *pinned = strstr(e, "\"pins\":0,");
		char tail[512];

		CHECK(pinned != NULL);
		if (pinned) {
			snprintf(tail, sizeof(tail), "%s", pinned + strlen("\"pins\":0,"));
			snprintf(pinned, sizeof(e) - (size_t)(pinned - e), "\"pins\":2147483647,%s", tail);
		}
	}
	CHECK_OK(load_text(document("1", "sparse", 100, e, "", device0), &ctx));
	r = daxm_region_get_by_id(ctx, 0);
	if (r) {
		struct daxm_extent *x = extent_at(r, 0);

		CHECK_INT(daxm_extent_get_refcount(x), INT32_MAX);
		CHECK_ERR(daxm_extent_get(x), ERANGE);
		CHECK_INT(daxm_extent_get_refcount(x), INT32_MAX);
		CHECK_OK(daxm_extent_put(x));
		CHECK_OK(daxm_extent_get(x));
		CHECK_ERR(daxm_extent_get(x), ERANGE);
	}
	daxm_unref(ctx);
	state_clean((const char *const[]){ "limits.json" }, 1);
}

/* Region limits: what daxm_region_new accepts, the file it saves loads. */
/* Region limits: what daxm_region_new accepts, the file it saves loads. */
void test_state_limits(void)
{
	struct daxm_ctx *ctx = new_ctx();
	struct daxm_region_spec spec;
	daxm_region_spec_init(&spec);
	spec.kind = DAXM_REGION_SPARSE;
	spec.start = SPARSE_START;
	spec.size = 1 * GiB;
	spec.max_extents = (1u << 30) + 1;
	CHECK_ERR(daxm_region_new(ctx, &spec, NULL), EINVAL);
	spec.max_extents = UINT32_MAX;
	CHECK_ERR(daxm_region_new(ctx, &spec, NULL), EINVAL);
	spec.max_extents = 1u << 30;
	spec.max_extents_per_group = (1u << 24) + 1;
	CHECK_ERR(daxm_region_new(ctx, &spec, NULL), EINVAL);
	spec.max_extents_per_group = 1u << 24;
	CHECK_OK(daxm_region_new(ctx, &spec, NULL));
	const char *path = state_path("limits.json");
	CHECK_OK(daxm_ctx_save(ctx, path));
	struct daxm_ctx *back = NULL;
	CHECK_OK(daxm_ctx_load(path, &back));
	daxm_unref(back);
	daxm_unref(ctx);
	state_clean((const char *const[]){ "limits.json" }, 1);
}

/* An open group larger than max_extents_per_group could never close: the
 * loader refuses it; one that fits closes. */
void test_state_staged_groups(void)
{
	static const char two[] =
		"{\"offset\":0,\"length\":2097152,\"tag\":\"untagged\",\"sequence\":0},"
		"{\"offset\":2097152,\"length\":2097152,\"tag\":\"untagged\",\"sequence\":0}";
	struct daxm_ctx *ctx = NULL;
	CHECK_ERR(load_text(document("1", "sparse", 1, "", two, device0), &ctx), EINVAL);
	CHECK(strstr(daxm_last_error(), "staged") != NULL);
	CHECK_OK(load_text(document("1", "sparse", 2, "", two, device0), &ctx));
	struct daxm_region *r = daxm_region_get_by_id(ctx, 0);
	CHECK_OK(daxm_region_add_extents(r, NULL, 0, 0));
	struct daxm_event *ev = NULL;
	CHECK_OK(daxm_ctx_next_event(ctx, &ev));
	if (ev)
		CHECK_INT(ev->nr_records, 2);
	daxm_event_free(ev);
	CHECK_INT(count_extents(r), 2);
	daxm_unref(ctx);
	state_clean((const char *const[]){ "limits.json" }, 1);
}

/* A document with @keys unknown top-level keys ("k0".."kN", then "k5"
 * again when @dup), and @regions dynamic regions listed from the highest id
 * down; region 7 sits on region 300's addresses when @overlap. */
static char *many(int keys, int dup, int regions, int overlap)
{
	size_t cap = (size_t)keys * 24 + (size_t)regions * 900 + 4096;
	char *doc = malloc(cap);
	if (!doc)
		return NULL;
	size_t n = (size_t)snprintf(doc, cap, "{\"format\":\"libdaxmodel-state\",\"version\":1,"
				    "\"next_request_id\":1,\"driver_ids\":[],\"events\":[],");
	for (int k = 0; k < keys; k++)
		n += (size_t)snprintf(doc + n, cap - n, "\"k%d\":%d,", k, k);
	if (dup)
		n += (size_t)snprintf(doc + n, cap - n, "\"k5\":5,");
	n += (size_t)snprintf(doc + n, cap - n, "\"regions\":[");
	for (int i = regions - 1; i >= 0; i--) {
		unsigned long long at = (unsigned long long)(overlap && i == 7 ? 300 : i);
		n += (size_t)snprintf(doc + n, cap - n,
				      "{\"id\":%d,\"kind\":\"dynamic\",\"profile\":\"6.1\",\"start\":%llu,"
				      "\"size\":1073741824,\"align\":2097152,\"target_node\":-1,\"numa_node\":-1,"
				      "\"max_extents_per_group\":100,\"max_extents\":1048576,\"revoke\":false,"
				      "\"sanitize\":true,\"seed\":null,\"youngest\":null,\"extents\":[],\"staged\":[],"
				      "\"staged_shareable\":false,\"devices\":[%s]}%s",
				      i, SPARSE_START + at * GiB, device0, i ? "," : "");
	}
	snprintf(doc + n, cap - n, "]}");
	return doc;
}

/* Sizes at which a quadratic loader takes minutes (past the area's
 * timeout) and a linear one well under a second. */
#define BIG_KEYS 200000
#define BIG_REGIONS 20000

/* Big documents: an object with thousands of keys (one duplicate is still
 * found), hundreds of regions out of id order (sorted on load; an address
 * overlap is still found). */
void test_state_big_documents(void)
{
	struct daxm_ctx *ctx = NULL;
	CHECK_OK(load_text(many(BIG_KEYS, 0, BIG_REGIONS, 0), &ctx));
	int seen = 0, ordered = 1;
	struct daxm_region *r;
	daxm_region_foreach(ctx, r) ordered &= daxm_region_get_id(r) == seen++;
	CHECK_INT(seen, BIG_REGIONS);
	CHECK(ordered);
	daxm_unref(ctx);
	CHECK_ERR(load_text(many(20000, 1, 400, 0), &ctx), EINVAL);
	CHECK(strstr(daxm_last_error(), "duplicate key \"k5\"") != NULL);
	CHECK_PTR(ctx, NULL);
	CHECK_ERR(load_text(many(0, 0, 400, 1), &ctx), EINVAL);
	CHECK(strstr(daxm_last_error(), "overlaps") != NULL);
	CHECK_PTR(ctx, NULL);
	state_clean((const char *const[]){ "limits.json" }, 1);
}

/* ---- saves racing saves and loads ----------------------------------- */

struct saver {
	struct daxm_ctx *ctx;
	const char *path;
	int rounds, failed;
};

static void *save_loop(void *arg)
{
	struct saver *s = arg;
	for (int i = 0; i < s->rounds; i++)
		if (daxm_ctx_save(s->ctx, s->path) != 0)
			s->failed++;
	return NULL;
}

struct loader {
	const char *path;
	atomic_int *stop;
	int loads, bad;
};

static void *load_loop(void *arg)
{
	struct loader *l = arg;
	while (!atomic_load(l->stop)) {
		struct daxm_ctx *c = NULL;
		int rc = daxm_ctx_load(l->path, &c);
		int regions = 0;
		struct daxm_region *r;
		daxm_region_foreach(c, r) regions++;
		if (rc != 0 || (regions != 1 && regions != 3)) {
			if (l->bad++ == 0)
				fprintf(stderr, "load %d, %d regions: %s\n", rc, regions, daxm_last_error());
		}
		l->loads++;
		daxm_unref(c);
	}
	return NULL;
}

/* Four threads on two contexts save to one path while a fifth loads it:
 * every save succeeds, every load reads one whole model, and no
 * temporary file is left behind. */
void test_state_concurrent_saves(void)
{
	const char *p = state_path("raced.json");
	char path[256];
	snprintf(path, sizeof(path), "%s", p ? p : "");
	struct daxm_ctx *a = new_ctx(), *b = new_ctx();
	add_region(a, 0, DAXM_REGION_DYNAMIC, 0x100000000ull, 1 * GiB, 0, DAXM_PROFILE_6_1);
	for (int i = 0; i < 3; i++)
		add_region(b, i, DAXM_REGION_DYNAMIC, 0x100000000ull + (uint64_t)i * GiB, 1 * GiB, 0,
			   DAXM_PROFILE_6_12);
	CHECK_OK(daxm_ctx_save(a, path));
	struct saver s[4] = {
		{ a, path, 150, 0 }, { a, path, 150, 0 }, { b, path, 150, 0 }, { b, path, 150, 0 },
	};
	atomic_int stop = 0;
	struct loader l = { path, &stop, 0, 0 };
	pthread_t t[5];
	pthread_create(&t[4], NULL, load_loop, &l);
	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, save_loop, &s[i]);
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		CHECK_INT(s[i].failed, 0);
	}
	atomic_store(&stop, 1);
	pthread_join(t[4], NULL);
	CHECK(l.loads > 0);
	CHECK_INT(l.bad, 0);
	CHECK_INT(state_temporaries("raced.json", 1), 0);
	daxm_unref(a);
	daxm_unref(b);
	state_clean((const char *const[]){ "raced.json" }, 1);
}

/* ---- paths are bytes -------------------------------------------------- */

/* Paths that are not UTF-8 name exactly the file asked for: a save, its
 * load, a device's backing file (across a save and load); a path without
 * a NUL in its first 4096 bytes is -ENAMETOOLONG. */
void test_state_byte_paths(void)
{
	char dirpath[256], path[300], lossy[300], backing[300];
	snprintf(dirpath, sizeof(dirpath), "%s", state_path("x"));
	char *slash = strrchr(dirpath, '/');
	if (slash)
		*slash = 0;
	snprintf(path, sizeof(path), "%s/st\xff\xfe.json", dirpath);
	snprintf(lossy, sizeof(lossy), "%s/st\xef\xbf\xbd\xef\xbf\xbd.json", dirpath);
	snprintf(backing, sizeof(backing), "%s/dev\xff", dirpath);

	struct daxm_ctx *ctx = new_ctx();
	struct daxm_region *r = add_region(ctx, 0, DAXM_REGION_DYNAMIC, 0x100000000ull, 1 * GiB,
					   DAXM_REGION_IDLE, DAXM_PROFILE_6_12);
	struct daxm_dev *d = new_dev(r, 2 * MiB);
	int fd = open(backing, O_RDWR | O_CREAT | O_TRUNC, 0600);
	CHECK(fd >= 0);
	if (fd >= 0) {
		CHECK_INT(ftruncate(fd, 2 * MiB), 0);
		close(fd);
	}
	CHECK_OK(daxm_dev_set_path(d, backing));
	struct daxm_view *v = NULL;
	CHECK_OK(daxm_dev_map(d, PROT_READ | PROT_WRITE, &v));
	if (v) {
		((volatile unsigned char *)daxm_view_get_addr(v))[4096] = 0xab;
		CHECK_OK(daxm_view_unmap(v));
	}

	CHECK_OK(daxm_ctx_save(ctx, path));
	struct stat st;
	CHECK_INT(stat(path, &st), 0);
	CHECK_INT(stat(lossy, &st), -1);
	struct daxm_ctx *back = NULL;
	CHECK_OK(daxm_ctx_load(path, &back));
	struct daxm_dev *d2 = daxm_dev_get_by_name(back, "dax0.1");
	CHECK(d2 != NULL);
	v = NULL;
	CHECK_OK(daxm_dev_map(d2, PROT_READ, &v));
	if (v) {
		CHECK_INT(((volatile unsigned char *)daxm_view_get_addr(v))[4096], 0xab);
		CHECK_OK(daxm_view_unmap(v));
	}
	daxm_unref(back);

	/* No NUL within 4096 bytes: not a path the kernel would take. */
	char *huge = malloc(5000);
	if (huge) {
		memset(huge, 'a', 4999);
		huge[4999] = 0;
		CHECK_ERR(daxm_ctx_save(ctx, huge), ENAMETOOLONG);
		back = NULL;
		CHECK_ERR(daxm_ctx_load(huge, &back), ENAMETOOLONG);
		CHECK_PTR(back, NULL);
		CHECK_ERR(daxm_ctx_import_sysfs(ctx, huge), ENAMETOOLONG);
		CHECK_ERR(daxm_dev_set_path(d, huge), EINVAL);
		free(huge);
	}
	daxm_unref(ctx);
	unlink(path);
	unlink(backing);
	state_clean((const char *const[]){ "x" }, 1);
}
