/* uring_fixed_files.c — can one process hold more bound UDP sockets than
 * RLIMIT_NOFILE allows, by keeping them in io_uring fixed file tables
 * instead of its descriptor table (issue 17 goal 4: 20,000 RTP sockets plus
 * the server's own descriptors, with a hard limit of 20,000 here)?
 *
 * 1. What the kernel allows a table: sparse tables of RLIMIT_NOFILE and
 *    RLIMIT_NOFILE + 1 slots; and again with the soft limit lowered, to see
 *    which limit (soft, at registration) is checked.
 * 2. TOTAL sockets (default 25,000): each made with socket(), bound to
 *    127.0.0.1 (kernel's port), put in a slot of a ring's table
 *    (io_uring_register_files_update) and its descriptor closed, so at most
 *    one extra descriptor is open at a time; tables of TABLE slots
 *    (default RLIMIT_NOFILE - 100), as many rings as needed.
 * 3. The last socket, known only by its slot: a recv through the ring gets a
 *    packet sent to its port from an ordinary socket, its port cannot be
 *    bound again, and a sendmsg through the ring answers the packet.
 *
 *   cc -O2 -Wall -Wextra -Werror -o uring_fixed_files bench/uring/uring_fixed_files.c -luring
 *   uring_fixed_files [TOTAL [TABLE]] */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <liburing.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

static int open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        n += e->d_name[0] != '.';
    if (d)
        closedir(d);
    return n - 1;   /* the directory's own */
}

/* A fresh ring with a sparse table of NR slots: 0 or -errno. The system
 * call itself: liburing's io_uring_register_files_sparse, on EMFILE, raises
 * the soft RLIMIT_NOFILE by NR (up to the hard limit) and tries again, which
 * would hide which limit the kernel checks. */
static int try_table(unsigned nr)
{
    struct io_uring r;
    int ret = io_uring_queue_init(8, &r, 0);
    if (ret < 0)
        return ret;
    struct io_uring_rsrc_register reg = {.nr = nr, .flags = IORING_RSRC_REGISTER_SPARSE};
    ret = (int)syscall(__NR_io_uring_register, r.ring_fd, IORING_REGISTER_FILES2, &reg, sizeof reg);
    if (ret < 0)
        ret = -errno;
    io_uring_queue_exit(&r);
    return ret;
}

static int wait_one(struct io_uring *r, struct io_uring_cqe **cqe)
{
    struct __kernel_timespec ts = {.tv_sec = 2};
    return io_uring_wait_cqe_timeout(r, cqe, &ts);
}

