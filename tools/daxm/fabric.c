/*
 * fabric.c - daxm fabric: a fabric manager's commands over a saved fabric
 * (daxm_fabric_load / daxm_fabric_save), and ordinary daxm commands on
 * one host's context.
 *
 *   daxm [--fabric FILE] fabric VERB [ARGS]
 *
 * FILE defaults to $DAXM_FABRIC, else ./daxm-fabric.json. `fabric create`
 * makes it; every other verb loads it (a file the library refuses is
 * reported and left untouched) and, when the verb changed the fabric,
 * saves it again, atomically, once a trial save of the result loaded
 * (so no command can leave a file that does not load). Invocations are
 * serialized with flock(2) on the file's directory, as for --state.
 *
 * FM commands answer as the library does: a CXL return code is printed
 * by name ("daxm fabric add: Invalid Input: ...") and exits 1, changing
 * nothing; a negative errno as everywhere in daxm.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "daxm.h"

#define USAGE_CREATE \
	"daxm fabric create --region BASE,SIZE[,OPT...] [--region ...] [--hosts N]\n" \
	"                   [--profile spec|qemu|mhsld] [--max-extents N] [--max-tags N]\n" \
	"                   [--log-depth N] [--revoke] [--force]\n" \
	"  a new fabric in FILE (refused if FILE exists, unless --force): DC regions\n" \
	"  in DPA order (BASE and SIZE multiples of 256m), OPTs block=SIZE (2m),\n" \
	"  sizes=SIZE+SIZE... (supported block sizes), sharable, read-only,\n" \
	"  sanitize, sanitize-fixed; hosts 0..N-1 (default 1); --revoke: hosts\n" \
	"  drop force-released extents at once\n"
#define USAGE_ADD \
	"daxm fabric add --host N --policy free|contiguous|prescriptive [--region R]\n" \
	"                [--length L] [--tag UUID] [--extent DPA,LEN[,UUID]]...\n" \
	"  Initiate Dynamic Capacity Add: free/contiguous take --length bytes of DC\n" \
	"  region R (default 0) tagged --tag (default untagged); prescriptive\n" \
	"  offers the --extent list (each tagged its UUID, else --tag)\n"
#define USAGE_RELEASE \
	"daxm fabric release --host N (--tag UUID [--length L] | --extent DPA,LEN...)\n" \
	"                    [--forced] [--sanitize]\n" \
	"  Initiate Dynamic Capacity Release: tag-based (the host's whole share of\n" \
	"  the tag; --length 0 or exactly that) or prescriptive (--extent list)\n"
#define USAGE_SHARE \
	"daxm fabric share --host N --tag UUID [--region R]\n" \
	"  Enable Shared Access: offer the tag's capacity to one more host (R: a\n" \
	"  Sharable region; default: the region holding the tag)\n"
#define USAGE_REFERENCE \
	"daxm fabric reference add|remove --tag UUID\n" \
	"  Dynamic Capacity Add / Remove Reference: the manager keeps a Sharable\n" \
	"  tag's capacity while no host holds it, or lets it go\n"
#define USAGE_LIST \
	"daxm fabric list [--device] [--hosts] [--tags] [--host N] [-i]\n" \
	"  one JSON object: \"device\" (Get DCD Info, region configuration), \"hosts\"\n" \
	"  (budgets, extent list and generation, the host's region0 as daxm list\n" \
	"  -RDME shows it; -i: devices of size 0 too), \"tags\" (List Tags); no\n" \
	"  section flag: all three; --host N: only host N\n"
#define USAGE_DELIVER \
	"daxm fabric deliver --host N\n" \
	"  host N reads its DC event log and answers (its kernel's event handler)\n"
#define USAGE_RUN \
	"daxm fabric run\n" \
	"  deliver to every host until nothing is left to say\n"
#define USAGE_EVENTS \
	"daxm fabric events\n" \
	"  take the manager's records (Add Capacity Response, Capacity Released)\n" \
	"  off its queue and print them\n"
#define USAGE_HOST \
	"daxm fabric host N COMMAND [ARGS]\n" \
	"  run a daxm command (list, read, write, create-device, destroy-device,\n" \
	"  reconfigure-device, enable-device, disable-device, events) on host N's\n" \
	"  context; a change is saved into FILE\n"

const char daxm_usage_fabric[] =
	USAGE_CREATE USAGE_ADD USAGE_RELEASE USAGE_SHARE USAGE_REFERENCE USAGE_LIST
	USAGE_DELIVER USAGE_RUN USAGE_EVENTS USAGE_HOST;

enum {
	OPT_REGION = 256, OPT_HOSTS, OPT_PROFILE, OPT_MAX_EXTENTS, OPT_MAX_TAGS, OPT_LOG_DEPTH,
	OPT_REVOKE, OPT_FORCE, OPT_HOST, OPT_POLICY, OPT_LENGTH, OPT_TAG, OPT_EXTENT, OPT_FORCED,
	OPT_SANITIZE, OPT_DEVICE, OPT_TAGS,
};

#define MAX_EXTENTS_ARGS 4096

/* ---- the fabric file ------------------------------------------------------- */

