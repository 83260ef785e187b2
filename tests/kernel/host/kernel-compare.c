/*
 * kernel-compare - replay a guest's sysfs-replay record against libdaxmodel
 * and compare, step by step, the errno of every write and the whole state
 * of the region after it.
 *
 * usage: kernel-compare [--stop-at-first] [--verbose] [--profile 6.1|6.12]
 *                       [--by-hand] [--trees DIR] [--panic-on-warn]
 *                       [--boot-seconds S] GUEST_LOG
 *        kernel-compare --trees-only [--trees DIR] GUEST_LOG
 *
 * The guest captures the dax part of its sysfs as a tree ("@@ TREE" blocks,
 * see sysfs-replay's capture_tree()) before every REGION line (at boot and
 * after every reload of dax_hmem) and where a scenario says "capture NAME".
 * Each tree is rebuilt as a directory (under --trees DIR, kept; otherwise
 * a temporary one), imported with daxm_ctx_import_sysfs() and compared with
 * the state the guest recorded next to it, region by region ("TREE
 * MISMATCH" otherwise). The model a REGION's scenarios run on is the import
 * of the tree just before it. The region is also built by hand from the
 * record (its id, start, size and align, the profile of the kernel
 * release, daxR.0 covering the region, bound or not, or idle), and both
 * must show the kernel's state; --by-hand (or --profile) runs the scenarios
 * on the hand-built one instead. Every "@@ W" write is then applied with
 * daxm_attr_write() and the state is read back with daxm_attr_read() in the
 * same text the kernel printed. On a mismatch the step, the scenario, its
 * seed, both errnos and both states are printed; the scenario is abandoned
 * and the comparison resumes, with a fresh model, at the next point where
 * the guest has put the region back into its canonical idle state ("@@ C").
 * With --stop-at-first nothing after the first mismatch is compared.
 * --trees-only checks the trees of a log without a record (the devmem
 * boot's).
 *
 * Kernel warnings: the guest records, after each write, the WARNs the
 * kernel printed during it ("@@ K" lines: site and message). After each
 * write on the model the host drains its DAXM_EVENT_KERNEL_WARNING events
 * and compares them with the kernel's, in order: function, file, line (only
 * when the guest booted the Debian kernel the model's line numbers are
 * for) and message. A difference is a mismatch like an errno or a state
 * one. Every step with a warning on either side is printed. A WARN outside
 * any write ("@@ U") is a mismatch too. The guest clears the kernel's
 * WARN_ONCE state at every reset ("@@ O"), and the host then calls
 * daxm_clear_warn_once().
 *
 * --panic-on-warn: the log of a boot with panic_on_warn=1. The model runs
 * with daxm_set_panic_on_warn(). The guest prints "@@ B step path =value"
 * before each write; the kernel must panic ("Kernel panic - not syncing:
 * ... panic_on_warn") inside exactly the step at which the model answers
 * -EHOSTDOWN with a DAXM_WARN_PANIC warning, on the same site, and every
 * step before it must match.
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
#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include <daxmodel.h>

#define MAX_LINES 4096
#define HISTORY 6
#define MAX_WARNS 64
#define MAX_TAIL 400

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

/* One kernel WARN: as the guest saw it, or as the model predicted it. */
struct warn {
	char file[256];
	unsigned line;
	char func[128];
	char msg[1024];
	unsigned flags;		/* the model's DAXM_WARN_* */
	int oops;		/* a BUG/Oops line: never predicted */
};

struct warns {
	struct warn w[MAX_WARNS];
	unsigned n;
};

static struct warns kwarns, mwarns;	/* the kernel's and the model's, this step */
static unsigned long warns_kernel, warns_model, warn_steps, warns_outside;
static int compare_lines = -1;		/* -1: not known yet (no KVERSION line) */
static char debian_version[64];
static int panic_mode;			/* --panic-on-warn */
static int guest_panic_on_warn;		/* the record says "@@ PANIC_ON_WARN 1" */
static unsigned long once_clears;
static char *pending_write;		/* "@@ B": the write under way, "path =value" */
static unsigned long pending_step;
static char panic_summary[1024] = "not checked";

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

#include "../common/errname.h"

/* ---- the model ------------------------------------------------------------ */

/* "daxR.N" of region @rid -> "dev:N"; "" -> "-". */
static void record_name(const char *name, int rid, char *out, size_t len)
{
	int r, n, used;

	if (!*name)
		snprintf(out, len, "-");
	else if (sscanf(name, "dax%d.%d%n", &r, &n, &used) == 2 && !name[used] && r == rid && n >= 0)
		snprintf(out, len, "dev:%d", n);
	else
		snprintf(out, len, "%s", name);
}

