/* key.c — study keys: generation (libsodium CSPRNG), the key file, loading.
 *
 * Key file (text, one "name: value" per line, '#' comments):
 *     # harmonic study key ...
 *     format: harmonic-study-key-1
 *     version: 1
 *     key-hex: <64 lowercase hex digits>
 * It is created with O_EXCL and mode 0600 so an existing key is never
 * overwritten and only its owner can read it. */
#include "hm_pseudo.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int hm_pseudo_version_parse(const char *text, int *version)
{
    int v = 0;
    if (!text || !*text || strlen(text) > 4)
        return 0;
    for (const char *p = text; *p; p++) {
        if (*p < '0' || *p > '9')
            return 0;
        v = v * 10 + (*p - '0');
    }
    if (v < 1 || v > HM_PSEUDO_VERSION_MAX)
        return 0;
    *version = v;
    return 1;
}

void hm_pseudo_hex(const unsigned char *bytes, size_t n, char *hex)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        hex[2 * i] = digits[bytes[i] >> 4];
        hex[2 * i + 1] = digits[bytes[i] & 15];
    }
    hex[2 * n] = '\0';
}

int hm_pseudo_key_from_bytes(hm_pseudo_key *key, const void *bytes, size_t len,
                             int version, hm_error *err)
{
    if (len == 0 || len > HM_PSEUDO_KEY_MAX_BYTES)
        return hm_error_set(err, HM_EINVAL, NULL, 0, "key",
                            "key length %zu bytes, expected 1..%d", len,
                            HM_PSEUDO_KEY_MAX_BYTES);
    if (version < 1 || version > HM_PSEUDO_VERSION_MAX)
        return hm_error_set(err, HM_EINVAL, NULL, 0, "version",
                            "key version %d: expected an integer 1..%d", version,
                            HM_PSEUDO_VERSION_MAX);
    memset(key, 0, sizeof *key);
    memcpy(key->key, bytes, len);
    key->key_len = len;
    key->version = version;
    return HM_OK;
}

void hm_pseudo_key_wipe(hm_pseudo_key *key)
{
    if (key)
        sodium_memzero(key, sizeof *key);
}

int hm_pseudo_keygen(const char *path, int version, hm_error *err)
{
    if (version < 1 || version > HM_PSEUDO_VERSION_MAX)
        return hm_error_set(err, HM_EINVAL, NULL, 0, "--version",
                            "key version %d: expected an integer 1..%d", version,
                            HM_PSEUDO_VERSION_MAX);
    if (sodium_init() < 0)
        return hm_error_set(err, HM_EIO, NULL, 0, NULL, "libsodium failed to initialise");
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0) {
        if (errno == EEXIST)
            return hm_error_set(err, HM_EIO, path, 0, NULL,
                                "file exists; refusing to overwrite a study key");
        return hm_error_set(err, HM_EIO, path, 0, NULL, "cannot create: %s", strerror(errno));
    }
    /* The umask may only have removed bits; make sure nobody else can read. */
    fchmod(fd, S_IRUSR | S_IWUSR);

    unsigned char raw[HM_PSEUDO_KEY_BYTES];
    char hex[2 * HM_PSEUDO_KEY_BYTES + 1];
    randombytes_buf(raw, sizeof raw);
    hm_pseudo_hex(raw, sizeof raw, hex);
    char text[512];
    int n = snprintf(text, sizeof text,
                     "# harmonic study key. Keep it secret and at the hospitals only:\n"
                     "# the pooling centre must never receive it.\n"
                     "format: %s\nversion: %d\nkey-hex: %s\n",
                     HM_PSEUDO_KEY_FORMAT, version, hex);
    sodium_memzero(raw, sizeof raw);
    sodium_memzero(hex, sizeof hex);
    int ok = n > 0 && (size_t)n < sizeof text && write(fd, text, (size_t)n) == (ssize_t)n
             && fsync(fd) == 0;
    sodium_memzero(text, sizeof text);
    if (close(fd) != 0)
        ok = 0;
    if (!ok) {
        unlink(path);
        return hm_error_set(err, HM_EIO, path, 0, NULL, "cannot write the key file");
    }
    return HM_OK;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
        s[--n] = '\0';
    return s;
}

