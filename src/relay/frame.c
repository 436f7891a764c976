/* frame.c - the frames the relay sends, built here rather than by wslay:
 * an event frame is built once and queued by reference on every connection
 * that gets it (output.c), which a per-connection copy (wslay's own send
 * queue) would not allow.  Close frames carry the reason of their code;
 * HTTP answers travel as raw bytes in the same frame type. */
#include <string.h>
#include "openbook/core/alloc.h"
#include "relay.h"

frame *frame_new(unsigned opcode, const void *payload, size_t len)
{
    size_t hl = len < 126 ? 2 : len < 65536 ? 4 : 10;
    frame *f = ob_malloc(sizeof *f + hl + len);
    f->refs = 1;
    f->len = (uint32_t)(hl + len);
    unsigned char *h = f->data;
    h[0] = (unsigned char)(0x80 | (opcode & 0x0f));
    if (len < 126) {
        h[1] = (unsigned char)len;
    } else if (len < 65536) {
        h[1] = 126;
        h[2] = (unsigned char)(len >> 8);
        h[3] = (unsigned char)len;
    } else {
        h[1] = 127;
        for (int i = 0; i < 8; i++)
            h[2 + i] = (unsigned char)((uint64_t)len >> (56 - 8 * i));
    }
    if (len)
        memcpy(f->data + hl, payload, len);
    return f;
}

/* Raw bytes (HTTP answers) travel through the same queue. */
frame *frame_new_bytes(const void *p, size_t len)
{
    frame *f = ob_malloc(sizeof *f + len);
    f->refs = 1;
    f->len = (uint32_t)len;
    memcpy(f->data, p, len);
    return f;
}

void frame_unref(frame *f)
{
    if (f && --f->refs == 0)
        ob_free(f);
}

frame *frame_new_close(uint16_t code)
{
    const char *reason = "";
    switch (code) {
    case WS_GOING_AWAY: reason = "Going away"; break;
    case WS_OVERLOAD: reason = "Send queue overflow"; break;
    case WS_REVOKED: reason = "Authorization revoked"; break;
    case WS_TOO_MANY: reason = "Too many connections"; break;
    case WS_POLICY: reason = "Policy violation"; break;
    case WS_TOO_BIG: reason = "Message too big"; break;
    case WS_UNSUPPORTED: reason = "Binary frames are not supported"; break;
    default: break;
    }
    unsigned char p[2 + 64];
    size_t rl = strlen(reason);
    p[0] = (unsigned char)(code >> 8);
    p[1] = (unsigned char)code;
    memcpy(p + 2, reason, rl);
    return frame_new(WSLAY_CONNECTION_CLOSE, p, 2 + rl);
}