/* An attribute of @c as text without its newline; "absent" for ENOENT. */
static void read_attr_of(struct daxm_ctx *c, const char *path, char *buf, size_t len)
{
	long n = daxm_attr_read(c, path, buf, len);

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

/* Region @rid of model @c, in the lines sysfs-replay prints for the kernel. */
static void model_state_of(struct daxm_ctx *c, int rid, struct state *st)
{
	struct daxm_region *region = daxm_region_get_by_id(c, rid);
	struct daxm_dev *dev;
	char path[96], avail[64], seed[64], create[64], name[64], seedr[64], creater[64];

	state_clear(st);
	if (!region) {
		state_add(st, "S <the model has no region%d>", rid);
		return;
	}
	snprintf(path, sizeof(path), "region%d/available_size", rid);
	read_attr_of(c, path, avail, sizeof(avail));
	snprintf(path, sizeof(path), "region%d/seed", rid);
	read_attr_of(c, path, seed, sizeof(seed));
	snprintf(path, sizeof(path), "region%d/create", rid);
	read_attr_of(c, path, create, sizeof(create));
	record_name(seed, rid, seedr, sizeof(seedr));
	record_name(create, rid, creater, sizeof(creater));
	state_add(st, "S avail=%s seed=%s create=%s", avail, seedr, creater);

	daxm_dev_foreach(region, dev) {
		char size[32], align[32], resource[32], target[32];
		const char *devname = daxm_dev_get_devname(dev);
		int id = daxm_dev_get_id(dev), nmaps = 0, cap = daxm_dev_get_nr_mappings(dev);
		struct mapref *maps;
		struct daxm_mapping *m;

		snprintf(name, sizeof(name), "%s", devname ? devname : "?");
		snprintf(path, sizeof(path), "%s/size", name);
		read_attr_of(c, path, size, sizeof(size));
		snprintf(path, sizeof(path), "%s/align", name);
		read_attr_of(c, path, align, sizeof(align));
		snprintf(path, sizeof(path), "%s/resource", name);
		read_attr_of(c, path, resource, sizeof(resource));
		snprintf(path, sizeof(path), "%s/target_node", name);
		read_attr_of(c, path, target, sizeof(target));
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
			read_attr_of(c, path, start, sizeof(start));
			snprintf(path, sizeof(path), "%s/mapping%d/end", name, maps[i].id);
			read_attr_of(c, path, end, sizeof(end));
			snprintf(path, sizeof(path), "%s/mapping%d/page_offset", name, maps[i].id);
			read_attr_of(c, path, pgoff, sizeof(pgoff));
			state_add(st, "M dev:%d %d start=%s end=%s page_offset=%s", id, maps[i].id, start, end,
				  pgoff);
		}
		free(maps);
	}
}

/* The region under test of the model in use. */
static void model_state(struct state *st)
{
	model_state_of(ctx, region_id, st);
}

/* A fresh context with the region as spec says. */
static struct daxm_ctx *build_by_hand(void)
{
	struct daxm_region *region;
	struct daxm_ctx *c;
	int rc;

	if (daxm_new(&c))
		die(2, "daxm_new failed");
	rc = daxm_region_new(c, &spec, &region);
	if (rc)
		die(2, "daxm_region_new(region%d start %#" PRIx64 " size %" PRIu64 " align %" PRIu64
		       "): %s: %s", spec.id, spec.start, spec.size, spec.align, errname(-rc), daxm_last_error());
	return c;
}

static void model_drain_warnings(struct daxm_ctx *c, struct warns *out);

/* Use @c as the model from now on. */
static void model_use(struct daxm_ctx *c)
{
	if (ctx)
		daxm_unref(ctx);
	ctx = c;
	/* the warnings are printed next to the steps: not on stderr too */
	daxm_set_log_priority(ctx, 3);
	if (panic_mode && daxm_set_panic_on_warn(ctx, 1))
		die(2, "daxm_set_panic_on_warn: %s", daxm_last_error());
	model_drain_warnings(ctx, NULL);	/* whatever making it queued */
}

/* The DAXM_EVENT_KERNEL_WARNING events queued on @c, in order, into @out
 * (NULL: dropped); other events are dropped. */
static void model_drain_warnings(struct daxm_ctx *c, struct warns *out)
{
	struct daxm_event *ev;

	if (out)
		out->n = 0;
	while (daxm_ctx_next_event(c, &ev) == 0 && ev) {
		if (out && ev->type == DAXM_EVENT_KERNEL_WARNING && out->n < MAX_WARNS) {
			struct warn *w = &out->w[out->n++];

			memset(w, 0, sizeof(*w));
			snprintf(w->file, sizeof(w->file), "%s", ev->warn_file ? ev->warn_file : "?");
			snprintf(w->func, sizeof(w->func), "%s", ev->warn_function ? ev->warn_function : "?");
			snprintf(w->msg, sizeof(w->msg), "%s", ev->warn_message ? ev->warn_message : "");
			w->line = ev->warn_line;
			w->flags = ev->warn_flags;
		}
		daxm_event_free(ev);
	}
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
 * The model region the boot state describes, built by hand: daxR.0
 * covering the region (bound or not) or idle. Anything else is not a state
 * a producer makes. Returns a new context.
 */
static struct daxm_ctx *model_from_boot(const struct state *boot)
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
	return build_by_hand();
}

