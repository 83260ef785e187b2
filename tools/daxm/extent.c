/*
 * extent.c - daxm extent add / close / release and daxm events: the
 * device (fabric manager) side of a sparse region, and the host's answers.
 *
 * An open group (extent add --more) lives in the saved state, so a group
 * can be built over several invocations and closed by a last `extent add`
 * without --more, or by `extent close`.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "daxm.h"

const char daxm_usage_extent_add[] =
	"daxm extent add -r REGION --offset O --length L [--tag UUID|untagged]\n"
	"                [--seq N] [--more] [--shareable]\n"
	"  offer one extent (region-relative offset, length) to a sparse region;\n"
	"  --more keeps the group open, otherwise it closes and is answered\n"
	"  with an event; --shareable: sequence numbers must run 0..n-1 per tag\n";

const char daxm_usage_extent_close[] =
	"daxm extent close -r REGION [--shareable]\n"
	"  close the open group without offering another extent\n";

const char daxm_usage_extent_release[] =
	"daxm extent release -r REGION --offset O --length L [--tag UUID|untagged]\n"
	"                    [--forced]\n"
	"  ask for the extents touching the range back (with their tag groups)\n";

const char daxm_usage_events[] =
	"daxm events\n"
	"  take every waiting event off the queue and print them\n";

enum { OPT_OFFSET = 256, OPT_LENGTH, OPT_TAG, OPT_SEQ, OPT_MORE, OPT_SHAREABLE, OPT_FORCED };

/* What extent add / close / release accept; each takes its subset. */
struct extent_params {
	const char *region;
	bool have_offset, have_length, more, shareable, forced;
	uint64_t offset, length;
	uint8_t tag[DAXM_TAG_SIZE];
	long seq;
};

static int parse_extent_options(struct daxm_cli *cli, int argc, char **argv,
				const struct option *options, struct extent_params *p)
{
	int c, rc;

	memset(p, 0, sizeof(*p));
	while ((c = getopt_long(argc, argv, "r:", options, NULL)) != -1) {
		rc = DAXM_EXIT_OK;
		switch (c) {
		case 'r': p->region = optarg; break;
		case OPT_OFFSET:
			p->have_offset = true;
			rc = daxm_opt_size(cli, "--offset", optarg, &p->offset);
			break;
		case OPT_LENGTH:
			p->have_length = true;
			rc = daxm_opt_size(cli, "--length", optarg, &p->length);
			break;
		case OPT_TAG: rc = daxm_opt_tag(cli, "--tag", optarg, false, p->tag); break;
		case OPT_SEQ: rc = daxm_opt_long(cli, "--seq", optarg, 0, UINT16_MAX, &p->seq); break;
		case OPT_MORE: p->more = true; break;
		case OPT_SHAREABLE: p->shareable = true; break;
		case OPT_FORCED: p->forced = true; break;
		default: return daxm_bad_option(cli, argv);
		}
		if (rc)
			return rc;
	}
	if (optind < argc)
		return daxm_usage_error(cli, "unexpected argument '%s'", argv[optind]);
	if (!p->region)
		return daxm_usage_error(cli, "-r REGION is required");
	return DAXM_EXIT_OK;
}

static void note_events(struct daxm_cli *cli, const char *what)
{
	int n = daxm_ctx_get_nr_events(cli->ctx);

	snprintf(cli->note, sizeof(cli->note), "%s; %d event%s waiting (daxm events)", what,
		 n, n == 1 ? "" : "s");
}

static int extent_add(struct daxm_cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{ "region", required_argument, NULL, 'r' },
		{ "offset", required_argument, NULL, OPT_OFFSET },
		{ "length", required_argument, NULL, OPT_LENGTH },
		{ "tag", required_argument, NULL, OPT_TAG },
		{ "seq", required_argument, NULL, OPT_SEQ },
		{ "more", no_argument, NULL, OPT_MORE },
		{ "shareable", no_argument, NULL, OPT_SHAREABLE },
		{ NULL, 0, NULL, 0 },
	};
	struct daxm_extent_spec spec;
	struct extent_params p;
	struct daxm_region *region;
	int rc;

	cli->usage = daxm_usage_extent_add;
	rc = parse_extent_options(cli, argc, argv, options, &p);
	if (rc)
		return rc;
	if (!p.have_offset || !p.have_length)
		return daxm_usage_error(cli, "--offset and --length are required");
	region = daxm_find_region(cli, p.region, &rc);
	if (!region)
		return rc;

	memset(&spec, 0, sizeof(spec));
	spec.offset = p.offset;
	spec.length = p.length;
	memcpy(spec.tag, p.tag, DAXM_TAG_SIZE);
	spec.sequence = (uint16_t)p.seq;
	rc = daxm_region_add_extents(region, &spec, 1,
				     (p.more ? DAXM_GROUP_MORE : 0) |
				     (p.shareable ? DAXM_GROUP_SHAREABLE : 0));
	if (rc < 0)
		return daxm_fail(cli, rc);
	cli->dirty = true;
	note_events(cli, p.more ? "staged 1 extent, group open" : "group closed");
	return DAXM_EXIT_OK;
}

