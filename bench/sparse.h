/*
 * sparse.h - a sparse region filled with E extents, shared by the sparse
 * (c) and memory (d) tables.
 */
#ifndef DAXM_BENCH_SPARSE_H
#define DAXM_BENCH_SPARSE_H

#include "bench.h"

#define SPARSE_START 0x10000000000ull /* 1 TiB */
#define GROUP 100                     /* extents per offered group */

struct sp {
	struct daxm_ctx *ctx;
	struct daxm_region *r;
	int rid;
	long e;                        /* extents */
	int per_tag;                   /* extents per tag: 10 or 1 */
	struct daxm_extent_spec *spec; /* by position (offer order) */
	struct daxm_extent **h;        /* handles by position */
	struct daxm_extent *last;      /* last in acceptance order */
	long last_pos;
	uint64_t seed;
};

/* Allocates specs: extent p (in offer order) is 2 MiB at slot perm(p) * 4
 * MiB, where perm is the identity (ascending) or a random permutation;
 * tag p / per_tag, sequence p % per_tag. Makes the context and region. */
void sp_init(struct sp *s, long e, int per_tag, int random_order, uint64_t seed);
/* Offers all extents in groups of GROUP, taking each group's event.
 * Returns the seconds it took, or -1 if it went over @budget (s). */
double sp_offer(struct sp *s, double budget);
/* Collects the handles (walks the extents once; checks offer order). */
void sp_collect(struct sp *s);
/* Releases every extent, one call per tag; returns seconds, or -1 over
 * @budget (then *done tells how many extents went). */
double sp_release_all(struct sp *s, double budget, long *done);
/* After tag @k's extents were offered again: adopts their new handles. */
void sp_readopt(struct sp *s, long k);
void sp_free(struct sp *s); /* daxm_unref + frees the arrays */

#endif
