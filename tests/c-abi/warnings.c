/*
 * warnings.c - kernel warnings: each site the header lists, reached by
 * the write the kernel referee reaches it with, with the kernel's errno,
 * the event, the log line, the _ONCE rule, the direct map a failed probe
 * leaves behind, panic_on_warn, and the warning state across save/load.
 */
#include "ctest.h"

#include <syslog.h>
#include <unistd.h>

/* The warnings queued since the last call, as "function:line message"
 * lines joined by '|' (other events are dropped). */
static const char *warnings(struct daxm_ctx *ctx)
{
	static char out[2048];
	size_t n = 0;
	struct daxm_event *ev = NULL;
	out[0] = 0;
	while (daxm_ctx_next_event(ctx, &ev) == 0 && ev) {
		if (ev->type == DAXM_EVENT_KERNEL_WARNING && n < sizeof(out)) {
			n += (size_t)snprintf(out + n, sizeof(out) - n, "%s%s:%u%s%s%s", n ? "|" : "",
					      ev->warn_function ? ev->warn_function : "?", ev->warn_line,
					      ev->warn_message && *ev->warn_message ? " " : "",
					      ev->warn_message ? ev->warn_message : "",
					      ev->warn_flags & DAXM_WARN_PANIC ? " [panic]" : "");
		} else if (ev->type != DAXM_EVENT_KERNEL_WARNING) {
			CHECK_PTR(ev->warn_function, NULL);
		}
		daxm_event_free(ev);
		ev = NULL;
	}
	return out;
}

static struct daxm_dev *mapped(struct daxm_region *r, uint64_t start, uint64_t length)
{
	struct daxm_dev *d = new_dev(r, 0);
	CHECK_OK(daxm_dev_set_mapping(d, start, start + length - 1));
	return d;
}

/* alloc_dev_dax_range: a 0-length `mapping` write on a device that has
 * ranges; once per boot; the message names the driver or the bus. */
static void zero_size_allocation(uint32_t profile, const char *line)
{
	struct daxm_ctx *ctx = new_ctx();
	struct daxm_region *r = add_region(ctx, 0, DAXM_REGION_DYNAMIC, S0, 1 * GiB, DAXM_REGION_IDLE, profile);
	struct daxm_dev *empty = new_dev(r, 0);
	CHECK_OK(daxm_dev_set_mapping(empty, S0, S0 - 1)); /* no ranges: 0, no warning */
	CHECK_STR(warnings(ctx), "");
	struct daxm_dev *d = new_dev(r, 2 * MiB);
	CHECK_ERR(daxm_dev_set_mapping(d, S0 + 64 * MiB, S0 + 64 * MiB - 1), EBUSY);
	char want[160];
	snprintf(want, sizeof(want), "alloc_dev_dax_range:%s dax dax0.2: 0-size allocation must be first", line);
	CHECK_STR(warnings(ctx), want);
	CHECK_ERR(daxm_attr_write(ctx, "dax0.2/mapping", "0-ffffffffffffffff"), EBUSY); /* wraps to 0 */
	CHECK_STR(warnings(ctx), ""); /* _ONCE: already warned this boot */
	CHECK_OK(daxm_clear_warn_once(ctx));
	CHECK_OK(daxm_dev_enable(d));
	CHECK_ERR(daxm_attr_write(ctx, "dax0.2/mapping", "0-ffffffffffffffff"), EBUSY);
	snprintf(want, sizeof(want), "alloc_dev_dax_range:%s device_dax dax0.2: 0-size allocation must be first", line);
	CHECK_STR(warnings(ctx), want);
	daxm_unref(ctx);
}

/* __add_pages and add_pages: a probe of a range misaligned in pages;
 * add_pages only the first time; new_id probes in creation order and
 * succeeds; the device stays poisoned without warning again. */
