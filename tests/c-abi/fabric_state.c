/*
 * fabric_state.c - a fabric saved and loaded as one state
 * (daxm_fabric_save / daxm_fabric_load): round trips in the middle of
 * manager and host activity, compared through every FM command and every
 * host's sysfs, then continued in lockstep; refusals (bad JSON, another
 * format, truncations, byte flips, hand edits, a context's file and the
 * other way round, misuse), each a negative errno with a message and
 * nothing left allocated (scripts/test.sh runs every area under ASan with
 * leak detection); concurrent saves racing a loader and host activity.
 */
#define _DEFAULT_SOURCE
#include "fabric.h"

#include <pthread.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SHARABLE DAXM_FABRIC_REGION_SHARABLE
#define FREE DAXM_FMAPI_SELECTION_POLICY_FREE
#define CONTIG DAXM_FMAPI_SELECTION_POLICY_CONTIGUOUS
#define ESA DAXM_FMAPI_SELECTION_POLICY_ENABLE_SHARED_ACCESS
#define FORCED DAXM_FMAPI_RELEASE_FORCED
#define NHOSTS 3

#define CHECK_MSG(what) CHECK(strstr(daxm_last_error(), (what)) != NULL)

/* ---- what a fabric answers --------------------------------------------- */

/* Appends @n bytes of @p as hex to @out. */
static void put_bytes(FILE *out, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		fprintf(out, "%02x", b[i]);
	fputc('\n', out);
}

/* One host as its sysfs shows it: region0's attributes, every device's
 * (with each mapping), every extent's; and its event queue's length. */
static void put_host(FILE *out, struct daxm_ctx *ctx)
{
	static const char *const region_attrs[] = {
		"id", "size", "align", "available_size", "create", "seed",
	};
	static const char *const dev_attrs[] = {
		"size", "align", "tag", "uuid", "target_node", "numa_node", "resource",
	};
	static const char *const ext_attrs[] = {
		"offset", "length", "tag", "sequence", "refcount", "state",
	};
	struct daxm_region *r = fab_region(ctx);
	struct daxm_dev *dev;
	struct daxm_extent *e;
	char path[128];
	const char *v;

	for (size_t i = 0; i < sizeof(region_attrs) / sizeof(region_attrs[0]); i++) {
		snprintf(path, sizeof(path), "region0/%s", region_attrs[i]);
		v = attr(ctx, path);
		fprintf(out, "%s=%s", path, v ? v : "(error)\n");
	}
	daxm_dev_foreach(r, dev) {
		const char *name = daxm_dev_get_devname(dev);
		int n = daxm_dev_get_nr_mappings(dev);

		fprintf(out, "%s enabled=%d\n", name, daxm_dev_is_enabled(dev));
		for (size_t i = 0; i < sizeof(dev_attrs) / sizeof(dev_attrs[0]); i++) {
			snprintf(path, sizeof(path), "%s/%s", name, dev_attrs[i]);
			v = attr(ctx, path);
			fprintf(out, "%s=%s", path, v ? v : "(error)\n");
		}
		for (int m = 0; m < n; m++) {
			static const char *const map_attrs[] = { "start", "end", "page_offset" };

			for (size_t i = 0; i < 3; i++) {
				snprintf(path, sizeof(path), "%s/mapping%d/%s", name, m, map_attrs[i]);
				v = attr(ctx, path);
				fprintf(out, "%s=%s", path, v ? v : "(error)\n");
			}
		}
	}
	daxm_extent_foreach(r, e) {
		int id = daxm_extent_get_id(e);

		for (size_t i = 0; i < sizeof(ext_attrs) / sizeof(ext_attrs[0]); i++) {
			snprintf(path, sizeof(path), "region0/extent%d/%s", id, ext_attrs[i]);
			v = attr(ctx, path);
			fprintf(out, "%s=%s", path, v ? v : "(error)\n");
		}
	}
	fprintf(out, "host events=%d\n", daxm_ctx_get_nr_events(ctx));
}

/*
 * Everything the fabric answers without changing: 5600h, 5601h and 5603h
 * for every host (and a host past the last), 5608h, the manager's queue
 * length, and every host's sysfs. malloc'ed; the caller frees.
 */
