/*
 * pins.c - extent pins from several threads (issue 9, item 5).
 * daxm_extent_get() and daxm_extent_put() on an accepted extent hold the
 * context's lock shared, side by side with the number getters; every
 * other call holds it exclusively. These areas check that what the
 * shared calls do is exact, and that exclusive calls never see half of it:
 *
 *  1. Counting: four threads pin and unpin one extent 20,000 times each
 *     and end holding three pins each, while a fifth thread makes
 *     exclusive calls (resizes a device, reads the extent's refcount
 *     attribute) and checks every refcount it reads is within bounds. At
 *     the end the refcount is exactly twelve pins plus the range of the
 *     device in the extent, and twelve puts bring it back.
 *  2. Releases racing pins: three threads pin and unpin the extent the
 *     main thread is about to release (and now and then another), while
 *     it asks for the release of 256 extents one at a time. A pin taken
 *     before the release defers it, one taken after is refused: every get
 *     answers 0, -EBUSY or -ENODEV, every put of a pin held answers 0, a
 *     pinned extent never reads released, and a thread refused once is
 *     never let in again. At the end every extent is released and the
 *     events report each exactly once: released at once, or deferred and
 *     then released by the last put (most are deferred).
 *
 * That shared and exclusive holders never overlap is checked directly by
 * tests/swift/ContextLockTests.swift.
 */
#include "ctest.h"

#include <pthread.h>
#include <stdatomic.h>

#define COUNTERS 4
#define COUNT_ITERS 20000
#define HELD 3
#define RACERS 3
#define RACE_EXTENTS 256

struct counter {
	struct daxm_extent *x;
	int bad;
};

static void *count_pins(void *arg)
{
	struct counter *c = arg;

	for (int i = 0; i < COUNT_ITERS; i++) {
		TCHECK(c, daxm_extent_get(c->x) == 0);
		TCHECK(c, daxm_extent_put(c->x) == 0);
	}
	for (int i = 0; i < HELD; i++)
		TCHECK(c, daxm_extent_get(c->x) == 0);
	return NULL;
}

struct writer {
	struct daxm_ctx *ctx;
	struct daxm_dev *dyn_dev;
	struct daxm_extent *x;
	atomic_int *stop;
	long reads;
	int bad;
};

/* Exclusive calls among the shared ones: each refcount read sits
 * between whole calls, so it lies between the device's one range and
 * every pin the counters can hold at once. */
static void *write_around(void *arg)
{
	struct writer *w = arg;
	const int most = 1 + COUNTERS * (HELD + 1);
	char path[64];

	snprintf(path, sizeof(path), "region1/extent%d/refcount", daxm_extent_get_id(w->x));
	do {
		const char *text;
		int n = daxm_extent_get_refcount(w->x);

		TCHECK(w, n >= 1 && n <= most);
		TCHECK(w, daxm_dev_set_size(w->dyn_dev, (uint64_t)(1 + w->reads % 2) * 2 * MiB) == 0);
		text = attr(w->ctx, path);
		TCHECK(w, text != NULL);
		if (text) {
			n = atoi(text);
			TCHECK(w, n >= 1 && n <= most);
		}
		w->reads++;
	} while (!atomic_load(w->stop));
	return NULL;
}

static void test_pin_counts(void)
{
	struct daxm_ctx *ctx = new_ctx();
	struct daxm_region *dyn = add_region(ctx, 0, DAXM_REGION_DYNAMIC, S0, GiB,
					     DAXM_REGION_IDLE, DAXM_PROFILE_6_12);
	struct daxm_region *sp = add_region(ctx, 1, DAXM_REGION_SPARSE, S0 + 4 * GiB, GiB, 0,
					    DAXM_PROFILE_6_12);
	struct daxm_extent_spec spec = ext(0, 64 * MiB, NULL, 0);
	struct daxm_dev *d, *dd = new_dev(dyn, 2 * MiB);
	struct counter c[COUNTERS];
	pthread_t th[COUNTERS], wth;
	atomic_int stop = 0;
	struct writer w = { ctx, dd, NULL, &stop, 0, 0 };
	uint8_t untagged[DAXM_TAG_SIZE] = { 0 };
	struct daxm_extent *x;

	CHECK_OK(daxm_region_add_extents(sp, &spec, 1, 0));
	x = daxm_extent_get_first(sp);
	CHECK(x != NULL);
	if (!x)
		goto out;
	d = new_dev(sp, 0);
	CHECK_OK(daxm_dev_set_tag(d, untagged));
	CHECK_OK(daxm_dev_set_size(d, 2 * MiB)); /* one range: one reference */
	CHECK_INT(daxm_extent_get_refcount(x), 1);

	w.x = x;
	CHECK(pthread_create(&wth, NULL, write_around, &w) == 0);
	for (int i = 0; i < COUNTERS; i++) {
		c[i] = (struct counter){ x, 0 };
		CHECK(pthread_create(&th[i], NULL, count_pins, &c[i]) == 0);
	}
	for (int i = 0; i < COUNTERS; i++) {
		pthread_join(th[i], NULL);
		CHECK_INT(c[i].bad, 0);
	}
	atomic_store(&stop, 1);
	pthread_join(wth, NULL);
	CHECK_INT(w.bad, 0);
	CHECK(w.reads > 0);

	CHECK_INT(daxm_extent_get_refcount(x), 1 + COUNTERS * HELD);
	CHECK_ATTR(ctx, "region1/extent0/refcount", "13\n");
	CHECK_ERR(daxm_attr_read(ctx, "region1/extent0/refcount/x", (char[8]){ 0 }, 8), ENOENT);
	CHECK_ERR(daxm_attr_read(ctx, "region1/extent00/refcount", (char[8]){ 0 }, 8), ENOENT);
	for (int i = 0; i < COUNTERS * HELD; i++)
		CHECK_OK(daxm_extent_put(x));
	CHECK_ERR(daxm_extent_put(x), EINVAL); /* the range's reference is no pin */
	CHECK_INT(daxm_extent_get_refcount(x), 1);
	CHECK_INT(daxm_extent_get_state(x), DAXM_EXTENT_ACCEPTED);
out:
	daxm_unref(ctx);
}

