/*
 * daxm-ctest - the C ABI contract of libdaxmodel (include/daxmodel.h).
 *
 * Usage: daxm-ctest [AREA...]      run all areas, or only those named
 *        DAXM_CTEST_NOFORK=1       run areas in-process (for a debugger)
 *        DAXM_CTEST_VERBOSE=1      let the library log to stderr
 *
 * Each area runs in a child process with a time limit, so a crash, trap or
 * deadlock in the library is reported as a failure of that area and the
 * other areas still run. Prints one line per failed check and ends with
 * "N passed, M failed"; the exit status is non-zero on any failure.
 */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS */
#include "ctest.h"
#include "fabric.h"

#include <signal.h>
#include <sys/mman.h>
#include <stdatomic.h>
#include <sys/types.h>
#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

#define AREA_TIMEOUT 120 /* seconds */

/*
 * Counters live in memory shared with the children, so the checks an area
 * passed before it crashed still count, and the last one names the place.
 */
struct counters {
	atomic_long pass, fail;
	const char *_Atomic last_file; /* string literals: same address after fork */
	atomic_int last_line;
};
static struct counters *cnt;

/* ---- recording ---------------------------------------------------- */

void t_result(int ok, const char *file, int line, const char *expr,
	      const char *detail)
{
	atomic_store(&cnt->last_file, file);
	atomic_store(&cnt->last_line, line);
	if (ok) {
		atomic_fetch_add(&cnt->pass, 1);
		return;
	}
	atomic_fetch_add(&cnt->fail, 1);
	if (detail)
		printf("%s:%d: FAIL: %s: %s\n", file, line, expr, detail);
	else
		printf("%s:%d: FAIL: %s\n", file, line, expr);
	fflush(stdout);
}

const char *errname(int64_t v)
{
	static const struct { int err; const char *name; } names[] = {
		{ EPERM, "-EPERM" },     { ENOENT, "-ENOENT" },
		{ EINTR, "-EINTR" },     { EIO, "-EIO" },
		{ ENXIO, "-ENXIO" },     { E2BIG, "-E2BIG" },
		{ EAGAIN, "-EAGAIN" },   { ENOMEM, "-ENOMEM" },
		{ EACCES, "-EACCES" },   { EFAULT, "-EFAULT" },
		{ EBUSY, "-EBUSY" },     { EEXIST, "-EEXIST" },
		{ ENODEV, "-ENODEV" },   { EINVAL, "-EINVAL" },
		{ ENOSPC, "-ENOSPC" },   { ERANGE, "-ERANGE" },
		{ ENAMETOOLONG, "-ENAMETOOLONG" },
		{ EOVERFLOW, "-EOVERFLOW" },
		{ EOPNOTSUPP, "-EOPNOTSUPP" },
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (v == -(int64_t)names[i].err)
			return names[i].name;
	return "";
}

void t_check_i64(const char *file, int line, const char *expr, int64_t got,
		 int64_t want)
{
	char detail[160];

	if (got == want) {
		t_result(1, file, line, expr, NULL);
		return;
	}
	snprintf(detail, sizeof(detail), "got %" PRId64 " %s, want %" PRId64 " %s",
		 got, errname(got), want, errname(want));
	t_result(0, file, line, expr, detail);
}

void t_check_u64(const char *file, int line, const char *expr, uint64_t got,
		 uint64_t want)
{
	char detail[160];

	if (got == want) {
		t_result(1, file, line, expr, NULL);
		return;
	}
	snprintf(detail, sizeof(detail), "got %#" PRIx64 " (%" PRIu64 "), want %#" PRIx64
		 " (%" PRIu64 ")", got, got, want, want);
	t_result(0, file, line, expr, detail);
}

void t_check_ptr(const char *file, int line, const char *expr,
		 const void *got, const void *want)
{
	char detail[160];

	if (got == want) {
		t_result(1, file, line, expr, NULL);
		return;
	}
	snprintf(detail, sizeof(detail), "got %p, want %p", got, want);
	t_result(0, file, line, expr, detail);
}

void t_check_str(const char *file, int line, const char *expr,
		 const char *got, const char *want)
{
	char detail[400];

	if (got && want && strcmp(got, want) == 0) {
		t_result(1, file, line, expr, NULL);
		return;
	}
	snprintf(detail, sizeof(detail), "got %s%.150s%s, want \"%.150s\"",
		 got ? "\"" : "", got ? got : "NULL", got ? "\"" : "",
		 want ? want : "NULL");
	t_result(0, file, line, expr, detail);
}

void t_check_rows(const char *file, const struct row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct row *r = &rows[i];
		switch (r->kind) {
		case 'i':
			t_check_i64(file, r->line, r->expr, (int64_t)r->got,
				    (int64_t)r->want);
			break;
		case 'u':
			t_check_u64(file, r->line, r->expr, r->got, r->want);
			break;
		default:
			t_check_ptr(file, r->line, r->expr,
				    (const void *)(uintptr_t)r->got,
				    (const void *)(uintptr_t)r->want);
		}
	}
}