static char *snapshot(struct daxm_fabric *f)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	struct daxm_fmapi_get_dcd_info_rsp info;
	int hosts = daxm_fabric_get_nr_hosts(f);

	if (!out)
		return NULL;
	memset(&info, 0, sizeof(info));
	fprintf(out, "hosts=%d 5600h=%d ", hosts, daxm_fmapi_get_dcd_info(f, &info));
	put_bytes(out, &info, sizeof(info));
	for (int h = 0; h <= hosts; h++) {
		struct daxm_fmapi_get_host_dc_region_config_req req = {
			.host_id = (uint16_t)h, .region_cnt = 8, .start_region_id = 0,
		};
		struct daxm_fmapi_get_host_dc_region_config_rsp cfg;
		struct daxm_fmapi_get_dc_region_ext_list_rsp *list = NULL;
		int rc;

		memset(&cfg, 0, sizeof(cfg));
		rc = daxm_fmapi_get_dc_reg_config(f, &req, &cfg);
		fprintf(out, "host %d 5601h=%d ", h, rc);
		put_bytes(out, &cfg, sizeof(cfg));
		rc = fab_list(f, (uint16_t)h, 0, 1024, &list);
		fprintf(out, "host %d 5603h=%d ", h, rc);
		if (list)
			put_bytes(out, list, DAXM_FMAPI_SIZE(struct daxm_fmapi_get_dc_region_ext_list_rsp,
							     extents, list->extents_returned));
		else
			fputc('\n', out);
		free(list);
	}
	{
		struct daxm_fmapi_dc_list_tags_req req = { .start_idx = 0, .tags_count = 64 };
		size_t sz = DAXM_FMAPI_SIZE(struct daxm_fmapi_dc_list_tags_rsp, tags_list, 64);
		struct daxm_fmapi_dc_list_tags_rsp *tags = calloc(1, sz);
		int rc = tags ? daxm_fmapi_dc_list_tags(f, &req, tags, sz) : -ENOMEM;

		fprintf(out, "5608h=%d ", rc);
		if (rc == 0)
			put_bytes(out, tags, DAXM_FMAPI_SIZE(struct daxm_fmapi_dc_list_tags_rsp,
							     tags_list, tags->num_tags_returned));
		else
			fputc('\n', out);
		free(tags);
	}
	fprintf(out, "manager events=%d\n", daxm_fabric_get_nr_events(f));
	for (int h = 0; h < hosts; h++) {
		struct daxm_ctx *ctx = NULL;

		if (daxm_fabric_get_host(f, (unsigned)h, &ctx) != 0) {
			fprintf(out, "host %d: no context\n", h);
			continue;
		}
		fprintf(out, "---- host %d\n", h);
		put_host(out, ctx);
		daxm_unref(ctx);
	}
	fclose(out);
	return text;
}

/* The two fabrics answer alike: CHECKed, the first difference printed. */
static void t_same(const char *file, int line, const char *what, struct daxm_fabric *a,
		   struct daxm_fabric *b)
{
	char *sa = snapshot(a), *sb = snapshot(b);
	char detail[400];

	if (sa && sb && strcmp(sa, sb) == 0) {
		t_result(1, file, line, what, NULL);
	} else {
		size_t i = 0;

		while (sa && sb && sa[i] && sa[i] == sb[i])
			i++;
		size_t from = i > 80 ? i - 80 : 0;
		snprintf(detail, sizeof(detail), "first difference at %zu: ...%.120s | ...%.120s", i,
			 sa ? sa + from : "(null)", sb ? sb + from : "(null)");
		t_result(0, file, line, what, detail);
	}
	free(sa);
	free(sb);
}
#define CHECK_SAME(what, a, b) t_same(__FILE__, __LINE__, what, a, b)

/* The manager's queue of both, drained: the same records. */
static void t_same_events(const char *file, int line, struct daxm_fabric *a, struct daxm_fabric *b)
{
	struct daxm_fabric_event ea[64], eb[64];
	int na, nb;

	memset(ea, 0, sizeof(ea));
	memset(eb, 0, sizeof(eb));
	na = fab_events(a, ea, 64);
	nb = fab_events(b, eb, 64);
	t_check_i64(file, line, "records in the manager's queue", nb, na);
	t_result(na == nb && memcmp(ea, eb, sizeof(ea)) == 0, file, line,
		 "the same manager records", NULL);
}
#define CHECK_SAME_EVENTS(a, b) t_same_events(__FILE__, __LINE__, a, b)

/* ---- a fabric in the middle of things ---------------------------------- */

/* Host @h's device @name, shrunk to 0 and deleted. */
static int drop_dev(struct daxm_fabric *f, unsigned h, const char *name)
{
	struct daxm_ctx *ctx = NULL;
	struct daxm_dev *dev;
	int rc = daxm_fabric_get_host(f, h, &ctx);

	if (rc)
		return rc;
	dev = daxm_dev_get_by_name(ctx, name);
	rc = dev ? daxm_dev_set_size(dev, 0) : -ENOENT;
	if (rc == 0)
		rc = daxm_region_destroy_dev(fab_region(ctx), dev);
	daxm_unref(ctx);
	return rc;
}

/* A device on host @h claiming tag @n; its name in @name. */
static int claim(struct daxm_fabric *f, unsigned h, unsigned n, char name[32])
{
	struct daxm_ctx *ctx = NULL;
	struct daxm_dev *dev = NULL;
	uint8_t tag[DAXM_TAG_SIZE];
	int rc = daxm_fabric_get_host(f, h, &ctx);

	if (rc)
		return rc;
	fab_tag(tag, n);
	rc = daxm_region_create_dev(fab_region(ctx), &dev);
	if (rc == 0)
		rc = daxm_dev_claim_tag(dev, tag);
	if (rc == 0)
		snprintf(name, 32, "%s", daxm_dev_get_devname(dev));
	daxm_unref(ctx);
	return rc;
}