/* The fabric's own log: refusals are reported by the command, so only
 * with DAXM_LOG. */
static void fabric_log(struct daxm_fabric *fabric, int priority, const char *file, int line,
		       const char *fn, const char *msg)
{
	(void)fabric, (void)priority, (void)file, (void)line;
	if (getenv("DAXM_LOG"))
		fprintf(stderr, "libdaxmodel: %s: %s\n", fn, msg);
}

/* daxm's log functions on the fabric and every host context. */
static void attach(struct daxm_cli *cli)
{
	int hosts = daxm_fabric_get_nr_hosts(cli->fabric);

	daxm_fabric_set_log_fn(cli->fabric, fabric_log);
	for (int h = 0; h < hosts; h++) {
		struct daxm_ctx *ctx = NULL;

		if (daxm_fabric_get_host(cli->fabric, (unsigned)h, &ctx) == 0) {
			daxm_set_userdata(ctx, cli);
			daxm_set_log_fn(ctx, daxm_cli_log);
			daxm_unref(ctx);
		}
	}
}

static int load_fabric(struct daxm_cli *cli)
{
	int rc = daxm_fabric_load(cli->fabric_path, &cli->fabric);

	if (rc == -ENOENT)
		return daxm_fail_msg(cli, ENOENT, "%s holds no fabric (daxm fabric create makes one)",
				     cli->fabric_path);
	if (rc < 0) {
		daxm_fail(cli, rc);
		fprintf(stderr, "daxm: %s was not changed\n", cli->fabric_path);
		return DAXM_EXIT_FAIL;
	}
	attach(cli);
	return DAXM_EXIT_OK;
}

/*
 * Saves the fabric into its file: first to a trial file next to it, which
 * must load (a host command could leave a host the device disagrees
 * with, which no load accepts), then over the file itself. On failure
 * the file keeps the state before the command, and nothing is printed.
 */
static int save_fabric(struct daxm_cli *cli)
{
	char *trial = NULL;
	struct daxm_fabric *check = NULL;
	int rc;

	if (asprintf(&trial, "%s.check-%ld", cli->fabric_path, (long)getpid()) < 0)
		return daxm_fail_msg(cli, ENOMEM, "no memory");
	rc = daxm_fabric_save(cli->fabric, trial);
	if (rc == 0) {
		rc = daxm_fabric_load(trial, &check);
		if (rc < 0) {
			char why[512];

			snprintf(why, sizeof(why), "%s", daxm_last_error());
			rc = daxm_fail_msg(cli, -rc, "the fabric this command left does not load (%s); not saved",
					   why);
		}
		daxm_fabric_unref(check);
		unlink(trial);
	} else {
		rc = daxm_fail(cli, rc);
	}
	free(trial);
	if (rc == 0) {
		rc = daxm_fabric_save(cli->fabric, cli->fabric_path);
		if (rc < 0)
			rc = daxm_fail(cli, rc);
	}
	if (rc) {
		fprintf(stderr, "daxm: %s keeps the state before this command\n", cli->fabric_path);
		json_object_put(cli->out);
		cli->out = NULL;
		cli->note[0] = '\0';
		return DAXM_EXIT_FAIL;
	}
	return DAXM_EXIT_OK;
}

/* ---- arguments --------------------------------------------------------------- */

static int opt_host(struct daxm_cli *cli, const char *text, int *host)
{
	long value;
	int rc = daxm_opt_long(cli, "--host", text, 0, DAXM_FABRIC_MAX_HOSTS - 1, &value);

	if (rc == 0)
		*host = (int)value;
	return rc;
}

/* "DPA,LEN[,UUID]" into @e; the tag defaults to @tag. */
static int opt_extent(struct daxm_cli *cli, const char *text, const uint8_t *tag,
		      bool have_tag, struct daxm_fmapi_extent *e)
{
	char *copy = strdup(text), *save = NULL, *dpa, *len, *uuid;
	int rc = DAXM_EXIT_OK;

	if (!copy)
		return daxm_fail_msg(cli, ENOMEM, "no memory");
	memset(e, 0, sizeof(*e));
	dpa = strtok_r(copy, ",", &save);
	len = strtok_r(NULL, ",", &save);
	uuid = strtok_r(NULL, ",", &save);
	if (!dpa || !len || strtok_r(NULL, ",", &save))
		rc = daxm_usage_error(cli, "--extent '%s': expected DPA,LEN or DPA,LEN,UUID", text);
	if (!rc)
		rc = daxm_opt_size(cli, "--extent DPA", dpa, &e->start_dpa);
	if (!rc)
		rc = daxm_opt_size(cli, "--extent LEN", len, &e->len);
	if (!rc && uuid)
		rc = daxm_opt_tag(cli, "--extent UUID", uuid, false, e->tag);
	else if (!rc && have_tag)
		memcpy(e->tag, tag, DAXM_TAG_SIZE);
	free(copy);
	return rc;
}