int hm_pseudo_key_load(const char *path, hm_pseudo_key *key, hm_error *err)
{
    FILE *fp = fopen(path, "r");
    if (!fp)
        return hm_error_set(err, HM_EIO, path, 0, NULL, "cannot open key file: %s",
                            strerror(errno));
    /* Like ssh with private keys: a secret others can read is refused. */
    struct stat st;
    if (fstat(fileno(fp), &st) == 0 && (st.st_mode & (S_IRWXG | S_IRWXO))) {
        fclose(fp);
        return hm_error_set(err, HM_EPERM, path, 0, NULL,
                            "key file is accessible to other users (mode %03o); "
                            "run: chmod 600 %s", (unsigned)(st.st_mode & 0777), path);
    }
    char line[1024];
    int version = 0;
    unsigned char raw[HM_PSEUDO_KEY_MAX_BYTES];
    size_t raw_len = 0;
    int have_format = 0, have_key = 0, rc = HM_OK;
    long lineno = 0;
    while (rc == HM_OK && fgets(line, sizeof line, fp)) {
        lineno++;
        char *s = trim(line);
        if (!*s || *s == '#')
            continue;
        char *colon = strchr(s, ':');
        if (!colon) {
            rc = hm_error_set(err, HM_EPARSE, path, lineno, NULL, "expected 'name: value'");
            break;
        }
        *colon = '\0';
        char *name = trim(s), *value = trim(colon + 1);
        if (!strcmp(name, "format")) {
            if (strcmp(value, HM_PSEUDO_KEY_FORMAT))
                rc = hm_error_set(err, HM_EPARSE, path, lineno, "format",
                                  "'%s' is not a key format harmonic knows (expected %s)",
                                  value, HM_PSEUDO_KEY_FORMAT);
            have_format = 1;
        } else if (!strcmp(name, "version")) {
            if (!hm_pseudo_version_parse(value, &version))
                rc = hm_error_set(err, HM_EPARSE, path, lineno, "version",
                                  "'%s': expected an integer 1..%d", value, HM_PSEUDO_VERSION_MAX);
        } else if (!strcmp(name, "key-hex")) {
            size_t n = strlen(value);
            if (n % 2 || n < 32 || n > 2 * HM_PSEUDO_KEY_MAX_BYTES) {
                rc = hm_error_set(err, HM_EPARSE, path, lineno, "key-hex",
                                  "expected an even number (32..%d) of hex digits, got %zu",
                                  2 * HM_PSEUDO_KEY_MAX_BYTES, n);
                break;
            }
            for (size_t i = 0; i < n / 2; i++) {
                int hi = hexval(value[2 * i]), lo = hexval(value[2 * i + 1]);
                if (hi < 0 || lo < 0) {
                    rc = hm_error_set(err, HM_EPARSE, path, lineno, "key-hex",
                                      "character %zu is not a hex digit", 2 * i + (hi < 0 ? 1 : 2));
                    break;
                }
                raw[i] = (unsigned char)(hi << 4 | lo);
            }
            raw_len = n / 2;
            have_key = 1;
        } else {
            rc = hm_error_set(err, HM_EPARSE, path, lineno, name,
                              "unknown entry (expected format, version, key-hex)");
        }
    }
    sodium_memzero(line, sizeof line);
    fclose(fp);
    if (rc == HM_OK && (!have_format || !have_key || !version))
        rc = hm_error_set(err, HM_EPARSE, path, 0, !have_format ? "format"
                          : !have_key ? "key-hex" : "version",
                          "missing entry: not a harmonic study key file");
    if (rc == HM_OK)
        rc = hm_pseudo_key_from_bytes(key, raw, raw_len, version, err);
    sodium_memzero(raw, sizeof raw);
    return rc;
}
