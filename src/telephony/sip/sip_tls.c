/* sip_tls.c — SIP over TLS on sofia-sip 1.12's tport (docs/decisions/
 * sip-tls.md). sofia reads its certificate from a directory (agent.pem:
 * the certificate followed by its key; cafile.pem: the CAs) once, when the
 * tls: listener is created; it has no tag for file names, ciphers or a
 * minimum version, and no event for a refused handshake. So: the files
 * settings.sip.tls names are checked here, copied into a directory only we
 * can read for the moment sofia reads them, and sofia's own TLS complaints
 * are caught from its transport log and written as our warnings. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sofia-sip/su_log.h>
#include <sofia-sip/tport_tag.h>

#include "telephony/sip/sip_int.h"
#include "telephony/sip/sip_tls.h"

extern su_log_t tport_log[];

/* A PEM file is small; anything bigger is not what we were given. */
#define PEM_MAX (1 << 20)

/* Reads all of PATH (at most PEM_MAX) into a NUL-terminated buffer. */
static char *slurp(const char *path, size_t *len, int *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        *err = errno;
        return NULL;
    }
    char *buf = malloc(PEM_MAX + 1);
    size_t n = buf ? fread(buf, 1, PEM_MAX + 1, f) : 0;
    *err = ferror(f) ? EIO : 0;
    fclose(f);
    if (!buf || *err || n > PEM_MAX) {
        free(buf);
        if (!*err)
            *err = EFBIG;
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

const char *sip_tls_file_problem(const char *path, const char *what, char *buf, size_t n)
{
    size_t len;
    int err;
    char *pem = slurp(path, &len, &err);
    if (!pem) {
        snprintf(buf, n, "cannot read %s: %s", path, strerror(err));
        return buf;
    }
    /* The block a certificate or CA file needs, or a key's (any PEM private
     * key: "PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY"). */
    bool key = strcmp(what, "key") == 0;
    bool found = key ? strstr(pem, "PRIVATE KEY-----") != NULL : strstr(pem, "-----BEGIN CERTIFICATE-----") != NULL;
    free(pem);
    if (found)
        return NULL;
    snprintf(buf, n, "%s holds no PEM %s", path, key ? "private key" : "certificate");
    return buf;
}

bool sip_tls_check(const scn_tls_settings *t, char *err, size_t n)
{
    const struct {
        const scn_tls_file *f;
        const char *what;
    } files[] = {{&t->cert, "cert"}, {&t->key, "key"}, {&t->ca, "ca"}};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        const scn_tls_file *f = files[i].f;
        char why[600];
        if (f->path && sip_tls_file_problem(f->path, files[i].what, why, sizeof why)) {
            snprintf(err, n, "%s:%u:%u: settings.sip.tls.%s: %s", f->file ? f->file : "-", f->line, f->col,
                     files[i].what, why);
            return false;
        }
    }
    return true;
}

/* Appends the PEM files to a new file DIR/NAME that only we may read. */
static bool write_joined(const char *dir, const char *name, const char *const *paths, char *err, size_t n)
{
    char out[600];
    snprintf(out, sizeof out, "%s/%s", dir, name);
    FILE *o = NULL;
    int fd = open(out, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0 && !(o = fdopen(fd, "wb")))
        close(fd);
    if (!o) {
        snprintf(err, n, "cannot write %s: %s", out, strerror(errno));
        return false;
    }
    bool ok = true;
    for (size_t i = 0; paths[i] && ok; i++) {
        size_t len;
        int e;
        char *pem = slurp(paths[i], &len, &e);
        if (!pem) {
            snprintf(err, n, "cannot read %s: %s", paths[i], strerror(e));
            ok = false;
            break;
        }
        ok = fwrite(pem, 1, len, o) == len && (len == 0 || pem[len - 1] == '\n' || fputc('\n', o) != EOF);
        free(pem);
        if (!ok)
            snprintf(err, n, "cannot write %s: %s", out, strerror(errno));
    }
    if (fclose(o) != 0 && ok) {
        snprintf(err, n, "cannot write %s: %s", out, strerror(errno));
        ok = false;
    }
    return ok;
}

bool sip_tls_dir_make(const scn_tls_settings *t, char *dir, size_t n, char *err, size_t errlen)
{
    if (!sip_tls_check(t, err, errlen))
        return false;
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, n, "%s/callroute-tls.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) {   /* mode 0700 */
        snprintf(err, errlen, "cannot make a directory for the TLS certificate (%s): %s", dir, strerror(errno));
        dir[0] = '\0';
        return false;
    }
    const char *agent[] = {t->cert.path, t->key.path, NULL};
    const char *ca[] = {t->ca.path ? t->ca.path : SIP_TLS_SYSTEM_CA, NULL};
    if (!write_joined(dir, "agent.pem", agent, err, errlen) || !write_joined(dir, "cafile.pem", ca, err, errlen)) {
        sip_tls_dir_remove(dir);
        dir[0] = '\0';
        return false;
    }
    return true;
}

void sip_tls_dir_remove(const char *dir)
{
    if (!dir || !dir[0])
        return;
    static const char *const names[] = {"agent.pem", "cafile.pem", "tls_seed.dat"};
    char p[600];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, names[i]);
        unlink(p);
    }
    rmdir(dir);
}

unsigned sip_tls_policy(const scn_tls_settings *t)
{
    /* Outgoing (gateways, phones called back): the chain must verify and
     * the certificate must name the host or address dialled. Incoming:
     * only when phones are to present certificates (verify_peer). */
    unsigned p = t->verify_server ? TPTLS_VERIFY_SUBJECTS_OUT : 0;
    if (t->verify_peer)
        p |= TPTLS_VERIFY_IN;
    return p;
}

/* ---- sofia's TLS complaints as our log lines ---- */

static struct sip_driver *log_driver;
static bool log_echo;   /* CALLROUTE_SOFIA_DEBUG: sofia's whole trace to stderr, as before */

/* sofia writes a line in pieces; what it logs about a refused handshake
 * may hold the peer's certificate subject: kept printable and short. */
static void tport_logger(void *stream, char const *fmt, va_list ap)
{
    (void)stream;
    char line[300];
    va_list copy;
    va_copy(copy, ap);
    if (log_echo)
        vfprintf(stderr, fmt, copy);
    va_end(copy);
    vsnprintf(line, sizeof line, fmt, ap);
    if (!log_driver)
        return;
    bool tls = strstr(line, "TLS") || strstr(line, "tls") || strstr(line, "SSL") || strstr(line, "ssl") ||
               strstr(line, "certificate") || strstr(line, "err ") || strstr(line, "subject") ||
               strstr(line, "issuer");
    if (!tls)
        return;
    size_t len = strlen(line);
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r' || line[len - 1] == ' '))
        line[--len] = '\0';
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)line[i] < 0x20 || (unsigned char)line[i] > 0x7e)
            line[i] = '?';
    if (len)
        sip_log(log_driver, SIP_LOG_WARN, "TLS: %s", line);
}

void sip_tls_log_attach(struct sip_driver *d)
{
    log_driver = d;
    log_echo = d->log_level >= SIP_LOG_DEBUG && getenv("CALLROUTE_SOFIA_DEBUG");
    su_log_redirect(tport_log, tport_logger, NULL);
    /* 3: sofia's errors and warnings (handshake and verification failures) */
    if (!log_echo)
        su_log_set_level(tport_log, 3);
}

void sip_tls_log_detach(void)
{
    su_log_redirect(tport_log, NULL, NULL);
    log_driver = NULL;
}