/* ---- fixtures ----------------------------------------------------- */

/* Contexts of the tests log to this quiet function (the deliberate
 * failures would fill stderr); DAXM_CTEST_VERBOSE=1 keeps the default
 * logger. test_log checks the default logger itself. The one message it
 * does not swallow: a debug build's check after every call found a
 * broken invariant or promise ("verifyAfterCall"), which fails the test
 * that made the call. */
static void quiet_log(struct daxm_ctx *ctx, int priority, const char *file,
		      int line, const char *fn, const char *msg)
{
	(void)ctx, (void)priority, (void)file, (void)line;
	if (fn && strcmp(fn, "verifyAfterCall") == 0)
		t_result(0, __FILE__, __LINE__, "no broken invariant after a call", msg);
}

void quiet_ctx(struct daxm_ctx *ctx)
{
	const char *verbose = getenv("DAXM_CTEST_VERBOSE");

	if (!verbose || !*verbose || strcmp(verbose, "0") == 0)
		daxm_set_log_fn(ctx, quiet_log);
}

struct daxm_ctx *new_ctx(void)
{
	const char *verbose = getenv("DAXM_CTEST_VERBOSE");
	struct daxm_ctx *ctx = NULL;

	CHECK_OK(daxm_new(&ctx));
	CHECK(ctx != NULL);
	if (!verbose || !*verbose || strcmp(verbose, "0") == 0)
		daxm_set_log_fn(ctx, quiet_log);
	return ctx;
}

struct daxm_region *add_region(struct daxm_ctx *ctx, int id, uint32_t kind,
			       uint64_t start, uint64_t size, uint32_t flags,
			       uint32_t profile)
{
	struct daxm_region_spec spec;
	struct daxm_region *region = NULL;

	daxm_region_spec_init(&spec);
	spec.id = id;
	spec.kind = kind;
	spec.start = start;
	spec.size = size;
	spec.flags = flags;
	spec.profile = profile;
	CHECK_OK(daxm_region_new(ctx, &spec, &region));
	CHECK(region != NULL);
	return region;
}

struct daxm_dev *new_dev(struct daxm_region *region, uint64_t size)
{
	struct daxm_dev *dev = NULL;

	CHECK_OK(daxm_region_create_dev(region, &dev));
	if (dev && size)
		CHECK_OK(daxm_dev_set_size(dev, size));
	return dev;
}

void t_check_ranges(const char *file, int line, const char *what,
		    struct daxm_dev *dev, const struct rng *want, int n)
{
	struct daxm_mapping *m;
	char expr[200], detail[200];
	uint64_t total = 0;
	int i = 0;