/* What add, release and share take; each uses its subset. */
struct fm_params {
	int host, region;
	bool have_host, have_region, have_length, have_tag, forced, sanitize;
	int policy; /* -1: none given */
	uint64_t length;
	uint8_t tag[DAXM_TAG_SIZE];
	struct daxm_fmapi_extent *extents;
	uint32_t n;
};

static int parse_fm_options(struct daxm_cli *cli, int argc, char **argv,
			    const struct option *options, struct fm_params *p)
{
	char **extent_args = calloc(MAX_EXTENTS_ARGS, sizeof(char *));
	long value;
	int c, rc = DAXM_EXIT_OK;

	memset(p, 0, sizeof(*p));
	p->policy = -1;
	if (!extent_args)
		return daxm_fail_msg(cli, ENOMEM, "no memory");
	while (rc == DAXM_EXIT_OK && (c = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (c) {
		case OPT_HOST:
			p->have_host = true;
			rc = opt_host(cli, optarg, &p->host);
			break;
		case OPT_REGION:
			p->have_region = true;
			rc = daxm_opt_long(cli, "--region", optarg, 0, DAXM_FABRIC_MAX_REGIONS - 1, &value);
			p->region = (int)value;
			break;
		case OPT_POLICY:
			if (strcmp(optarg, "free") == 0)
				p->policy = DAXM_FMAPI_SELECTION_POLICY_FREE;
			else if (strcmp(optarg, "contiguous") == 0)
				p->policy = DAXM_FMAPI_SELECTION_POLICY_CONTIGUOUS;
			else if (strcmp(optarg, "prescriptive") == 0)
				p->policy = DAXM_FMAPI_SELECTION_POLICY_PRESCRIPTIVE;
			else
				rc = daxm_usage_error(cli, "--policy '%s': expected free, contiguous or prescriptive",
						      optarg);
			break;
		case OPT_LENGTH:
			p->have_length = true;
			rc = daxm_opt_size(cli, "--length", optarg, &p->length);
			break;
		case OPT_TAG:
			p->have_tag = true;
			rc = daxm_opt_tag(cli, "--tag", optarg, false, p->tag);
			break;
		case OPT_EXTENT:
			if (p->n >= MAX_EXTENTS_ARGS)
				rc = daxm_usage_error(cli, "more than %d --extent options", MAX_EXTENTS_ARGS);
			else
				extent_args[p->n++] = optarg;
			break;
		case OPT_FORCED: p->forced = true; break;
		case OPT_SANITIZE: p->sanitize = true; break;
		default: rc = daxm_bad_option(cli, argv); break;
		}
	}
	if (rc == DAXM_EXIT_OK && optind < argc)
		rc = daxm_usage_error(cli, "unexpected argument '%s'", argv[optind]);
	if (rc == DAXM_EXIT_OK && !p->have_host)
		rc = daxm_usage_error(cli, "--host N is required");
	/* Extents last: their default tag is --tag wherever it was given. */
	if (rc == DAXM_EXIT_OK && p->n) {
		p->extents = calloc(p->n, sizeof(*p->extents));
		if (!p->extents)
			rc = daxm_fail_msg(cli, ENOMEM, "no memory");
		for (uint32_t i = 0; rc == DAXM_EXIT_OK && i < p->n; i++)
			rc = opt_extent(cli, extent_args[i], p->tag, p->have_tag, &p->extents[i]);
	}
	free(extent_args);
	return rc;
}

static void note_delivery(struct daxm_cli *cli, const char *what)
{
	int n = daxm_fabric_get_nr_events(cli->fabric);

	snprintf(cli->note, sizeof(cli->note), "%s; %d manager record%s waiting (daxm fabric events)",
		 what, n, n == 1 ? "" : "s");
}

/* ---- verbs ----------------------------------------------------------------------- */

/* "BASE,SIZE[,OPT...]" into region @r. */
static int opt_region(struct daxm_cli *cli, const char *text, struct daxm_fabric_region *r)
{
	char *copy = strdup(text), *save = NULL, *word;
	int rc = DAXM_EXIT_OK, i = 0;

	if (!copy)
		return daxm_fail_msg(cli, ENOMEM, "no memory");
	for (word = strtok_r(copy, ",", &save); word && !rc; word = strtok_r(NULL, ",", &save), i++) {
		if (i == 0) {
			rc = daxm_opt_size(cli, "--region BASE", word, &r->base);
		} else if (i == 1) {
			rc = daxm_opt_size(cli, "--region SIZE", word, &r->decode_len);
		} else if (strncmp(word, "block=", 6) == 0) {
			rc = daxm_opt_size(cli, "--region block=", word + 6, &r->block_size);
		} else if (strncmp(word, "sizes=", 6) == 0) {
			char *inner = NULL, *size;
			uint64_t value;

			r->supported_blk_sz_mask = 0;
			for (size = strtok_r(word + 6, "+", &inner); size && !rc; size = strtok_r(NULL, "+", &inner)) {
				rc = daxm_opt_size(cli, "--region sizes=", size, &value);
				if (!rc && (value == 0 || (value & (value - 1))))
					rc = daxm_usage_error(cli, "--region sizes=: %s is not a power of two", size);
				if (!rc)
					r->supported_blk_sz_mask |= value;
			}
		} else if (strcmp(word, "sharable") == 0) {
			r->flags |= DAXM_FABRIC_REGION_SHARABLE;
		} else if (strcmp(word, "read-only") == 0) {
			r->flags |= DAXM_FABRIC_REGION_READ_ONLY;
		} else if (strcmp(word, "sanitize") == 0) {
			r->flags |= DAXM_FABRIC_REGION_SANITIZE;
		} else if (strcmp(word, "sanitize-fixed") == 0) {
			r->flags |= DAXM_FABRIC_REGION_SANITIZE_FIXED;
		} else {
			rc = daxm_usage_error(cli, "--region '%s': unknown option '%s'", text, word);
		}
	}
	if (!rc && i < 2)
		rc = daxm_usage_error(cli, "--region '%s': expected BASE,SIZE[,OPT...]", text);
	free(copy);
	return rc;
}

static int fabric_create(struct daxm_cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{ "region", required_argument, NULL, OPT_REGION },
		{ "hosts", required_argument, NULL, OPT_HOSTS },
		{ "profile", required_argument, NULL, OPT_PROFILE },
		{ "max-extents", required_argument, NULL, OPT_MAX_EXTENTS },
		{ "max-tags", required_argument, NULL, OPT_MAX_TAGS },
		{ "log-depth", required_argument, NULL, OPT_LOG_DEPTH },
		{ "revoke", no_argument, NULL, OPT_REVOKE },
		{ "force", no_argument, NULL, OPT_FORCE },
		{ NULL, 0, NULL, 0 },
	};
	struct daxm_fabric_spec spec;
	struct stat st;
	bool force = false;
	long value;
	int c, rc = DAXM_EXIT_OK;

	daxm_fabric_spec_init(&spec);
	while (rc == DAXM_EXIT_OK && (c = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (c) {
		case OPT_REGION:
			if (spec.num_regions >= DAXM_FABRIC_MAX_REGIONS)
				rc = daxm_usage_error(cli, "a device has at most %d DC regions", DAXM_FABRIC_MAX_REGIONS);
			else
				rc = opt_region(cli, optarg, &spec.regions[spec.num_regions++]);
			break;
		case OPT_HOSTS:
			rc = daxm_opt_long(cli, "--hosts", optarg, 1, DAXM_FABRIC_MAX_HOSTS, &value);
			spec.num_hosts = (uint32_t)value;
			break;
		case OPT_PROFILE:
			if (strcmp(optarg, "spec") == 0)
				spec.profile = DAXM_FABRIC_PROFILE_SPEC;
			else if (strcmp(optarg, "qemu") == 0)
				spec.profile = DAXM_FABRIC_PROFILE_QEMU;
			else if (strcmp(optarg, "mhsld") == 0)
				spec.profile = DAXM_FABRIC_PROFILE_MHSLD;
			else
				rc = daxm_usage_error(cli, "--profile '%s': expected spec, qemu or mhsld", optarg);
			break;
		case OPT_MAX_EXTENTS:
			rc = daxm_opt_long(cli, "--max-extents", optarg, 0, UINT32_MAX, &value);
			spec.max_extents_per_host = (uint32_t)value;
			break;
		case OPT_MAX_TAGS:
			rc = daxm_opt_long(cli, "--max-tags", optarg, 0, UINT32_MAX, &value);
			spec.max_tags_per_host = (uint32_t)value;
			break;
		case OPT_LOG_DEPTH:
			rc = daxm_opt_long(cli, "--log-depth", optarg, 0, UINT32_MAX, &value);
			spec.event_log_depth = (uint32_t)value;
			break;
		case OPT_REVOKE: spec.flags |= DAXM_FABRIC_HOSTS_REVOKE; break;
		case OPT_FORCE: force = true; break;
		default: rc = daxm_bad_option(cli, argv); break;
		}
	}
	if (rc)
		return rc;
	if (optind < argc)
		return daxm_usage_error(cli, "unexpected argument '%s'", argv[optind]);
	if (spec.num_regions == 0)
		return daxm_usage_error(cli, "--region BASE,SIZE is required");
	if (!force && stat(cli->fabric_path, &st) == 0)
		return daxm_fail_msg(cli, EEXIST, "%s already exists (--force replaces it)", cli->fabric_path);
	rc = daxm_fabric_new(&spec, &cli->fabric);
	if (rc < 0)
		return daxm_fail(cli, rc);
	attach(cli);
	cli->dirty = true;
	cli->out = daxm_fabric_to_json(cli, DAXM_FABRIC_LIST_DEVICE | DAXM_FABRIC_LIST_HOSTS |
					    DAXM_FABRIC_LIST_TAGS, -1, &rc);
	if (!cli->out)
		return rc;
	snprintf(cli->note, sizeof(cli->note), "created a fabric of %u host%s", spec.num_hosts,
		 spec.num_hosts == 1 ? "" : "s");
	return DAXM_EXIT_OK;
}

static int fabric_add(struct daxm_cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{ "host", required_argument, NULL, OPT_HOST },
		{ "policy", required_argument, NULL, OPT_POLICY },
		{ "region", required_argument, NULL, OPT_REGION },
		{ "length", required_argument, NULL, OPT_LENGTH },
		{ "tag", required_argument, NULL, OPT_TAG },
		{ "extent", required_argument, NULL, OPT_EXTENT },
		{ NULL, 0, NULL, 0 },
	};
	struct daxm_fmapi_initiate_dc_add_req *req;
	struct fm_params p;
	size_t sz;
	int rc = parse_fm_options(cli, argc, argv, options, &p);

	if (rc == DAXM_EXIT_OK && p.policy < 0)
		rc = daxm_usage_error(cli, "--policy is required");
	if (rc == DAXM_EXIT_OK && p.policy == DAXM_FMAPI_SELECTION_POLICY_PRESCRIPTIVE && !p.n)
		rc = daxm_usage_error(cli, "prescriptive: --extent DPA,LEN[,UUID] is required");
	if (rc == DAXM_EXIT_OK && p.policy != DAXM_FMAPI_SELECTION_POLICY_PRESCRIPTIVE && p.n)
		rc = daxm_usage_error(cli, "--extent is for --policy prescriptive");
	if (rc == DAXM_EXIT_OK && p.policy != DAXM_FMAPI_SELECTION_POLICY_PRESCRIPTIVE && !p.have_length)
		rc = daxm_usage_error(cli, "--length is required");
	if (rc) {
		free(p.extents);
		return rc;
	}
	sz = DAXM_FMAPI_SIZE(struct daxm_fmapi_initiate_dc_add_req, extents, p.n);
	req = calloc(1, sz);
	if (!req) {
		free(p.extents);
		return daxm_fail_msg(cli, ENOMEM, "no memory");
	}
	req->host_id = (uint16_t)p.host;
	req->selection_policy = (uint8_t)p.policy;
	req->region_num = (uint8_t)p.region;
	req->length = p.length;
	memcpy(req->tag, p.tag, DAXM_TAG_SIZE);
	req->ext_count = p.n;
	if (p.n)
		memcpy(req->extents, p.extents, p.n * sizeof(*p.extents));
	rc = daxm_fmapi_initiate_dc_add(cli->fabric, req, sz);
	free(req);
	free(p.extents);
	if (rc)
		return daxm_fail_cxl(cli, rc);
	cli->dirty = true;
	snprintf(cli->note, sizeof(cli->note),
		 "offered to host %d; it answers at its next delivery (daxm fabric deliver --host %d, or run)",
		 p.host, p.host);
	return DAXM_EXIT_OK;
}

