/*
 * baseline.h - the C baselines daxm-bench compares the library with.
 *
 * 1. A minimal kernel-style dynamic DAX region, shaped like
 *    drivers/dax/bus.c: the region's children (device ranges) are one
 *    linked list sorted by address (the kernel's struct resource sibling
 *    list), every allocation walks it from the first child to find the
 *    lowest hole (dev_dax_resize + alloc_dev_dax_range: first fit, lowest
 *    address, split across holes, the last range grown in place when the
 *    hole follows it, adjust_ok), available_size walks every child
 *    (dax_region_avail_size), shrink trims from the end and finds each
 *    resource by walking the list (dev_dax_shrink, __release_region), and
 *    device ids are the lowest free id found by a linear scan.
 * 2. A plain C object behind a pthread mutex: the "same call" the
 *    library's locked getters and extent pins are compared with.
 *
 * Functions live in their own translation unit, so every call is a real
 * call, as a call into the library is.
 */
#ifndef DAXM_BENCH_BASELINE_H
#define DAXM_BENCH_BASELINE_H

#include <pthread.h>
#include <stdint.h>

struct bres; /* one child resource: a device range */

struct brange {
	uint64_t start, end; /* inclusive end */
	uint64_t pgoff;      /* in bytes here (the kernel keeps pages) */
	struct bres *res;
};

struct bdev {
	int id;
	int nr_range;
	struct brange *ranges; /* krealloc'd one range at a time */
};

struct bregion {
	uint64_t start, end;   /* inclusive end */
	struct bres *child;    /* sorted by start */
	struct bdev **devs;    /* by id (NULL: free id) */
	int nr_ids;            /* capacity of devs */
};

/* A region [start, start + size) with device 0 at size 0 (idle). */
int breg_init(struct bregion *r, uint64_t start, uint64_t size);
void breg_destroy(struct bregion *r);
/* regionR/create: -ENOSPC when nothing is available */
int breg_create(struct bregion *r, struct bdev **out);
/* regionR/delete: -EBUSY when the device has size */
int breg_destroy_dev(struct bregion *r, struct bdev *d);
/* daxR.N/size */
int breg_set_size(struct bregion *r, struct bdev *d, uint64_t size);
uint64_t breg_available(const struct bregion *r);
uint64_t bdev_size(const struct bdev *d);

/* A plain C object behind a mutex. */
struct mobj {
	pthread_mutex_t lock;
	int refcount;
	uint64_t size;
	uint64_t avail;
	char name[16];
};

void mobj_init(struct mobj *o);
int mobj_get(struct mobj *o);             /* lock, ++refcount, unlock */
int mobj_put(struct mobj *o);             /* lock, --refcount, unlock */
uint64_t mobj_get_size(struct mobj *o);   /* lock, read, unlock */
uint64_t mobj_get_avail(struct mobj *o);  /* lock, read, unlock */
const char *mobj_get_name(struct mobj *o); /* read, no lock */

#endif