/*
 * Three hosts, region 0 Sharable, region 1 not. When it returns:
 *  - host 0 holds tag 1 (a device on it, a release deferred by it) and
 *    gave tag 3 back after its device went (the release waits in the host
 *    for the next delivery);
 *  - host 1 holds tag 2 (Sharable, a device on it) and kept tag 4 after
 *    a forced release (Linux ignores it);
 *  - host 2 shares tag 2 (Enable Shared Access) and has an offer of tag 5
 *    pending (not delivered);
 *  - the manager holds a reference on tag 2 and has unread records.
 */
static struct daxm_fabric *busy_fabric(void)
{
	struct daxm_fabric *f = fabric_make(DAXM_FABRIC_PROFILE_SPEC, NHOSTS, SHARABLE, 0, 64, 0);
	struct daxm_fabric_event ev[4];
	uint8_t tag[DAXM_TAG_SIZE];
	char name[32];

	if (!f)
		return NULL;
	fab_tag(tag, 1);
	CHECK_OK(fab_add(f, 0, FREE, 1, 8 * MiB, tag));
	fab_tag(tag, 3);
	CHECK_OK(fab_add(f, 0, FREE, 1, 4 * MiB, tag));
	fab_tag(tag, 2);
	CHECK_OK(fab_add(f, 1, FREE, 0, 6 * MiB, tag));
	fab_tag(tag, 4);
	CHECK_OK(fab_add(f, 1, FREE, 1, 2 * MiB, tag));
	CHECK_INT(daxm_fabric_run(f), 4);
	CHECK_OK(claim(f, 0, 1, name));
	CHECK_OK(claim(f, 0, 3, name));
	CHECK_STR(name, "dax0.2");
	CHECK_OK(claim(f, 1, 2, name));
	fab_tag(tag, 2);
	CHECK_OK(fab_add(f, 2, ESA, 0, 0, tag));
	CHECK_INT(daxm_fabric_deliver(f, 2), 1);
	struct daxm_fmapi_dc_add_ref_req ref;
	memcpy(ref.tag, tag, DAXM_TAG_SIZE);
	CHECK_OK(daxm_fmapi_dc_add_reference(f, &ref));
	fab_tag(tag, 1);
	CHECK_OK(fab_release_tag(f, 0, tag, 0, 0));
	fab_tag(tag, 3);
	CHECK_OK(fab_release_tag(f, 0, tag, 0, 0));
	CHECK_INT(daxm_fabric_deliver(f, 0), 0); /* both deferred: devices map them */
	CHECK_OK(drop_dev(f, 0, "dax0.2"));     /* tag 3 comes back, unreported */
	fab_tag(tag, 4);
	CHECK_OK(fab_release_tag(f, 1, tag, FORCED, 0));
	CHECK_INT(daxm_fabric_deliver(f, 1), 0);
	fab_tag(tag, 5);
	CHECK_OK(fab_add(f, 2, CONTIG, 1, 4 * MiB, tag));
	CHECK(fab_events(f, ev, 4) > 0); /* the manager reads what came so far */
	fab_tag(tag, 6);
	CHECK_OK(fab_add(f, 1, FREE, 1, 2 * MiB, tag));
	CHECK_INT(daxm_fabric_deliver(f, 1), 1);
	CHECK(daxm_fabric_get_nr_events(f) > 0);
	return f;
}

/* The fabric tests' log (fabric.c's): quiet, except that a broken
 * internal invariant (debug builds) fails the test. */
static void state_quiet_log(struct daxm_fabric *f, int priority, const char *file,
			    int line, const char *fn, const char *msg)
{
	(void)f, (void)priority, (void)file, (void)line;
	if (fn && strcmp(fn, "verifyAfterCall") == 0)
		t_result(0, __FILE__, __LINE__, "no broken fabric invariant after a call", msg);
}

static int quiet(void)
{
	const char *verbose = getenv("DAXM_CTEST_VERBOSE");

	return !verbose || !*verbose || strcmp(verbose, "0") == 0;
}

/* Saves @f to @path and loads it back (NULL on failure, CHECKed). */
static struct daxm_fabric *reload(struct daxm_fabric *f, const char *path)
{
	struct daxm_fabric *back = (struct daxm_fabric *)1;

	CHECK_OK(daxm_fabric_save(f, path));
	CHECK_OK(daxm_fabric_load(path, &back));
	if (back == (struct daxm_fabric *)1)
		back = NULL;
	if (!back)
		return NULL;
	if (quiet())
		daxm_fabric_set_log_fn(back, state_quiet_log);
	for (int h = 0; h < daxm_fabric_get_nr_hosts(back); h++)
		daxm_unref(fabric_host(back, (unsigned)h)); /* quiet logs for the hosts */
	return back;
}

