/*
 * kernel-compare - replay a guest's sysfs-replay record against libdaxmodel
 * and compare, step by step, the errno of every write and the whole state
 * of the region after it.
 *
 * usage: kernel-compare [--stop-at-first] [--verbose] [--profile 6.1|6.12]
 *                       [--boot-seconds S] GUEST_LOG
 *
 * The model region is built from the record's boot state (step 0): the
 * region's id, start, size and align, the profile of the kernel release,
 * and daxR.0 as the kernel had it (covering the region, bound or not, or
 * idle). Every "@@ W" write is then applied with daxm_attr_write() and the
 * state is read back with daxm_attr_read() in the same text the kernel
 * printed. On a mismatch the step, the scenario, its seed, both errnos and
 * both states are printed; the scenario is abandoned and the comparison
 * resumes, with a fresh model, at the next point where the guest has put
 * the region back into its canonical idle state ("@@ C"). With
 * --stop-at-first nothing after the first mismatch is compared.
 *
 * Exit status: 0 when everything matched and every expectation of the
 * scenarios held in the guest; 1 otherwise; 2 for a record that cannot be
 * read (the guest did not finish).
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <daxmodel.h>

#define MAX_LINES 4096
#define HISTORY 6

/* One region state: the record's S, D and M lines without "@@ X step ". */
struct state {
	char *line[MAX_LINES];
	unsigned n;
};

static struct daxm_ctx *ctx;
static struct daxm_region_spec spec;
static int region_id = -1;
static char kernel_release[128];
static int profile_override;

static int stop_at_first, verbose;
static unsigned long steps_compared, mismatches, expect_failures, fatals, steps_skipped;
static int in_sync = 1;

/* Where we are, for messages. */
static unsigned scn_index;
static char scn_name[128] = "(boot)";
static char scn_seed[32] = "-";
static unsigned long scn_step;
static char history[HISTORY][512];
static char model_error[512];	/* daxm_last_error() of the last model write */
static unsigned nhistory;

static void die(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));
static void die(int code, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "kernel-compare: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(code);
}

static void state_clear(struct state *st)
{
	for (unsigned i = 0; i < st->n; i++)
		free(st->line[i]);
	st->n = 0;
}