static void misaligned_probe(void)
{
	struct daxm_ctx *ctx = new_ctx();
	struct daxm_region *r = add_region(ctx, 0, DAXM_REGION_DYNAMIC, S0, 1 * GiB, DAXM_REGION_IDLE,
					   DAXM_PROFILE_6_1);
	struct daxm_dev *a = mapped(r, S0 + 4 * KiB, 2 * MiB);
	CHECK_ERR(daxm_dev_enable(a), EINVAL);
	CHECK_STR(warnings(ctx), "__add_pages:328 Misaligned __add_pages start: 0x140001 end: #140200|add_pages:978");
	CHECK_ERR(daxm_dev_enable(a), EINVAL); /* poisoned: no probe, no warning */
	CHECK_STR(warnings(ctx), "");

	/* Two more, created out of id order: dax0.2 is deleted and made
	 * again after dax0.3, so new_id probes dax0.3 first. */
	struct daxm_dev *b = new_dev(r, 0), *c = mapped(r, S0 + 200 * MiB + 8 * KiB, 4 * MiB);
	CHECK_OK(daxm_attr_write(ctx, "region0/delete", "dax0.2"));
	b = mapped(r, S0 + 100 * MiB, 2 * MiB);
	CHECK_OK(daxm_dev_set_mapping(b, S0 + 300 * MiB + 4 * KiB, S0 + 300 * MiB + 4 * KiB + 2 * MiB - 1));
	CHECK_INT(daxm_dev_get_id(b), 2);
	CHECK_OK(daxm_attr_write(ctx, "device_dax/new_id", "dax0.3"));
	CHECK_STR(warnings(ctx), "__add_pages:328 Misaligned __add_pages start: 0x14c802 end: #14cc01|"
				 "__add_pages:328 Misaligned __add_pages start: 0x152c01 end: #152e00");
	CHECK_INT(daxm_dev_is_enabled(c), 0);
	CHECK_INT(daxm_dev_is_enabled(b), 0);
	daxm_unref(ctx);

	/* 6.12 prints the end with 0x. */
	ctx = new_ctx();
	r = add_region(ctx, 0, DAXM_REGION_DYNAMIC, S0, 1 * GiB, DAXM_REGION_IDLE, DAXM_PROFILE_6_12);
	a = mapped(r, S0 + 4 * KiB, 2 * MiB);
	CHECK_ERR(daxm_dev_enable(a), EINVAL);
	CHECK_STR(warnings(ctx), "__add_pages:414 Misaligned __add_pages start: 0x140001 end: 0x140200|add_pages:986");
	daxm_unref(ctx);
}

/* memremap_pages: sub-page starts bind (the pages are aligned), and a
 * range sharing a page with a bound one fails -ENOMEM; first page, then
 * last page. */
static void page_conflicts(void)
{
	struct daxm_ctx *ctx = new_ctx();
	struct daxm_region *r = add_region(ctx, 0, DAXM_REGION_DYNAMIC, S0, 1 * GiB, DAXM_REGION_IDLE,
					   DAXM_PROFILE_6_1);
	struct daxm_dev *a = mapped(r, S0 + 0x800, 2 * MiB);
	CHECK_OK(daxm_dev_enable(a));
	CHECK_STR(warnings(ctx), "");
	struct daxm_dev *b = mapped(r, S0 + 2 * MiB + 0x800, 2 * MiB);
	CHECK_ERR(daxm_dev_enable(b), ENOMEM);
	CHECK_STR(warnings(ctx), "memremap_pages:183 Conflicting mapping in same section");
	CHECK_ERR(daxm_dev_enable(b), EINVAL);

	daxm_unref(ctx);

	/* A range whose last page is the first page of a bound one. */
	ctx = new_ctx();
	r = add_region(ctx, 0, DAXM_REGION_DYNAMIC, S0, 1 * GiB, DAXM_REGION_IDLE, DAXM_PROFILE_6_12);
	a = mapped(r, S0 + 4 * MiB + 0x800, 2 * MiB);
	CHECK_OK(daxm_dev_enable(a));
	b = mapped(r, S0 + 2 * MiB + 0x800, 2 * MiB); /* ends at +4 MiB + 0x7ff */
	CHECK_ERR(daxm_dev_enable(b), ENOMEM);
	CHECK_STR(warnings(ctx), "memremap_pages:191 Conflicting mapping in same section");
	daxm_unref(ctx);
}

