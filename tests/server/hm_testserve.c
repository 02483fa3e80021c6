/*
 * hm_testserve.c — see hm_testserve.h.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "hm_testserve.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

size_t hm_test_buf_write(char *p, size_t size, size_t n, void *arg)
{
    hm_test_buf *b = arg;
    char *q = realloc(b->p, b->n + size * n + 1);
    assert_non_null(q);
    memcpy(q + b->n, p, size * n);
    b->p = q;
    b->n += size * n;
    b->p[b->n] = 0;
    return size * n;
}

pid_t hm_test_serve(const char *conf, const char *scheme, const char *const *env, int *port)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        for (int i = 0; env && env[i] && env[i + 1]; i += 2)
            setenv(env[i], env[i + 1], 1);
        execl(HM_HARMONIC_EXE, "harmonic", "serve", "--config", conf, (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    FILE *fp = fdopen(fds[0], "r");
    assert_non_null(fp);
    char line[256] = "";
    assert_non_null(fgets(line, sizeof line, fp));
    fclose(fp);           /* later lines go to a closed pipe: the server ignores SIGPIPE */
    char want[64];
    snprintf(want, sizeof want, "listening on %s://127.0.0.1:", scheme);
    if (!strstr(line, want))
        fail_msg("harmonic serve --config %s: expected '%s...', got '%s'", conf, want, line);
    *port = atoi(strrchr(line, ':') + 1);
    assert_true(*port > 0);
    return pid;
}

void hm_test_serve_stop(pid_t pid)
{
    kill(pid, SIGTERM);
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
}