/* Blanks the values of "order" and "serial" keys (ranks kept by a load,
 * values not) in a saved document. */
static void unnumber(char *text)
{
	static const char *const keys[] = { "\"order\": ", "\"serial\": " };

	for (size_t k = 0; k < 2; k++)
		for (char *p = strstr(text, keys[k]); p; p = strstr(p, keys[k])) {
			p += strlen(keys[k]);
			while (*p >= '0' && *p <= '9')
				*p++ = '#';
		}
}

/* Runs @call on both fabrics: the same answer. */
#define BOTH(call_a, call_b) CHECK_INT(call_b, call_a)

/* The round trip: the loaded fabric answers as the saved one, saves the
 * same bytes, and goes on exactly as it would have. */
void test_fabric_state_roundtrip(void)
{
	const char *p = state_path("fabric-one.json");
	char p1[256], p2[256], p3[256];
	uint8_t tag[DAXM_TAG_SIZE];
	char name_a[32], name_b[32];

	snprintf(p1, sizeof(p1), "%s", p ? p : "");
	snprintf(p2, sizeof(p2), "%s.2", p1);
	snprintf(p3, sizeof(p3), "%s.3", p1);
	struct daxm_fabric *f = busy_fabric();
	if (!f)
		return;
	struct daxm_ctx *old_host0 = fabric_host(f, 0);
	struct daxm_fabric *back = reload(f, p1);
	if (!back) {
		daxm_unref(old_host0);
		daxm_fabric_unref(f);
		return;
	}
	CHECK_SAME("the loaded fabric answers as the saved one", f, back);
	/* save, load, save: the same bytes */
	CHECK_OK(daxm_fabric_save(back, p2));
	size_t n1 = 0, n2 = 0;
	char *t1 = slurp(p1, &n1), *t2 = slurp(p2, &n2);
	CHECK(t1 && t2 && n1 == n2 && memcmp(t1, t2, n1) == 0);
	CHECK(t1 && strstr(t1, "\"libdaxmodel-fabric-state\"") != NULL);
	free(t1);
	free(t2);

	/* New host contexts: the old pointer stays the saved fabric's. */
	struct daxm_ctx *new_host0 = NULL;
	CHECK_OK(daxm_fabric_get_host(back, 0, &new_host0));
	CHECK(new_host0 != NULL && new_host0 != old_host0);
	if (new_host0) {
		quiet_ctx(new_host0);
		/* Still a fabric host: its capacity comes only from the fabric. */
		struct daxm_extent_spec e = ext(0, 2 * MiB, NULL, 0);
		CHECK_ERR(daxm_region_add_extents(fab_region(new_host0), &e, 1, 0), EPERM);
	}
	/* The same device names, the old one answering for the old fabric. */
	CHECK(daxm_dev_get_by_name(old_host0, "dax0.1") != NULL);
	CHECK(new_host0 && daxm_dev_get_by_name(new_host0, "dax0.1") != NULL);
	CHECK(daxm_dev_get_by_name(old_host0, "dax0.1") != daxm_dev_get_by_name(new_host0, "dax0.1"));

	/* Continued in lockstep. */
	CHECK_SAME_EVENTS(f, back);
	BOTH(daxm_fabric_run(f), daxm_fabric_run(back)); /* tag 5 accepted, tag 3 reported */
	CHECK_SAME("after run", f, back);
	CHECK_SAME_EVENTS(f, back);
	BOTH(drop_dev(f, 0, "dax0.1"), drop_dev(back, 0, "dax0.1")); /* tag 1's release completes */
	BOTH(daxm_fabric_deliver(f, 0), daxm_fabric_deliver(back, 0));
	CHECK_SAME("after the deferred release", f, back);
	CHECK_INT(fab_total(back, 0), 0);
	fab_tag(tag, 2);
	struct daxm_fmapi_dc_remove_ref_req unref;
	memcpy(unref.tag, tag, DAXM_TAG_SIZE);
	BOTH(daxm_fmapi_dc_remove_reference(f, &unref), daxm_fmapi_dc_remove_reference(back, &unref));
	BOTH(fab_release_tag(f, 2, tag, 0, 0), fab_release_tag(back, 2, tag, 0, 0));
	BOTH(fab_release_tag(f, 1, tag, 0, 0), fab_release_tag(back, 1, tag, 0, 0));
	BOTH(daxm_fabric_run(f), daxm_fabric_run(back));
	CHECK_SAME("after releasing the shared tag", f, back);
	/* The stale extent of tag 4: host 1 still shows it; the device does not. */
	fab_tag(tag, 7);
	BOTH(fab_add(f, 0, FREE, 1, 16 * MiB, tag), fab_add(back, 0, FREE, 1, 16 * MiB, tag));
	BOTH(daxm_fabric_run(f), daxm_fabric_run(back));
	BOTH(claim(f, 0, 7, name_a), claim(back, 0, 7, name_b));
	CHECK_STR(name_b, name_a);
	fab_tag(tag, 5);
	BOTH(fab_release_tag(f, 2, tag, FORCED, 0), fab_release_tag(back, 2, tag, FORCED, 0));
	BOTH(daxm_fabric_run(f), daxm_fabric_run(back));
	CHECK_SAME("at the end", f, back);
	CHECK_SAME_EVENTS(f, back);
	/* And the two save the same document, but for the numbers a loaded
	 * host bus gives its new extents and devices: it numbers them from
	 * the highest saved, not from the counter behind it (which the
	 * context format does not store), so they rank the same. */
	CHECK_OK(daxm_fabric_save(f, p2));
	CHECK_OK(daxm_fabric_save(back, p3));
	t1 = slurp(p2, &n1);
	t2 = slurp(p3, &n2);
	CHECK(t1 && t2);
	if (t1 && t2) {
		unnumber(t1);
		unnumber(t2);
		CHECK_STR(t2, t1);
	}
	free(t1);
	free(t2);

	/* A host of the loaded fabric saves as a context, and that file is a
	 * context's state. */
	if (new_host0) {
		struct daxm_ctx *copy = NULL;
		CHECK_OK(daxm_ctx_save(new_host0, p2));
		CHECK_OK(daxm_ctx_load(p2, &copy));
		daxm_unref(copy);
	}
	daxm_unref(new_host0);
	daxm_unref(old_host0);
	daxm_fabric_unref(back);
	daxm_fabric_unref(f);
	state_clean((const char *const[]){ "fabric-one.json", "fabric-one.json.2", "fabric-one.json.3" }, 3);
}

