/* test_net.c - the address syntax and listening sockets of core/net.c. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>
#include "openbook/core/net.h"
#include "tests.h"

static ob_net_addr parse_ok(const char *addr, int default_port)
{
    ob_net_addr a;
    const char *why = NULL;
    ck_assert_msg(ob_net_parse(addr, default_port, &a, &why) == 0, "%s: %s", addr, why);
    return a;
}

static const char *parse_fails(const char *addr, int default_port)
{
    ob_net_addr a;
    const char *why = NULL;
    ck_assert_msg(ob_net_parse(addr, default_port, &a, &why) == -1, "%s parsed", addr);
    ck_assert_ptr_nonnull(why);
    return why;
}

START_TEST(parse_forms)
{
    ob_net_addr a = parse_ok("unix:/run/openbook/openbook.sock", 0);
    ck_assert(a.is_unix);
    ck_assert_str_eq(a.path, "/run/openbook/openbook.sock");

    a = parse_ok("127.0.0.1:9000", 0);
    ck_assert(!a.is_unix);
    ck_assert_str_eq(a.host, "127.0.0.1");
    ck_assert_int_eq(a.port, 9000);

    a = parse_ok("[::1]:6380", 0);
    ck_assert_str_eq(a.host, "::1");
    ck_assert_int_eq(a.port, 6380);

    a = parse_ok(":8080", 0); /* every local address */
    ck_assert_str_eq(a.host, "");
    ck_assert_int_eq(a.port, 8080);

    /* Redis clients: the port may be left out. */
    a = parse_ok("redis.internal", 6379);
    ck_assert_str_eq(a.host, "redis.internal");
    ck_assert_int_eq(a.port, 6379);
    a = parse_ok("redis.internal:6390", 6379);
    ck_assert_int_eq(a.port, 6390);
}
END_TEST

START_TEST(parse_refusals)
{
    ck_assert_str_eq(parse_fails("localhost", 0), "expected host:port or unix:/path");
    parse_fails("unix:", 0);
    parse_fails("host:", 0);
    parse_fails("host:0", 0);
    parse_fails("host:65536", 0);
    parse_fails("host:80x", 0);
    parse_fails("host:-80", 0);
    parse_fails("host: 80", 0);
    char longpath[200];
    memset(longpath, 'a', sizeof longpath);
    memcpy(longpath, "unix:/", 6);
    longpath[sizeof longpath - 1] = '\0';
    ck_assert_str_eq(parse_fails(longpath, 0), "unix socket path too long");
    char longhost[300];
    memset(longhost, 'h', sizeof longhost);
    strcpy(longhost + 280, ":80");
    ck_assert_str_eq(parse_fails(longhost, 0), "host name too long");
}
END_TEST

/* A unix listener: mode applied, a stale file replaced, a live one kept. */
START_TEST(listen_unix)
{
    char dir[] = "/tmp/openbook-net-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char path[64], addr[80];
    snprintf(path, sizeof path, "%s/s.sock", dir);
    snprintf(addr, sizeof addr, "unix:%s", path);

    /* A stale socket: bound once, never listened on, its descriptor gone. */
    int stale = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    strcpy(sa.sun_path, path);
    ck_assert_int_eq(bind(stale, (struct sockaddr *)&sa, sizeof sa), 0);
    close(stale);

    int fd = ob_net_listen(addr, 16, 0660, OB_NET_NONBLOCK, "test");
    ck_assert_int_ge(fd, 0);
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0660);
    ck_assert(fcntl(fd, F_GETFL) & O_NONBLOCK);
    ck_assert(fcntl(fd, F_GETFD) & FD_CLOEXEC);

    /* Live: a second listener must not steal the path. */
    ck_assert_int_eq(ob_net_listen(addr, 16, 0660, 0, "test"), -1);
    int c = socket(AF_UNIX, SOCK_STREAM, 0);
    ck_assert_int_eq(connect(c, (struct sockaddr *)&sa, sizeof sa), 0);
    close(c);
    close(fd);
    unlink(path);
    rmdir(dir);
}
END_TEST

START_TEST(listen_tcp)
{
    int fd = ob_net_listen("127.0.0.1:0x", 16, 0, 0, "test");
    ck_assert_int_eq(fd, -1); /* not a port */
    /* An ephemeral port is not expressible (port 0 is refused), so bind a
     * free one found by the kernel, release it and listen there. */
    int probe = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    struct sockaddr_in *in = (struct sockaddr_in *)&ss;
    memset(&ss, 0, sizeof ss);
    in->sin_family = AF_INET;
    in->sin_addr.s_addr = htonl(0x7f000001);
    ck_assert_int_eq(bind(probe, (struct sockaddr *)&ss, sizeof *in), 0);
    ck_assert_int_eq(getsockname(probe, (struct sockaddr *)&ss, &sl), 0);
    int port = ntohs(in->sin_port);
    close(probe);
    char addr[32];
    snprintf(addr, sizeof addr, "127.0.0.1:%d", port);
    fd = ob_net_listen(addr, 16, 0, 0, "test");
    ck_assert_int_ge(fd, 0);
    int val = 0;
    socklen_t vl = sizeof val;
    ck_assert_int_eq(getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &val, &vl), 0);
    ck_assert_int_eq(val, 1);
    close(fd);
}
END_TEST

Suite *net_suite(void)
{
    Suite *s = suite_create("net");
    TCase *tc = tcase_create("net");
    tcase_add_test(tc, parse_forms);
    tcase_add_test(tc, parse_refusals);
    tcase_add_test(tc, listen_unix);
    tcase_add_test(tc, listen_tcp);
    suite_add_tcase(s, tc);
    return s;
}