static int extent_close(struct daxm_cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{ "region", required_argument, NULL, 'r' },
		{ "shareable", no_argument, NULL, OPT_SHAREABLE },
		{ NULL, 0, NULL, 0 },
	};
	struct extent_params p;
	struct daxm_region *region;
	int rc;

	cli->usage = daxm_usage_extent_close;
	rc = parse_extent_options(cli, argc, argv, options, &p);
	if (rc)
		return rc;
	region = daxm_find_region(cli, p.region, &rc);
	if (!region)
		return rc;
	rc = daxm_region_add_extents(region, NULL, 0, p.shareable ? DAXM_GROUP_SHAREABLE : 0);
	if (rc < 0)
		return daxm_fail(cli, rc);
	cli->dirty = true;
	note_events(cli, "group closed");
	return DAXM_EXIT_OK;
}

static int extent_release(struct daxm_cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{ "region", required_argument, NULL, 'r' },
		{ "offset", required_argument, NULL, OPT_OFFSET },
		{ "length", required_argument, NULL, OPT_LENGTH },
		{ "tag", required_argument, NULL, OPT_TAG },
		{ "forced", no_argument, NULL, OPT_FORCED },
		{ NULL, 0, NULL, 0 },
	};
	struct extent_params p;
	struct daxm_region *region;
	int rc;

	cli->usage = daxm_usage_extent_release;
	rc = parse_extent_options(cli, argc, argv, options, &p);
	if (rc)
		return rc;
	if (!p.have_offset || !p.have_length)
		return daxm_usage_error(cli, "--offset and --length are required");
	region = daxm_find_region(cli, p.region, &rc);
	if (!region)
		return rc;
	rc = daxm_region_release_extents(region, p.offset, p.length, p.tag,
					 p.forced ? DAXM_RELEASE_FORCED : 0);
	if (rc < 0)
		return daxm_fail(cli, rc);
	cli->dirty = true;
	note_events(cli, "release requested");
	return DAXM_EXIT_OK;
}

int daxm_cmd_extent(struct daxm_cli *cli, int argc, char **argv)
{
	static const struct {
		const char *name, *cmd;
		int (*fn)(struct daxm_cli *, int, char **);
	} subs[] = {
		{ "add", "extent add", extent_add },
		{ "close", "extent close", extent_close },
		{ "release", "extent release", extent_release },
	};
	size_t i;

	cli->usage = daxm_usage_extent_add;
	if (argc < 2)
		return daxm_usage_error(cli, "expected a sub-command: add, close or release");
	for (i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
		if (strcmp(argv[1], subs[i].name) == 0) {
			cli->cmd = subs[i].cmd;
			return subs[i].fn(cli, argc - 1, argv + 1);
		}
	}
	return daxm_usage_error(cli, "unknown sub-command '%s' (expected: add, close, release)", argv[1]);
}

int daxm_cmd_events(struct daxm_cli *cli, int argc, char **argv)
{
	json_object *out;
	int rc;

	cli->usage = daxm_usage_events;
	if (argc > 1)
		return daxm_usage_error(cli, "unexpected argument '%s'", argv[1]);
	out = json_object_new_array();
	for (;;) {
		struct daxm_event *event;

		rc = daxm_ctx_next_event(cli->ctx, &event);
		if (rc == -EAGAIN)
			break;
		if (rc < 0) {
			/* Print what was taken: it is gone from the saved queue. */
			cli->out = out;
			return daxm_fail(cli, rc);
		}
		json_object_array_add(out, daxm_event_to_json(event));
		daxm_event_free(event);
		cli->dirty = true; /* the queue is part of the saved state */
	}
	cli->out = out;
	return DAXM_EXIT_OK;
}