/* Every profile, and revoking hosts, round-trip too: a fabric never used,
 * then one with a device on a tag, a second offer and a forced release. */
void test_fabric_state_profiles(void)
{
	static const struct {
		uint32_t profile, hosts, r0flags, flags;
	} kinds[] = {
		{ DAXM_FABRIC_PROFILE_SPEC, 1, 0, 0 },
		{ DAXM_FABRIC_PROFILE_SPEC, 4, SHARABLE, DAXM_FABRIC_HOSTS_REVOKE },
		{ DAXM_FABRIC_PROFILE_MHSLD, 8, 0, 0 },
		{ DAXM_FABRIC_PROFILE_QEMU, 1, 0, 0 },
	};
	const char *p = state_path("fabric-kinds.json");
	char path[256];
	uint8_t tag[DAXM_TAG_SIZE];

	snprintf(path, sizeof(path), "%s", p ? p : "");
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		struct daxm_fabric *f = fabric_make(kinds[k].profile, kinds[k].hosts, kinds[k].r0flags,
						    0, 8, kinds[k].flags);
		if (!f)
			continue;
		struct daxm_fabric *back = reload(f, path);
		CHECK_SAME("an unused fabric", f, back);
		daxm_fabric_unref(back);
		struct daxm_fmapi_extent e = fx(FB + RLEN, 4 * MiB, NULL);
		fab_tag(tag, 9);
		memcpy(e.tag, tag, DAXM_TAG_SIZE);
		CHECK_OK(fab_add_list(f, 0, &e, 1));
		CHECK_INT(daxm_fabric_run(f), 1);
		e.start_dpa += 8 * MiB;
		fab_tag(e.tag, 10);
		CHECK_OK(fab_add_list(f, 0, &e, 1));
		char name[32];
		CHECK_OK(claim(f, 0, 9, name));
		struct daxm_fmapi_extent r = fx(FB + RLEN, 4 * MiB, tag);
		CHECK_OK(fab_release_list(f, 0, FORCED, &r, 1));
		back = reload(f, path);
		CHECK_SAME("a used fabric", f, back);
		if (back) {
			BOTH(daxm_fabric_run(f), daxm_fabric_run(back));
			CHECK_SAME("after run", f, back);
			CHECK_SAME_EVENTS(f, back);
		}
		daxm_fabric_unref(back);
		daxm_fabric_unref(f);
	}

	state_clean((const char *const[]){ "fabric-kinds.json" }, 1);
}

/* ---- refusals ------------------------------------------------------------ */

/* Writes @len bytes of @text to @path and loads them as a fabric. */
static int load_fabric_bytes(const char *path, const char *text, size_t len, struct daxm_fabric **out)
{
	*out = (struct daxm_fabric *)1;
	if (spill(path, text, len) != 0)
		return -EIO;
	return daxm_fabric_load(path, out);
}

