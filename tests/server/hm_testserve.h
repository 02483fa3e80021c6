/*
 * hm_testserve.h — what the server tests that run the harmonic executable
 * share: starting `harmonic serve` and reading its port, stopping it
 * gracefully, and a growing buffer for curl's write callback.
 */
#ifndef HM_TESTSERVE_H
#define HM_TESTSERVE_H

#include <stddef.h>
#include <sys/types.h>

/* A response body (or headers) as curl delivers it: always NUL-terminated. */
typedef struct hm_test_buf {
    char  *p;
    size_t n;
} hm_test_buf;

/* CURLOPT_WRITEFUNCTION / CURLOPT_HEADERFUNCTION with an hm_test_buf. */
size_t hm_test_buf_write(char *p, size_t size, size_t n, void *arg);

/* Starts the harmonic executable (HM_HARMONIC_EXE, set by the test's
 * build) as `serve --config conf` with the environment
 * variables env[0]=env[1], env[2]=env[3], ... (NULL-terminated, or NULL);
 * waits for its first line, "listening on SCHEME://127.0.0.1:PORT" with
 * scheme "http" or "https", and stores the port.  Returns the pid. */
pid_t hm_test_serve(const char *conf, const char *scheme, const char *const *env, int *port);

/* SIGTERM (the graceful stop); the server must exit with status 0. */
void hm_test_serve_stop(pid_t pid);

#endif
