/*
 * cmd_serve.c — `harmonic serve --config FILE`: starts the HTTPS API
 * (src/server), prints where it listens, and on SIGTERM or SIGINT stops
 * gracefully (no new connections, in-flight requests finish).
 */
#include "cli.h"
#include "hm_server.h"

#include <signal.h>
#include <stdio.h>

static int run_serve(const hm_args *a)
{
    hm_server_config cfg;
    hm_error err;
    hm_error_clear(&err);
    if (hm_server_config_load(hm_args_str(a, "config", NULL), &cfg, &err))
        return hm_cli_report(&err);
    /* Signals are taken by sigwait below only: block them before the
     * server's threads start so that every thread inherits the mask. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);          /* a client gone mid-reply is not fatal */
    hm_server *srv;
    if (hm_server_start(&cfg, &srv, &err))
        return hm_cli_report(&err);
    printf("harmonic serve: listening on %s://%s:%d\n", cfg.tls ? "https" : "http", cfg.listen,
           hm_server_port(srv));
    fflush(stdout);
    int sig = 0;
    sigwait(&set, &sig);
    printf("harmonic serve: signal %d, finishing in-flight requests\n", sig);
    fflush(stdout);
    hm_server_stop(srv);
    printf("harmonic serve: stopped\n");
    return 0;
}

static const hm_cli_opt serve_opts[] = {
    { "config", 0, HM_OPT_T_PATH, "FILE", "the server configuration (docs/server.md)", NULL,
      HM_OPT_REQUIRED, 0, 0, NULL, 0, 0 },
    HM_OPT_END
};
const hm_cli_cmd hm_cli_serve = {
    "serve", "the multi-centre HTTPS API: submissions, reads, completeness, audit",
    "Reads one configuration file of 'key = value' lines: listen (127.0.0.1), port (0 = any,\n"
    "printed on start), tls (on; off only on loopback), tls_cert, tls_key, db, upload_dir,\n"
    "max_upload_bytes, log_file, threads, shutdown_grace_s, web_dir (the web pages at /).\n"
    "SIGTERM or SIGINT stops it gracefully.  See docs/server.md and openapi/harmonic.yaml.\n",
    serve_opts, NULL, run_serve, NULL, 0
};