static int fabric_release(struct daxm_cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{ "host", required_argument, NULL, OPT_HOST },
		{ "tag", required_argument, NULL, OPT_TAG },
		{ "length", required_argument, NULL, OPT_LENGTH },
		{ "extent", required_argument, NULL, OPT_EXTENT },
		{ "forced", no_argument, NULL, OPT_FORCED },
		{ "sanitize", no_argument, NULL, OPT_SANITIZE },
		{ NULL, 0, NULL, 0 },
	};
	struct daxm_fmapi_initiate_dc_release_req *req;
	struct fm_params p;
	size_t sz;
	int rc = parse_fm_options(cli, argc, argv, options, &p);

	if (rc == DAXM_EXIT_OK && p.n && (p.have_tag || p.have_length))
		rc = daxm_usage_error(cli, "--tag/--length (tag-based) or --extent (prescriptive), not both");
	if (rc == DAXM_EXIT_OK && !p.n && !p.have_tag)
		rc = daxm_usage_error(cli, "--tag UUID or --extent DPA,LEN is required");
	if (rc) {
		free(p.extents);
		return rc;
	}
	sz = DAXM_FMAPI_SIZE(struct daxm_fmapi_initiate_dc_release_req, extents, p.n);
	req = calloc(1, sz);
	if (!req) {
		free(p.extents);
		return daxm_fail_msg(cli, ENOMEM, "no memory");
	}
	req->host_id = (uint16_t)p.host;
	req->flags = (uint8_t)((p.n ? DAXM_FMAPI_REMOVAL_POLICY_PRESCRIPTIVE : DAXM_FMAPI_REMOVAL_POLICY_TAG_BASED) |
			       (p.forced ? DAXM_FMAPI_RELEASE_FORCED : 0) |
			       (p.sanitize ? DAXM_FMAPI_RELEASE_SANITIZE : 0));
	req->length = p.length;
	memcpy(req->tag, p.tag, DAXM_TAG_SIZE);
	req->ext_count = p.n;
	if (p.n)
		memcpy(req->extents, p.extents, p.n * sizeof(*p.extents));
	rc = daxm_fmapi_initiate_dc_release(cli->fabric, req, sz);
	free(req);
	free(p.extents);
	if (rc)
		return daxm_fail_cxl(cli, rc);
	cli->dirty = true;
	if (p.forced)
		snprintf(cli->note, sizeof(cli->note), "released by force from host %d", p.host);
	else
		snprintf(cli->note, sizeof(cli->note),
			 "asked host %d; it answers at its next delivery (daxm fabric deliver --host %d, or run)",
			 p.host, p.host);
	return DAXM_EXIT_OK;
}