/* A device over [S0 + 4 KiB, +@length) in a fresh region of @size whose
 * probe fails with the warnings @want, then sized 0 and deleted: what a
 * failed probe leaves in the kernel's direct map stays. The context is
 * saved to @file and loaded into *@back; both are returned for the same
 * checks. */
static struct daxm_ctx *after_failed_probe(uint32_t profile, uint64_t size, uint64_t length,
					   const char *want, const char *file, struct daxm_ctx **back)
{
	struct daxm_ctx *ctx = new_ctx();
	struct daxm_region *r = add_region(ctx, 0, DAXM_REGION_DYNAMIC, S0, size, DAXM_REGION_IDLE, profile);
	struct daxm_dev *a = mapped(r, S0 + 4 * KiB, length);

	CHECK_ERR(daxm_dev_enable(a), EINVAL);
	CHECK_STR(warnings(ctx), want);
	CHECK_OK(daxm_dev_set_size(a, 0));
	CHECK_OK(daxm_attr_write(ctx, "region0/delete", "dax0.1"));
	*back = NULL;
	CHECK_OK(daxm_ctx_save(ctx, state_path(file)));
	CHECK_OK(daxm_ctx_load(state_path(file), back));
	return ctx;
}

/* phys_pmd_init: a failed probe leaves a whole 2 MiB block mapped as one
 * page; a later probe mapping part of it splits it (once per boot). The
 * direct map and the _ONCE state survive a save and load. */
static void split_large_page(void)
{
	/* the device holds the block at +2 MiB whole */
	struct daxm_ctx *back, *ctx = after_failed_probe(DAXM_PROFILE_6_12, 1 * GiB, 4 * MiB,
		"__add_pages:414 Misaligned __add_pages start: 0x140001 end: 0x140400|add_pages:986",
		"warned.json", &back);

	for (int round = 0; round < 2; round++) {
		struct daxm_ctx *c = round ? back : ctx;
		struct daxm_region *rr = daxm_region_get_by_id(c, 0);
		struct daxm_dev *b = mapped(rr, S0 + 2 * MiB + 4 * KiB, 2 * MiB);
		CHECK_ERR(daxm_dev_enable(b), EINVAL);
		CHECK_STR(warnings(c), "phys_pmd_init:75|__add_pages:414 Misaligned __add_pages start: 0x140201 end: 0x140400");
	}
	daxm_unref(back);
	daxm_unref(ctx);
	state_clean((const char *const[]){ "warned.json" }, 1);
}

/* phys_pud_init: a failed probe of a range holding a whole 1 GiB-aligned
 * GiB leaves it mapped as one 1 GiB page; a later probe mapping part of it
 * splits it (once per boot), even an aligned probe, which then binds. The
 * 2 MiB blocks under the 1 GiB page were never 2 MiB pages: no
 * phys_pmd_init after the split. The 1 GiB pages survive a save and load. */
static void split_gib_page(void)
{
	/* the device holds the GiB at +1 GiB whole */
	struct daxm_ctx *back, *ctx = after_failed_probe(DAXM_PROFILE_6_1, 3 * GiB, 2 * GiB,
		"__add_pages:328 Misaligned __add_pages start: 0x140001 end: #1c0000|add_pages:978",
		"gib.json", &back);
	const char *path = state_path("gib.json");

	for (int round = 0; round < 2; round++) {
		struct daxm_ctx *c = round ? back : ctx;
		struct daxm_region *rr = daxm_region_get_by_id(c, 0);
		struct daxm_dev *b = mapped(rr, S0 + 1 * GiB, 2 * MiB);
		CHECK_OK(daxm_dev_enable(b)); /* binds, and the kernel warned */
		CHECK_STR(warnings(c), "phys_pud_init:108");
		CHECK_OK(daxm_clear_warn_once(c));
		struct daxm_dev *d = mapped(rr, S0 + 1 * GiB + 4 * MiB + 4 * KiB, 2 * MiB);
		CHECK_ERR(daxm_dev_enable(d), EINVAL);
		CHECK_STR(warnings(c), "__add_pages:328 Misaligned __add_pages start: 0x180401 end: #180600|add_pages:978");
	}
	daxm_unref(back);
	daxm_unref(ctx);

	/* a 1 GiB page at an address that is not 1 GiB aligned: refused */
	size_t n = 0;
	char *text = slurp(path, &n), *at = text ? strstr(text, "6442450944") : NULL; /* S0 + 1 GiB */
	CHECK(at != NULL);
	if (at) {
		memcpy(at, "6442450945", 10);
		CHECK_ERR(load_bytes(path, text, n, &back), EINVAL);
		CHECK(strstr(daxm_last_error(), "direct_map_1g") != NULL);
	}
	free(text);
	state_clean((const char *const[]){ "gib.json" }, 1);
}

