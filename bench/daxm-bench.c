/*
 * daxm-bench - what libdaxmodel's calls cost, next to C baselines.
 *
 *   daxm-bench [--quick] [--budget S] [--only TABLE[,TABLE...]]
 *              [--iterations N] [--runs N] [--seed N]
 *              [--max-m N] [--max-e N] [--view-mib N]
 *              [--fabric-hosts N --fabric-extents N]
 *
 * Tables (Markdown on stdout): calls, dynamic, sparse, memory, threads,
 * views, scale, fabric. See bench/README.md. Built and run by scripts/bench.sh against
 * the installed library. Ratios are printed, never asserted.
 */
#include "bench.h"

#include <sys/utsname.h>
#include <unistd.h>

static const struct {
	const char *name;
	unsigned bit;
	void (*run)(void);
} tables[] = {
	{ "calls", T_CALLS, table_calls },
	{ "dynamic", T_DYNAMIC, table_dynamic },
	{ "sparse", T_SPARSE, table_sparse },
	{ "memory", T_MEMORY, table_memory },
	{ "threads", T_THREADS, table_threads },
	{ "views", T_VIEWS, table_views },
	{ "scale", T_SCALE, table_scale },
	{ "fabric", T_FABRIC, table_fabric },
};
#define NTABLES (sizeof(tables) / sizeof(tables[0]))

static void usage(FILE *f)
{
	fprintf(f,
		"usage: daxm-bench [options]\n"
		"  --quick           tiny sizes and short runs (CI; well under 30 s)\n"
		"  --budget S        seconds allowed per table row (default 60; quick 5)\n"
		"  --only T[,T...]   tables: calls dynamic sparse memory threads views scale\n"
		"                    fabric (or a..h)\n"
		"  --iterations N    calls table: exactly N calls per row, one run\n"
		"                    (for callgrind; no calibration)\n"
		"  --runs N          repetitions per measurement, median shown (default 5)\n"
		"  --seed N          random seed (default 1)\n"
		"  --max-m N         largest device count in the dynamic table\n"
		"  --max-e N         largest extent count in the sparse table\n"
		"  --view-mib N      MiB mapped in the views table (default 256)\n"
		"  --fabric-hosts N --fabric-extents N\n"
		"                    the fabric table's largest row: N hosts with N extents\n"
		"                    each (default 64 x 10000; quick 8 x 500)\n");
}

static unsigned parse_only(const char *arg)
{
	unsigned bits = 0;
	char *copy = strdup(arg), *save = NULL, *tok;

	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		size_t i;

		for (i = 0; i < NTABLES; i++)
			if (!strcmp(tok, tables[i].name) ||
			    (strlen(tok) == 1 && tok[0] == (char)('a' + i)))
				break;
		if (i == NTABLES)
			die("--only: unknown table '%s'", tok);
		bits |= tables[i].bit;
	}
	free(copy);
	return bits;
}

static long parse_long(const char *name, const char *v)
{
	char *end;
	long n;

	if (!v)
		die("%s needs a value", name);
	errno = 0;
	n = strtol(v, &end, 0);
	if (errno || *end || n < 0)
		die("%s: bad value '%s'", name, v);
	return n;
}