/* The DC region holding some host's extent of @tag, or -1. */
static int tag_region(struct daxm_cli *cli, const uint8_t tag[DAXM_TAG_SIZE])
{
	struct daxm_fmapi_get_host_dc_region_config_req creq = { .region_cnt = 8 };
	struct daxm_fmapi_get_host_dc_region_config_rsp cfg;
	int hosts = daxm_fabric_get_nr_hosts(cli->fabric), found = -1;

	if (daxm_fmapi_get_dc_reg_config(cli->fabric, &creq, &cfg) != 0)
		return -1;
	for (int h = 0; h < hosts && found < 0; h++) {
		struct daxm_fmapi_get_dc_region_ext_list_req req = { .host_id = (uint16_t)h, .extent_count = 256 };
		size_t sz = DAXM_FMAPI_SIZE(struct daxm_fmapi_get_dc_region_ext_list_rsp, extents, 256);
		struct daxm_fmapi_get_dc_region_ext_list_rsp *rsp = calloc(1, sz);

		for (uint32_t start = 0; rsp && found < 0; start += rsp->extents_returned) {
			req.start_ext_index = start;
			if (daxm_fmapi_get_dc_region_ext_list(cli->fabric, &req, rsp, sz) != 0 ||
			    rsp->extents_returned == 0)
				break;
			for (uint32_t i = 0; i < rsp->extents_returned && found < 0; i++) {
				const struct daxm_fmapi_extent *e = &rsp->extents[i];

				if (memcmp(e->tag, tag, DAXM_TAG_SIZE) != 0)
					continue;
				for (int r = 0; r < cfg.regions_returned && r < 8; r++)
					if (e->start_dpa >= cfg.region_configs[r].base &&
					    e->start_dpa - cfg.region_configs[r].base < cfg.region_configs[r].decode_len)
						found = r;
			}
		}
		free(rsp);
	}
	return found;
}