/* @text with its first @from replaced by @to (malloc'ed), or NULL. */
static char *edited(const char *text, const char *from, const char *to, size_t *len)
{
	const char *hit = strstr(text, from);
	size_t n = strlen(text), lf = strlen(from), lt = strlen(to);
	char *out;

	if (!hit)
		return NULL;
	out = malloc(n - lf + lt + 1);
	if (!out)
		return NULL;
	memcpy(out, text, (size_t)(hit - text));
	memcpy(out + (hit - text), to, lt);
	memcpy(out + (hit - text) + lt, hit + lf, n - (size_t)(hit - text) - lf + 1);
	*len = n - lf + lt;
	return out;
}

void test_fabric_state_refusals(void)
{
	const char *p = state_path("fabric-good.json");
	char good[256], bad[256], ctxfile[256], longpath[5000];
	struct daxm_fabric *back = NULL;
	struct daxm_ctx *cback = NULL;

	snprintf(good, sizeof(good), "%s", p ? p : "");
	snprintf(bad, sizeof(bad), "%s.bad", good);
	snprintf(ctxfile, sizeof(ctxfile), "%s.ctx", good);
	struct daxm_fabric *f = busy_fabric();
	if (!f)
		return;
	CHECK_OK(daxm_fabric_save(f, good));
	size_t n = 0;
	char *text = slurp(good, &n);
	CHECK(text != NULL);
	if (!text) {
		daxm_fabric_unref(f);
		return;
	}

	/* Misuse. */
	back = (struct daxm_fabric *)1;
	CHECK_ERR(daxm_fabric_load(NULL, &back), EINVAL);
	CHECK_MSG("daxm_fabric_load");
	CHECK_ERR(daxm_fabric_load(good, NULL), EINVAL);
	CHECK_ERR(daxm_fabric_save(NULL, good), EINVAL);
	CHECK_ERR(daxm_fabric_save(f, NULL), EINVAL);
	CHECK_MSG("daxm_fabric_save: path is NULL");
	CHECK_ERR(daxm_fabric_save(f, ""), EINVAL);
	CHECK_MSG("path is empty");
	memset(longpath, 'a', sizeof(longpath) - 1);
	longpath[sizeof(longpath) - 1] = 0;
	CHECK_ERR(daxm_fabric_save(f, longpath), ENAMETOOLONG);
	CHECK_ERR(daxm_fabric_load(longpath, &back), ENAMETOOLONG);
	CHECK_PTR(back, NULL);
	CHECK_ERR(daxm_fabric_save(f, "/nonexistent/dir/fabric.json"), ENOENT);
	CHECK_MSG("cannot save the state (ENOENT)");
	back = (struct daxm_fabric *)1;
	CHECK_ERR(daxm_fabric_load("/nonexistent/fabric.json", &back), ENOENT);
	CHECK_PTR(back, NULL);
	CHECK_MSG("cannot read the state (ENOENT)");
	/* A directory: the read fails. */
	char dirpath[256];
	snprintf(dirpath, sizeof(dirpath), "%s", good);
	char *slash = strrchr(dirpath, '/');
	if (slash)
		*slash = 0;
	CHECK_ERR(daxm_fabric_load(dirpath, &back), EISDIR);

	/* Not JSON; another format; another version; a context's file and the
	 * other way round. */
	CHECK_ERR(load_fabric_bytes(bad, "{", 1, &back), EINVAL);
	CHECK_PTR(back, NULL);
	CHECK_MSG("not a JSON state document");
	CHECK_ERR(load_fabric_bytes(bad, "[]", 2, &back), EINVAL);
	CHECK_ERR(load_fabric_bytes(bad, "", 0, &back), EINVAL);
	size_t m = 0;
	char *e = edited(text, "\"libdaxmodel-fabric-state\"", "\"libdaxmodel-fabric-stat\"", &m);
	CHECK(e != NULL);
	if (e) {
		CHECK_ERR(load_fabric_bytes(bad, e, m, &back), EINVAL);
		CHECK_MSG("format");
	}
	free(e);
	e = edited(text, "\"version\": 1", "\"version\": 2", &m);
	CHECK(e != NULL);
	if (e) {
		CHECK_ERR(load_fabric_bytes(bad, e, m, &back), EINVAL);
		CHECK_MSG("version");
	}
	free(e);
	struct daxm_ctx *plain = new_ctx();
	add_region(plain, 0, DAXM_REGION_DYNAMIC, S0, 1 * GiB, 0, DAXM_PROFILE_6_12);
	CHECK_OK(daxm_ctx_save(plain, ctxfile));
	daxm_unref(plain);
	back = (struct daxm_fabric *)1;
	CHECK_ERR(daxm_fabric_load(ctxfile, &back), EINVAL);
	CHECK_PTR(back, NULL);
	CHECK_MSG("daxm_ctx_load");
	cback = (struct daxm_ctx *)1;
	CHECK_ERR(daxm_ctx_load(good, &cback), EINVAL);
	CHECK_PTR(cback, NULL);
	CHECK_MSG("daxm_fabric_load");
	CHECK_MSG("format");
	/* A host's part is a context's document, but not a whole file. */
	struct daxm_ctx *h0 = fabric_host(f, 0);
	CHECK_OK(daxm_ctx_save(h0, ctxfile));
	CHECK_ERR(daxm_fabric_load(ctxfile, &back), EINVAL);
	daxm_unref(h0);

	/* Every truncation is refused. */
	int refused = 0, tries = 0;
	for (size_t cut = 0; cut < n - 1; cut += 17) {
		tries++;
		int rc = load_fabric_bytes(bad, text, cut, &back);
		if (rc == -EINVAL && back == NULL && daxm_last_error()[0])
			refused++;
		if (rc == 0)
			daxm_fabric_unref(back);
	}
	CHECK_INT(refused, tries);

	/* Byte flips: refused with EINVAL, or a fabric that works. */
	unsigned seed = 4321;
	char *copy = malloc(n);
	int loaded = 0;
	for (int i = 0; i < 300 && copy; i++) {
		memcpy(copy, text, n);
		seed = seed * 1103515245u + 12345u;
		size_t at = (seed >> 8) % n;
		copy[at] = (char)("0123456789:,{}[]\"x-"[(seed >> 3) % 19]);
		int rc = load_fabric_bytes(bad, copy, n, &back);
		CHECK(rc == 0 || rc == -EINVAL);
		if (rc == 0) {
			struct daxm_fmapi_get_dcd_info_rsp info;
			loaded++;
			CHECK(back != NULL);
			CHECK_OK(daxm_fmapi_get_dcd_info(back, &info));
			CHECK(daxm_fabric_run(back) >= 0);
			CHECK_OK(daxm_fabric_save(back, ctxfile));
			daxm_fabric_unref(back);
		} else {
			CHECK_PTR(back, NULL);
		}
	}
	free(copy);
	fprintf(stderr, "fabric_state_refusals: %d byte flips loaded, the rest refused\n", loaded);

	/* Hand edits name the field. */
	static const struct {
		const char *from, *to, *field;
	} edits[] = {
		{ "\"hosts\": [", "\"hosts\": [{}, ", "hosts" },
		{ "\"profile\": \"spec\"", "\"profile\": \"cxl4\"", "device.profile" },
		{ "\"log_depth\": 64", "\"log_depth\": 0", "device.lds[0].log_depth" },
		{ "\"answers\": []", "\"answers\": [{\"kind\": \"nod\", \"ranges\": [], \"code\": 0}]",
		  "hosts[0].answers[0].kind" },
		{ "\"outstanding\": []", "\"outstanding\": [{\"request\": 0, \"extents\": 1}]",
		  "outstanding[0].request" },
		{ "\"stale_extents\": []", "\"stale_extents\": [{\"dpa\": 1, \"length\": 2}]",
		  "hosts[0].stale_extents[0]" },
		{ "\"size\": 2147483648", "\"size\": 1073741824", "hosts[0].bus" },
		/* host 2's pending offer of tag 5: its Add Capacity record, first
		 * in the document, names another tag than the offer */
		{ "\"tag\": \"fa000500-0000-0000-0000-000000000001\"",
		  "\"tag\": \"fa000500-0000-0000-0800-000000000001\"", "device.lds[2].log[0].extent" },
	};
	for (size_t i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
		e = edited(text, edits[i].from, edits[i].to, &m);
		CHECK(e != NULL);
		if (!e) {
			fprintf(stderr, "fabric_state_refusals: no \"%s\" in the document\n", edits[i].from);
			continue;
		}
		CHECK_ERR(load_fabric_bytes(bad, e, m, &back), EINVAL);
		CHECK_PTR(back, NULL);
		if (!strstr(daxm_last_error(), edits[i].field) || getenv("DAXM_CTEST_VERBOSE"))
			fprintf(stderr, "edit %zu: %s\n", i, daxm_last_error());
		CHECK_MSG(edits[i].field);
		free(e);
	}
	/* The file itself still loads. */
	CHECK_OK(load_fabric_bytes(bad, text, n, &back));
	daxm_fabric_unref(back);
	free(text);

	/* A host context closed by unbalanced unrefs: its model is gone, so
	 * the fabric cannot be saved (and the old file stays). */
	h0 = fabric_host(f, 0);
	daxm_unref(h0);
	daxm_unref(h0); /* the fabric's own reference: the host is closed */
	CHECK_ERR(daxm_fabric_save(f, good), ENODEV);
	CHECK_MSG("host 0");
	CHECK_OK(daxm_fabric_load(good, &back));
	daxm_fabric_unref(back);
	daxm_fabric_unref(f);
	state_clean((const char *const[]){ "fabric-good.json", "fabric-good.json.bad",
					   "fabric-good.json.ctx" }, 3);
}

