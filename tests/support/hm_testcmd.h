/*
 * hm_testcmd.h — runs a shell command from a test (include after cmocka.h).
 */
#ifndef HM_TESTCMD_H
#define HM_TESTCMD_H

#include <stdio.h>
#include <sys/wait.h>

/* Runs cmd; returns its exit status, and its stdout (with stderr too when
 * with_stderr is set) in out. */
static int hm_test_run(const char *cmd, char *out, size_t size, int with_stderr)
{
    char full[4096];
    int len = snprintf(full, sizeof full, "%s%s", cmd, with_stderr ? " 2>&1" : "");
    assert_true(len > 0 && (size_t)len < sizeof full);   /* a cut command would run wrong */
    FILE *p = popen(full, "r");
    assert_non_null(p);
    size_t n = fread(out, 1, size - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Runs cmd in folder dir (stderr through dir/stderr.txt); returns its exit
 * status, its stdout in out and its stderr in err. */
static inline int hm_test_run_in(const char *dir, const char *cmd, char *out, size_t size, char *err,
                                 size_t err_size)
{
    char full[4096], path[1024];
    int len = snprintf(full, sizeof full, "cd %s && %s 2>stderr.txt", dir, cmd);
    assert_true(len > 0 && (size_t)len < sizeof full);
    int rc = hm_test_run(full, out, size, 0);
    snprintf(path, sizeof path, "%s/stderr.txt", dir);
    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    size_t n = fread(err, 1, err_size - 1, fp);
    err[n] = '\0';
    fclose(fp);
    return rc;
}

#endif