static int fabric_share(struct daxm_cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{ "host", required_argument, NULL, OPT_HOST },
		{ "tag", required_argument, NULL, OPT_TAG },
		{ "region", required_argument, NULL, OPT_REGION },
		{ NULL, 0, NULL, 0 },
	};
	struct daxm_fmapi_initiate_dc_add_req req;
	struct fm_params p;
	int rc = parse_fm_options(cli, argc, argv, options, &p);

	if (rc == DAXM_EXIT_OK && !p.have_tag)
		rc = daxm_usage_error(cli, "--tag UUID is required");
	if (rc)
		return rc;
	if (!p.have_region) {
		int r = tag_region(cli, p.tag);

		p.region = r < 0 ? 0 : r; /* no host holds it: the device refuses */
	}
	memset(&req, 0, sizeof(req));
	req.host_id = (uint16_t)p.host;
	req.selection_policy = DAXM_FMAPI_SELECTION_POLICY_ENABLE_SHARED_ACCESS;
	req.region_num = (uint8_t)p.region;
	memcpy(req.tag, p.tag, DAXM_TAG_SIZE);
	rc = daxm_fmapi_initiate_dc_add(cli->fabric, &req, sizeof(req));
	if (rc)
		return daxm_fail_cxl(cli, rc);
	cli->dirty = true;
	snprintf(cli->note, sizeof(cli->note),
		 "offered the tag to host %d; it answers at its next delivery (daxm fabric deliver --host %d, or run)",
		 p.host, p.host);
	return DAXM_EXIT_OK;
}

