/*
 * state.c - saved state: daxm_ctx_save / daxm_ctx_load round trips,
 * damaged and hand-edited files, and atomic saving under SIGKILL.
 */
#include "ctest.h"

#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char dir[] = "/tmp/daxm-state-XXXXXX";

const char *state_path(const char *name)
{
	static char path[256];
	if (!strchr(dir, '-') || strstr(dir, "XXXXXX")) {
		if (!mkdtemp(dir))
			return NULL;
	} else {
		mkdir(dir, 0700); /* again, after state_clean() removed it */
	}
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return path;
}

/* Removes the area's files and its directory. */
void state_clean(const char *const names[], int n)
{
	char path[300];
	for (int i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		unlink(path);
	}
	rmdir(dir);
}

/* The save temporaries of @name left in the directory ("@name.tmp-..."),
 * removed when @remove is set; returns how many there were. */
int state_temporaries(const char *name, int remove)
{
	DIR *d = opendir(dir);
	if (!d)
		return 0;
	char prefix[256], path[600];
	snprintf(prefix, sizeof(prefix), "%s.tmp-", name);
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, prefix, strlen(prefix)) != 0)
			continue;
		n++;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (remove)
			unlink(path);
	}
	closedir(d);
	return n;
}

char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *buf = malloc((size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	if (buf) {
		buf[n] = 0;
		*len = (size_t)n;
	}
	return buf;
}

int spill(const char *path, const char *buf, size_t len)
{
	FILE *f = fopen(path, "wb");
	if (!f)
		return -1;
	size_t n = fwrite(buf, 1, len, f);
	fclose(f);
	return n == len ? 0 : -1;
}

/* A model with something of everything: holes, split devices, a bound
 * device, a static region, a sparse region with tagged and untagged
 * extents, a pinned releasing extent, an open group, pending events. */
static struct daxm_ctx *rich_model(int variant)
{
	struct daxm_ctx *ctx = new_ctx();
	struct daxm_region *dyn = add_region(ctx, 0, DAXM_REGION_DYNAMIC, S0, 1 * GiB,
					     DAXM_REGION_IDLE, DAXM_PROFILE_6_1);
	struct daxm_dev *a = new_dev(dyn, 64 * MiB);
	struct daxm_dev *b = new_dev(dyn, 32 * MiB);
	CHECK_OK(daxm_dev_set_size(a, 128 * MiB)); /* split around b */
	CHECK_OK(daxm_dev_enable(b));
	new_dev(dyn, 0); /* an idle seed-less device after the bind */
	if (variant == 0)
		return ctx;
	add_region(ctx, 1, DAXM_REGION_STATIC, 0x100000000ull, 512 * MiB, 0, DAXM_PROFILE_6_12);
	struct daxm_region *sp = add_region(ctx, 2, DAXM_REGION_SPARSE, 0x1000000000ull, 1 * GiB,
					    DAXM_REGION_REVOKE, DAXM_PROFILE_6_12);
	struct daxm_extent_spec ext[3];
	memset(ext, 0, sizeof(ext));
	ext[0].offset = 0;
	ext[0].length = 64 * MiB;
	ext[1].offset = 128 * MiB;
	ext[1].length = 32 * MiB;
	CHECK_OK(daxm_tag_parse("0f0e0d0c-0b0a-4908-8706-050403020100", ext[1].tag));
	ext[2] = ext[1];
	ext[2].offset = 256 * MiB;
	ext[2].sequence = 1;
	CHECK_OK(daxm_region_add_extents(sp, ext, 3, DAXM_GROUP_SHAREABLE));
	struct daxm_dev *job;
	CHECK_OK(daxm_region_create_dev(sp, &job));
	CHECK_OK(daxm_dev_claim_tag(job, ext[1].tag));
	struct daxm_dev *u;
	CHECK_OK(daxm_region_create_dev(sp, &u));
	CHECK_OK(daxm_dev_set_tag(u, ext[0].tag));
	CHECK_OK(daxm_dev_set_size(u, 8 * MiB));
	/* A device with a tag chosen and no size yet keeps its tag too. */
	struct daxm_dev *waiting;
	CHECK_OK(daxm_region_create_dev(sp, &waiting));
	CHECK_OK(daxm_dev_set_tag(waiting, ext[1].tag));
	struct daxm_extent *first = daxm_extent_get_first(sp);
	CHECK_OK(daxm_extent_get(first));
	/* Two pins on an accepted extent that a device also uses. */
	struct daxm_extent *tagged = daxm_extent_get_next(first);
	CHECK_OK(daxm_extent_get(tagged));
	CHECK_OK(daxm_extent_get(tagged));
	CHECK_OK(daxm_region_release_extents(sp, 0, 2 * MiB, NULL, 0)); /* deferred */
	struct daxm_extent_spec staged = { .offset = 512 * MiB, .length = 2 * MiB };
	CHECK_OK(daxm_region_add_extents(sp, &staged, 1, DAXM_GROUP_MORE));
	return ctx;
}

static const char *const probe_paths[] = {
	"region0/available_size", "region0/seed", "region0/create", "dax0.1/size",
	"dax0.1/mapping1/start", "dax0.1/mapping1/page_offset", "dax0.2/size",
	"region1/size", "dax1.0/size", "region2/available_size", "region2/extent0/state",
	"region2/extent0/refcount", "region2/extent1/tag", "dax2.1/size", "dax2.1/uuid",
	"dax2.2/tag", "dax2.2/mapping0/start", "dax2.3/size", "dax2.3/tag", "region2/extent1/refcount",
	"region2/extent2/refcount",
};

void test_state_roundtrip(void)
{
	const char *p1 = state_path("one.json");
	char p2[256];
	snprintf(p2, sizeof(p2), "%s/two.json", dir);
	struct daxm_ctx *ctx = rich_model(1);
	/* Events already taken are not saved: take the first one. */
	int queued = daxm_ctx_get_nr_events(ctx);
	struct daxm_event *taken = NULL;
	CHECK(queued >= 2);
	CHECK_OK(daxm_ctx_next_event(ctx, &taken));
	daxm_event_free(taken);
	CHECK_INT(daxm_ctx_get_nr_events(ctx), queued - 1);
	CHECK_OK(daxm_ctx_save(ctx, p1));
	struct daxm_ctx *back = NULL;
	CHECK_OK(daxm_ctx_load(p1, &back));
	CHECK(back != NULL);
	CHECK_OK(daxm_ctx_save(back, p2));
	size_t n1 = 0, n2 = 0;
	char *t1 = slurp(p1, &n1), *t2 = slurp(p2, &n2);
	CHECK(t1 && t2 && n1 == n2 && memcmp(t1, t2, n1) == 0);
	for (size_t i = 0; i < sizeof(probe_paths) / sizeof(probe_paths[0]); i++) {
		char want[128] = "";
		const char *a = attr(ctx, probe_paths[i]);
		if (a)
			snprintf(want, sizeof(want), "%s", a);
		CHECK_STR(attr(back, probe_paths[i]), a ? want : NULL);
	}
	CHECK_INT(daxm_ctx_get_nr_events(back), queued - 1);
	/* The loaded model keeps working: the pin is dropped, the device
	 * shrinks, and the deferred release completes. */
	struct daxm_region *sp = daxm_region_get_by_id(back, 2);
	struct daxm_extent *first = daxm_extent_get_first(sp);
	struct daxm_extent *tagged = daxm_extent_get_next(first);
	CHECK_INT(daxm_extent_get_state(first), DAXM_EXTENT_RELEASING);
	CHECK_OK(daxm_extent_put(first));
	CHECK_OK(daxm_dev_set_size(daxm_dev_get_by_name(back, "dax2.2"), 0));
	CHECK_INT(daxm_extent_get_state(daxm_extent_get_first(sp)), DAXM_EXTENT_ACCEPTED);
	/* Pins came back as pins: two puts work, a third has none to drop. */
	CHECK_INT(daxm_extent_get_refcount(tagged), 3);
	CHECK_OK(daxm_extent_put(tagged));
	CHECK_OK(daxm_extent_put(tagged));
	CHECK_ERR(daxm_extent_put(tagged), EINVAL);
	CHECK_INT(daxm_extent_get_refcount(tagged), 1);
	/* The waiting device sizes from the tag it chose before the save. */
	struct daxm_dev *waiting = daxm_dev_get_by_name(back, "dax2.3");
	CHECK_ERR(daxm_dev_set_size(waiting, 2 * MiB), ENOSPC); /* its tag is all claimed by dax2.1 */
	CHECK_OK(daxm_dev_set_size(daxm_dev_get_by_name(back, "dax2.1"), 0));
	CHECK_OK(daxm_dev_set_size(waiting, 2 * MiB));
	CHECK_STR(attr(back, "dax2.3/tag"), "0f0e0d0c-0b0a-4908-8706-050403020100\n");
	CHECK_ERR(daxm_ctx_load(NULL, &back), EINVAL);
	CHECK_ERR(daxm_ctx_load(p1, NULL), EINVAL);
	CHECK_ERR(daxm_ctx_save(NULL, p1), EINVAL);
	CHECK_ERR(daxm_ctx_save(ctx, NULL), EINVAL);
	CHECK_ERR(daxm_ctx_save(ctx, ""), EINVAL);
	struct daxm_ctx *none = (struct daxm_ctx *)1;
	CHECK_ERR(daxm_ctx_load("/nonexistent/state.json", &none), ENOENT);
	CHECK(none == NULL);
	free(t1);
	free(t2);
	daxm_unref(back);
	daxm_unref(ctx);
	state_clean((const char *const[]){ "one.json", "two.json" }, 2);
}

/* Every truncation and many byte flips are refused or load into a
 * consistent model; hand edits name the bad field. */
void test_state_damaged(void)
{
	const char *good = state_path("good.json");
	char bad[256];
	snprintf(bad, sizeof(bad), "%s/bad.json", dir);
	struct daxm_ctx *ctx = rich_model(1);
	CHECK_OK(daxm_ctx_save(ctx, good));
	daxm_unref(ctx);
	size_t n = 0;
	char *text = slurp(good, &n);
	if (!text)
		return;
	int refused = 0, loaded = 0;
	for (size_t cut = 0; cut < n - 2; cut += 13) {
		spill(bad, text, cut);
		struct daxm_ctx *c = NULL;
		int rc = daxm_ctx_load(bad, &c);
		if (rc == -EINVAL && c == NULL)
			refused++;
		daxm_unref(c);
	}
	CHECK_INT(refused, (int)((n - 2 + 12) / 13));
	unsigned seed = 12345;
	char *copy = malloc(n);
	for (int i = 0; i < 400 && copy; i++) {
		memcpy(copy, text, n);
		seed = seed * 1103515245u + 12345u;
		size_t at = (seed >> 8) % n;
		copy[at] = (char)("0123456789:,{}[]\"x-"[(seed >> 3) % 19]);
		spill(bad, copy, n);
		struct daxm_ctx *c = NULL;
		int rc = daxm_ctx_load(bad, &c);
		CHECK(rc == 0 || rc == -EINVAL);
		if (rc == 0) {
			loaded++;
			/* whatever loaded must still answer and accept work */
			struct daxm_region *r = daxm_region_get_first(c);
			CHECK(r != NULL);
		}
		daxm_unref(c);
	}
	fprintf(stderr, "state_damaged: %d byte flips loaded, the rest refused\n", loaded);
	static const struct {
		const char *from, *to, *field;
	} edits[] = {
		{ "\"kind\": \"dynamic\"", "\"kind\": \"dynamo\"", "kind" },
		{ "\"align\": 2097152", "\"align\": 3145728", "align" },
		{ "\"version\": 1", "\"version\": 2", "version" },
		{ "\"pins\": 1", "\"pins\": -1", "pins" },
		{ "\"state\": \"releasing\"", "\"state\": \"gone\"", "state" },
		{ "\"profile\": \"6.1\"", "\"profile\": \"5.10\"", "profile" },
		{ "\"seed\": null", "\"seed\": \"dax9.9\"", "seed" },
	};
	for (size_t i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
		char *hit = strstr(text, edits[i].from);
		CHECK(hit != NULL);
		if (!hit)
			continue;
		size_t head = (size_t)(hit - text), lf = strlen(edits[i].from), lt = strlen(edits[i].to);
		char *edited = malloc(n - lf + lt + 1);
		memcpy(edited, text, head);
		memcpy(edited + head, edits[i].to, lt);
		memcpy(edited + head + lt, hit + lf, n - head - lf + 1);
		spill(bad, edited, n - lf + lt);
		struct daxm_ctx *c = NULL;
		CHECK_ERR(daxm_ctx_load(bad, &c), EINVAL);
		CHECK(strstr(daxm_last_error(), edits[i].field) != NULL);
		daxm_unref(c);
		free(edited);
	}
	free(copy);
	free(text);
	state_clean((const char *const[]){ "good.json", "bad.json" }, 2);
}

/* A process killed at random points while saving leaves a loadable file
 * holding one of the two versions it alternates between. */
void test_state_kill(void)
{
	const char *path = state_path("killed.json");
	struct daxm_ctx *small = rich_model(0);
	CHECK_OK(daxm_ctx_save(small, path));
	daxm_unref(small);
	int good = 0, rounds = 150;
	for (int i = 0; i < rounds; i++) {
		pid_t pid = fork();
		if (pid == 0) {
			struct daxm_ctx *v[2] = { rich_model(0), rich_model(1) };
			for (unsigned k = 0;; k++)
				daxm_ctx_save(v[k & 1], path);
		}
		struct timespec ts = { 0, (long)(1000 + (i * 7919) % 4000) * 1000 };
		nanosleep(&ts, NULL);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		struct daxm_ctx *c = NULL;
		int rc = daxm_ctx_load(path, &c);
		int regions = 0;
		struct daxm_region *r;
		daxm_region_foreach(c, r) regions++;
		if (rc == 0 && (regions == 1 || regions == 3))
			good++;
		else
			fprintf(stderr, "round %d: load %d, %d regions: %s\n", i, rc, regions, daxm_last_error());
		daxm_unref(c);
		/* A temporary file may stay behind; the state never tears. */
		state_temporaries("killed.json", 1);
	}
	CHECK_INT(good, rounds);
	state_clean((const char *const[]){ "killed.json" }, 1);
}

/* Writes @len bytes of @text to @path and loads them. */
int load_bytes(const char *path, const char *text, size_t len, struct daxm_ctx **out)
{
	*out = NULL;
	if (spill(path, text, len) != 0)
		return -EIO;
	return daxm_ctx_load(path, out);
}

/* Saves @ctx to @path and loads it back into *@back. */
static int round_trip(struct daxm_ctx *ctx, const char *path, struct daxm_ctx **back)
{
	*back = NULL;
	int rc = daxm_ctx_save(ctx, path);
	return rc ? rc : daxm_ctx_load(path, back);
}

/* What a document holds besides layouts: a failed probe, an open
 * shareable group; and what the loader must refuse: bytes after the
 * document, one tag in two regions. */
void test_state_edits(void)
{
	const char *path = state_path("edit.json");
	struct daxm_ctx *back = NULL;

	/* A failed probe survives: the device still cannot bind. */
	struct daxm_ctx *ctx = new_ctx();
	struct daxm_region *dyn = add_region(ctx, 0, DAXM_REGION_DYNAMIC, S0, 1 * GiB, DAXM_REGION_IDLE,
					     DAXM_PROFILE_6_1);
	struct daxm_dev *d = new_dev(dyn, 0);
	CHECK_OK(daxm_dev_set_align(d, 4096));
	CHECK_OK(daxm_dev_set_mapping(d, S0 + 4096, S0 + 4096 + 2 * MiB - 1));
	CHECK_ERR(daxm_dev_enable(d), EINVAL); /* unaligned start: the probe fails */
	CHECK_OK(round_trip(ctx, path, &back));
	struct daxm_dev *again = daxm_dev_get_by_name(back, "dax0.1");
	CHECK(again != NULL);
	CHECK_ERR(daxm_dev_enable(again), EINVAL);
	CHECK(strstr(daxm_last_error(), "earlier probe failed") != NULL);
	daxm_unref(back);
	daxm_unref(ctx);

	/* An open shareable group stays shareable: sequence numbers 0 and 2
	 * are refused when it closes after the load. */
	ctx = new_ctx();
	struct daxm_region *sp = add_region(ctx, 0, DAXM_REGION_SPARSE, 0x1000000000ull, 1 * GiB, 0,
					    DAXM_PROFILE_6_12);
	struct daxm_extent_spec e[2];
	memset(e, 0, sizeof(e));
	CHECK_OK(daxm_tag_parse("0f0e0d0c-0b0a-4908-8706-050403020100", e[0].tag));
	e[0].length = 2 * MiB;
	e[1] = e[0];
	e[1].offset = 2 * MiB;
	e[1].sequence = 2;
	CHECK_OK(daxm_region_add_extents(sp, e, 2, DAXM_GROUP_MORE | DAXM_GROUP_SHAREABLE));
	CHECK_OK(round_trip(ctx, path, &back));
	struct daxm_region *sp2 = daxm_region_get_by_id(back, 0);
	CHECK_OK(daxm_region_add_extents(sp2, NULL, 0, 0));
	CHECK_PTR(daxm_extent_get_first(sp2), NULL);
	CHECK_U64(daxm_region_get_available_size(sp2), 0);
	daxm_unref(back);

	/* Bytes after the document: refused, whatever they are. */
	CHECK_OK(daxm_ctx_save(ctx, path));
	size_t n = 0;
	char *text = slurp(path, &n);
	CHECK(text != NULL);
	static const char *const tails[] = { "x", "{}", "0", "\"\"", "]" };
	for (size_t i = 0; text && i < sizeof(tails) / sizeof(tails[0]); i++) {
		char *longer = malloc(n + 8);
		memcpy(longer, text, n);
		memcpy(longer + n, tails[i], strlen(tails[i]));
		CHECK_ERR(load_bytes(path, longer, n + strlen(tails[i]), &back), EINVAL);
		CHECK_PTR(back, NULL);
		free(longer);
	}
	CHECK_OK(load_bytes(path, text, n, &back)); /* the file itself still loads */
	daxm_unref(back);
	free(text);
	daxm_unref(ctx);

	/* One tag in two regions (a hand edit: the library never makes
	 * one): refused, naming the tag. */
	ctx = new_ctx();
	struct daxm_region *r1 = add_region(ctx, 1, DAXM_REGION_SPARSE, 0x1000000000ull, 1 * GiB, 0,
					    DAXM_PROFILE_6_12);
	struct daxm_region *r2 = add_region(ctx, 2, DAXM_REGION_SPARSE, 0x2000000000ull, 1 * GiB, 0,
					    DAXM_PROFILE_6_12);
	CHECK_OK(daxm_tag_parse("aaaaaaaa-0000-4000-8000-000000000001", e[0].tag));
	e[0].sequence = 0;
	CHECK_OK(daxm_region_add_extents(r1, e, 1, 0));
	CHECK_OK(daxm_tag_parse("bbbbbbbb-0000-4000-8000-000000000002", e[0].tag));
	CHECK_OK(daxm_region_add_extents(r2, e, 1, 0));
	CHECK_OK(daxm_ctx_save(ctx, path));
	text = slurp(path, &n);
	char *b = text ? strstr(text, "bbbbbbbb-0000-4000-8000-000000000002") : NULL;
	CHECK(b != NULL);
	if (b) {
		memcpy(b, "aaaaaaaa-0000-4000-8000-000000000001", 36);
		CHECK_ERR(load_bytes(path, text, n, &back), EINVAL);
		CHECK(strstr(daxm_last_error(), "aaaaaaaa-0000-4000-8000-000000000001") != NULL);
	}
	free(text);
	daxm_unref(ctx);
	state_clean((const char *const[]){ "edit.json" }, 1);
}
