/*
 * state.c - libFuzzer harness: state files (daxm_ctx_load).
 *
 * The input is a file handed to daxm_ctx_load(). A refusal must be a
 * negative errno with no context. An accepted file must give a model that
 * keeps the header's invariants (check_model), whose save loads again and
 * saves byte-identically (roundtrip), and on which the next calls a user
 * would make (exercise_model: new devices, resizes, closing the open
 * group, offering and releasing extents, events) neither trap nor break
 * an invariant; the model after those calls must round-trip too.
 *
 * Dictionary: tests/fuzz/state.dict (the document's keys and words); seeds:
 * tests/fuzz/corpus/state/ (saves of real models, written by tests/fuzz/seeds.c).
 */
#include "common.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[PATH_MAX];
	struct daxm_ctx *ctx = (struct daxm_ctx *)1;
	int rc;

	fuzz_path(path, sizeof(path), "state-input.json");
	fuzz_write_file(path, data, size);
	rc = daxm_ctx_load(path, &ctx);
	if (fuzz_verbose())
		fprintf(stderr, "fuzz: load: %d %s\n", rc, rc ? daxm_last_error() : "");
	if (rc != 0) {
		if (rc > 0 || rc < -4095 || ctx != NULL)
			fuzz_fail("daxm_ctx_load refused with %d and context %p", rc, (void *)ctx);
		return 0;
	}
	if (!ctx)
		fuzz_fail("daxm_ctx_load = 0 without a context");
	fuzz_quiet(ctx);
	check_model(ctx, NULL);
	daxm_unref(roundtrip(ctx));
	exercise_model(ctx);
	daxm_unref(roundtrip(ctx));
	daxm_unref(ctx);
	return 0;
}