static int fabric_reference(struct daxm_cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{ "tag", required_argument, NULL, OPT_TAG },
		{ NULL, 0, NULL, 0 },
	};
	uint8_t tag[DAXM_TAG_SIZE];
	bool have_tag = false, add;
	int c, rc = DAXM_EXIT_OK;

	if (argc < 2 || (strcmp(argv[1], "add") != 0 && strcmp(argv[1], "remove") != 0))
		return daxm_usage_error(cli, "expected add or remove");
	add = strcmp(argv[1], "add") == 0;
	argc--, argv++;
	while (rc == DAXM_EXIT_OK && (c = getopt_long(argc, argv, "", options, NULL)) != -1) {
		if (c == OPT_TAG) {
			have_tag = true;
			rc = daxm_opt_tag(cli, "--tag", optarg, false, tag);
		} else {
			rc = daxm_bad_option(cli, argv);
		}
	}
	if (rc)
		return rc;
	if (optind < argc)
		return daxm_usage_error(cli, "unexpected argument '%s'", argv[optind]);
	if (!have_tag)
		return daxm_usage_error(cli, "--tag UUID is required");
	if (add) {
		struct daxm_fmapi_dc_add_ref_req req;

		memcpy(req.tag, tag, DAXM_TAG_SIZE);
		rc = daxm_fmapi_dc_add_reference(cli->fabric, &req);
	} else {
		struct daxm_fmapi_dc_remove_ref_req req;

		memcpy(req.tag, tag, DAXM_TAG_SIZE);
		rc = daxm_fmapi_dc_remove_reference(cli->fabric, &req);
	}
	if (rc)
		return daxm_fail_cxl(cli, rc);
	cli->dirty = true;
	snprintf(cli->note, sizeof(cli->note), add ? "the manager holds a reference on the tag"
						   : "the manager holds no reference on the tag");
	return DAXM_EXIT_OK;
}

static int fabric_list(struct daxm_cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{ "device", no_argument, NULL, OPT_DEVICE },
		{ "hosts", no_argument, NULL, OPT_HOSTS },
		{ "tags", no_argument, NULL, OPT_TAGS },
		{ "host", required_argument, NULL, OPT_HOST },
		{ "idle", no_argument, NULL, 'i' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned int flags = 0, extra = 0;
	int c, host = -1, rc = DAXM_EXIT_OK;

	while (rc == DAXM_EXIT_OK && (c = getopt_long(argc, argv, "i", options, NULL)) != -1) {
		switch (c) {
		case OPT_DEVICE: flags |= DAXM_FABRIC_LIST_DEVICE; break;
		case OPT_HOSTS: flags |= DAXM_FABRIC_LIST_HOSTS; break;
		case OPT_TAGS: flags |= DAXM_FABRIC_LIST_TAGS; break;
		case OPT_HOST: rc = opt_host(cli, optarg, &host); break;
		case 'i': extra |= DAXM_FABRIC_LIST_IDLE; break;
		default: rc = daxm_bad_option(cli, argv); break;
		}
	}
	if (rc)
		return rc;
	if (optind < argc)
		return daxm_usage_error(cli, "unexpected argument '%s'", argv[optind]);
	if (host >= daxm_fabric_get_nr_hosts(cli->fabric))
		return daxm_fail_msg(cli, ENOENT, "no host %d: the fabric has %d", host,
				     daxm_fabric_get_nr_hosts(cli->fabric));
	if (!flags)
		flags = host >= 0 ? DAXM_FABRIC_LIST_HOSTS
			: DAXM_FABRIC_LIST_DEVICE | DAXM_FABRIC_LIST_HOSTS | DAXM_FABRIC_LIST_TAGS;
	cli->out = daxm_fabric_to_json(cli, flags | extra, host, &rc);
	return cli->out ? DAXM_EXIT_OK : rc;
}

static int fabric_deliver(struct daxm_cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{ "host", required_argument, NULL, OPT_HOST },
		{ NULL, 0, NULL, 0 },
	};
	char what[96];
	int c, host = -1, rc = DAXM_EXIT_OK;

	while (rc == DAXM_EXIT_OK && (c = getopt_long(argc, argv, "", options, NULL)) != -1)
		rc = c == OPT_HOST ? opt_host(cli, optarg, &host) : daxm_bad_option(cli, argv);
	if (rc)
		return rc;
	if (optind < argc)
		return daxm_usage_error(cli, "unexpected argument '%s'", argv[optind]);
	if (host < 0)
		return daxm_usage_error(cli, "--host N is required");
	rc = daxm_fabric_deliver(cli->fabric, (unsigned)host);
	if (rc < 0)
		return daxm_fail(cli, rc);
	cli->dirty = true;
	snprintf(what, sizeof(what), "host %d sent %d answer%s", host, rc, rc == 1 ? "" : "s");
	note_delivery(cli, what);
	return DAXM_EXIT_OK;
}

static int fabric_run(struct daxm_cli *cli, int argc, char **argv)
{
	char what[96];
	int rc;

	if (argc > 1)
		return daxm_usage_error(cli, "unexpected argument '%s'", argv[1]);
	rc = daxm_fabric_run(cli->fabric);
	if (rc < 0)
		return daxm_fail(cli, rc);
	cli->dirty = true;
	snprintf(what, sizeof(what), "the hosts sent %d answer%s", rc, rc == 1 ? "" : "s");
	note_delivery(cli, what);
	return DAXM_EXIT_OK;
}

static int fabric_events(struct daxm_cli *cli, int argc, char **argv)
{
	struct daxm_fabric_event event;
	json_object *out;
	int rc;

	if (argc > 1)
		return daxm_usage_error(cli, "unexpected argument '%s'", argv[1]);
	out = json_object_new_array();
	while ((rc = daxm_fabric_next_event(cli->fabric, &event)) == 0) {
		json_object_array_add(out, daxm_fabric_event_to_json(&event));
		cli->dirty = true; /* the queue is part of the saved state */
	}
	cli->out = out;
	if (rc != -EAGAIN)
		return daxm_fail(cli, rc);
	return DAXM_EXIT_OK;
}