/* A probe covering the whole leftover GiB keeps its 1 GiB page without a
 * warning; unbinding it unmaps the GiB, so nothing is left to split. */
static void gib_page_covered(void)
{
	struct daxm_ctx *ctx = new_ctx();
	struct daxm_region *r = add_region(ctx, 0, DAXM_REGION_DYNAMIC, S0, 3 * GiB, DAXM_REGION_IDLE,
					   DAXM_PROFILE_6_12);
	struct daxm_dev *a = mapped(r, S0 + 4 * KiB, 2 * GiB);
	CHECK_ERR(daxm_dev_enable(a), EINVAL);
	CHECK_STR(warnings(ctx), "__add_pages:414 Misaligned __add_pages start: 0x140001 end: 0x1c0000|add_pages:986");
	CHECK_OK(daxm_dev_set_size(a, 0));
	CHECK_OK(daxm_attr_write(ctx, "region0/delete", "dax0.1"));
	struct daxm_dev *b = mapped(r, S0 + 1 * GiB, 1 * GiB);
	CHECK_OK(daxm_dev_enable(b));
	CHECK_STR(warnings(ctx), "");
	CHECK_OK(daxm_dev_disable(b));
	CHECK_OK(daxm_dev_set_size(b, 0));
	struct daxm_dev *c = mapped(r, S0 + 1 * GiB + 2 * MiB, 2 * MiB);
	CHECK_OK(daxm_dev_enable(c));
	CHECK_STR(warnings(ctx), "");
	daxm_unref(ctx);
}

struct logged {
	int warnings;
	char text[512];
};

static void keep_warning(struct daxm_ctx *ctx, int priority, const char *file, int line, const char *fn,
			 const char *msg)
{
	(void)file;
	(void)line;
	(void)fn;
	struct logged *l = daxm_get_userdata(ctx);
	if (priority == LOG_WARNING) {
		l->warnings++;
		snprintf(l->text, sizeof(l->text), "%s", msg);
	}
}

/* The log line, at LOG_WARNING (the default priority). */
static void log_line(void)
{
	struct daxm_ctx *ctx = new_ctx();
	struct logged l = { 0 };
	CHECK_INT(daxm_get_log_priority(ctx), LOG_WARNING);
	daxm_set_userdata(ctx, &l);
	daxm_set_log_fn(ctx, keep_warning);
	struct daxm_region *r = add_region(ctx, 0, DAXM_REGION_DYNAMIC, S0, 1 * GiB, DAXM_REGION_IDLE,
					   DAXM_PROFILE_6_1);
	struct daxm_dev *d = new_dev(r, 2 * MiB);
	CHECK_ERR(daxm_dev_set_size(d, 3 * MiB), EINVAL); /* a refusal: LOG_INFO, not delivered */
	CHECK_INT(l.warnings, 0);
	CHECK_ERR(daxm_dev_set_mapping(d, S0 + 8 * MiB, S0 + 8 * MiB - 1), EBUSY);
	CHECK_INT(l.warnings, 1);
	CHECK_STR(l.text, "dax0.1: kernel WARN at drivers/dax/bus.c:816 alloc_dev_dax_range: dax dax0.1: 0-size "
			  "allocation must be first (once per boot; with panic_on_warn=1 the host panics here)");
	daxm_unref(ctx);
}