int main(int argc, char **argv)
{
    int total = argc > 1 ? atoi(argv[1]) : 25000;
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur < rl.rlim_max) {   /* the soft limit up to the hard one, as a server would */
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    unsigned lim = (unsigned)rl.rlim_cur;
    unsigned table = argc > 2 ? (unsigned)atoi(argv[2]) : lim - 100;
    printf("RLIMIT_NOFILE soft %lu hard %lu\n", (unsigned long)rl.rlim_cur, (unsigned long)rl.rlim_max);

    /* 1. the table's limit */
    int a = try_table(lim), b = try_table(lim + 1);
    printf("sparse table of %u slots: %s; of %u: %s\n", lim, a < 0 ? strerror(-a) : "ok", lim + 1,
           b < 0 ? strerror(-b) : "ok");
    struct rlimit low = {1000, rl.rlim_max};
    setrlimit(RLIMIT_NOFILE, &low);
    a = try_table(1000), b = try_table(1001);
    int c = try_table(lim);
    printf("soft limit lowered to 1000 (hard %lu): table of 1000: %s; of 1001: %s; of %u: %s\n",
           (unsigned long)rl.rlim_max, a < 0 ? strerror(-a) : "ok", b < 0 ? strerror(-b) : "ok", lim,
           c < 0 ? strerror(-c) : "ok");
    setrlimit(RLIMIT_NOFILE, &rl);

    /* 2. TOTAL bound sockets held by rings only */
    int nrings = (int)((total + (int)table - 1) / (int)table);
    struct io_uring *rings = calloc((size_t)nrings, sizeof *rings);
    int fds_before = open_fds();
    for (int k = 0; k < nrings; k++) {
        int ret = io_uring_queue_init(64, &rings[k], 0);
        if (ret == 0)
            ret = io_uring_register_files_sparse(&rings[k], table);
        if (ret < 0) {
            printf("ring %d: %s\n", k, strerror(-ret));
            return 1;
        }
    }
    int last_port = 0;
    for (int i = 0; i < total; i++) {
        int fd = socket(AF_INET, SOCK_DGRAM, 0);
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t sl = sizeof sa;
        if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
            getsockname(fd, (struct sockaddr *)&sa, &sl) < 0) {
            printf("socket %d: %s\n", i, strerror(errno));
            return 1;
        }
        int ret = io_uring_register_files_update(&rings[i / (int)table], (unsigned)(i % (int)table), &fd, 1);
        if (ret != 1) {
            printf("slot for socket %d: %s\n", i, strerror(-ret));
            return 1;
        }
        close(fd);
        last_port = ntohs(sa.sin_port);
    }
    printf("%d sockets bound, held in %d ring(s) of %u slots; descriptors open: %d before, %d after "
           "(the rings' own)\n",
           total, nrings, table, fds_before, open_fds());

    /* 3. the last socket receives and sends through its ring */
    struct io_uring *r = &rings[(total - 1) / (int)table];
    int slot = (total - 1) % (int)table;
    char buf[256];
    struct sockaddr_in from;
    struct iovec iov = {buf, sizeof buf};
    struct msghdr mh = {.msg_name = &from, .msg_namelen = sizeof from, .msg_iov = &iov, .msg_iovlen = 1};
    struct io_uring_sqe *sqe = io_uring_get_sqe(r);
    io_uring_prep_recvmsg(sqe, slot, &mh, 0);
    sqe->flags |= IOSQE_FIXED_FILE;
    io_uring_submit(r);

    int peer = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)last_port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    const char ping[] = "ping to the last socket";
    sendto(peer, ping, sizeof ping, 0, (struct sockaddr *)&to, sizeof to);
    struct io_uring_cqe *cqe;
    if (wait_one(r, &cqe) < 0 || cqe->res != (int)sizeof ping || memcmp(buf, ping, sizeof ping)) {
        printf("no packet through the ring on port %d\n", last_port);
        return 1;
    }
    io_uring_cqe_seen(r, cqe);
    printf("socket %d (port %d, slot %d, no descriptor) received \"%s\" through the ring\n", total - 1,
           last_port, slot, buf);

    /* its port is still taken: the socket lives on in the ring */
    int probe = socket(AF_INET, SOCK_DGRAM, 0);
    int taken = bind(probe, (struct sockaddr *)&to, sizeof to) < 0 && errno == EADDRINUSE;
    close(probe);
    printf("binding another socket to port %d: %s\n", last_port, taken ? "EADDRINUSE (still bound)" : "allowed!");
    if (!taken)
        return 1;

    const char pong[] = "pong";
    struct iovec siov = {(void *)pong, sizeof pong};
    struct msghdr smh = {.msg_name = &from, .msg_namelen = sizeof from, .msg_iov = &siov, .msg_iovlen = 1};
    sqe = io_uring_get_sqe(r);
    io_uring_prep_sendmsg(sqe, slot, &smh, 0);
    sqe->flags |= IOSQE_FIXED_FILE;
    io_uring_submit(r);
    if (wait_one(r, &cqe) < 0 || cqe->res != (int)sizeof pong) {
        printf("no send through the ring\n");
        return 1;
    }
    io_uring_cqe_seen(r, cqe);
    char back[16] = {0};
    struct timeval tv = {2, 0};
    setsockopt(peer, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ssize_t got = recv(peer, back, sizeof back - 1, 0);
    printf("and answered: the peer got \"%s\" (%zd bytes)\n", got > 0 ? back : "", got);
    close(peer);
    for (int k = 0; k < nrings; k++)
        io_uring_queue_exit(&rings[k]);
    free(rings);
    return got == (ssize_t)sizeof pong ? 0 : 1;
}