/* ---- concurrent saves ------------------------------------------------------ */

struct fsaver {
	struct daxm_fabric *f;
	const char *path;
	int rounds, failed;
};

static void *fabric_save_loop(void *arg)
{
	struct fsaver *s = arg;

	for (int i = 0; i < s->rounds; i++)
		if (daxm_fabric_save(s->f, s->path) != 0)
			s->failed++;
	return NULL;
}

struct floader {
	const char *path;
	atomic_int *stop;
	int loads, bad;
};

static void *fabric_load_loop(void *arg)
{
	struct floader *l = arg;

	while (!atomic_load(l->stop)) {
		struct daxm_fabric *f = NULL;
		int rc = daxm_fabric_load(l->path, &f);
		int hosts = daxm_fabric_get_nr_hosts(f);

		if (rc != 0 || (hosts != 1 && hosts != NHOSTS)) {
			if (l->bad++ == 0)
				fprintf(stderr, "load %d, %d hosts: %s\n", rc, hosts, daxm_last_error());
		}
		l->loads++;
		daxm_fabric_unref(f);
	}
	return NULL;
}

/* Host 0 of the busy fabric keeps making and dropping devices (completing
 * and deferring releases) and the manager keeps delivering while it is
 * saved: every save is one moment of the whole fabric. */
