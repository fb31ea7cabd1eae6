/*
 * vpp_ping_floor: the floor any VPP binary-API socket client can reach.
 *
 * Usage: vpp_ping_floor SOCKET_PATH COUNT [PIPELINE]
 *
 * Connects to VPP's API socket (AF_UNIX, SOCK_STREAM; vpp-wire.md section 4), registers with
 * sockclnt_create, resolves control_ping / control_ping_reply / sockclnt_delete from the
 * message table, then times COUNT control_pings:
 *   PIPELINE = 1 (default): synchronous, one request frame (one write()) then its reply;
 *   PIPELINE = N > 1:       N requests in flight; for every reply read, one more is written.
 * Plain blocking socket, no threads, no allocation in the timed loop. Replies are read
 * through a fixed buffer (one read() returns whatever is available; frames are parsed out of
 * it), and each one's message id, length, context (strictly in order) and retval is checked.
 *
 * Prints one JSON line on stdout:
 *   {"calls": COUNT, "seconds": S, "calls_per_sec": R, "pipeline": N}
 * Exits 1 with a message on stderr on any error.
 *
 * Build: cc -O2 -Wall -Wextra -o vpp_ping_floor vpp_ping_floor.c   (C11 + POSIX)
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define HDR_LEN 16u
#define SOCKCLNT_CREATE_ID 15u
#define SOCKCLNT_CREATE_REPLY_ID 16u
#define HANDSHAKE_CONTEXT 124u
#define NAME_LEN 64u
#define TABLE_ENTRY_LEN (2u + NAME_LEN)
/* sockclnt_create_reply: id, client_index, context, response, index, count */
#define CREATE_REPLY_FIXED 20u
/* control_ping: id, client_index, context */
#define PING_BODY 10u
/* control_ping_reply: id, context, retval, client_index, vpe_pid */
#define PING_REPLY_BODY 18u
/* A sane bound for the handshake reply (~2.2k messages * 66 bytes in VPP 26.06). */
#define MAX_HANDSHAKE_BODY (16u << 20)

static unsigned char rxbuf[64 * 1024];

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("vpp_ping_floor: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

static void put_be16(unsigned char *p, uint16_t v)
{
    p[0] = (unsigned char)(v >> 8);
    p[1] = (unsigned char)v;
}

static void put_be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

static uint16_t get_be16(const unsigned char *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}

static uint32_t get_be32(const unsigned char *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

/* The 16-byte msgbuf_t header: q = 0, data_len BE, gc_mark = 0. */
static void put_header(unsigned char *p, uint32_t body_len)
{
    memset(p, 0, HDR_LEN);
    put_be32(p + 8, body_len);
}

static void write_all(int fd, const unsigned char *p, size_t n, const char *what)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            die("write of %s failed: %s", what, strerror(errno));
        }
        p += w;
        n -= (size_t)w;
    }
}

static void read_exact(int fd, unsigned char *p, size_t n, const char *what)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, p + got, n - got);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            die("read of %s failed: %s", what, strerror(errno));
        }
        if (r == 0)
            die("short read of %s: connection closed after %zu of %zu bytes", what, got, n);
        got += (size_t)r;
    }
}