struct racer {
	struct daxm_extent **xs;
	atomic_int *current; /* the extent the main thread releases next */
	atomic_int *stop;
	int bad;
	long pins, refused;
	unsigned char closed[RACE_EXTENTS]; /* refused once: never again */
};

static void *race_pins(void *arg)
{
	struct racer *r = arg;

	while (!atomic_load(r->stop)) {
		/* mostly the extent about to be released, now and then any */
		for (int i = atomic_load(r->current), n = 0; n < 2; n++, i = (i + 37) % RACE_EXTENTS) {
			int rc = daxm_extent_get(r->xs[i]);

			if (rc == 0) {
				TCHECK(r, !r->closed[i]);
				/* held a while: a pinned extent is never released */
				for (int k = 0; k < 16; k++) {
					int state = daxm_extent_get_state(r->xs[i]);

					TCHECK(r, state == DAXM_EXTENT_ACCEPTED ||
						  state == DAXM_EXTENT_RELEASING);
				}
				TCHECK(r, daxm_extent_put(r->xs[i]) == 0);
				r->pins++;
			} else {
				TCHECK(r, rc == -EBUSY || rc == -ENODEV);
				r->closed[i] = 1;
				r->refused++;
			}
		}
	}
	return NULL;
}

static void test_pin_release_race(void)
{
	struct daxm_ctx *ctx = new_ctx();
	struct daxm_region *sp = add_region(ctx, 0, DAXM_REGION_SPARSE, S0, 2 * GiB, 0,
					    DAXM_PROFILE_6_12);
	struct daxm_extent *xs[RACE_EXTENTS];
	struct racer r[RACERS];
	pthread_t th[RACERS];
	atomic_int stop = 0, current = 0;
	int released[RACE_EXTENTS] = { 0 }, deferred = 0;
	struct daxm_event *ev;
	long pins = 0;

	for (int g = 0; g < RACE_EXTENTS; g += 32) {
		struct daxm_extent_spec specs[32];

		for (int i = 0; i < 32; i++)
			specs[i] = ext((uint64_t)(g + i) * 4 * MiB, 2 * MiB, NULL, 0);
		CHECK_OK(daxm_region_add_extents(sp, specs, 32, 0));
	}
	for (int i = 0; i < RACE_EXTENTS; i++) {
		xs[i] = daxm_extent_get_by_offset(sp, (uint64_t)i * 4 * MiB);
		CHECK(xs[i] != NULL);
		if (!xs[i])
			goto out;
	}
	while (daxm_ctx_next_event(ctx, &ev) == 0) /* the groups' answers */
		daxm_event_free(ev);

	for (int i = 0; i < RACERS; i++) {
		memset(&r[i], 0, sizeof(r[i]));
		r[i].xs = xs;
		r[i].current = &current;
		r[i].stop = &stop;
		CHECK(pthread_create(&th[i], NULL, race_pins, &r[i]) == 0);
	}
	for (int i = 0; i < RACE_EXTENTS; i++) {
		/* point the racers at it, and let them pin it first */
		atomic_store(&current, i);
		for (int spin = 0; spin < 100000 && daxm_extent_get_refcount(xs[i]) == 0; spin++)
			;
		CHECK_OK(daxm_region_release_extents(sp, (uint64_t)i * 4 * MiB, 2 * MiB, NULL, 0));
	}
	atomic_store(&stop, 1);
	for (int i = 0; i < RACERS; i++) {
		pthread_join(th[i], NULL);
		CHECK_INT(r[i].bad, 0);
		pins += r[i].pins;
	}
	CHECK(pins > 0);

	while (daxm_ctx_next_event(ctx, &ev) == 0) {
		for (uint32_t k = 0; k < ev->nr_records; k++) {
			uint64_t off = ev->records[k].offset;
			int i = (int)(off / (4 * MiB));

			CHECK(off % (4 * MiB) == 0 && i < RACE_EXTENTS);
			if (off % (4 * MiB) != 0 || i >= RACE_EXTENTS)
				continue;
			if (ev->type == DAXM_EVENT_RELEASED) {
				released[i]++;
			} else {
				CHECK_INT(ev->type, DAXM_EVENT_RELEASE_DEFERRED);
				deferred++;
			}
		}
		daxm_event_free(ev);
	}
	for (int i = 0; i < RACE_EXTENTS; i++) {
		CHECK_INT(released[i], 1);
		CHECK_INT(daxm_extent_get_state(xs[i]), DAXM_EXTENT_RELEASED);
		CHECK_ERR(daxm_extent_get(xs[i]), ENODEV);
	}
	/* Most releases find a racer's pin: the deferred path and the put
	 * that completes it were exercised, not only the release at once. */
	CHECK(deferred > 0);
	if (getenv("DAXM_CTEST_VERBOSE"))
		printf("pins: %ld pins taken; %d releases deferred by a pin, %d at once\n",
		       pins, deferred, RACE_EXTENTS - deferred);
out:
	daxm_unref(ctx);
}

void test_pins(void)
{
	test_pin_counts();
	test_pin_release_race();
}