	snprintf(expr, sizeof(expr), "ranges of %s (%s)", what,
		 dev ? daxm_dev_get_devname(dev) : "NULL");
	t_check_i64(file, line, expr, daxm_dev_get_nr_mappings(dev), n);
	daxm_mapping_foreach(dev, m) {
		if (i >= n)
			break;
		if (daxm_mapping_get_id(m) != i ||
		    daxm_mapping_get_start(m) != want[i].start ||
		    daxm_mapping_get_end(m) != want[i].end ||
		    daxm_mapping_get_size(m) != want[i].end - want[i].start + 1 ||
		    daxm_mapping_get_offset(m) != want[i].pgoff) {
			snprintf(detail, sizeof(detail),
				 "mapping%d: got id %d [%#" PRIx64 ", %#" PRIx64 "] size %#" PRIx64
				 " pgoff %#" PRIx64 ", want [%#" PRIx64 ", %#" PRIx64 "] pgoff %#" PRIx64,
				 i, daxm_mapping_get_id(m), daxm_mapping_get_start(m),
				 daxm_mapping_get_end(m), daxm_mapping_get_size(m),
				 daxm_mapping_get_offset(m), want[i].start, want[i].end,
				 want[i].pgoff);
			t_result(0, file, line, expr, detail);
		} else {
			t_result(1, file, line, expr, NULL);
		}
		total += want[i].end - want[i].start + 1;
		i++;
	}
	t_check_i64(file, line, expr, i, n);
	t_check_u64(file, line, expr, daxm_dev_get_size(dev), total);
}

const char *attr(struct daxm_ctx *ctx, const char *path)
{
	static _Thread_local char buf[4200];
	long n = daxm_attr_read(ctx, path, buf, sizeof(buf));

	if (n < 0 || (size_t)n >= sizeof(buf) || strlen(buf) != (size_t)n)
		return NULL;
	return buf;
}

/* An extent record for daxm_region_add_extents(); NULL @tag = untagged. */
struct daxm_extent_spec ext(uint64_t offset, uint64_t length, const uint8_t *tag, uint16_t sequence)
{
	struct daxm_extent_spec s;

	memset(&s, 0, sizeof(s));
	s.offset = offset;
	s.length = length;
	if (tag)
		memcpy(s.tag, tag, DAXM_TAG_SIZE);
	s.sequence = sequence;
	return s;
}

/* The accepted or releasing extent at region offset @offset, or NULL. */
struct daxm_extent *extent_at(struct daxm_region *r, uint64_t offset)
{
	struct daxm_extent *e;

	daxm_extent_foreach(r, e)
		if (daxm_extent_get_offset(e) == offset)
			return e;
	return NULL;
}

int count_devs(struct daxm_region *region)
{
	struct daxm_dev *dev;
	int n = 0;

	daxm_dev_foreach(region, dev)
		n++;
	return n;
}

/* ---- runner ------------------------------------------------------- */

static const struct area {
	const char *name;
	void (*run)(void);
} areas[] = {
	{ "version", test_version },
	{ "null", test_null_args },
	{ "region_spec", test_region_spec },
	{ "region_kinds", test_region_kinds },
	{ "deleted", test_deleted_handles },
	{ "ctx_unref", test_ctx_unref_handles },
	{ "sizes", test_sizes },
	{ "mappings", test_mappings },
	{ "align", test_align },
	{ "scenarios", test_scenarios },
	{ "seed", test_seed_youngest },
	{ "bind", test_bind },
	{ "iteration", test_iteration },
	{ "attr_read", test_attr_read },
	{ "attr_write", test_attr_write },
	{ "last_error", test_last_error },
	{ "log", test_log },
	{ "tags", test_tags },
	{ "sparse_null", test_sparse_null },
	{ "sparse", test_sparse },
	{ "sparse_revoke", test_sparse_revoke },
	{ "extent_lookup", test_extent_lookup },
	{ "threads", test_threads },
	{ "pins", test_pins },
	{ "state_roundtrip", test_state_roundtrip },
	{ "state_damaged", test_state_damaged },
	{ "state_kill", test_state_kill },
	{ "state_edits", test_state_edits },
	{ "state_requests", test_state_request_ids },
	{ "state_orders", test_state_orders },
	{ "state_ids", test_state_ids },
	{ "state_limits", test_state_limits },
	{ "state_staged", test_state_staged_groups },
	{ "state_big", test_state_big_documents },
	{ "state_saves", test_state_concurrent_saves },
	{ "state_paths", test_state_byte_paths },
	{ "warnings", test_warnings },
	{ "errors", test_error_paths },
	{ "borrowed", test_borrowed_pointers },
	{ "stress", test_stress },
	{ "fabric_new", test_fabric_new },
	{ "fabric", test_fabric_commands },
	{ "fabric_codes", test_fabric_codes },
	{ "fabric_paging", test_fabric_paging },
	{ "fabric_shared", test_fabric_shared },
	{ "fabric_misuse", test_fabric_misuse },
	{ "fabric_lifetime", test_fabric_lifetime },
	{ "fabric_threads", test_fabric_threads },
	{ "fabric_state", test_fabric_state_roundtrip },
	{ "fabric_state_profiles", test_fabric_state_profiles },
	{ "fabric_state_refusals", test_fabric_state_refusals },
	{ "fabric_state_saves", test_fabric_state_concurrent_saves },
	{ "fabric_memory", test_fabric_memory },
	{ "fabric_stress", test_fabric_stress },
};