/* panic_on_warn: the first printed warning panics; the call that warned
 * and every later one answer -EHOSTDOWN, but the queue, save, and the
 * panic query still work; a loaded copy is still panicked. An _ONCE site
 * that already fired does not panic. */
static void panic_on_warn(void)
{
	struct daxm_ctx *ctx = new_ctx();
	struct daxm_region *r = add_region(ctx, 0, DAXM_REGION_DYNAMIC, S0, 1 * GiB, DAXM_REGION_IDLE,
					   DAXM_PROFILE_6_12);
	struct daxm_dev *d = new_dev(r, 2 * MiB);
	CHECK_ERR(daxm_dev_set_mapping(d, S0 + 8 * MiB, S0 + 8 * MiB - 1), EBUSY);
	CHECK_INT(daxm_get_panic_on_warn(ctx), 0);
	CHECK_OK(daxm_set_panic_on_warn(ctx, 1));
	CHECK_INT(daxm_get_panic_on_warn(ctx), 1);
	CHECK_ERR(daxm_dev_set_mapping(d, S0 + 8 * MiB, S0 + 8 * MiB - 1), EBUSY); /* warned once: no panic */
	CHECK_INT(daxm_ctx_get_panic(ctx, NULL, 0), 0);
	CHECK_STR(warnings(ctx), "alloc_dev_dax_range:854 dax dax0.1: 0-size allocation must be first");

	struct daxm_dev *bad = mapped(r, S0 + 64 * MiB + 4 * KiB, 2 * MiB);
	CHECK_ERR(daxm_dev_enable(bad), EHOSTDOWN);
	CHECK(strstr(daxm_last_error(), "panicked") != NULL);
	CHECK_STR(warnings(ctx), "__add_pages:414 Misaligned __add_pages start: 0x144001 end: 0x144200 [panic]");
	char text[256];
	CHECK_INT(daxm_ctx_get_panic(ctx, text, sizeof(text)), 1);
	CHECK(strstr(text, "__add_pages") != NULL);
	CHECK_ERR(daxm_ctx_get_panic(ctx, NULL, 4), EINVAL);
	CHECK_U64(daxm_dev_get_size(d), DAXM_INVALID);
	CHECK_ERR(daxm_region_create_dev(r, NULL), EHOSTDOWN);
	CHECK_ERR(daxm_attr_write(ctx, "dax0.1/size", "0"), EHOSTDOWN);
	CHECK_PTR(daxm_region_get_first(ctx), NULL);
	CHECK_ERR(daxm_set_panic_on_warn(ctx, 0), EHOSTDOWN);
	CHECK_ERR(daxm_clear_warn_once(ctx), EHOSTDOWN);
	CHECK_INT(daxm_ctx_get_nr_events(ctx), 0);

	const char *path = state_path("panicked.json");
	CHECK_OK(daxm_ctx_save(ctx, path));
	struct daxm_ctx *back = NULL;
	CHECK_OK(daxm_ctx_load(path, &back));
	CHECK_INT(daxm_ctx_get_panic(back, NULL, 0), 1);
	CHECK_INT(daxm_get_panic_on_warn(back), 1);
	CHECK_PTR(daxm_region_get_first(back), NULL);
	CHECK_ERR(daxm_region_create_dev(daxm_region_get_by_id(back, 0), NULL), EINVAL); /* NULL region */
	daxm_unref(back);
	daxm_unref(ctx);
	state_clean((const char *const[]){ "panicked.json" }, 1);
}

void test_warnings(void)
{
	zero_size_allocation(DAXM_PROFILE_6_1, "816");
	zero_size_allocation(DAXM_PROFILE_6_12, "854");
	misaligned_probe();
	page_conflicts();
	split_large_page();
	split_gib_page();
	gib_page_covered();
	log_line();
	panic_on_warn();
}