/* ---- fabric host N COMMAND ----------------------------------------------------- */

/* The daxm command a `fabric host` invocation runs; NULL after the error
 * (*@rc the exit status). */
static const struct daxm_command *host_command(struct daxm_cli *cli, int argc, char **argv, int *host,
					       int *rc)
{
	const struct daxm_command *command;

	*rc = DAXM_EXIT_OK;
	if (argc < 3) {
		*rc = daxm_usage_error(cli, "expected a host number and a command");
		return NULL;
	}
	*rc = opt_host(cli, argv[1], host);
	if (*rc)
		return NULL;
	command = daxm_find_command(argv[2]);
	if (!command || command->own_state) {
		*rc = daxm_usage_error(cli, "'%s' is not a command for a host's context", argv[2]);
		return NULL;
	}
	/* A host's bus is the fabric's region0 only: no load accepts more. */
	if (strcmp(command->name, "region") == 0) {
		*rc = daxm_fail_msg(cli, EPERM, "a fabric host's context holds only the fabric's region0");
		return NULL;
	}
	return command;
}

static int fabric_host(struct daxm_cli *cli, int argc, char **argv)
{
	static char cmd[64];
	const struct daxm_command *command;
	int host, rc;

	command = host_command(cli, argc, argv, &host, &rc);
	if (!command)
		return rc;
	if (host >= daxm_fabric_get_nr_hosts(cli->fabric))
		return daxm_fail_msg(cli, ENOENT, "no host %d: the fabric has %d", host,
				     daxm_fabric_get_nr_hosts(cli->fabric));
	rc = daxm_fabric_get_host(cli->fabric, (unsigned)host, &cli->ctx);
	if (rc < 0)
		return daxm_fail(cli, rc);
	snprintf(cmd, sizeof(cmd), "fabric host %d %s", host, command->name);
	cli->cmd = cmd;
	cli->usage = command->usage;
	return command->fn(cli, argc - 2, argv + 2);
}

/* ---- dispatch ---------------------------------------------------------------------- */

static const struct verb {
	const char *name, *cmd;
	int (*fn)(struct daxm_cli *, int, char **);
	bool reads_only;
	const char *usage;
} verbs[] = {
	{ "create", "fabric create", fabric_create, false, USAGE_CREATE },
	{ "add", "fabric add", fabric_add, false, USAGE_ADD },
	{ "release", "fabric release", fabric_release, false, USAGE_RELEASE },
	{ "share", "fabric share", fabric_share, false, USAGE_SHARE },
	{ "reference", "fabric reference", fabric_reference, false, USAGE_REFERENCE },
	{ "list", "fabric list", fabric_list, true, USAGE_LIST },
	{ "deliver", "fabric deliver", fabric_deliver, false, USAGE_DELIVER },
	{ "run", "fabric run", fabric_run, false, USAGE_RUN },
	{ "events", "fabric events", fabric_events, false, USAGE_EVENTS },
	{ "host", "fabric host", fabric_host, false, USAGE_HOST },
};

int daxm_cmd_fabric(struct daxm_cli *cli, int argc, char **argv)
{
	const struct verb *verb = NULL;
	bool reads_only;
	int rc, lock_fd;

	cli->cmd = "fabric";
	cli->usage = daxm_usage_fabric;
	if (argc < 2)
		return daxm_usage_error(cli, "expected a verb: create, add, release, share, reference, "
					"list, deliver, run, events or host");
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (strcmp(argv[1], verbs[i].name) == 0)
			verb = &verbs[i];
	if (!verb)
		return daxm_usage_error(cli, "unknown verb '%s' (daxm help lists them)", argv[1]);
	cli->cmd = verb->cmd;
	cli->usage = verb->usage;
	reads_only = verb->reads_only;
	if (verb->fn == fabric_host) {
		/* As the command it runs: `fabric host 0 list` only reads. */
		int host;
		const struct daxm_command *command = host_command(cli, argc - 1, argv + 1, &host, &rc);

		if (!command)
			return rc;
		reads_only = command->reads_only;
	}

	lock_fd = daxm_lock_state_dir(cli->fabric_path, reads_only);
	rc = verb->fn == fabric_create ? DAXM_EXIT_OK : load_fabric(cli);
	if (rc == DAXM_EXIT_OK) {
		rc = verb->fn(cli, argc - 1, argv + 1);
		/* As daxm does for --state: saved when changed (a warning a
		 * host's kernel printed counts, even if the command failed). */
		if (cli->dirty && !reads_only && save_fabric(cli))
			rc = DAXM_EXIT_FAIL;
	}
	if (lock_fd >= 0)
		close(lock_fd);
	return rc;
}