/* The canonical idle state sysfs-replay resets to: a fresh idle region. */
static void model_rebuild_idle(void)
{
	spec.flags = DAXM_REGION_IDLE;
	model_use(build_by_hand());
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

/* ---- kernel warnings ---------------------------------------------------------- */

static size_t pct_decode(const char *enc, char *out, size_t outlen);

/* A K/U line's rest, "FILE:LINE FUNC =MESSAGE" or "OOPS =TEXT", into @w. */
static void parse_warn(const char *rest, struct warn *w)
{
	const char *eq = strstr(rest, " =");

	memset(w, 0, sizeof(*w));
	if (!eq)
		die(2, "bad warning \"%s\"", rest);
	pct_decode(eq + 2, w->msg, sizeof(w->msg));
	if (!strncmp(rest, "OOPS =", 6)) {
		w->oops = 1;
		snprintf(w->file, sizeof(w->file), "-");
		snprintf(w->func, sizeof(w->func), "OOPS");
		return;
	}
	if (sscanf(rest, "%255[^: ]:%u %127s", w->file, &w->line, w->func) != 3)
		die(2, "bad warning \"%s\"", rest);
}

static void format_warn(const struct warn *w, char *buf, size_t len)
{
	char msg[1100];
	size_t n = 0;

	for (const char *p = w->msg; *p && n + 4 < sizeof(msg); p++) {
		if (*p == '\n') {
			memcpy(msg + n, " / ", 3);
			n += 3;
		} else {
			msg[n++] = *p;
		}
	}
	msg[n] = '\0';
	if (w->oops)
		snprintf(buf, len, "BUG/Oops: %s", msg);
	else
		snprintf(buf, len, "%s:%u %s%s%s%s%s%s", w->file, w->line, w->func, *msg ? " \"" : " (no message)",
			 msg, *msg ? "\"" : "", w->flags & DAXM_WARN_ONCE ? " (once)" : "",
			 w->flags & DAXM_WARN_PANIC ? " (panicked)" : "");
}

/* Same site (function, file, and line when the kernel is the one the
 * model's lines are for) and same message. */
static int warn_equal(const struct warn *k, const struct warn *m)
{
	return !k->oops && !m->oops && !strcmp(k->func, m->func) && !strcmp(k->file, m->file) &&
	       (compare_lines != 1 || k->line == m->line) && !strcmp(k->msg, m->msg);
}

static int warns_equal(const struct warns *k, const struct warns *m)
{
	if (k->n != m->n)
		return 0;
	for (unsigned i = 0; i < k->n; i++)
		if (!warn_equal(&k->w[i], &m->w[i]))
			return 0;
	return 1;
}

/* Both lists, in order; differing entries marked '!'. */
static void print_warn_pair(const struct warns *k, const struct warns *m)
{
	unsigned n = k->n > m->n ? k->n : m->n;
	char a[1500], b[1500];

	for (unsigned i = 0; i < n; i++) {
		int same = i < k->n && i < m->n && warn_equal(&k->w[i], &m->w[i]);

		if (i < k->n)
			format_warn(&k->w[i], a, sizeof(a));
		else
			snprintf(a, sizeof(a), "(nothing)");
		if (i < m->n)
			format_warn(&m->w[i], b, sizeof(b));
		else
			snprintf(b, sizeof(b), "(nothing)");
		printf("  %c kernel: %s\n  %c model:  %s\n", same ? ' ' : '!', a, same ? ' ' : '!', b);
	}
}

/* "@@ KVERSION #1 SMP PREEMPT_DYNAMIC Debian 6.1.192-3 (...)": the model's
 * warn_line is for Debian's 6.1.192 and 6.12.118; for another build only
 * function and file are compared. */
static void kernel_version(const char *text, int profile)
{
	const char *d = strstr(text, "Debian ");
	const char *want = profile == DAXM_PROFILE_6_1 ? "6.1.192" : "6.12.118";
	size_t n;

	debian_version[0] = '\0';
	if (d) {
		n = strcspn(d + 7, " ");
		snprintf(debian_version, sizeof(debian_version), "%.*s", (int)n, d + 7);
	}
	n = strlen(want);
	compare_lines = !strncmp(debian_version, want, n) && (debian_version[n] == '-' || !debian_version[n]);
	if (!compare_lines)
		printf("note: the guest booted Debian %s, not %s: the model's warning line numbers are for %s, "
		       "so warnings are compared by function, file and message only\n",
		       *debian_version ? debian_version : "(unknown version)", want, want);
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
	if (write && (kwarns.n || mwarns.n)) {
		printf("  kernel warnings of this step, in order, next to the model's:\n");
		print_warn_pair(&kwarns, &mwarns);
	}
	printf("\n");
	fflush(stdout);
	if (stop_at_first)
		return;
	in_sync = 0;
	printf("  (skipping to the next canonical idle state)\n");
}

/* ---- the record ------------------------------------------------------------- */

/* --panic-on-warn: the console lines (the kernel's) since the last "@@ B",
 * without their "[ seconds]" stamps. */
static char *tail[MAX_TAIL];
static unsigned ntail;
static int tail_on;

static void tail_add(const char *line)
{
	const char *p = line;

	if (*p == '[' && (p = strchr(p, ']')))
		p += 1 + (p[1] == ' ');
	else
		p = line;
	if (ntail == MAX_TAIL)
		return;
	tail[ntail] = strdup(p);
	if (!tail[ntail])
		die(2, "out of memory");
	ntail++;
}

static void tail_clear(void)
{
	for (unsigned i = 0; i < ntail; i++)
		free(tail[i]);
	ntail = 0;
}

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
		if (tail_on)
			tail_add(*buf);
	}
	return NULL;
}