static void *run_area_thread(void *arg)
{
	((const struct area *)arg)->run();
	return NULL;
}

/* Run one area in a child; one more failure if it died. The child runs
 * the area on a new thread: the Swift runtime's futex locks cache each
 * thread's id in thread-local storage, and a child's main thread inherits
 * the parent's cached id, which deadlocks the first contended runtime
 * lock (seen as a rare hang of fabric_threads under TSan). Threads made
 * after fork() get their own. */
static void run_forked(const struct area *a)
{
	int status = 0;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	atomic_store(&cnt->last_file, NULL);
	pid = fork();
	if (pid < 0) {
		perror("daxm-ctest: fork");
		exit(2);
	}
	if (pid == 0) {
		pthread_t th;

		alarm(AREA_TIMEOUT);
		if (pthread_create(&th, NULL, run_area_thread, (void *)a) != 0) {
			perror("daxm-ctest: pthread_create");
			_exit(2);
		}
		pthread_join(th, NULL);
		fflush(stdout);
		_exit(0);
	}
	waitpid(pid, &status, 0);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return;

	char detail[300];
	const char *file = atomic_load(&cnt->last_file);
	int n = 0;
	if (WIFSIGNALED(status))
		n = snprintf(detail, sizeof(detail), "area died with signal %d%s",
			     WTERMSIG(status),
			     WTERMSIG(status) == SIGALRM ? " (timeout: hang or deadlock?)" : "");
	else
		n = snprintf(detail, sizeof(detail), "area exited with status %d",
			     WEXITSTATUS(status));
	if (file)
		snprintf(detail + n, sizeof(detail) - (size_t)n,
			 "; last check reached: %s:%d", file, atomic_load(&cnt->last_line));
	t_result(0, __FILE__, __LINE__, a->name, detail);
}

int main(int argc, char **argv)
{
	const char *nofork = getenv("DAXM_CTEST_NOFORK");
	size_t nareas = sizeof(areas) / sizeof(areas[0]);

	cnt = mmap(NULL, sizeof(*cnt), PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (cnt == MAP_FAILED) {
		perror("daxm-ctest: mmap");
		return 2;
	}
	memset(cnt, 0, sizeof(*cnt));

	/* The log priority default is part of the contract: start clean. */
	unsetenv("DAXM_LOG");

	for (int i = 1; i < argc; i++) {
		size_t k;
		for (k = 0; k < nareas; k++)
			if (strcmp(argv[i], areas[k].name) == 0)
				break;
		if (k == nareas) {
			fprintf(stderr, "daxm-ctest: unknown area '%s'; areas:", argv[i]);
			for (k = 0; k < nareas; k++)
				fprintf(stderr, " %s", areas[k].name);
			fprintf(stderr, "\n");
			return 2;
		}
	}

	for (size_t k = 0; k < nareas; k++) {
		int selected = argc < 2;
		for (int i = 1; i < argc; i++)
			selected |= strcmp(argv[i], areas[k].name) == 0;
		if (!selected)
			continue;
		if (nofork && *nofork && strcmp(nofork, "0") != 0)
			areas[k].run();
		else
			run_forked(&areas[k]);
	}

	printf("%ld passed, %ld failed\n", atomic_load(&cnt->pass), atomic_load(&cnt->fail));
	return atomic_load(&cnt->fail) ? 1 : 0;
}
