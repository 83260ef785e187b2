/*
 * daxm - a daxctl-like command-line tool over a saved libdaxmodel state.
 *
 *   daxm [--state FILE] COMMAND [ARGS]
 *   daxm [--fabric FILE] fabric VERB [ARGS]      (fabric.c)
 *
 * FILE defaults to $DAXM_STATE, else ./daxm-state.json. It is loaded when
 * it exists (a file the library refuses is reported and left untouched),
 * else the model starts empty; a command that changes the model saves it
 * (atomically: daxm_ctx_save). Invocations on one directory's state files
 * are serialized with flock(2) on that directory.
 *
 * Exit status: 0 success, 1 refused (errno name, or for a fabric command
 * the device refused its CXL return code's name, and message on stderr),
 * 2 usage error. Set DAXM_LOG=info (or debug) to see the library's log.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <syslog.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daxm.h"

#define DEFAULT_STATE "./daxm-state.json"
#define DEFAULT_FABRIC "./daxm-fabric.json"

static const struct daxm_command commands[] = {
	{ "list", daxm_cmd_list, true, false, daxm_usage_list },
	{ "read", daxm_cmd_read, true, false, daxm_usage_read },
	{ "write", daxm_cmd_write, false, false, daxm_usage_write },
	{ "region", daxm_cmd_region, false, false, daxm_usage_region_add },
	{ "create-device", daxm_cmd_create_device, false, false, daxm_usage_create_device },
	{ "destroy-device", daxm_cmd_destroy_device, false, false, daxm_usage_destroy_device },
	{ "reconfigure-device", daxm_cmd_reconfigure_device, false, false, daxm_usage_reconfigure_device },
	{ "enable-device", daxm_cmd_enable_device, false, false, daxm_usage_enable_device },
	{ "disable-device", daxm_cmd_disable_device, false, false, daxm_usage_disable_device },
	{ "extent", daxm_cmd_extent, false, false, daxm_usage_extent_add },
	{ "events", daxm_cmd_events, false, false, daxm_usage_events },
	{ "fabric", daxm_cmd_fabric, false, true, daxm_usage_fabric },
};

const struct daxm_command *daxm_find_command(const char *name)
{
	for (size_t k = 0; k < sizeof(commands) / sizeof(commands[0]); k++)
		if (strcmp(name, commands[k].name) == 0)
			return &commands[k];
	return NULL;
}

static void print_usage(FILE *f)
{
	static const char *const extra[] = {
		daxm_usage_extent_close, daxm_usage_extent_release,
	};
	size_t i;

	fprintf(f,
		"usage: daxm [--state FILE] COMMAND [ARGS]\n"
		"       daxm [--fabric FILE] fabric VERB [ARGS]\n"
		"       daxm help | version\n"
		"\n"
		"  --state FILE   the saved model (default: $DAXM_STATE, else %s)\n"
		"  --fabric FILE  the saved fabric (default: $DAXM_FABRIC, else %s)\n"
		"\n"
		"Commands:\n", DEFAULT_STATE, DEFAULT_FABRIC);
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		fprintf(f, "\n%s", commands[i].usage);
		if (commands[i].fn == daxm_cmd_extent)
			for (size_t j = 0; j < sizeof(extra) / sizeof(extra[0]); j++)
				fprintf(f, "%s", extra[j]);
	}
	fprintf(f,
		"\nExit status: 0 done, 1 refused (\"daxm CMD: ERRNO: why\" on stderr; a fabric\n"
		"command the device refuses names its CXL return code, \"Invalid Input\", in\n"
		"place of ERRNO), 2 usage error. DAXM_LOG=info|debug shows the library's log.\n");
}

void daxm_cli_log(struct daxm_ctx *ctx, int priority, const char *file, int line,
		  const char *fn, const char *msg)
{
	struct daxm_cli *cli = daxm_get_userdata(ctx);

	/* Kernel warnings a write reached are shown as it happens, and the
	 * state is saved even if the command failed: the boot remembers
	 * them (_ONCE sites, a failed probe's leftovers, a panic). Refusals
	 * are reported by the command, with daxm_last_error(), and the rest
	 * of the log only when DAXM_LOG asks for it. */
	(void)file, (void)line;
	if (priority == LOG_WARNING) {
		fprintf(stderr, "daxm: warning: %s\n", msg);
		if (cli)
			cli->dirty = true;
	} else if (getenv("DAXM_LOG")) {
		fprintf(stderr, "libdaxmodel: %s: %s\n", fn, msg);
	}
}

int daxm_lock_state_dir(const char *path, bool shared)
{
	const char *slash = strrchr(path, '/');
	char *dir;
	int fd;

	if (!slash)
		dir = strdup(".");
	else if (slash == path)
		dir = strdup("/");
	else
		dir = strndup(path, (size_t)(slash - path));
	if (!dir)
		return -1;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(dir);
	if (fd < 0)
		return -1;
	while (flock(fd, shared ? LOCK_SH : LOCK_EX) < 0) {
		if (errno != EINTR) {
			close(fd);
			return -1;
		}
	}
	return fd;
}