static int parse_u64(const char *s, uint64_t *out)
{
    char *end;
    if (*s == '\0' || *s == '-' || *s == '+')
        return -1;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0')
        return -1;
    *out = (uint64_t)v;
    return 0;
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Message id of name_crc in the sockclnt_create_reply table, or -1. */
static int lookup(const unsigned char *table, uint16_t count, const char *name_crc)
{
    size_t len = strlen(name_crc);
    for (uint16_t i = 0; i < count; i++) {
        const unsigned char *e = table + (size_t)i * TABLE_ENTRY_LEN;
        const char *name = (const char *)(e + 2);
        size_t n = 0;
        while (n < NAME_LEN && name[n] != '\0')
            n++;
        if (n == len && memcmp(name, name_crc, len) == 0)
            return get_be16(e);
    }
    return -1;
}

static void usage(void)
{
    fputs("usage: vpp_ping_floor SOCKET_PATH COUNT [PIPELINE]\n"
          "  COUNT     number of control_pings (>= 1)\n"
          "  PIPELINE  requests kept in flight (>= 1, default 1)\n",
          stderr);
    exit(1);
}

int main(int argc, char **argv)
{
    if (argc < 3 || argc > 4)
        usage();
    const char *path = argv[1];
    uint64_t count, pipeline = 1;
    if (parse_u64(argv[2], &count) != 0 || count == 0)
        die("COUNT must be a positive integer, got '%s'", argv[2]);
    if (argc == 4 && (parse_u64(argv[3], &pipeline) != 0 || pipeline == 0 || pipeline > 65536))
        die("PIPELINE must be an integer in 1..65536, got '%s'", argv[3]);
    /* A dead peer must give an error message, not a silent SIGPIPE death. */
    signal(SIGPIPE, SIG_IGN);

    /* Connect. */
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof sa.sun_path)
        die("socket path too long (%zu bytes, max %zu): %s", strlen(path), sizeof sa.sun_path - 1,
            path);
    memcpy(sa.sun_path, path, strlen(path) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0)
        die("socket(AF_UNIX, SOCK_STREAM) failed: %s", strerror(errno));
    if (connect(fd, (const struct sockaddr *)&sa, sizeof sa) != 0)
        die("cannot connect to %s: %s", path, strerror(errno));

    /* Handshake: sockclnt_create {u16 id, u32 context, char name[64]} (70-byte body). */
    unsigned char create[HDR_LEN + 2 + 4 + NAME_LEN];
    memset(create, 0, sizeof create);
    put_header(create, (uint32_t)(sizeof create - HDR_LEN));
    put_be16(create + HDR_LEN, SOCKCLNT_CREATE_ID);
    put_be32(create + HDR_LEN + 2, HANDSHAKE_CONTEXT);
    memcpy(create + HDR_LEN + 6, "vpp_ping_floor", sizeof "vpp_ping_floor");
    write_all(fd, create, sizeof create, "sockclnt_create");

    unsigned char hdr[HDR_LEN];
    read_exact(fd, hdr, HDR_LEN, "sockclnt_create_reply header");
    uint32_t blen = get_be32(hdr + 8);
    if (blen < CREATE_REPLY_FIXED || blen > MAX_HANDSHAKE_BODY)
        die("sockclnt_create_reply: implausible body length %" PRIu32, blen);
    unsigned char *body = malloc(blen);
    if (body == NULL)
        die("out of memory (%" PRIu32 " bytes for the message table)", blen);
    read_exact(fd, body, blen, "sockclnt_create_reply body");
    /* {u16 id, u32 client_index, u32 context, i32 response, u32 index, u16 count, entries} */
    if (get_be16(body) != SOCKCLNT_CREATE_REPLY_ID)
        die("expected sockclnt_create_reply (id %u), got message id %u", SOCKCLNT_CREATE_REPLY_ID,
            get_be16(body));
    if (get_be32(body + 6) != HANDSHAKE_CONTEXT)
        die("sockclnt_create_reply: context %" PRIu32 ", expected %u", get_be32(body + 6),
            HANDSHAKE_CONTEXT);
    int32_t response = (int32_t)get_be32(body + 10);
    if (response != 0)
        die("sockclnt_create_reply: response %" PRId32, response);
    unsigned char client_index[4]; /* copied verbatim into every request */
    memcpy(client_index, body + 14, 4);
    uint16_t nmsgs = get_be16(body + 18);
    if ((size_t)blen < CREATE_REPLY_FIXED + (size_t)nmsgs * TABLE_ENTRY_LEN)
        die("sockclnt_create_reply: %" PRIu32 " bytes cannot hold %u table entries", blen, nmsgs);
    const unsigned char *table = body + CREATE_REPLY_FIXED;
    int ping_id = lookup(table, nmsgs, "control_ping_51077d14");
    int reply_id = lookup(table, nmsgs, "control_ping_reply_f6b0b8ca");
    int delete_id = lookup(table, nmsgs, "sockclnt_delete_8ac76db6");
    if (ping_id < 0 || reply_id < 0)
        die("message table (%u entries) lacks control_ping_51077d14 or "
            "control_ping_reply_f6b0b8ca",
            nmsgs);
    free(body);

    /* Prebuilt request frame; only the context changes per call. */
    unsigned char req[HDR_LEN + PING_BODY];
    put_header(req, PING_BODY);
    put_be16(req + HDR_LEN, (uint16_t)ping_id);
    memcpy(req + HDR_LEN + 2, client_index, 4);

    const uint64_t inflight = pipeline < count ? pipeline : count;
    uint64_t sent = 0, done = 0;
    size_t have = 0, off = 0; /* rxbuf[off..have) holds unparsed bytes */

    double t0 = now_seconds();
    for (; sent < inflight; sent++) {
        put_be32(req + HDR_LEN + 6, (uint32_t)(sent + 1));
        write_all(fd, req, sizeof req, "control_ping");
    }
    while (done < count) {
        /* Make sure one whole reply frame is buffered. */
        while (have - off < HDR_LEN + PING_REPLY_BODY) {
            if (off > 0) {
                memmove(rxbuf, rxbuf + off, have - off);
                have -= off;
                off = 0;
            }
            ssize_t r = read(fd, rxbuf + have, sizeof rxbuf - have);
            if (r < 0) {
                if (errno == EINTR)
                    continue;
                die("read failed after %" PRIu64 " replies: %s", done, strerror(errno));
            }
            if (r == 0)
                die("short read: connection closed after %" PRIu64 " of %" PRIu64
                    " replies (%zu bytes of a frame buffered)",
                    done, count, have);
            have += (size_t)r;
        }
        const unsigned char *f = rxbuf + off;
        uint32_t len = get_be32(f + 8);
        uint16_t id = get_be16(f + HDR_LEN);
        uint32_t ctx = get_be32(f + HDR_LEN + 2);
        int32_t retval = (int32_t)get_be32(f + HDR_LEN + 6);
        if (id != (uint16_t)reply_id)
            die("reply %" PRIu64 ": message id %u, expected control_ping_reply (%d)", done + 1, id,
                reply_id);
        if (len != PING_REPLY_BODY)
            die("reply %" PRIu64 ": body length %" PRIu32 ", expected %u", done + 1, len,
                PING_REPLY_BODY);
        if (ctx != (uint32_t)(done + 1))
            die("reply %" PRIu64 ": context %" PRIu32 ", expected %" PRIu32, done + 1, ctx,
                (uint32_t)(done + 1));
        if (retval != 0)
            die("reply %" PRIu64 ": retval %" PRId32, done + 1, retval);
        off += HDR_LEN + PING_REPLY_BODY;
        done++;
        if (sent < count) {
            sent++;
            put_be32(req + HDR_LEN + 6, (uint32_t)sent);
            write_all(fd, req, sizeof req, "control_ping");
        }
    }
    double seconds = now_seconds() - t0;

    /* Goodbye: sockclnt_delete {u16 id, u32 client_index, u32 context, u32 index}; the reply
     * may be lost (VPP frees the registration right away), so wait briefly and ignore it. */
    if (delete_id >= 0) {
        unsigned char del[HDR_LEN + 14];
        put_header(del, 14);
        put_be16(del + HDR_LEN, (uint16_t)delete_id);
        memcpy(del + HDR_LEN + 2, client_index, 4);
        put_be32(del + HDR_LEN + 6, HANDSHAKE_CONTEXT + 1);
        memcpy(del + HDR_LEN + 10, client_index, 4);
        if (write(fd, del, sizeof del) == (ssize_t)sizeof del) {
            struct pollfd pfd = {.fd = fd, .events = POLLIN};
            if (poll(&pfd, 1, 100) > 0) {
                ssize_t ignored = read(fd, rxbuf, sizeof rxbuf);
                (void)ignored;
            }
        }
    }
    close(fd);

    printf("{\"calls\": %" PRIu64 ", \"seconds\": %.9f, \"calls_per_sec\": %.1f, "
           "\"pipeline\": %" PRIu64 "}\n",
           count, seconds, seconds > 0 ? (double)count / seconds : 0.0, pipeline);
    return 0;
}
