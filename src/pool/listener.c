/* listener.c - the listening socket: inherited or opened (see pool.h). */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>
#include <systemd/sd-daemon.h>
#include "openbook/core/log.h"
#include "openbook/core/net.h"
#include "openbook/pool/pool.h"

static bool is_listening_socket(int fd)
{
    int val = 0;
    socklen_t len = sizeof val;
    return getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &val, &len) == 0 && val;
}

int ob_listen_open(const ob_config *cfg, ob_listen_origin *origin)
{
    int n = sd_listen_fds(1);
    if (n > 0) {
        if (n > 1)
            ob_warn("listen: systemd passed %d sockets; using the first", n);
        *origin = OB_LISTEN_SYSTEMD;
        return SD_LISTEN_FDS_START;
    }
    if (is_listening_socket(0)) {
        /* spawn-fcgi, mod_fcgid and StandardInput=socket hand the socket
         * over as fd 0.  Move it off 0 so stdin can be /dev/null. */
        *origin = OB_LISTEN_FD0;
        int fd = fcntl(0, F_DUPFD_CLOEXEC, 3);
        if (fd < 0)
            return -1;
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0 && devnull != 0) {
            dup2(devnull, 0);
            close(devnull);
        }
        return fd;
    }
    *origin = OB_LISTEN_OWN;
    long mode = strtol(cfg->socket_mode, NULL, 8);
    return ob_net_listen(cfg->listen, cfg->backlog, mode, 0, "listen");
}