static void state_add(struct state *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void state_add(struct state *st, const char *fmt, ...)
{
	va_list ap;
	char *p;

	if (st->n == MAX_LINES)
		die(2, "more than %d state lines", MAX_LINES);
	va_start(ap, fmt);
	if (vasprintf(&p, fmt, ap) < 0)
		die(2, "out of memory");
	va_end(ap);
	st->line[st->n++] = p;
}

static const char *errname(int e)
{
	static char buf[16];

	switch (e) {
	case 0: return "OK";
	case EPERM: return "EPERM";
	case ENOENT: return "ENOENT";
	case EIO: return "EIO";
	case ENXIO: return "ENXIO";
	case E2BIG: return "E2BIG";
	case EAGAIN: return "EAGAIN";
	case ENOMEM: return "ENOMEM";
	case EACCES: return "EACCES";
	case EFAULT: return "EFAULT";
	case EBUSY: return "EBUSY";
	case EEXIST: return "EEXIST";
	case ENODEV: return "ENODEV";
	case ENOTDIR: return "ENOTDIR";
	case EISDIR: return "EISDIR";
	case EINVAL: return "EINVAL";
	case ENOSPC: return "ENOSPC";
	case ERANGE: return "ERANGE";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	default:
		snprintf(buf, sizeof(buf), "E%d", e);
		return buf;
	}
}

/* ---- the model ------------------------------------------------------------ */

/* "daxR.N" of the model region -> "dev:N"; "" -> "-". */
static void record_name(const char *name, char *out, size_t len)
{
	int r, n, used;

	if (!*name)
		snprintf(out, len, "-");
	else if (sscanf(name, "dax%d.%d%n", &r, &n, &used) == 2 && !name[used] && r == region_id && n >= 0)
		snprintf(out, len, "dev:%d", n);
	else
		snprintf(out, len, "%s", name);
}

/* An attribute as text without its newline; "absent" for ENOENT. */
static void read_attr(const char *path, char *buf, size_t len)
{
	long n = daxm_attr_read(ctx, path, buf, len);

	if (n == -ENOENT) {
		snprintf(buf, len, "absent");
		return;
	}
	if (n < 0) {
		snprintf(buf, len, "<%s: %s>", errname((int)-n), daxm_last_error());
		return;
	}
	if (n > 0 && buf[n - 1] == '\n')
		buf[n - 1] = '\0';
}

struct mapref {
	int id;
	struct daxm_mapping *m;
};

static int cmp_mapref(const void *a, const void *b)
{
	const struct mapref *x = a, *y = b;

	return (x->id > y->id) - (x->id < y->id);
}

/* The model's state, in the lines sysfs-replay prints for the kernel. */
static void model_state(struct state *st)
{
	struct daxm_region *region = daxm_region_get_by_id(ctx, region_id);
	struct daxm_dev *dev;
	char path[96], avail[64], seed[64], create[64], name[64], seedr[64], creater[64];

	state_clear(st);
	if (!region) {
		state_add(st, "S <the model has no region%d>", region_id);
		return;
	}
	snprintf(path, sizeof(path), "region%d/available_size", region_id);
	read_attr(path, avail, sizeof(avail));
	snprintf(path, sizeof(path), "region%d/seed", region_id);
	read_attr(path, seed, sizeof(seed));
	snprintf(path, sizeof(path), "region%d/create", region_id);
	read_attr(path, create, sizeof(create));
	record_name(seed, seedr, sizeof(seedr));
	record_name(create, creater, sizeof(creater));
	state_add(st, "S avail=%s seed=%s create=%s", avail, seedr, creater);

	daxm_dev_foreach(region, dev) {
		char size[32], align[32], resource[32], target[32];
		const char *devname = daxm_dev_get_devname(dev);
		int id = daxm_dev_get_id(dev), nmaps = 0, cap = daxm_dev_get_nr_mappings(dev);
		struct mapref *maps;
		struct daxm_mapping *m;

		snprintf(name, sizeof(name), "%s", devname ? devname : "?");
		snprintf(path, sizeof(path), "%s/size", name);
		read_attr(path, size, sizeof(size));
		snprintf(path, sizeof(path), "%s/align", name);
		read_attr(path, align, sizeof(align));
		snprintf(path, sizeof(path), "%s/resource", name);
		read_attr(path, resource, sizeof(resource));
		snprintf(path, sizeof(path), "%s/target_node", name);
		read_attr(path, target, sizeof(target));
		state_add(st, "D dev:%d size=%s align=%s resource=%s target_node=%s driver=%s", id, size,
			  align, resource, target, daxm_dev_is_enabled(dev) == 1 ? "device_dax" : "-");

		maps = calloc(cap > 0 ? (size_t)cap : 1, sizeof(*maps));
		if (!maps)
			die(2, "out of memory");
		daxm_mapping_foreach(dev, m) {
			if (nmaps == cap)
				break;
			maps[nmaps].id = daxm_mapping_get_id(m);
			maps[nmaps++].m = m;
		}
		qsort(maps, (size_t)nmaps, sizeof(*maps), cmp_mapref);
		for (int i = 0; i < nmaps; i++) {
			char start[32], end[32], pgoff[32];

			snprintf(path, sizeof(path), "%s/mapping%d/start", name, maps[i].id);
			read_attr(path, start, sizeof(start));
			snprintf(path, sizeof(path), "%s/mapping%d/end", name, maps[i].id);
			read_attr(path, end, sizeof(end));
			snprintf(path, sizeof(path), "%s/mapping%d/page_offset", name, maps[i].id);
			read_attr(path, pgoff, sizeof(pgoff));
			state_add(st, "M dev:%d %d start=%s end=%s page_offset=%s", id, maps[i].id, start, end,
				  pgoff);
		}
		free(maps);
	}
}

/* A fresh context with the region as spec says. */
static void model_build(void)
{
	struct daxm_region *region;
	int rc;

	if (ctx)
		daxm_unref(ctx);
	if (daxm_new(&ctx))
		die(2, "daxm_new failed");
	rc = daxm_region_new(ctx, &spec, &region);
	if (rc)
		die(2, "daxm_region_new(region%d start %#" PRIx64 " size %" PRIu64 " align %" PRIu64
		       "): %s: %s", spec.id, spec.start, spec.size, spec.align, errname(-rc), daxm_last_error());
}

/* "key=value" out of a line; NULL if absent. Value ends at a space. */
static const char *field(const char *line, const char *key, char *buf, size_t len)
{
	size_t klen = strlen(key);

	for (const char *p = line; (p = strstr(p, key)); p++) {
		if ((p == line || p[-1] == ' ') && p[klen] == '=') {
			size_t n = strcspn(p + klen + 1, " ");

			if (n >= len)
				n = len - 1;
			memcpy(buf, p + klen + 1, n);
			buf[n] = '\0';
			return buf;
		}
	}
	return NULL;
}

static uint64_t field_u64(const char *line, const char *key)
{
	char buf[64];

	if (!field(line, key, buf, sizeof(buf)))
		die(2, "no %s= in \"%s\"", key, line);
	return strtoull(buf, NULL, 0);
}

/*
 * The model region the boot state describes: daxR.0 covering the region
 * (bound or not) or idle. Anything else is not a state a producer makes.
 */
static void model_from_boot(const struct state *boot)
{
	const char *d0 = NULL;
	char buf[64];
	unsigned ndev = 0;
	uint64_t size0;

	for (unsigned i = 0; i < boot->n; i++) {
		if (!strncmp(boot->line[i], "D ", 2)) {
			ndev++;
			if (!strncmp(boot->line[i], "D dev:0 ", 8))
				d0 = boot->line[i];
		}
	}
	if (!d0 || ndev != 1)
		die(2, "unexpected boot state: want exactly daxR.0 in the region");
	size0 = field_u64(d0, "size");
	spec.flags = 0;
	if (size0 == 0)
		spec.flags |= DAXM_REGION_IDLE;
	else if (size0 != spec.size)
		die(2, "unexpected boot state: daxR.0 has %" PRIu64 " of %" PRIu64 " bytes", size0, spec.size);
	else if (!strcmp(field(d0, "driver", buf, sizeof(buf)) ? buf : "-", "-"))
		spec.flags |= DAXM_REGION_UNBOUND;
	if (field(d0, "target_node", buf, sizeof(buf)) && strcmp(buf, "absent"))
		spec.target_node = atoi(buf);
	model_build();
}

/* The canonical idle state sysfs-replay resets to: a fresh idle region. */
static void model_rebuild_idle(void)
{
	spec.flags = DAXM_REGION_IDLE;
	model_build();
}

/* ---- applying a write ------------------------------------------------------ */

static int hexval(int c)
{
	return isdigit(c) ? c - '0' : tolower(c) - 'a' + 10;
}

/* %XX-decoded value, with a leading dev:N made daxR.N (as the guest did). */
static char *decode_value(const char *enc)
{
	size_t len = strlen(enc), n = 0, digits;
	char *raw = malloc(len + 1), *out;

	if (!raw)
		die(2, "out of memory");
	for (size_t i = 0; i < len; i++) {
		if (enc[i] == '%' && isxdigit((unsigned char)enc[i + 1]) && isxdigit((unsigned char)enc[i + 2])) {
			raw[n++] = (char)(hexval(enc[i + 1]) * 16 + hexval(enc[i + 2]));
			i += 2;
		} else {
			raw[n++] = enc[i];
		}
	}
	raw[n] = '\0';
	/* as sysfs-replay's expand_value(): "dev:" and 1 to 9 digits */
	digits = strncmp(raw, "dev:", 4) ? 0 : strspn(raw + 4, "0123456789");
	if (digits && digits < 10) {
		if (asprintf(&out, "dax%d.%.*s%s", region_id, (int)digits, raw + 4, raw + 4 + digits) < 0)
			die(2, "out of memory");
		free(raw);
		return out;
	}
	return raw;
}

/* region/ATTR -> regionR/ATTR, dev:N/REST -> daxR.N/REST, device_dax/F as is. */
static void model_path(const char *rel, char *out, size_t len)
{
	unsigned n;
	int used;

	if (!strncmp(rel, "region/", 7))
		snprintf(out, len, "region%d/%s", region_id, rel + 7);
	else if (sscanf(rel, "dev:%u%n", &n, &used) == 1 && rel[used] == '/')
		snprintf(out, len, "dax%d.%u/%s", region_id, n, rel + used + 1);
	else
		snprintf(out, len, "%s", rel);
}

/* ---- reporting --------------------------------------------------------------- */

static void print_state_pair(const struct state *k, const struct state *m)
{
	unsigned n = k->n > m->n ? k->n : m->n;

	printf("    %-70s | %s\n", "kernel", "model");
	for (unsigned i = 0; i < n; i++) {
		const char *a = i < k->n ? k->line[i] : "";
		const char *b = i < m->n ? m->line[i] : "";

		printf("  %c %-70s | %s\n", strcmp(a, b) ? '!' : ' ', a, b);
	}
}

static int states_equal(const struct state *a, const struct state *b)
{
	if (a->n != b->n)
		return 0;
	for (unsigned i = 0; i < a->n; i++)
		if (strcmp(a->line[i], b->line[i]))
			return 0;
	return 1;
}

static void mismatch(unsigned long step, const char *what, const char *write, const char *krc,
		     const char *mrc, const struct state *k, const struct state *m)
{
	mismatches++;
	printf("\nMISMATCH (%s) at step %lu: scenario %u \"%s\", its step %lu, seed %s\n", what, step,
	       scn_index, scn_name, scn_step, scn_seed);
	if (nhistory) {
		printf("  earlier steps of this scenario (all matched):\n");
		for (unsigned i = nhistory > HISTORY ? nhistory - HISTORY : 0; i < nhistory; i++)
			printf("    %s\n", history[i % HISTORY]);
	}
	if (write)
		printf("  step:   %s\n  errno:  kernel %s, model %s%s%s\n", write, krc, mrc,
		       *model_error ? " - " : "", model_error);
	print_state_pair(k, m);
	printf("\n");
	fflush(stdout);
	if (stop_at_first)
		return;
	in_sync = 0;
	printf("  (skipping to the next canonical idle state)\n");
}

/* ---- the record ------------------------------------------------------------- */

static char *next_line(FILE *f, char **buf, size_t *cap)
{
	ssize_t n;

	while ((n = getline(buf, cap, f)) >= 0) {
		while (n && ((*buf)[n - 1] == '\n' || (*buf)[n - 1] == '\r'))
			(*buf)[--n] = '\0';
		/* a console line may carry stray bytes before "@@" */
		char *at = strstr(*buf, "@@");

		if (at)
			return at;
	}
	return NULL;
}

/* Collects the state lines of @step up to "@@ E step". */
static void read_state_block(FILE *f, char **buf, size_t *cap, unsigned long step, struct state *st)
{
	char *line;
	char prefix[48];

	state_clear(st);
	for (;;) {
		unsigned long s;
		char kind;
		int used;

		line = next_line(f, buf, cap);
		if (!line)
			die(2, "the record ends inside the state of step %lu", step);
		if (sscanf(line, "@@ %c %lu %n", &kind, &s, &used) != 2 || s != step ||
		    !strchr("SDME", kind)) {
			if (!strncmp(line, "@@ FATAL", 8))
				die(2, "guest: %s", line + 3);
			die(2, "step %lu: unexpected line in its state: \"%s\"", step, line);
		}
		if (kind == 'E')
			return;
		snprintf(prefix, sizeof(prefix), "%c ", kind);
		state_add(st, "%s%s", prefix, line + used);
	}
}

static int profile_of(const char *release)
{
	int ma = 0, mi = 0;

	if (profile_override)
		return profile_override;
	if (sscanf(release, "%d.%d", &ma, &mi) != 2)
		die(2, "cannot read the kernel release \"%s\"", release);
	/* the rwsem-era bus.c (and new_id typing) is v6.9+; 6.3..6.8 fit neither */
	if (ma > 6 || (ma == 6 && mi >= 9))
		return DAXM_PROFILE_6_12;
	if (ma == 6 && mi >= 3)
		fprintf(stderr, "kernel-compare: warning: %s is between the 6.1 and 6.12 profiles\n", release);
	return DAXM_PROFILE_6_1;
}

int main(int argc, char **argv)
{
	const char *log = NULL;
	double boot_seconds = -1, guest_seconds = -1;
	struct timespec t0, t1;
	struct state kstate = { 0 }, mstate = { 0 };
	char *buf = NULL, *line;
	size_t cap = 0;
	FILE *f;
	int begun = 0, ended = 0;
	unsigned long writes = 0, guest_steps = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--stop-at-first"))
			stop_at_first = 1;
		else if (!strcmp(argv[i], "--verbose"))
			verbose = 1;
		else if (!strcmp(argv[i], "--profile") && i + 1 < argc)
			profile_override = !strcmp(argv[++i], "6.1") ? DAXM_PROFILE_6_1 : DAXM_PROFILE_6_12;
		else if (!strcmp(argv[i], "--boot-seconds") && i + 1 < argc)
			boot_seconds = atof(argv[++i]);
		else if (argv[i][0] != '-' && !log)
			log = argv[i];
		else
			die(2, "usage: kernel-compare [--stop-at-first] [--verbose] [--profile 6.1|6.12] "
			       "[--boot-seconds S] GUEST_LOG");
	}
	if (!log)
		die(2, "no guest log given");
	f = fopen(log, "r");
	if (!f)
		die(2, "%s: %s", log, strerror(errno));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	daxm_region_spec_init(&spec);

	while ((line = next_line(f, &buf, &cap))) {
		unsigned long step;
		int used;

		if (!begun) {
			begun = !strcmp(line, "@@DAXREC BEGIN");
			continue;
		}
		if (!strncmp(line, "@@DAXREC END", 12)) {
			char v[32];

			ended = 1;
			guest_steps = field(line, "steps", v, sizeof(v)) ? strtoul(v, NULL, 10) : 0;
			guest_seconds = field(line, "seconds", v, sizeof(v)) ? atof(v) : -1;
			break;
		}
		if (!strncmp(line, "@@ KERNEL ", 10)) {
			snprintf(kernel_release, sizeof(kernel_release), "%s", line + 10);
		} else if (!strncmp(line, "@@ REGION ", 10)) {
			/* a region as its producer made it (at boot, or after the
			 * guest reloaded dax_hmem): a fresh model from its state */
			unsigned long at;
			struct state rest = { 0 };

			spec.kind = DAXM_REGION_DYNAMIC;
			spec.profile = (uint32_t)profile_of(kernel_release);
			spec.id = region_id = (int)field_u64(line, "id");
			spec.start = field_u64(line, "start");
			spec.size = field_u64(line, "size");
			spec.align = field_u64(line, "align");
			spec.target_node = -1;
			line = next_line(f, &buf, &cap);
			if (!line || sscanf(line, "@@ S %lu %n", &at, &used) != 1)
				die(2, "the REGION line is not followed by the region's state");
			state_clear(&kstate);
			state_add(&kstate, "S %s", line + used);
			read_state_block(f, &buf, &cap, at, &rest);
			for (unsigned i = 0; i < rest.n; i++)
				state_add(&kstate, "%s", rest.line[i]);
			state_clear(&rest);
			model_from_boot(&kstate);
			if (!in_sync)
				printf("  (resumed after step %lu: the region was made anew)\n", at);
			in_sync = 1;
			model_state(&mstate);
			if (!states_equal(&kstate, &mstate)) {
				mismatch(at, "the producer's region", NULL, NULL, NULL, &kstate, &mstate);
				if (stop_at_first)
					break;
			}
		} else if (!strncmp(line, "@@ SCN ", 7)) {
			char name[128];

			if (sscanf(line + 7, "%u %127s", &scn_index, name) != 2)
				die(2, "bad line \"%s\"", line);
			snprintf(scn_name, sizeof(scn_name), "%s", name);
			snprintf(scn_seed, sizeof(scn_seed), "-");
			scn_step = 0;
			nhistory = 0;
		} else if (!strncmp(line, "@@ I random seed=", 17)) {
			snprintf(scn_seed, sizeof(scn_seed), "%lu", strtoul(line + 17, NULL, 10));
		} else if (sscanf(line, "@@ C %lu", &step) == 1) {
			if (!in_sync) {
				model_rebuild_idle();
				in_sync = 1;
				printf("  (resumed at step %lu, the canonical idle state)\n", step);
			}
		} else if (sscanf(line, "@@ X %lu %n", &step, &used) == 1) {
			expect_failures++;
			printf("EXPECTATION FAILED in the guest at step %lu (scenario %u \"%s\"): %s\n", step,
			       scn_index, scn_name, line + used);
		} else if (!strncmp(line, "@@ FATAL", 8)) {
			fatals++;
			printf("GUEST FATAL (scenario %u \"%s\"): %s\n", scn_index, scn_name, line + 9);
		} else if (sscanf(line, "@@ W %lu %n", &step, &used) == 1) {
			char rc_k[32], rel[256], path[300], desc[512];
			const char *eq;
			char *enc, *value;
			int rc;

			if (sscanf(line + used, "%31s %255s =", rc_k, rel) != 2 || !(eq = strstr(line + used, " =")))
				die(2, "bad line \"%s\"", line);
			enc = strdup(eq + 2);	/* the state lines reuse the line buffer */
			if (!enc)
				die(2, "out of memory");
			writes++;
			scn_step++;
			read_state_block(f, &buf, &cap, step, &kstate);
			if (!in_sync) {
				steps_skipped++;
				free(enc);
				continue;
			}
			value = decode_value(enc);
			model_path(rel, path, sizeof(path));
			rc = daxm_attr_write(ctx, path, value);
			snprintf(model_error, sizeof(model_error), "%s", rc ? daxm_last_error() : "");
			free(value);
			snprintf(desc, sizeof(desc), "write %s =%s", rel, enc);
			free(enc);
			model_state(&mstate);
			steps_compared++;
			if (strcmp(rc_k, errname(-rc)) || !states_equal(&kstate, &mstate)) {
				char rc_m[32];

				snprintf(rc_m, sizeof(rc_m), "%s", errname(-rc));
				mismatch(step, strcmp(rc_k, rc_m) ? "errno" : "state", desc, rc_k, rc_m, &kstate,
					 &mstate);
				if (stop_at_first)
					break;
				continue;
			}
			if (verbose)
				printf("ok %lu %s -> %s\n", step, desc, rc_k);
			snprintf(history[nhistory++ % HISTORY], sizeof(history[0]), "%lu: %s -> %s", step, desc,
				 rc_k);
		}
	}
	fclose(f);
	free(buf);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (!begun)
		die(2, "%s: no \"@@DAXREC BEGIN\": the guest never ran sysfs-replay", log);
	if (!ended && !(stop_at_first && mismatches))
		die(2, "%s: the record has no end: the guest stopped early", log);
	if (ended && guest_steps != writes)
		die(2, "%s: the record announces %lu steps but holds %lu", log, guest_steps, writes);

	printf("kernel-compare: linux %s (profile %s, region%d): %lu steps compared, %lu mismatches, "
	       "%lu skipped after a mismatch, %lu expectation failures, %u scenarios; ",
	       kernel_release, spec.profile == DAXM_PROFILE_6_1 ? "6.1" : "6.12", region_id, steps_compared,
	       mismatches, steps_skipped, expect_failures + fatals, scn_index);
	if (boot_seconds >= 0)
		printf("boot+guest %.1fs, ", boot_seconds);
	else if (guest_seconds >= 0)
		printf("guest %.1fs, ", guest_seconds);
	printf("compare %.2fs\n",
	       (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	state_clear(&kstate);
	state_clear(&mstate);
	daxm_unref(ctx);
	return mismatches || expect_failures || fatals ? 1 : 0;
}