struct fworker {
	struct daxm_fabric *f;
	atomic_int *stop;
	int rounds;
};

static void *fabric_work_loop(void *arg)
{
	struct fworker *w = arg;
	uint8_t tag[DAXM_TAG_SIZE];
	char name[32];

	while (!atomic_load(w->stop)) {
		unsigned n = 100 + (unsigned)(w->rounds % 50);

		fab_tag(tag, n);
		if (fab_add(w->f, 0, FREE, 1, 2 * MiB, tag) == 0) {
			daxm_fabric_deliver(w->f, 0);
			if (claim(w->f, 0, n, name) == 0) {
				fab_release_tag(w->f, 0, tag, 0, 0);
				daxm_fabric_deliver(w->f, 0);  /* deferred */
				drop_dev(w->f, 0, name);        /* completes in the host */
				daxm_fabric_deliver(w->f, 0);  /* reported */
			}
		}
		/* Both queues drained, so the document does not grow. */
		struct daxm_fabric_event ev;
		while (daxm_fabric_next_event(w->f, &ev) == 0)
			;
		struct daxm_ctx *ctx = NULL;
		if (daxm_fabric_get_host(w->f, 0, &ctx) == 0) {
			struct daxm_event *e;
			while (daxm_ctx_next_event(ctx, &e) == 0)
				daxm_event_free(e);
			daxm_unref(ctx);
		}
		w->rounds++;
		struct timespec ts = { 0, 500 * 1000 }; /* leave the locks to the savers */
		nanosleep(&ts, NULL);
	}
	return NULL;
}

void test_fabric_state_concurrent_saves(void)
{
	const char *p = state_path("fabric-raced.json");
	char path[256];

	snprintf(path, sizeof(path), "%s", p ? p : "");
	struct daxm_fabric *a = fabric_make(DAXM_FABRIC_PROFILE_SPEC, 1, 0, 0, 64, 0);
	struct daxm_fabric *b = busy_fabric();
	if (!a || !b) {
		daxm_fabric_unref(a);
		daxm_fabric_unref(b);
		return;
	}
	CHECK_OK(daxm_fabric_save(a, path));
	struct fsaver s[2] = { { a, path, 40, 0 }, { b, path, 40, 0 } };
	atomic_int stop = 0, stop_work = 0;
	struct floader l = { path, &stop, 0, 0 };
	struct fworker w = { b, &stop_work, 0 };
	pthread_t t[4];
	pthread_create(&t[2], NULL, fabric_load_loop, &l);
	pthread_create(&t[3], NULL, fabric_work_loop, &w);
	for (int i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, fabric_save_loop, &s[i]);
	for (int i = 0; i < 2; i++) {
		pthread_join(t[i], NULL);
		CHECK_INT(s[i].failed, 0);
	}
	atomic_store(&stop_work, 1);
	pthread_join(t[3], NULL);
	atomic_store(&stop, 1);
	pthread_join(t[2], NULL);
	/* The main thread calls the library only while no other thread
	 * does: in a forked child the Swift runtime's futex locks may hold
	 * the parent's thread id for the main thread (a cached gettid), and
	 * a contended one then never wakes. (Seen under ThreadSanitizer.) */
	CHECK_OK(daxm_fabric_save(b, path));
	CHECK(l.loads > 0);
	CHECK_INT(l.bad, 0);
	CHECK(w.rounds > 0);
	CHECK_INT(state_temporaries("fabric-raced.json", 1), 0);
	struct daxm_fabric *back = NULL;
	CHECK_OK(daxm_fabric_load(path, &back));
	CHECK_SAME("the last save", b, back);
	daxm_fabric_unref(back);
	daxm_fabric_unref(a);
	daxm_fabric_unref(b);
	state_clean((const char *const[]){ "fabric-raced.json" }, 1);
}
