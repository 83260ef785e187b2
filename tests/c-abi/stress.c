/*
 * stress.c - the thread rules of include/daxmodel.h under load (GitHub
 * issue 14, item 3): "any function may be called from any thread at any
 * time", "object pointers are borrowed ... valid until the context is
 * freed", deleted objects answer -ENODEV or a sentinel, released extents
 * read DAXM_EXTENT_RELEASED.
 *
 *  1. One context, eight threads: dynamic-region workers (create, size,
 *     bind, attribute writes, delete), sparse-region workers on a
 *     DAXM_REGION_REVOKE region (offer tagged groups, select and claim
 *     tags, re-tag, release plain, pinned and forced), an extent pinner,
 *     observers calling every getter on pointers from iteration (also
 *     after other threads deleted or released the objects), and a thread
 *     draining events and saving / loading the model. Every return value
 *     must be one the header allows; at the end the accounting of both
 *     regions must add up.
 *  2. Two contexts with two threads each, doing the same work apart.
 *  3. The create/delete race on daxR.1: a device pointer just returned by
 *     daxm_region_create_dev() is deleted by another thread; calls on it
 *     answer the value or -ENODEV / DAXM_INVALID, never touch freed memory.
 *  4. The last daxm_unref() racing getters on referenced regions, devices,
 *     mappings and extents: live values until the model goes, then only
 *     -ENODEV or the sentinel.
 *
 * Runs are repeatable in what each thread asks (rand_r with fixed seeds);
 * the interleaving is the scheduler's. Loops are bounded by iteration
 * counts; a deadline guard cuts them short on a very slow machine.
 * Failures inside threads are printed (the first few per thread) and
 * counted; each thread's count is CHECKed to be 0 once it is joined.
 */
#include "ctest.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

#define DYN_ITERS 120    /* iterations of a dynamic-region worker */
#define SPARSE_ITERS 80  /* iterations of a sparse-region worker */
#define MIXED_ITERS 60   /* iterations of a part 2 thread (both kinds) */
#define RACE_ITERS 1500  /* creates of the part 3 thread */
#define OBSERVE_CAP 100000 /* most rounds of a thread that runs until told */
#define DEADLINE_S 50    /* seconds: loops stop here whatever their count */
#define MAX_REPORTS 5    /* failures printed per thread; all are counted */

#define AREA (256 * MiB) /* a sparse worker's part of the region */
#define SLOT (64 * MiB)  /* one iteration's extents, 4 slots per area */
#define EXT (8 * MiB)    /* one extent */

static const uint8_t untagged[DAXM_TAG_SIZE];
static struct timespec started;
static atomic_int cut_short;
static atomic_long events_seen[DAXM_EVENT_DEV_LOST_MEMORY + 1]; /* by type, for the summary */

static int verbose(void)
{
	const char *v = getenv("DAXM_CTEST_VERBOSE");
	return v && *v && strcmp(v, "0") != 0;
}

/* ---- shared state, checks ----------------------------------------------- */

/* One context and its two regions. */
struct stress {
	struct daxm_ctx *ctx;
	struct daxm_region *dyn, *sp;
	int dyn_id, sp_id;
	uint64_t dyn_start, sp_start;
	atomic_int stop; /* the counted workers are done */
};

/* One thread. */
struct tstate {
	struct stress *s;
	int index;     /* worker number: picks the sparse area and the tags */
	unsigned seed; /* rand_r */
	long calls;    /* return values checked */
	int bad;       /* failures */
};

static int overtime(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (now.tv_sec - started.tv_sec < DEADLINE_S)
		return 0;
	atomic_store(&cut_short, 1);
	return 1;
}

static void pause_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

static unsigned rnd(struct tstate *t)
{
	return (unsigned)rand_r(&t->seed);
}

static void tfail(struct tstate *t, const char *file, int line, const char *expr,
		  const char *detail)
{
	if (t->bad++ < MAX_REPORTS)
		t_result(0, file, line, expr, detail);
}