/* Collects the state lines of @step up to "@@ E step". */
static void read_state_block(FILE *f, char **buf, size_t *cap, unsigned long step, struct state *st)
{
	char *line;
	char prefix[48];

	state_clear(st);
	kwarns.n = 0;
	for (;;) {
		unsigned long s;
		char kind;
		int used;

		line = next_line(f, buf, cap);
		if (!line)
			die(2, "the record ends inside the state of step %lu", step);
		if (sscanf(line, "@@ K %lu %n", &s, &used) == 1 && s == step) {
			if (kwarns.n < MAX_WARNS)
				parse_warn(line + used, &kwarns.w[kwarns.n++]);
			continue;
		}
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

/* ---- captured trees --------------------------------------------------------- */

/*
 * A "@@ TREE BEGIN name" block (sysfs-replay's capture_tree()) is rebuilt
 * as a directory under trees_base: NNN-name/ with sys/, proc/ and
 * expected-state.txt (the guest's KERNEL, REGION and S/D/M lines). The
 * directory is then imported with daxm_ctx_import_sysfs() into a fresh
 * context and every region is compared with what the guest recorded. A
 * tree captured just before a REGION line is the model that region's
 * scenarios run on.
 */
static char trees_base[4096];
static int trees_base_is_tmp;
static unsigned ntrees, tree_mismatches, regions_imported;
static struct daxm_ctx *tree_ctx;	/* the last tree's import, for the next REGION */
static int tree_pending;		/* a tree came since the last REGION */
static char tree_dir[4096];

static void mkdirs(const char *path)
{
	char buf[4096];

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = buf + 1; *p; p++) {
		if (*p == '/') {
			*p = '\0';
			if (mkdir(buf, 0755) && errno != EEXIST)
				die(2, "mkdir %s: %s", buf, strerror(errno));
			*p = '/';
		}
	}
	if (mkdir(buf, 0755) && errno != EEXIST)
		die(2, "mkdir %s: %s", buf, strerror(errno));
}

/* %XX-decoded bytes of @enc; returns the length. */
static size_t pct_decode(const char *enc, char *out, size_t outlen)
{
	size_t n = 0;

	for (size_t i = 0; enc[i] && n + 1 < outlen; i++) {
		if (enc[i] == '%' && isxdigit((unsigned char)enc[i + 1]) && isxdigit((unsigned char)enc[i + 2])) {
			out[n++] = (char)(hexval(enc[i + 1]) * 16 + hexval(enc[i + 2]));
			i += 2;
		} else {
			out[n++] = enc[i];
		}
	}
	out[n] = '\0';
	return n;
}

/* A relative path that stays inside the tree. */
static int safe_rel(const char *rel)
{
	return *rel && *rel != '/' && !strstr(rel, "..") ? 1 : 0;
}

static void tree_parent(const char *path)
{
	char buf[4096], *slash;

	snprintf(buf, sizeof(buf), "%s", path);
	slash = strrchr(buf, '/');
	if (slash) {
		*slash = '\0';
		mkdirs(buf);
	}
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

static void trees_cleanup(void)
{
	if (trees_base_is_tmp && *trees_base)
		nftw(trees_base, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* "driver=NAME" -> "driver=bound" (the model knows binding, not drivers:
 * a device kmem holds is bound too); the rest as is. */
static void normalize_driver(const char *in, char *out, size_t len)
{
	const char *d = strstr(in, " driver=");

	if (d && strcmp(d, " driver=-"))
		snprintf(out, len, "%.*s driver=bound", (int)(d - in), in);
	else
		snprintf(out, len, "%s", in);
}

static void tree_problem(const char *name, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void tree_problem(const char *name, const char *fmt, ...)
{
	va_list ap;

	tree_mismatches++;
	printf("\nTREE MISMATCH in tree %u \"%s\" (%s): ", ntrees, name, tree_dir);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

/* Import the tree in tree_dir and compare it with @expected (the guest's
 * lines). Returns the imported context (or NULL when the import failed). */
static struct daxm_ctx *check_tree(const char *name, const char *release, const struct state *expected)
{
	struct daxm_ctx *c;
	struct state want = { 0 }, got = { 0 };
	unsigned nregions = 0;
	int rc, profile = release[0] ? profile_of(release) : DAXM_PROFILE_6_12;

	if (daxm_new(&c))
		die(2, "daxm_new failed");
	rc = daxm_ctx_import_sysfs(c, tree_dir);
	if (rc <= 0) {
		tree_problem(name, "daxm_ctx_import_sysfs: %s: %s", errname(-rc), daxm_last_error());
		daxm_unref(c);
		return NULL;
	}
	for (unsigned i = 0; i < expected->n; i++) {
		const char *line = expected->line[i];
		char kind[16];
		struct daxm_region *r;
		int id;
		uint64_t start, size, align;

		if (strncmp(line, "REGION ", 7))
			continue;
		nregions++;
		id = (int)field_u64(line, "id");
		start = field_u64(line, "start");
		size = field_u64(line, "size");
		align = field_u64(line, "align");
		if (!field(line, "kind", kind, sizeof(kind)))
			die(2, "no kind= in \"%s\"", line);
		r = daxm_region_get_by_id(c, id);
		if (!r) {
			tree_problem(name, "region%d was not imported", id);
			continue;
		}
		if (daxm_region_get_kind(r) != (!strcmp(kind, "dynamic") ? DAXM_REGION_DYNAMIC : DAXM_REGION_STATIC) ||
		    daxm_region_get_start(r) != start || daxm_region_get_size(r) != size ||
		    daxm_region_get_align(r) != align || daxm_region_get_profile(r) != profile)
			tree_problem(name, "region%d: kernel %s start %#" PRIx64 " size %" PRIu64 " align %" PRIu64
				     " (profile %s); imported kind %d start %#" PRIx64 " size %" PRIu64 " align %" PRIu64
				     " profile %d", id, kind, start, size, align,
				     profile == DAXM_PROFILE_6_1 ? "6.1" : "6.12", daxm_region_get_kind(r),
				     daxm_region_get_start(r), daxm_region_get_size(r), daxm_region_get_align(r),
				     daxm_region_get_profile(r));
		/* the region's S/D/M lines */
		state_clear(&want);
		for (unsigned j = i + 1; j < expected->n && strncmp(expected->line[j], "REGION ", 7); j++) {
			char buf[512];

			normalize_driver(expected->line[j], buf, sizeof(buf));
			state_add(&want, "%s", buf);
		}
		model_state_of(c, id, &got);
		for (unsigned j = 0; j < got.n; j++) {
			char buf[512];

			normalize_driver(got.line[j], buf, sizeof(buf));
			free(got.line[j]);
			got.line[j] = strdup(buf);
		}
		if (!states_equal(&want, &got)) {
			tree_problem(name, "region%d: the imported state differs from the kernel's", id);
			print_state_pair(&want, &got);
		}
	}
	if (rc != (int)nregions)
		tree_problem(name, "the guest recorded %u regions, daxm_ctx_import_sysfs imported %d", nregions, rc);
	state_clear(&want);
	state_clear(&got);
	return c;
}

/* Rebuild the tree whose "@@ TREE BEGIN" line was @begin, then check it. */
static void read_tree(FILE *f, char **buf, size_t *cap, const char *begin)
{
	char name[128], release[128] = "", path[4096 + 512];
	static char data[8192];
	struct state expected = { 0 };
	unsigned long entries = 0, announced;
	FILE *ef;
	char *line;

	if (sscanf(begin, "@@ TREE BEGIN %127s", name) != 1 || !safe_rel(name) || strchr(name, '/'))
		die(2, "bad line \"%s\"", begin);
	if (!*trees_base) {
		snprintf(trees_base, sizeof(trees_base), "%s/kernel-compare.XXXXXX",
			 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
		if (!mkdtemp(trees_base))
			die(2, "mkdtemp %s: %s", trees_base, strerror(errno));
		trees_base_is_tmp = 1;
		atexit(trees_cleanup);
	}
	ntrees++;
	snprintf(tree_dir, sizeof(tree_dir), "%s/%03u-%s", trees_base, ntrees, name);
	if (access(tree_dir, F_OK) == 0)
		die(2, "%s exists already: give --trees an empty directory", tree_dir);
	mkdirs(tree_dir);
	for (;;) {
		char kind, rel[1024];
		int used = 0;

		line = next_line(f, buf, cap);
		if (!line)
			die(2, "the record ends inside tree \"%s\"", name);
		if (!strncmp(line, "@@ TREE END ", 12)) {
			char v[32];

			announced = field(line, "entries", v, sizeof(v)) ? strtoul(v, NULL, 10) : 0;
			if (announced != entries)
				die(2, "tree \"%s\": %lu entries announced, %lu read", name, announced, entries);
			break;
		}
		if (!strncmp(line, "@@ FATAL", 8))
			die(2, "guest: %s", line + 3);
		if (!strncmp(line, "@@ T KERNEL ", 12)) {
			snprintf(release, sizeof(release), "%s", line + 12);
			continue;
		}
		if (!strncmp(line, "@@ T REGION ", 12) || (sscanf(line, "@@ T %c %n", &kind, &used) == 1 && used &&
							     strchr("SDM", kind) && line[6] == ' ')) {
			state_add(&expected, "%s", line + 5);
			continue;
		}
		if (!strcmp(line, "@@ T E"))
			continue;
		if (sscanf(line, "@@ T %c %1023s%n", &kind, rel, &used) != 2 || !safe_rel(rel))
			die(2, "tree \"%s\": bad line \"%s\"", name, line);
		entries++;
		snprintf(path, sizeof(path), "%s/%s", tree_dir, rel);
		if (kind == 'd') {
			mkdirs(path);
		} else if (kind == 'f' || kind == 'w') {
			size_t n = 0;
			int fd;

			if (kind == 'f') {
				if (strncmp(line + used, " =", 2))
					die(2, "tree \"%s\": bad line \"%s\"", name, line);
				n = pct_decode(line + used + 2, data, sizeof(data));
			}
			tree_parent(path);
			fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
			if (fd < 0 || write(fd, data, n) != (ssize_t)n || close(fd))
				die(2, "write %s: %s", path, strerror(errno));
		} else if (kind == 'l') {
			if (strncmp(line + used, " =", 2))
				die(2, "tree \"%s\": bad line \"%s\"", name, line);
			pct_decode(line + used + 2, data, sizeof(data));
			tree_parent(path);
			if (symlink(data, path))
				die(2, "symlink %s: %s", path, strerror(errno));
		} else {
			die(2, "tree \"%s\": bad line \"%s\"", name, line);
		}
	}
	snprintf(path, sizeof(path), "%s/expected-state.txt", tree_dir);
	ef = fopen(path, "w");
	if (!ef)
		die(2, "%s: %s", path, strerror(errno));
	fprintf(ef, "# The state Linux showed when this tree was captured, recorded in the guest by\n"
		    "# tests/kernel/guest/sysfs-replay.c (dev:N is daxR.N of the region above it).\n"
		    "KERNEL %s\n", release);
	for (unsigned i = 0; i < expected.n; i++)
		fprintf(ef, "%s\n", expected.line[i]);
	if (fclose(ef))
		die(2, "%s: %s", path, strerror(errno));

	if (tree_ctx)
		daxm_unref(tree_ctx);
	tree_ctx = check_tree(name, release, &expected);
	tree_pending = 1;
	if (verbose)
		printf("tree %u \"%s\": %lu entries, imported and checked\n", ntrees, name, entries);
	state_clear(&expected);
}

/*
 * --panic-on-warn, at the end of the log. The guest must have died inside
 * the write of its last "@@ B" (a step with no "@@ W"), its console showing
 * the WARN and "Kernel panic - not syncing: ... panic_on_warn ...". The
 * model, given the same write, must answer -EHOSTDOWN, report the same
 * warning (flagged DAXM_WARN_PANIC) and say it panicked. Returns 1 when all
 * of that holds.
 */
static int check_panic(int ended)
{
	struct warns k = { 0 };
	char kpanic[512] = "", mtext[1024] = "", msg[1024] = "", a[1500], b[1500], rel[256], path[300];
	const char *eq, *why = NULL;
	char *value;
	int in_msg = 0, rc, panicked;

	if (ended || !pending_write) {
		snprintf(panic_summary, sizeof(panic_summary), "MISMATCH, the guest did not panic");
		printf("\nPANIC MISMATCH: the guest did not panic: %s\n",
		       ended ? "its record ended normally" : "no write was under way when the log ended");
		return 0;
	}
	for (unsigned i = 0; i < ntail; i++) {
		const char *line = tail[i], *at;

		if (!strcmp(line, "------------[ cut here ]------------")) {
			in_msg = 1;
			msg[0] = '\0';
		} else if (!strncmp(line, "WARNING: ", 9) && k.n < MAX_WARNS) {
			struct warn *w = &k.w[k.n++];

			memset(w, 0, sizeof(*w));
			at = strstr(line, " at ");
			if (!at || sscanf(at + 4, "%255[^: ]:%u %127[^+ ]", w->file, &w->line, w->func) != 3)
				snprintf(w->func, sizeof(w->func), "?");
			snprintf(w->msg, sizeof(w->msg), "%s", in_msg ? msg : "");
			in_msg = 0;
		} else if ((at = strstr(line, "Kernel panic - not syncing:"))) {
			snprintf(kpanic, sizeof(kpanic), "%s", at);
			break;
		} else if (in_msg) {
			size_t n = strlen(msg);

			snprintf(msg + n, sizeof(msg) - n, "%s%s", n ? "\n" : "", line);
		}
	}
	printf("\npanic_on_warn: the guest died in step %lu (scenario %u \"%s\", its step %lu): write %s\n",
	       pending_step, scn_index, scn_name, scn_step + 1, pending_write);
	printf("  kernel: %s\n", *kpanic ? kpanic : "(no \"Kernel panic - not syncing\" line)");
	eq = strstr(pending_write, " =");
	if (sscanf(pending_write, "%255s", rel) != 1 || !eq)
		die(2, "bad line \"@@ B %lu %s\"", pending_step, pending_write);
	if (!in_sync) {
		snprintf(panic_summary, sizeof(panic_summary), "not compared, the model was out of sync (MISMATCH above)");
		printf("  (not compared: the model was out of sync since a mismatch)\n");
		return 0;
	}
	value = decode_value(eq + 2);
	model_path(rel, path, sizeof(path));
	rc = daxm_attr_write(ctx, path, value);
	free(value);
	snprintf(model_error, sizeof(model_error), "%s", rc ? daxm_last_error() : "");
	model_drain_warnings(ctx, &mwarns);
	panicked = daxm_ctx_get_panic(ctx, mtext, sizeof(mtext));
	printf("  model:  %s%s%s; daxm_ctx_get_panic: %d%s%s\n", errname(-rc), *model_error ? " - " : "", model_error,
	       panicked, panicked == 1 ? ": " : "", panicked == 1 ? mtext : "");
	printf("  the warning on the console, next to the model's:\n");
	print_warn_pair(&k, &mwarns);
	if (!*kpanic || !strstr(kpanic, "panic_on_warn"))
		why = "the guest's log does not end in a panic_on_warn panic";
	else if (!k.n)
		why = "no WARNING line on the guest's console before the panic";
	else if (rc != -EHOSTDOWN || panicked != 1)
		why = "the model did not panic at this step";
	else if (!mwarns.n || !(mwarns.w[mwarns.n - 1].flags & DAXM_WARN_PANIC))
		why = "the model's last warning is not flagged DAXM_WARN_PANIC";
	else if (!warns_equal(&k, &mwarns))
		why = "the kernel panicked on another warning than the model";
	if (why) {
		mismatches++;
		snprintf(panic_summary, sizeof(panic_summary), "MISMATCH at step %lu, %s", pending_step, why);
		printf("PANIC MISMATCH: %s\n\n", why);
		return 0;
	}
	format_warn(&k.w[k.n - 1], a, sizeof(a));
	snprintf(b, sizeof(b), "%s", pending_write);
	snprintf(panic_summary, sizeof(panic_summary), "both panicked at step %lu (%.200s: %.300s)", pending_step, b, a);
	printf("  both panicked at step %lu, on the same warning\n\n", pending_step);
	return 1;
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
	int begun = 0, ended = 0, trees_only = 0, by_hand = 0, panic_ok = 0;
	unsigned long writes = 0, guest_steps = 0, nregions = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--stop-at-first"))
			stop_at_first = 1;
		else if (!strcmp(argv[i], "--verbose"))
			verbose = 1;
		else if (!strcmp(argv[i], "--profile") && i + 1 < argc)
			profile_override = !strcmp(argv[++i], "6.1") ? DAXM_PROFILE_6_1 : DAXM_PROFILE_6_12;
		else if (!strcmp(argv[i], "--boot-seconds") && i + 1 < argc)
			boot_seconds = atof(argv[++i]);
		else if (!strcmp(argv[i], "--trees") && i + 1 < argc)
			snprintf(trees_base, sizeof(trees_base), "%s", argv[++i]);
		else if (!strcmp(argv[i], "--trees-only"))
			trees_only = 1;
		else if (!strcmp(argv[i], "--by-hand"))
			by_hand = 1;
		else if (!strcmp(argv[i], "--panic-on-warn"))
			panic_mode = 1;
		else if (argv[i][0] != '-' && !log)
			log = argv[i];
		else
			die(2, "usage: kernel-compare [--stop-at-first] [--verbose] [--profile 6.1|6.12] "
			       "[--by-hand] [--trees DIR] [--trees-only] [--panic-on-warn] [--boot-seconds S] GUEST_LOG");
	}
	if (profile_override)
		by_hand = 1;	/* an imported region follows the tree's osrelease */
	if (*trees_base)
		mkdirs(trees_base);
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

		if (!strncmp(line, "@@ TREE BEGIN ", 14)) {
			read_tree(f, &buf, &cap, line);
			continue;
		}
		if (trees_only)
			continue;
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
		} else if (!strncmp(line, "@@ KVERSION ", 12)) {
			kernel_version(line + 12, profile_of(kernel_release));
		} else if (!strcmp(line, "@@ PANIC_ON_WARN 1")) {
			guest_panic_on_warn = 1;
			if (!panic_mode)
				die(2, "%s: the guest ran with panic_on_warn=1: give --panic-on-warn", log);
		} else if (sscanf(line, "@@ U %lu %n", &step, &used) == 1) {
			struct warn w;
			char text[1500];

			parse_warn(line + used, &w);
			format_warn(&w, text, sizeof(text));
			warns_outside++;
			mismatches++;
			printf("\nMISMATCH (a kernel warning outside any write) after step %lu, scenario %u \"%s\": "
			       "%s\n\n", step, scn_index, scn_name, text);
		} else if (sscanf(line, "@@ O %lu", &step) == 1) {
			/* the guest cleared the kernel's WARN_ONCE state */
			if (ctx && in_sync && daxm_clear_warn_once(ctx) && !panic_mode)
				die(2, "daxm_clear_warn_once: %s", daxm_last_error());
			once_clears++;
		} else if (sscanf(line, "@@ B %lu %n", &step, &used) == 1) {
			/* --panic-on-warn: this step's write starts */
			free(pending_write);
			pending_write = strdup(line + used);
			if (!pending_write)
				die(2, "out of memory");
			pending_step = step;
			tail_clear();
			tail_on = panic_mode;
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
			nregions++;
			/* the model the scenarios run on: the region imported
			 * from the tree the guest captured just before (see
			 * read_tree()); the one built by hand must agree too */
			model_use(model_from_boot(&kstate));
			if (!in_sync)
				printf("  (resumed after step %lu: the region was made anew)\n", at);
			in_sync = 1;
			model_state(&mstate);
			if (!states_equal(&kstate, &mstate)) {
				mismatch(at, "the producer's region, built by hand", NULL, NULL, NULL, &kstate, &mstate);
				if (stop_at_first)
					break;
			}
			if (!by_hand && !tree_pending)
				die(2, "step %lu: region%d has no captured tree before it (an older "
				       "sysfs-replay?); --by-hand builds it by hand only", at, region_id);
			tree_pending = 0;
			if (!by_hand && !tree_ctx)
				printf("  (the import failed (TREE MISMATCH above): region%d's scenarios run on "
				       "the region built by hand)\n", region_id);
			if (!by_hand && tree_ctx) {
				model_use(tree_ctx);
				tree_ctx = NULL;
				regions_imported++;
				model_state(&mstate);
				if (!states_equal(&kstate, &mstate)) {
					mismatch(at, "the producer's region, imported from the guest's sysfs", NULL,
						 NULL, NULL, &kstate, &mstate);
					if (stop_at_first)
						break;
				}
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
			if (pending_write && pending_step == step) {
				free(pending_write);
				pending_write = NULL;
				tail_on = 0;
				tail_clear();
			}
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
			model_drain_warnings(ctx, &mwarns);
			free(value);
			snprintf(desc, sizeof(desc), "write %s =%s", rel, enc);
			free(enc);
			model_state(&mstate);
			steps_compared++;
			warns_kernel += kwarns.n;
			warns_model += mwarns.n;
			if (kwarns.n || mwarns.n) {
				warn_steps++;
				printf("warnings at step %lu (scenario %u \"%s\", its step %lu, seed %s): %s -> %s\n", step,
				       scn_index, scn_name, scn_step, scn_seed, desc, rc_k);
				print_warn_pair(&kwarns, &mwarns);
			}
			if (strcmp(rc_k, errname(-rc)) || !states_equal(&kstate, &mstate) ||
			    !warns_equal(&kwarns, &mwarns)) {
				char rc_m[32];

				snprintf(rc_m, sizeof(rc_m), "%s", errname(-rc));
				mismatch(step, strcmp(rc_k, rc_m) ? "errno" : !states_equal(&kstate, &mstate) ? "state" :
					 "kernel warnings", desc, rc_k, rc_m, &kstate, &mstate);
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
	if (tree_ctx)
		daxm_unref(tree_ctx);
	if (trees_only) {
		if (!ntrees)
			die(2, "%s: no captured tree (\"@@ TREE BEGIN\")", log);
		printf("kernel-compare: %u tree%s imported with daxm_ctx_import_sysfs and checked, %u mismatch%s\n",
		       ntrees, ntrees == 1 ? "" : "s", tree_mismatches, tree_mismatches == 1 ? "" : "es");
		return tree_mismatches ? 1 : 0;
	}
	if (!begun)
		die(2, "%s: no \"@@DAXREC BEGIN\": the guest never ran sysfs-replay", log);
	if (panic_mode && !guest_panic_on_warn)
		die(2, "%s: the guest did not run with panic_on_warn=1 (no \"@@ PANIC_ON_WARN 1\")", log);
	if (panic_mode)
		panic_ok = check_panic(ended);
	else if (!ended && !(stop_at_first && mismatches))
		die(2, "%s: the record has no end: the guest stopped early", log);
	if (ended && guest_steps != writes)
		die(2, "%s: the record announces %lu steps but holds %lu", log, guest_steps, writes);

	printf("kernel-compare: linux %s (profile %s, region%d): %lu steps compared, %lu mismatches, "
	       "%lu skipped after a mismatch, %lu expectation failures, %u scenarios; "
	       "%u of %lu regions imported from the guest's sysfs, %u trees checked, %u tree mismatches; ",
	       kernel_release, spec.profile == DAXM_PROFILE_6_1 ? "6.1" : "6.12", region_id, steps_compared,
	       mismatches, steps_skipped, expect_failures + fatals, scn_index, regions_imported, nregions,
	       ntrees, tree_mismatches);
	printf("%lu kernel warnings and %lu predicted on %lu steps (lines %s), %lu outside a write; ",
	       warns_kernel, warns_model, warn_steps,
	       compare_lines == 1 ? "compared" : "not compared: another kernel build", warns_outside);
	if (panic_mode)
		printf("panic_on_warn: %s; ", panic_summary);
	if (boot_seconds >= 0)
		printf("boot+guest %.1fs, ", boot_seconds);
	else if (guest_seconds >= 0)
		printf("guest %.1fs, ", guest_seconds);
	printf("compare %.2fs\n",
	       (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	state_clear(&kstate);
	state_clear(&mstate);
	daxm_unref(ctx);
	return mismatches || tree_mismatches || expect_failures || fatals || (panic_mode && !panic_ok) ? 1 : 0;
}