/* Load the state, or start empty when there is none. */
static int load_state(struct daxm_cli *cli)
{
	struct stat st;
	int rc;

	if (stat(cli->state_path, &st) < 0 && errno == ENOENT) {
		rc = daxm_new(&cli->ctx);
		if (rc < 0)
			return daxm_fail(cli, rc);
	} else {
		rc = daxm_ctx_load(cli->state_path, &cli->ctx);
		if (rc < 0) {
			daxm_fail(cli, rc);
			fprintf(stderr, "daxm: %s was not changed\n", cli->state_path);
			return DAXM_EXIT_FAIL;
		}
	}
	daxm_set_userdata(cli->ctx, cli);
	daxm_set_log_fn(cli->ctx, daxm_cli_log);
	return DAXM_EXIT_OK;
}

int main(int argc, char **argv)
{
	struct daxm_cli cli = { .cmd = "daxm" };
	const struct daxm_command *command = NULL;
	const char *state = NULL, *fabric = NULL;
	int i, rc, lock_fd;

	/* Global options, up to the command word. */
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--state") == 0) {
			if (++i >= argc || !*argv[i]) {
				fprintf(stderr, "daxm: --state needs a file\n");
				return DAXM_EXIT_USAGE;
			}
			state = argv[i];
		} else if (strncmp(argv[i], "--state=", 8) == 0) {
			state = argv[i] + 8;
			if (!*state) {
				fprintf(stderr, "daxm: --state needs a file\n");
				return DAXM_EXIT_USAGE;
			}
		} else if (strcmp(argv[i], "--fabric") == 0) {
			if (++i >= argc || !*argv[i]) {
				fprintf(stderr, "daxm: --fabric needs a file\n");
				return DAXM_EXIT_USAGE;
			}
			fabric = argv[i];
		} else if (strncmp(argv[i], "--fabric=", 9) == 0) {
			fabric = argv[i] + 9;
			if (!*fabric) {
				fprintf(stderr, "daxm: --fabric needs a file\n");
				return DAXM_EXIT_USAGE;
			}
		} else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			print_usage(stdout);
			return DAXM_EXIT_OK;
		} else if (strcmp(argv[i], "--version") == 0) {
			printf("daxm (libdaxmodel %s)\n", daxm_get_version());
			return DAXM_EXIT_OK;
		} else if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		} else {
			fprintf(stderr, "daxm: unknown option '%s'\n\n", argv[i]);
			print_usage(stderr);
			return DAXM_EXIT_USAGE;
		}
	}
	if (i >= argc) {
		print_usage(stderr);
		return DAXM_EXIT_USAGE;
	}
	if (strcmp(argv[i], "help") == 0) {
		print_usage(stdout);
		return DAXM_EXIT_OK;
	}
	if (strcmp(argv[i], "version") == 0) {
		printf("daxm (libdaxmodel %s)\n", daxm_get_version());
		return DAXM_EXIT_OK;
	}
	command = daxm_find_command(argv[i]);
	if (!command) {
		fprintf(stderr, "daxm: unknown command '%s' (daxm help lists them)\n", argv[i]);
		return DAXM_EXIT_USAGE;
	}
	if (!state)
		state = getenv("DAXM_STATE");
	if (!state || !*state)
		state = DEFAULT_STATE;
	if (!fabric)
		fabric = getenv("DAXM_FABRIC");
	if (!fabric || !*fabric)
		fabric = DEFAULT_FABRIC;
	cli.state_path = state;
	cli.fabric_path = fabric;
	cli.cmd = command->name;
	cli.usage = command->usage;

	/* A command with its own state (fabric) locks, loads and saves it. */
	lock_fd = command->own_state ? -1 : daxm_lock_state_dir(state, command->reads_only);
	rc = command->own_state ? DAXM_EXIT_OK : load_state(&cli);
	if (rc == DAXM_EXIT_OK) {
		optind = 1;
		opterr = 0;
		rc = command->fn(&cli, argc - i, argv + i);
		if (cli.dirty && !command->reads_only && !command->own_state) {
			int err = daxm_ctx_save(cli.ctx, cli.state_path);

			if (err < 0) {
				daxm_fail(&cli, err);
				fprintf(stderr, "daxm: %s keeps the state before this command\n",
					cli.state_path);
				rc = DAXM_EXIT_FAIL;
				json_object_put(cli.out);
				cli.out = NULL;
				cli.note[0] = '\0';
			}
		}
		/* Output only once the state it describes is saved. */
		if (cli.out && daxm_print_json(cli.out) < 0 && rc == DAXM_EXIT_OK)
			rc = daxm_fail_msg(&cli, EIO, "cannot write to stdout");
		if (cli.note[0])
			fprintf(stderr, "%s\n", cli.note);
	}
	json_object_put(cli.out);
	daxm_unref(cli.ctx);
	daxm_fabric_unref(cli.fabric);
	if (fflush(stdout) == EOF && rc == DAXM_EXIT_OK)
		rc = daxm_fail_msg(&cli, EIO, "cannot write to stdout");
	if (lock_fd >= 0)
		close(lock_fd);
	return rc;
}