/* ctest.h's TCHECK, counting calls and capping reports per thread. */
#undef TCHECK
#define TCHECK(t, cond) \
	do { \
		(t)->calls++; \
		if (!(cond)) \
			tfail(t, __FILE__, __LINE__, #cond, NULL); \
	} while (0)

/* @rc must be one of the @n values the header allows for the call. */
static long rc_in(struct tstate *t, const char *file, int line, const char *call,
		  long rc, const int *allowed, int n)
{
	char detail[200];

	t->calls++;
	for (int i = 0; i < n; i++)
		if (rc == allowed[i])
			return rc;
	snprintf(detail, sizeof(detail), "returned %ld %s, not a value the header allows here "
		 "(last error: %.100s)", rc, errname(rc), daxm_last_error());
	tfail(t, file, line, call, detail);
	return rc;
}

/* RC(t, call, allowed...): the call's result, checked against the list. */
#define RC(t, call, ...) \
	rc_in(t, __FILE__, __LINE__, #call, (long)(call), (const int[]){ __VA_ARGS__ }, \
	      (int)(sizeof((const int[]){ __VA_ARGS__ }) / sizeof(int)))

/* The thread's failures become one check of the area. */
static void joined(const char *who, struct tstate *t, long *calls)
{
	char detail[120];

	snprintf(detail, sizeof(detail), "%d failures in %s thread %d (printed above, up to %d)",
		 t->bad, who, t->index, MAX_REPORTS);
	t_result(t->bad == 0, __FILE__, __LINE__, who, t->bad ? detail : NULL);
	*calls += t->calls;
}

static int is_sentinel(uint64_t v)
{
	return v == DAXM_INVALID;
}

static int multiple_2m(uint64_t v)
{
	return v % (2 * MiB) == 0;
}

/* ---- fixtures --------------------------------------------------------- */

/* A 1 GiB sparse region whose forced releases revoke. */
static struct daxm_region *sparse_region(struct daxm_ctx *ctx, int id, uint64_t start)
{
	return add_region(ctx, id, DAXM_REGION_SPARSE, start, GiB, DAXM_REGION_REVOKE, DAXM_PROFILE_6_12);
}

/* A context with a dynamic region (id 0) and a sparse one (id 1). */
static void stress_init(struct stress *s, uint64_t start)
{
	memset(s, 0, sizeof(*s));
	s->ctx = new_ctx();
	s->dyn_id = 0;
	s->sp_id = 1;
	s->dyn_start = start;
	s->sp_start = start + GiB;
	s->dyn = add_region(s->ctx, 0, DAXM_REGION_DYNAMIC, s->dyn_start, GiB,
			    DAXM_REGION_IDLE, DAXM_PROFILE_6_12);
	s->sp = sparse_region(s->ctx, 1, s->sp_start);
}

/* Tags unique per worker, iteration and variant; never all zero. */
static void make_tag(uint8_t tag[DAXM_TAG_SIZE], int worker, int iter, int variant)
{
	memset(tag, 0x5a, DAXM_TAG_SIZE);
	tag[0] = (uint8_t)(worker + 1);
	tag[1] = (uint8_t)(iter >> 8);
	tag[2] = (uint8_t)iter;
	tag[3] = (uint8_t)variant;
}



/* ---- getters: every answer must be a value or the deleted answer -------- */

/* An attribute read: text with its newline, or -ENOENT where the object
 * may have gone (or, @absent, must be absent). */
static void check_attr(struct tstate *t, int line, const char *path, int may_vanish, int absent)
{
	char buf[128], detail[200];
	long n = daxm_attr_read(t->s->ctx, path, buf, sizeof(buf));
	int text = n > 0 && (size_t)n == strlen(buf) && buf[n - 1] == '\n';

	t->calls++;
	if (absent ? n == -ENOENT : text || (may_vanish && n == -ENOENT))
		return;
	snprintf(detail, sizeof(detail), "daxm_attr_read(\"%s\") returned %ld %s", path, n,
		 errname(n));
	tfail(t, __FILE__, line, "attribute read", detail);
}

static void check_attrs(struct tstate *t, int line, const char *dir, const char *const *names,
			int may_vanish)
{
	char path[96];

	for (int i = 0; names[i]; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		check_attr(t, line, path, may_vanish, 0);
	}
}

/* The start of the region a device name "daxR.N" belongs to. */
static uint64_t region_start_of(struct stress *s, const char *devname)
{
	return strncmp(devname + 3, "0.", 2) == 0 ? s->dyn_start : s->sp_start;
}

static void check_mapping(struct tstate *t, struct daxm_mapping *m, struct daxm_dev *owner,
			  uint64_t lo)
{
	int id = daxm_mapping_get_id(m);
	uint64_t start = daxm_mapping_get_start(m), end = daxm_mapping_get_end(m);
	uint64_t size = daxm_mapping_get_size(m), pgoff = daxm_mapping_get_offset(m);
	struct daxm_dev *dev = daxm_mapping_get_dev(m);

	TCHECK(t, id >= 0 || id == -ENODEV);
	TCHECK(t, is_sentinel(start) || (start >= lo && start < lo + GiB && multiple_2m(start)));
	TCHECK(t, is_sentinel(end) || (end > lo && end < lo + GiB && multiple_2m(end + 1)));
	TCHECK(t, is_sentinel(size) || (size > 0 && size <= GiB && multiple_2m(size)));
	TCHECK(t, is_sentinel(pgoff) || (pgoff < GiB / PAGE && pgoff % (2 * MiB / PAGE) == 0));
	TCHECK(t, dev == NULL || dev == owner);
	if (id >= 0) {
		static const char *const names[] = { "start", "end", "page_offset", NULL };
		char dir[64];
		snprintf(dir, sizeof(dir), "%s/mapping%d", daxm_dev_get_devname(owner), id);
		check_attrs(t, __LINE__, dir, names, 1);
	}
}

/* Every device getter; @m_seen, when given, keeps mapping pointers. */
static void check_dev(struct tstate *t, struct daxm_dev *d, struct daxm_mapping **m_seen,
		      struct daxm_dev **m_owner, int *nm, int ring)
{
	struct stress *s = t->s;
	const char *name = daxm_dev_get_devname(d);
	int id = daxm_dev_get_id(d), nr = daxm_dev_get_nr_mappings(d);
	int on = daxm_dev_is_enabled(d), node = daxm_dev_get_target_node(d);
	uint64_t size = daxm_dev_get_size(d), align = daxm_dev_get_align(d);
	uint64_t res = daxm_dev_get_resource(d), lost = daxm_dev_get_lost_bytes(d);
	struct daxm_region *r = daxm_dev_get_region(d);
	struct daxm_ctx *c = daxm_dev_get_ctx(d);
	uint8_t tag[DAXM_TAG_SIZE];
	int tagged = daxm_dev_get_tag(d, tag);
	struct daxm_mapping *m;
	uint64_t lo;

	TCHECK(t, name != NULL && strncmp(name, "dax", 3) == 0);
	if (!name)
		return;
	lo = region_start_of(s, name);
	TCHECK(t, id >= 0 || id == -ENODEV);
	TCHECK(t, nr >= 0 || nr == -ENODEV);
	TCHECK(t, on == 0 || on == 1 || on == -ENODEV);
	TCHECK(t, node == -1 || node == -ENODEV);
	TCHECK(t, is_sentinel(size) || (size <= GiB && multiple_2m(size)));
	TCHECK(t, is_sentinel(align) || align == 2 * MiB);
	TCHECK(t, is_sentinel(res) || (res >= lo && res < lo + GiB));
	TCHECK(t, is_sentinel(lost) || multiple_2m(lost));
	TCHECK(t, r == NULL || r == s->dyn || r == s->sp);
	TCHECK(t, c == NULL || c == s->ctx);
	TCHECK(t, tagged == 0 || tagged == 1 || tagged == -ENODEV);
	daxm_mapping_foreach(d, m) {
		check_mapping(t, m, d, lo);
		if (m_seen) {
			m_seen[*nm % ring] = m;
			m_owner[*nm % ring] = d;
			(*nm)++;
		}
	}
	{
		static const char *const names[] = { "size", "align", "numa_node", "resource",
						     "modalias", NULL };
		static const char *const sparse_names[] = { "tag", "uuid", NULL };
		char path[64];
		check_attrs(t, __LINE__, name, names, 1);
		if (lo == s->sp_start)
			check_attrs(t, __LINE__, name, sparse_names, 1);
		snprintf(path, sizeof(path), "%s/target_node", name); /* the region has none */
		check_attr(t, __LINE__, path, 1, 1);
	}
}

/* Extents of a live context stay readable, released ones too. */
static void check_extent(struct tstate *t, struct daxm_extent *e)
{
	int id = daxm_extent_get_id(e), seq = daxm_extent_get_sequence(e);
	int refs = daxm_extent_get_refcount(e), state = daxm_extent_get_state(e);
	uint64_t off = daxm_extent_get_offset(e), len = daxm_extent_get_length(e);
	struct daxm_region *r = daxm_extent_get_region(e);
	uint8_t tag[DAXM_TAG_SIZE];

	TCHECK(t, id >= 0);
	TCHECK(t, seq >= 0);
	TCHECK(t, refs >= 0); /* the brief's "refcount >= 0", at any time */
	TCHECK(t, state == DAXM_EXTENT_ACCEPTED || state == DAXM_EXTENT_RELEASING ||
		      state == DAXM_EXTENT_RELEASED);
	TCHECK(t, off < GiB && multiple_2m(off));
	TCHECK(t, len == EXT);
	TCHECK(t, r == t->s->sp);
	RC(t, daxm_extent_get_tag(e, tag), 0);
	if (id >= 0) {
		static const char *const names[] = { "offset", "length", "tag", "sequence",
						     "refcount", "state", NULL };
		char dir[64];
		snprintf(dir, sizeof(dir), "region%d/extent%d", t->s->sp_id, id);
		check_attrs(t, __LINE__, dir, names, 1);
	}
}

static void check_region(struct tstate *t, struct daxm_region *r)
{
	struct stress *s = t->s;
	int id = daxm_region_get_id(r), dyn = id == s->dyn_id;
	uint64_t avail = daxm_region_get_available_size(r);
	struct daxm_dev *seed = daxm_region_get_dev_seed(r);
	struct daxm_dev *young = daxm_region_get_dev_youngest(r);
	char dir[32];
	static const char *const names[] = { "id", "size", "align", "available_size",
					     "create", "seed", NULL };

	TCHECK(t, id == s->dyn_id || id == s->sp_id);
	TCHECK(t, daxm_region_get_kind(r) == (dyn ? DAXM_REGION_DYNAMIC : DAXM_REGION_SPARSE));
	TCHECK(t, daxm_region_get_profile(r) == DAXM_PROFILE_6_12);
	TCHECK(t, daxm_region_get_start(r) == (dyn ? s->dyn_start : s->sp_start));
	TCHECK(t, daxm_region_get_size(r) == GiB);
	TCHECK(t, daxm_region_get_align(r) == 2 * MiB);
	TCHECK(t, avail <= GiB && multiple_2m(avail));
	TCHECK(t, daxm_region_get_target_node(r) == -1);
	TCHECK(t, daxm_region_get_ctx(r) == s->ctx);
	if (seed) /* borrowed: may be deleted by now, still callable */
		check_dev(t, seed, NULL, NULL, NULL, 0);
	if (young)
		check_dev(t, young, NULL, NULL, NULL, 0);
	snprintf(dir, sizeof(dir), "region%d", id);
	check_attrs(t, __LINE__, dir, names, 0);
}

/* ---- dynamic-region work ------------------------------------------------ */

static uint64_t some_size(struct tstate *t, unsigned max_units)
{
	return (1 + rnd(t) % max_units) * 2 * MiB;
}

/* Bound, the device refuses resize and delete; only this thread binds it. */
static void bind_cycle(struct tstate *t, struct daxm_region *r, struct daxm_dev *d)
{
	if (RC(t, daxm_dev_enable(d), 0, -ENXIO, -ENODEV) != 0)
		return;
	RC(t, daxm_dev_is_enabled(d), 1);
	RC(t, daxm_dev_set_size(d, 0), -EBUSY);
	RC(t, daxm_region_destroy_dev(r, d), -EBUSY);
	RC(t, daxm_dev_disable(d), 0);
}

/* Create, size, bind, resize, delete one device. Another worker may
 * delete it by name while it has size 0 (then calls on it answer
 * -ENODEV, and its name may be a newer device's). */
static void dyn_iteration(struct tstate *t, int i)
{
	struct stress *s = t->s;
	struct daxm_dev *d = NULL;
	char path[64], value[32], del[32];
	const char *name;

	snprintf(del, sizeof(del), "region%d/delete", s->dyn_id);
	if (RC(t, daxm_region_create_dev(s->dyn, &d), 0, -ENOSPC) != 0 || !d)
		return;
	name = daxm_dev_get_devname(d);
	RC(t, daxm_dev_set_size(d, some_size(t, 32)), 0, -ENOSPC, -ENODEV);
	snprintf(path, sizeof(path), "%s/size", name);
	snprintf(value, sizeof(value), "%#llx\n", (unsigned long long)some_size(t, 16));
	RC(t, daxm_attr_write(s->ctx, path, value), 0, -ENOSPC, -ENOENT, -EBUSY);
	if (rnd(t) % 2)
		bind_cycle(t, s->dyn, d);
	RC(t, daxm_dev_set_size(d, some_size(t, 8)), 0, -ENOSPC, -ENODEV);
	if (rnd(t) % 4 == 0) { /* someone's device, maybe */
		snprintf(value, sizeof(value), "dax%d.%u", s->dyn_id, 1 + rnd(t) % 8);
		RC(t, daxm_attr_write(s->ctx, del, value), 0, -EBUSY, -ENXIO);
	}
	RC(t, daxm_dev_set_size(d, 0), 0, -ENODEV);
	/* -EBUSY: another worker's device was deleted by a random delete
	 * write, this one took its name, and that worker's size write by
	 * name landed between the two calls. */
	if (i % 2)
		RC(t, daxm_region_destroy_dev(s->dyn, d), 0, -ENODEV, -EBUSY);
	else /* the name may be a newer device by now, with size */
		RC(t, daxm_attr_write(s->ctx, del, name), 0, -ENXIO, -EBUSY);
}

/* ---- sparse-region work ------------------------------------------------- */

/* A tagged pair and an untagged extent, as one group or two calls. */
static void offer_slot(struct tstate *t, uint64_t base, const uint8_t *tag)
{
	const struct daxm_extent_spec g[] = {
		ext(base, EXT, tag, 0), ext(base + 16 * MiB, EXT, tag, 1), ext(base + 32 * MiB, EXT, NULL, 0),
	};
	struct daxm_region *sp = t->s->sp;

	if (rnd(t) % 2) {
		RC(t, daxm_region_add_extents(sp, g, 2, DAXM_GROUP_MORE), 0);
		RC(t, daxm_region_add_extents(sp, g + 2, 1, 0), 0);
	} else {
		RC(t, daxm_region_add_extents(sp, g, 3, 0), 0);
	}
}

/* A device that selects @tag and takes 16 MiB of it, through the API or
 * the attributes. Offers may have been refused (leftovers in the slot):
 * then there is no room. */
static struct daxm_dev *tagged_dev(struct tstate *t, const uint8_t *tag)
{
	struct stress *s = t->s;
	struct daxm_dev *d = NULL;
	char path[64], text[40];

	if (RC(t, daxm_region_create_dev(s->sp, &d), 0, -ENOSPC) != 0 || !d)
		return NULL;
	if (rnd(t) % 2) {
		RC(t, daxm_dev_set_tag(d, tag), 0);
		RC(t, daxm_dev_set_size(d, 16 * MiB), 0, -ENOSPC);
		return d;
	}
	RC(t, daxm_tag_format(tag, text, sizeof(text)), 36);
	snprintf(path, sizeof(path), "%s/tag", daxm_dev_get_devname(d));
	RC(t, daxm_attr_write(s->ctx, path, text), 0);
	snprintf(path, sizeof(path), "%s/size", daxm_dev_get_devname(d));
	RC(t, daxm_attr_write(s->ctx, path, "0x1000000"), 0, -ENOSPC);
	return d;
}

/* A device that claims a whole tag group (or one free untagged extent). */
static struct daxm_dev *claiming_dev(struct tstate *t, const uint8_t *tag)
{
	struct stress *s = t->s;
	struct daxm_dev *d = NULL;
	char path[64], text[40];

	if (RC(t, daxm_region_create_dev(s->sp, &d), 0, -ENOSPC) != 0 || !d)
		return NULL;
	if (rnd(t) % 2) {
		RC(t, daxm_dev_claim_tag(d, tag), 0, -ENOENT, -EBUSY);
		return d;
	}
	RC(t, daxm_tag_format(tag, text, sizeof(text)), 36);
	snprintf(path, sizeof(path), "%s/uuid", daxm_dev_get_devname(d));
	RC(t, daxm_attr_write(s->ctx, path, text), 0, -ENOENT, -EBUSY);
	return d;
}

/* Unbind, shrink and delete one of this thread's devices. */
static void drop_dev(struct tstate *t, struct daxm_dev *d, int bound)
{
	struct stress *s = t->s;
	char del[32];

	if (!d)
		return;
	if (bound)
		RC(t, daxm_dev_disable(d), 0);
	if (daxm_dev_get_size(d) != 0)
		RC(t, daxm_dev_set_size(d, 0), 0);
	if (rnd(t) % 2) {
		RC(t, daxm_region_destroy_dev(s->sp, d), 0);
	} else {
		snprintf(del, sizeof(del), "region%d/delete", s->sp_id);
		RC(t, daxm_attr_write(s->ctx, del, daxm_dev_get_devname(d)), 0);
	}
	RC(t, daxm_dev_get_id(d), -ENODEV);
}

/* Release the extent at @off with the tag it has now; the state after. */
static int release_at(struct tstate *t, uint64_t off, unsigned flags)
{
	struct daxm_extent *e = extent_at(t->s->sp, off);
	uint8_t tag[DAXM_TAG_SIZE];

	if (!e || RC(t, daxm_extent_get_tag(e, tag), 0) != 0)
		return 0;
	if (RC(t, daxm_region_release_extents(t->s->sp, off, EXT, tag, flags), 0) != 0)
		return 0;
	return daxm_extent_get_state(e);
}

/* Pinned, a release waits for the put (and for device ranges). */
static void release_pinned(struct tstate *t, uint64_t off)
{
	struct daxm_extent *e = extent_at(t->s->sp, off);
	int state;

	if (!e || RC(t, daxm_extent_get(e), 0, -EBUSY, -ENODEV) != 0)
		return;
	RC(t, daxm_region_release_extents(t->s->sp, off, EXT, NULL, 0), 0);
	RC(t, daxm_extent_get_state(e), DAXM_EXTENT_RELEASING);
	RC(t, daxm_extent_get(e), -EBUSY);
	RC(t, daxm_extent_put(e), 0);
	state = daxm_extent_get_state(e);
	TCHECK(t, state == DAXM_EXTENT_RELEASING || state == DAXM_EXTENT_RELEASED);
}

/* What is left in the slot goes, extent by extent with its own tag. */
static void release_slot(struct tstate *t, uint64_t base)
{
	struct daxm_extent *e, *mine[16];
	uint8_t tag[DAXM_TAG_SIZE];
	int n = 0;

	daxm_extent_foreach(t->s->sp, e) {
		uint64_t off = daxm_extent_get_offset(e);
		if (off >= base && off < base + SLOT && n < 16)
			mine[n++] = e;
	}
	for (int k = 0; k < n; k++) {
		if (RC(t, daxm_extent_get_tag(mine[k], tag), 0) != 0)
			continue;
		RC(t, daxm_region_release_extents(t->s->sp, daxm_extent_get_offset(mine[k]), EXT,
						  tag, 0), 0);
	}
}

/*
 * One slot's life: offer, allocate by tag and by claim, maybe bind and
 * re-tag, release one of three ways while devices (and maybe the pinner)
 * hold references, then drop the devices and release the rest. Only
 * this thread releases or re-tags extents of its area; other threads'
 * devices may claim its untagged extent and the pinner may pin any.
 */
static void sparse_iteration(struct tstate *t, int i)
{
	uint64_t base = (uint64_t)(t->index % 4) * AREA + (uint64_t)(i % 4) * SLOT;
	uint8_t tag[DAXM_TAG_SIZE], tag2[DAXM_TAG_SIZE];
	struct daxm_dev *a, *b;
	int bound = 0, state;

	make_tag(tag, t->index, i, 0);
	make_tag(tag2, t->index, i, 1);
	offer_slot(t, base, tag);
	a = tagged_dev(t, tag);
	b = claiming_dev(t, rnd(t) % 2 ? tag : untagged);
	if (a && rnd(t) % 3 == 0)
		bound = RC(t, daxm_dev_enable(a), 0, -ENXIO) == 0;
	if (rnd(t) % 3 == 0) {
		/* The extent found may be an earlier life's, still releasing
		 * because the pinner held it; the pinner's put can complete its
		 * release before the re-tag: -ENODEV. */
		struct daxm_extent *e = extent_at(t->s->sp, base + 16 * MiB);
		if (e)
			RC(t, daxm_extent_set_tag(e, tag2, rnd(t) % 2 ? DAXM_TAG_WHOLE_GROUP : 0),
			   0, -EBUSY, -ENODEV);
	}
	switch (rnd(t) % 3) {
	case 0: /* plain: referenced extents wait for their references */
		state = release_at(t, base, 0);
		TCHECK(t, state == 0 || state == DAXM_EXTENT_RELEASING ||
			      state == DAXM_EXTENT_RELEASED);
		break;
	case 1:
		release_pinned(t, base + 32 * MiB);
		break;
	default: /* forced: goes at once, device ranges inside are revoked */
		state = release_at(t, base, DAXM_RELEASE_FORCED);
		TCHECK(t, state == 0 || state == DAXM_EXTENT_RELEASED);
		if (a)
			TCHECK(t, multiple_2m(daxm_dev_get_lost_bytes(a)));
		/* a device that lost all its memory is no longer bound (not
		 * in the header: Allocator.swift revokeRanges unbinds it) */
		if (bound)
			bound = RC(t, daxm_dev_is_enabled(a), 0, 1) == 1;
	}
	drop_dev(t, a, bound);
	drop_dev(t, b, 0);
	release_slot(t, base);
}

/* ---- part 1 threads ------------------------------------------------------- */

static void *dyn_worker(void *arg)
{
	struct tstate *t = arg;

	for (int i = 0; i < DYN_ITERS && !overtime(); i++)
		dyn_iteration(t, i);
	return NULL;
}

static void *sparse_worker(void *arg)
{
	struct tstate *t = arg;

	for (int i = 0; i < SPARSE_ITERS && !overtime(); i++)
		sparse_iteration(t, i);
	return NULL;
}

/* Pins extents found by iteration, holding up to four at a time so that
 * releases race them and get deferred. */
static void *pinner(void *arg)
{
	struct tstate *t = arg;
	struct daxm_extent *held[4] = { 0 }, *found[32], *e;
	int n;

	for (int round = 0; !atomic_load(&t->s->stop) && round < OBSERVE_CAP && !overtime();
	     round++) {
		int slot = round % 4;
		if (held[slot]) {
			RC(t, daxm_extent_put(held[slot]), 0, -ENODEV); /* -ENODEV: revoked */
			daxm_extent_unref(held[slot]);
			held[slot] = NULL;
		}
		n = 0;
		daxm_extent_foreach(t->s->sp, e)
			if (n < 32)
				found[n++] = e;
		if (n == 0) {
			sched_yield();
			continue;
		}
		e = found[rnd(t) % (unsigned)n];
		if (RC(t, daxm_extent_get(e), 0, -EBUSY, -ENODEV) == 0) {
			TCHECK(t, daxm_extent_get_refcount(e) >= 0);
			held[slot] = daxm_extent_ref(e);
		}
		sched_yield();
	}
	for (int k = 0; k < 4; k++) {
		if (held[k]) {
			RC(t, daxm_extent_put(held[k]), 0, -ENODEV);
			daxm_extent_unref(held[k]);
		}
	}
	return NULL;
}

#define RING 64

/* Pointers seen in earlier rounds: by now maybe deleted or released. */
struct seen {
	struct daxm_dev *devs[RING];
	struct daxm_mapping *maps[RING];
	struct daxm_dev *map_owner[RING];
	struct daxm_extent *exts[RING];
	int ndev, nmap, next;
};

static void observe_once(struct tstate *t, struct seen *seen)
{
	struct stress *s = t->s;
	struct daxm_region *r;
	struct daxm_dev *d;
	struct daxm_extent *e;
	int regions = 0;

	daxm_region_foreach(s->ctx, r) {
		regions++;
		check_region(t, r);
		daxm_dev_foreach(r, d) {
			check_dev(t, d, seen->maps, seen->map_owner, &seen->nmap, RING);
			seen->devs[seen->ndev++ % RING] = d;
		}
	}
	TCHECK(t, regions == 2);
	daxm_extent_foreach(s->sp, e) {
		check_extent(t, e);
		seen->exts[seen->next++ % RING] = e;
	}
	for (int k = 0; k < RING && k < seen->ndev; k++)
		check_dev(t, seen->devs[k], NULL, NULL, NULL, 0);
	for (int k = 0; k < RING && k < seen->nmap; k++) {
		const char *name = daxm_dev_get_devname(seen->map_owner[k]);
		check_mapping(t, seen->maps[k], seen->map_owner[k], region_start_of(s, name));
	}
	for (int k = 0; k < RING && k < seen->next; k++)
		check_extent(t, seen->exts[k]);
}

static void *observer(void *arg)
{
	struct tstate *t = arg;
	struct seen *seen = calloc(1, sizeof(*seen));

	for (int round = 0; seen && !atomic_load(&t->s->stop) && round < OBSERVE_CAP &&
			    !overtime();
	     round++) {
		observe_once(t, seen);
		sched_yield();
	}
	free(seen);
	return NULL;
}

/* ---- events, save and load ------------------------------------------------- */

static void check_event(struct tstate *t, const struct daxm_event *ev)
{
	TCHECK(t, ev->type >= DAXM_EVENT_GROUP && ev->type <= DAXM_EVENT_DEV_LOST_MEMORY);
	if (ev->type <= DAXM_EVENT_DEV_LOST_MEMORY)
		atomic_fetch_add(&events_seen[ev->type], 1);
	TCHECK(t, ev->region_id == t->s->sp_id);
	TCHECK(t, ev->nr_records == 0 || ev->records != NULL);
	TCHECK(t, (ev->device != NULL) == (ev->type == DAXM_EVENT_DEV_LOST_MEMORY));
	for (uint32_t k = 0; ev->records && k < ev->nr_records; k++) {
		const struct daxm_extent_record *rec = &ev->records[k];
		int res = rec->result;
		TCHECK(t, rec->reason != NULL);
		TCHECK(t, multiple_2m(rec->offset) && multiple_2m(rec->length));
		TCHECK(t, res == 0 || (ev->type == DAXM_EVENT_GROUP &&
				       (res == -EBUSY || res == -ECANCELED || res == -EEXIST ||
					res == -ENOSPC || res == -EINVAL || res == -ERANGE)));
	}
}

static int drain_events(struct tstate *t)
{
	struct daxm_event *ev = NULL;
	int n = 0;

	while (RC(t, daxm_ctx_next_event(t->s->ctx, &ev), 0, -EAGAIN) == 0 && ev) {
		check_event(t, ev);
		daxm_event_free(ev);
		ev = NULL;
		n++;
	}
	TCHECK(t, ev == NULL);
	return n;
}

/* Sum of the device sizes of @r, and each device's ranges in order. */
static uint64_t dev_sizes(struct tstate *t, struct daxm_region *r)
{
	struct daxm_dev *d;
	uint64_t sum = 0;

	daxm_dev_foreach(r, d) {
		struct daxm_mapping *m;
		uint64_t ranges = 0;
		daxm_mapping_foreach(d, m) {
			TCHECK(t, daxm_mapping_get_offset(m) == ranges / PAGE);
			ranges += daxm_mapping_get_size(m);
		}
		TCHECK(t, ranges == daxm_dev_get_size(d));
		sum += daxm_dev_get_size(d);
	}
	return sum;
}

/* Bytes of device ranges inside accepted extents; sets *accepted to the
 * extents' total length. A releasing extent must still be referenced. */
static uint64_t used_in_accepted(struct tstate *t, struct daxm_region *sp, uint64_t *accepted)
{
	uint64_t lo = daxm_region_get_start(sp), used = 0;
	struct daxm_extent *e;

	*accepted = 0;
	daxm_extent_foreach(sp, e) {
		uint64_t s = lo + daxm_extent_get_offset(e), len = daxm_extent_get_length(e);
		int state = daxm_extent_get_state(e), refs = daxm_extent_get_refcount(e);
		struct daxm_dev *d;
		struct daxm_mapping *m;

		TCHECK(t, refs >= 0);
		TCHECK(t, state == DAXM_EXTENT_ACCEPTED || (state == DAXM_EXTENT_RELEASING && refs > 0));
		if (state != DAXM_EXTENT_ACCEPTED)
			continue;
		*accepted += len;
		daxm_dev_foreach(sp, d)
			daxm_mapping_foreach(d, m)
				if (daxm_mapping_get_start(m) >= s &&
				    daxm_mapping_get_end(m) <= s + len - 1)
					used += daxm_mapping_get_size(m);
	}
	return used;
}

/*
 * The model of a context that no thread changes (a loaded copy, or the
 * shared one after the join): the dynamic region's accounting adds up,
 * the sparse one's available bytes are the free bytes of its accepted
 * extents, and available_size reads back as the getter says.
 */
static void check_quiet_model(struct tstate *t, struct daxm_ctx *ctx)
{
	struct daxm_region *dyn = daxm_region_get_by_id(ctx, 0);
	struct daxm_region *sp = daxm_region_get_by_id(ctx, 1);
	uint64_t accepted = 0, used;
	char buf[64];

	TCHECK(t, dyn != NULL && sp != NULL);
	if (!dyn || !sp)
		return;
	TCHECK(t, daxm_region_get_available_size(dyn) + dev_sizes(t, dyn) == GiB);
	used = used_in_accepted(t, sp, &accepted);
	(void)dev_sizes(t, sp);
	TCHECK(t, daxm_region_get_available_size(sp) + used == accepted);
	TCHECK(t, daxm_attr_read(ctx, "region0/available_size", buf, sizeof(buf)) > 1 &&
		      strtoull(buf, NULL, 10) == daxm_region_get_available_size(dyn));
	TCHECK(t, daxm_attr_read(ctx, "region1/available_size", buf, sizeof(buf)) > 1 &&
		      strtoull(buf, NULL, 10) == daxm_region_get_available_size(sp));
}

/* The copy a load makes is a quiet model of its own. */
static void load_copy(struct tstate *t, const char *path)
{
	struct daxm_ctx *copy = NULL;

	if (RC(t, daxm_ctx_load(path, &copy), 0) != 0 || !copy)
		return;
	check_quiet_model(t, copy);
	daxm_unref(copy);
}

struct saver {
	struct tstate t;
	const char *path;
	int saves, loads;
	long events;
};

static void *events_and_save(void *arg)
{
	struct saver *sv = arg;
	struct tstate *t = &sv->t;

	/* After the workers stop, keep going until one load was done: a fast
	 * build finishes the workers within a few rounds. */
	for (int round = 0;
	     (!atomic_load(&t->s->stop) || sv->loads == 0) && round < OBSERVE_CAP && !overtime();
	     round++) {
		sv->events += drain_events(t);
		if (round % 4 == 0 && RC(t, daxm_ctx_save(t->s->ctx, sv->path), 0) == 0)
			sv->saves++;
		if (round % 16 == 8 && sv->saves > 0) {
			load_copy(t, sv->path);
			sv->loads++;
		}
		pause_ms(2);
	}
	sv->events += drain_events(t);
	return NULL;
}

/* ---- part 1: one context, eight threads ------------------------------------ */

#define NDYN 2
#define NSPARSE 2
#define NOBS 2

static void final_checks(struct stress *s, long *calls)
{
	struct tstate t = { s, 99, 1, 0, 0 };

	(void)drain_events(&t);
	check_quiet_model(&t, s->ctx);
	joined("final model", &t, calls);
	/* A worker's writes by name ("daxR.N/size", "delete") can reach
	 * another worker's device once its own was deleted and the id given
	 * again: that device may stay sized (its delete got the allowed
	 * EBUSY). Such leftovers must size to 0 and delete cleanly; then
	 * only daxR.0 is left and the region is whole again. */
	{
		struct daxm_dev *d, *next;
		for (d = daxm_dev_get_first(s->dyn); d; d = next) {
			next = daxm_dev_get_next(d);
			if (daxm_dev_get_id(d) == 0)
				continue;
			if (daxm_dev_is_enabled(d) == 1)
				CHECK_OK(daxm_dev_disable(d));
			CHECK_OK(daxm_dev_set_size(d, 0));
			CHECK_OK(daxm_region_destroy_dev(s->dyn, d));
		}
	}
	CHECK_INT(count_devs(s->dyn), 1);
	CHECK_INT(count_devs(s->sp), 1);
	CHECK_U64(daxm_region_get_available_size(s->dyn), GiB);
}

static void one_context(const char *dir, long *calls)
{
	struct stress s;
	struct tstate dyn[NDYN], sp[NSPARSE], obs[NOBS], pin;
	struct saver sv;
	pthread_t th_dyn[NDYN], th_sp[NSPARSE], th_obs[NOBS], th_pin, th_sv;
	char path[256];

	stress_init(&s, S0);
	snprintf(path, sizeof(path), "%s/state.json", dir);
	sv = (struct saver){ { &s, 0, 0x5eed0001u, 0, 0 }, path, 0, 0, 0 };
	pin = (struct tstate){ &s, 0, 0x5eed0002u, 0, 0 };
	CHECK(pthread_create(&th_sv, NULL, events_and_save, &sv) == 0);
	CHECK(pthread_create(&th_pin, NULL, pinner, &pin) == 0);
	for (int i = 0; i < NOBS; i++) {
		obs[i] = (struct tstate){ &s, i, 0x0b5e0000u + (unsigned)i, 0, 0 };
		CHECK(pthread_create(&th_obs[i], NULL, observer, &obs[i]) == 0);
	}
	for (int i = 0; i < NDYN; i++) {
		dyn[i] = (struct tstate){ &s, i, 0x9e3779b9u * (unsigned)(i + 1), 0, 0 };
		CHECK(pthread_create(&th_dyn[i], NULL, dyn_worker, &dyn[i]) == 0);
	}
	for (int i = 0; i < NSPARSE; i++) {
		sp[i] = (struct tstate){ &s, i, 0x85ebca6bu * (unsigned)(i + 1), 0, 0 };
		CHECK(pthread_create(&th_sp[i], NULL, sparse_worker, &sp[i]) == 0);
	}
	for (int i = 0; i < NDYN; i++) {
		pthread_join(th_dyn[i], NULL);
		joined("dynamic-region worker", &dyn[i], calls);
	}
	for (int i = 0; i < NSPARSE; i++) {
		pthread_join(th_sp[i], NULL);
		joined("sparse-region worker", &sp[i], calls);
	}
	atomic_store(&s.stop, 1);
	pthread_join(th_pin, NULL);
	joined("extent pinner", &pin, calls);
	for (int i = 0; i < NOBS; i++) {
		pthread_join(th_obs[i], NULL);
		joined("observer", &obs[i], calls);
	}
	pthread_join(th_sv, NULL);
	joined("events-and-save", &sv.t, calls);
	CHECK(sv.saves > 0 && sv.loads > 0 && sv.events > 0);

	final_checks(&s, calls);
	if (sv.saves > 0)
		CHECK_INT(unlink(path), 0);
	daxm_unref(s.ctx);
}

/* ---- part 2: contexts apart ------------------------------------------------ */

#define NCTX 2
#define PER_CTX 2

static void *mixed_worker(void *arg)
{
	struct tstate *t = arg;
	struct seen *seen = calloc(1, sizeof(*seen));

	for (int i = 0; i < MIXED_ITERS && !overtime(); i++) {
		dyn_iteration(t, i);
		sparse_iteration(t, i);
		if (t->index == 0)
			(void)drain_events(t);
		if (seen && i % 8 == 0)
			observe_once(t, seen);
	}
	free(seen);
	return NULL;
}

static void separate_contexts(long *calls)
{
	struct stress s[NCTX];
	struct tstate t[NCTX][PER_CTX];
	pthread_t th[NCTX][PER_CTX];

	for (int c = 0; c < NCTX; c++) {
		stress_init(&s[c], S0 + (uint64_t)c * 4 * GiB);
		for (int i = 0; i < PER_CTX; i++) {
			t[c][i] = (struct tstate){ &s[c], i, 0xc0ffee00u + (unsigned)(c * PER_CTX + i),
						   0, 0 };
			CHECK(pthread_create(&th[c][i], NULL, mixed_worker, &t[c][i]) == 0);
		}
	}
	for (int c = 0; c < NCTX; c++) {
		for (int i = 0; i < PER_CTX; i++) {
			pthread_join(th[c][i], NULL);
			joined("separate-context worker", &t[c][i], calls);
		}
		final_checks(&s[c], calls);
		daxm_unref(s[c].ctx);
	}
}

/* ---- part 3: create racing delete of daxR.1 --------------------------------- */

/* A device just created, possibly deleted already by the other thread. */
static void check_new_dev(struct tstate *t, struct daxm_region *r, struct daxm_dev *d)
{
	int id = daxm_dev_get_id(d), on = daxm_dev_is_enabled(d), nr = daxm_dev_get_nr_mappings(d);
	uint64_t size = daxm_dev_get_size(d), res = daxm_dev_get_resource(d);
	struct daxm_region *owner = daxm_dev_get_region(d);
	const char *name = daxm_dev_get_devname(d);
	char path[64];

	TCHECK(t, id >= 1 || id == -ENODEV);
	TCHECK(t, size == 0 || is_sentinel(size));
	TCHECK(t, on == 0 || on == -ENODEV);
	TCHECK(t, nr == 0 || nr == -ENODEV);
	TCHECK(t, res == daxm_region_get_start(r) || is_sentinel(res));
	TCHECK(t, owner == r || owner == NULL);
	TCHECK(t, daxm_dev_get_ctx(d) == t->s->ctx || daxm_dev_get_ctx(d) == NULL);
	TCHECK(t, name != NULL && strncmp(name, "dax0.", 5) == 0);
	if (name) {
		snprintf(path, sizeof(path), "%s/size", name);
		check_attr(t, __LINE__, path, 1, 0);
	}
	RC(t, daxm_dev_set_size(d, 0), 0, -ENODEV);
}

struct racer {
	struct tstate t;
	atomic_int *done;
	long deleted_under; /* creates whose device the other thread deleted */
	long deletes;       /* deletes that succeeded */
};

static void *create_loop(void *arg)
{
	struct racer *a = arg;
	struct tstate *t = &a->t;

	for (int i = 0; i < RACE_ITERS && !overtime(); i++) {
		struct daxm_dev *d = NULL;
		if (RC(t, daxm_region_create_dev(t->s->dyn, &d), 0) != 0 || !d)
			continue;
		TCHECK(t, daxm_dev_ref(d) == d);
		check_new_dev(t, t->s->dyn, d);
		if (RC(t, daxm_region_destroy_dev(t->s->dyn, d), 0, -ENODEV) == -ENODEV)
			a->deleted_under++;
		RC(t, daxm_dev_get_id(d), -ENODEV); /* deleted by one thread or the other */
		check_new_dev(t, t->s->dyn, d);
		daxm_dev_unref(d);
	}
	atomic_store(a->done, 1);
	return NULL;
}

static void *delete_loop(void *arg)
{
	struct racer *b = arg;
	struct tstate *t = &b->t;
	struct daxm_ctx *ctx = t->s->ctx;

	for (long i = 0; !atomic_load(b->done) && i < OBSERVE_CAP && !overtime(); i++) {
		struct daxm_dev *d;
		if (i % 2) {
			b->deletes += RC(t, daxm_attr_write(ctx, "region0/delete", "dax0.1"), 0,
					 -ENXIO) == 0;
			continue;
		}
		d = daxm_dev_get_by_name(ctx, "dax0.1");
		if (!d)
			continue;
		b->deletes += RC(t, daxm_region_destroy_dev(t->s->dyn, d), 0, -ENODEV) == 0;
		check_new_dev(t, t->s->dyn, d);
	}
	return NULL;
}

static void create_delete_race(long *calls)
{
	struct stress s;
	atomic_int done = 0;
	struct racer a, b;
	pthread_t ta, tb;

	stress_init(&s, S0);
	a = (struct racer){ { &s, 0, 0xa0u, 0, 0 }, &done, 0, 0 };
	b = (struct racer){ { &s, 1, 0xb0u, 0, 0 }, &done, 0, 0 };
	CHECK(pthread_create(&tb, NULL, delete_loop, &b) == 0);
	CHECK(pthread_create(&ta, NULL, create_loop, &a) == 0);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	joined("create/delete racer (create)", &a.t, calls);
	joined("create/delete racer (delete)", &b.t, calls);
	/* Every device created went again, by one thread or the other. */
	CHECK_INT(count_devs(s.dyn), 1);
	CHECK_U64(daxm_region_get_available_size(s.dyn), GiB);
	if (verbose())
		printf("stress: create/delete race: %ld of %d creates deleted under the creator, "
		       "%ld deletes by the other thread\n", a.deleted_under, RACE_ITERS, b.deletes);
	daxm_unref(s.ctx);
}

/* ---- part 4: the last daxm_unref() racing getters ----------------------------- */

/* What the holders hold a reference on, and the live answers. */
struct held {
	struct daxm_region *r;
	struct daxm_dev *d;
	struct daxm_mapping *m;
	struct daxm_extent *e;
	uint64_t r_start, d_size, m_start, e_offset;
	atomic_int *gone;   /* set once daxm_unref() returned */
	atomic_int started; /* holders that made one round */
};

struct holder {
	struct tstate t;
	struct held *h;
	int dead; /* a dead answer came: no live one may follow */
	long rounds_alive;
};

/* One answer racing the unref: the live value until the model goes, then
 * only the dead one. */
static void answer(struct holder *k, int line, const char *what, int64_t got, int64_t alive,
		   int64_t dead)
{
	char detail[160];

	k->t.calls++;
	if (got == dead) {
		k->dead = 1;
		return;
	}
	if (got == alive && !k->dead)
		return;
	snprintf(detail, sizeof(detail), "%s returned %" PRId64 " %s%s", what, got, errname(got),
		 k->dead ? " after a dead answer" : "");
	tfail(&k->t, __FILE__, line, "getter racing the last daxm_unref()", detail);
}

#define ANSWER(k, call, alive, dead) \
	answer(k, __LINE__, #call, (int64_t)(call), (int64_t)(alive), (int64_t)(dead))

static void hold_round(struct holder *k)
{
	struct held *h = k->h;
	uint8_t tag[DAXM_TAG_SIZE];

	ANSWER(k, daxm_region_get_id(h->r), 0, -ENODEV);
	ANSWER(k, daxm_region_get_start(h->r), h->r_start, DAXM_INVALID);
	ANSWER(k, daxm_region_get_available_size(h->r), GiB - h->d_size, DAXM_INVALID);
	ANSWER(k, daxm_region_get_dev_youngest(h->r) == h->d, 1, 0);
	ANSWER(k, daxm_dev_get_id(h->d), 1, -ENODEV);
	ANSWER(k, daxm_dev_get_size(h->d), h->d_size, DAXM_INVALID);
	ANSWER(k, daxm_dev_get_region(h->d) == h->r, 1, 0);
	ANSWER(k, daxm_dev_is_enabled(h->d), 0, -ENODEV);
	ANSWER(k, daxm_dev_set_size(h->d, h->d_size), 0, -ENODEV);
	ANSWER(k, daxm_mapping_get_id(h->m), 0, -ENODEV);
	ANSWER(k, daxm_mapping_get_start(h->m), h->m_start, DAXM_INVALID);
	ANSWER(k, daxm_mapping_get_dev(h->m) == h->d, 1, 0);
	ANSWER(k, daxm_extent_get_offset(h->e), h->e_offset, DAXM_INVALID);
	ANSWER(k, daxm_extent_get_state(h->e), DAXM_EXTENT_ACCEPTED, -ENODEV);
	ANSWER(k, daxm_extent_get_tag(h->e, tag), 0, -ENODEV);
	ANSWER(k, daxm_extent_get_region(h->e) != NULL, 1, 0);
	k->t.calls++;
	if (strcmp(daxm_dev_get_devname(h->d), "dax0.1") != 0) /* the name outlives all */
		tfail(&k->t, __FILE__, __LINE__, "daxm_dev_get_devname() of a held device", NULL);
}

/* Actions on the held objects once the model is gone. */
static void dead_actions(struct tstate *t, struct held *h)
{
	struct daxm_dev *out = NULL;

	RC(t, daxm_region_create_dev(h->r, &out), -ENODEV);
	TCHECK(t, out == NULL); /* nothing handed out */
	TCHECK(t, daxm_dev_get_first(h->r) == NULL && daxm_extent_get_next(h->e) == NULL);
	TCHECK(t, daxm_mapping_get_first(h->d) == NULL && daxm_mapping_get_next(h->m) == NULL);
	RC(t, daxm_region_destroy_dev(h->r, h->d), -ENODEV);
	RC(t, daxm_dev_enable(h->d), -ENODEV);
	RC(t, daxm_dev_set_tag(h->d, untagged), -ENODEV);
	RC(t, daxm_extent_get(h->e), -ENODEV);
	RC(t, daxm_extent_put(h->e), -ENODEV);
	RC(t, daxm_extent_set_tag(h->e, untagged, 0), -ENODEV);
	RC(t, daxm_extent_get_refcount(h->e), -ENODEV);
	RC(t, daxm_region_release_extents(h->r, 0, EXT, NULL, 0), -ENODEV);
}

static void *hold(void *arg)
{
	struct holder *k = arg;
	struct held *h = k->h;

	for (long i = 0; !atomic_load(h->gone) && i < OBSERVE_CAP && !overtime(); i++) {
		hold_round(k);
		k->rounds_alive += !k->dead;
		if (i == 0)
			atomic_fetch_add(&h->started, 1);
		/* extra references come and go too */
		TCHECK(&k->t, daxm_dev_ref(h->d) == h->d);
		daxm_dev_unref(h->d);
		TCHECK(&k->t, daxm_extent_ref(h->e) == h->e);
		daxm_extent_unref(h->e);
	}
	/* daxm_unref() has returned: every answer is the dead one now. */
	k->dead = 1;
	hold_round(k);
	dead_actions(&k->t, h);
	daxm_region_unref(h->r);
	daxm_dev_unref(h->d);
	daxm_mapping_unref(h->m);
	daxm_extent_unref(h->e);
	return NULL;
}

#define NHOLD 4

static void last_unref_race(long *calls)
{
	struct stress s;
	atomic_int gone = 0;
	struct held h;
	struct holder k[NHOLD];
	pthread_t th[NHOLD];
	struct daxm_dev *sd;
	const struct daxm_extent_spec one = ext(0, EXT, NULL, 0);

	stress_init(&s, S0);
	memset(&h, 0, sizeof(h));
	atomic_init(&h.started, 0);
	h.gone = &gone;
	h.r = s.dyn;
	h.d = new_dev(s.dyn, 4 * MiB);
	h.m = daxm_mapping_get_first(h.d);
	CHECK_OK(daxm_region_add_extents(s.sp, &one, 1, 0));
	h.e = daxm_extent_get_first(s.sp);
	CHECK(h.d && h.m && h.e);
	sd = new_dev(s.sp, 0); /* a device range keeps a reference on the extent */
	CHECK_OK(daxm_dev_set_tag(sd, untagged));
	CHECK_OK(daxm_dev_set_size(sd, EXT));
	h.r_start = s.dyn_start;
	h.d_size = 4 * MiB;
	h.m_start = daxm_mapping_get_start(h.m);
	h.e_offset = 0;
	for (int i = 0; i < NHOLD; i++) {
		CHECK_PTR(daxm_region_ref(h.r), h.r);
		CHECK_PTR(daxm_dev_ref(h.d), h.d);
		CHECK_PTR(daxm_mapping_ref(h.m), h.m);
		CHECK_PTR(daxm_extent_ref(h.e), h.e);
		k[i] = (struct holder){ { &s, i, 0, 0, 0 }, &h, 0, 0 };
		CHECK(pthread_create(&th[i], NULL, hold, &k[i]) == 0);
	}
	while (atomic_load(&h.started) < NHOLD && !overtime())
		pause_ms(1);
	pause_ms(5);
	daxm_unref(s.ctx); /* the last reference: the model goes */
	atomic_store(&gone, 1);
	for (int i = 0; i < NHOLD; i++) {
		pthread_join(th[i], NULL);
		joined("reference holder", &k[i].t, calls);
		CHECK(k[i].rounds_alive > 0);
	}
}

/* ---- the area ---------------------------------------------------------------- */

void test_stress(void)
{
	char dir[] = "/tmp/daxm-stress-XXXXXX";
	long calls = 0;

	clock_gettime(CLOCK_MONOTONIC, &started);
	CHECK(mkdtemp(dir) != NULL);
	one_context(dir, &calls);
	CHECK_INT(rmdir(dir), 0); /* saves left no temporary file behind */
	separate_contexts(&calls);
	create_delete_race(&calls);
	last_unref_race(&calls);
	if (atomic_load(&cut_short))
		printf("stress: deadline of %d s reached; loops were cut short\n", DEADLINE_S);
	if (verbose())
		printf("stress: %ld return values checked in threads; events: %ld group, "
		       "%ld release deferred, %ld released, %ld forced applied, %ld lost memory\n",
		       calls, atomic_load(&events_seen[DAXM_EVENT_GROUP]),
		       atomic_load(&events_seen[DAXM_EVENT_RELEASE_DEFERRED]),
		       atomic_load(&events_seen[DAXM_EVENT_RELEASED]),
		       atomic_load(&events_seen[DAXM_EVENT_FORCED_APPLIED]),
		       atomic_load(&events_seen[DAXM_EVENT_DEV_LOST_MEMORY]));
}
