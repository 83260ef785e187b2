/*
 * fabric.h - fixtures of the fabric tests (fabric.c, fabric_threads.c):
 * a fabric of two 1 GiB DC regions and calls that build libcxlmi-shaped
 * requests the way a fabric manager would.
 */
#ifndef DAXM_CTEST_FABRIC_H
#define DAXM_CTEST_FABRIC_H

#include "ctest.h"

/* DC region 0's base (64 GiB); region 1 follows it. Each is 1 GiB. */
#define FB 0x1000000000ull
#define RLEN GiB

/* A fabric of @hosts hosts: region 0 at FB with @r0flags, region 1 at
 * FB + 1 GiB with @r1flags, 2 MiB blocks, event logs @depth deep, spec
 * @flags; NULL (and a failed check) if it cannot be built. Its log
 * fails the test on a broken internal invariant and is quiet otherwise. */
struct daxm_fabric *fabric_make(uint32_t profile, uint32_t hosts, uint32_t r0flags,
				uint32_t r1flags, uint32_t depth, uint32_t flags);
/* Host @host's context, with the test's quiet log (one reference). */
struct daxm_ctx *fabric_host(struct daxm_fabric *f, unsigned host);

/* A tag whose bytes name @n. */
void fab_tag(uint8_t tag[DAXM_TAG_SIZE], unsigned n);
struct daxm_fmapi_extent fx(uint64_t dpa, uint64_t len, const uint8_t *tag);

/* Initiate Dynamic Capacity Add with a header only (Free, Contiguous,
 * Enable Shared Access), or Prescriptive with @n extents. */
int fab_add(struct daxm_fabric *f, uint16_t host, uint8_t policy, uint8_t region,
	    uint64_t len, const uint8_t *tag);
int fab_add_list(struct daxm_fabric *f, uint16_t host,
		 const struct daxm_fmapi_extent *ext, uint32_t n);
/* Initiate Dynamic Capacity Release: Tag-based (@flags: forced, sanitize)
 * or Prescriptive with @n extents. */
int fab_release_tag(struct daxm_fabric *f, uint16_t host, const uint8_t *tag,
		    uint8_t flags, uint64_t len);
int fab_release_list(struct daxm_fabric *f, uint16_t host, uint8_t flags,
		     const struct daxm_fmapi_extent *ext, uint32_t n);

/* Get DC Region Extent Lists into a malloc'ed response (*@out, freed by
 * the caller; NULL on failure); returns the call's result. */
int fab_list(struct daxm_fabric *f, uint16_t host, uint32_t start, uint32_t count,
	     struct daxm_fmapi_get_dc_region_ext_list_rsp **out);
/* total_extents / list_generation_num of @host (UINT32_MAX on failure). */
uint32_t fab_total(struct daxm_fabric *f, uint16_t host);
uint32_t fab_gen(struct daxm_fabric *f, uint16_t host);
/* Drains the manager's queue into @ev (at most @max kept); returns the
 * number of records taken. */
int fab_events(struct daxm_fabric *f, struct daxm_fabric_event *ev, int max);
/* The host context's sparse region0. */
struct daxm_region *fab_region(struct daxm_ctx *host);
/* Extents of a region. */
int count_extents(struct daxm_region *r);

void test_fabric_new(void);
void test_fabric_commands(void);
void test_fabric_codes(void);
void test_fabric_paging(void);
void test_fabric_shared(void);
void test_fabric_misuse(void);
void test_fabric_lifetime(void);
void test_fabric_threads(void);
void test_fabric_state_roundtrip(void);  /* fabric_state.c */
void test_fabric_state_profiles(void);
void test_fabric_state_refusals(void);
void test_fabric_state_concurrent_saves(void);
void test_fabric_memory(void);
void test_fabric_stress(void);

#endif /* DAXM_CTEST_FABRIC_H */