static void header(int argc, char **argv)
{
	struct utsname u;
	char cpu[256] = "unknown", line[512], date[64], load[64] = "?";
	FILE *f;
	time_t t = time(NULL);

	uname(&u);
	f = fopen("/proc/cpuinfo", "r");
	if (f) {
		while (fgets(line, sizeof(line), f))
			if (!strncmp(line, "model name", 10)) {
				char *p = strchr(line, ':');

				if (p) {
					p += 1 + strspn(p + 1, " \t");
					p[strcspn(p, "\n")] = 0;
					snprintf(cpu, sizeof(cpu), "%s", p);
				}
				break;
			}
		fclose(f);
	}
	f = fopen("/proc/loadavg", "r");
	if (f) {
		if (fgets(load, sizeof(load), f))
			load[strcspn(load, "\n")] = 0;
		fclose(f);
	}
	strftime(date, sizeof(date), "%Y-%m-%d %H:%M:%S UTC", gmtime(&t));

	printf("# libdaxmodel benchmark\n\n");
	printf("- machine: %s %s %s; CPU: %s; nproc: %ld\n", u.sysname,
	       u.release, u.machine, cpu, sysconf(_SC_NPROCESSORS_ONLN));
	printf("- library: libdaxmodel %s (header %d.%d.%d); compiler: gcc %s\n",
	       daxm_get_version(), DAXM_VERSION_MAJOR, DAXM_VERSION_MINOR,
	       DAXM_VERSION_PATCH, __VERSION__);
	if (getenv("DAXM_BENCH_SOURCE"))
		printf("- library source: %s\n", getenv("DAXM_BENCH_SOURCE"));
	printf("- date: %s; load average at start: %s\n", date, load);
	printf("- command:");
	for (int i = 0; i < argc; i++)
		printf(" %s", argv[i]);
	printf("\n- mode: %s; budget %.0f s per row; %d runs per measurement (median); "
	       "clock_gettime overhead %.1f ns (subtracted from individually timed "
	       "operations)\n\n",
	       opt.quick ? "quick" : "full", opt.budget, opt.runs, clock_overhead_ns);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	uint64_t t0 = now_ns();

	opt.budget = -1;
	opt.runs = 0;
	opt.seed = 1;
	opt.max_m = -1;
	opt.max_e = -1;
	opt.view_mib = -1;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--quick")) {
			opt.quick = 1;
		} else if (!strcmp(a, "--budget")) {
			char *end;

			if (!v)
				die("--budget needs a value");
			opt.budget = strtod(v, &end);
			if (*end || opt.budget <= 0)
				die("--budget: bad value '%s'", v);
			i++;
		} else if (!strcmp(a, "--only")) {
			if (!v)
				die("--only needs a value");
			opt.only |= parse_only(v);
			i++;
		} else if (!strcmp(a, "--iterations")) {
			opt.iterations = parse_long(a, v);
			i++;
		} else if (!strcmp(a, "--runs")) {
			opt.runs = (int)parse_long(a, v);
			i++;
		} else if (!strcmp(a, "--seed")) {
			opt.seed = (unsigned long)parse_long(a, v);
			i++;
		} else if (!strcmp(a, "--max-m")) {
			opt.max_m = parse_long(a, v);
			i++;
		} else if (!strcmp(a, "--max-e")) {
			opt.max_e = parse_long(a, v);
			i++;
		} else if (!strcmp(a, "--view-mib")) {
			opt.view_mib = parse_long(a, v);
			i++;
		} else if (!strcmp(a, "--fabric-hosts")) {
			opt.fabric_hosts = parse_long(a, v);
			if (opt.fabric_hosts < 1 || opt.fabric_hosts > 256)
				die("--fabric-hosts: 1 to 256");
			i++;
		} else if (!strcmp(a, "--fabric-extents")) {
			opt.fabric_extents = parse_long(a, v);
			if (opt.fabric_extents < 100 || opt.fabric_extents % 10)
				die("--fabric-extents: a multiple of 10, at least 100");
			i++;
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			return 0;
		} else {
			usage(stderr);
			die("unknown option '%s'", a);
		}
	}
	if (opt.budget < 0)
		opt.budget = opt.quick ? 5 : 60;
	if (opt.runs <= 0)
		opt.runs = opt.quick ? 3 : 5;
	if (opt.seed == 0)
		opt.seed = 1;
	if (opt.max_m < 0)
		opt.max_m = opt.quick ? 100 : 10000;
	if (opt.max_e < 0)
		opt.max_e = opt.quick ? 1000 : 1000000;
	if (opt.view_mib <= 0)
		opt.view_mib = opt.quick ? 32 : 256;

	measure_clock_overhead();
	header(argc, argv);
	for (size_t i = 0; i < NTABLES; i++)
		if (!opt.only || (opt.only & tables[i].bit)) {
			uint64_t ts = now_ns();

			tables[i].run();
			printf("\n(%s: %.1f s)\n\n", tables[i].name,
			       (double)(now_ns() - ts) / 1e9);
			fflush(stdout);
		}
	printf("Total run time: %.1f s\n", (double)(now_ns() - t0) / 1e9);
	return 0;
}
