/* STEP-1 PLACEHOLDER: the node API compiles and links; the engine follows
 * in later commits. Every call here refuses with HRE_EUNSUPPORTED. */
#include "node/internal.h"

HRE_API const char * hre_node_reason_name(int reason)
{
    (void)reason;
    return "unknown";
}

HRE_API int hre_node_reason_discourages(int reason)
{
    (void)reason;
    return hre__fail(HRE_EUNSUPPORTED, "hre_node_reason_discourages: not implemented yet");
}

HRE_API int hre_node_options_init(hre_node_options *opts, unsigned int version)
{
    (void)opts;
    (void)version;
    return hre__fail(HRE_EUNSUPPORTED, "hre_node_options_init: not implemented yet");
}

HRE_API int hre_node_new(hre_node **out, const hre_node_options *opts, uint64_t now)
{
    (void)out;
    (void)opts;
    (void)now;
    return hre__fail(HRE_EUNSUPPORTED, "hre_node_new: not implemented yet");
}

HRE_API void hre_node_free(hre_node *n)
{
    (void)n;

}

HRE_API hre_ledger * hre_node_ledger(const hre_node *n)
{
    (void)n;
    return NULL;
}

HRE_API int hre_node_fatal_error(const hre_node *n)
{
    (void)n;
    return hre__fail(HRE_EUNSUPPORTED, "hre_node_fatal_error: not implemented yet");
}

HRE_API int hre_node_peer_connected(hre_node *n, uint64_t conn, const char *address, unsigned int flags, uint64_t now)
{
    (void)n;
    (void)conn;
    (void)address;
    (void)flags;
    (void)now;
    return hre__fail(HRE_EUNSUPPORTED, "hre_node_peer_connected: not implemented yet");
}

HRE_API int hre_node_peer_recv(hre_node *n, uint64_t conn, const uint8_t *data, size_t len, uint64_t now)
{
    (void)n;
    (void)conn;
    (void)data;
    (void)len;
    (void)now;
    return hre__fail(HRE_EUNSUPPORTED, "hre_node_peer_recv: not implemented yet");
}

HRE_API int hre_node_peer_writable(hre_node *n, uint64_t conn, uint64_t now)
{
    (void)n;
    (void)conn;
    (void)now;
    return hre__fail(HRE_EUNSUPPORTED, "hre_node_peer_writable: not implemented yet");
}

HRE_API int hre_node_peer_closed(hre_node *n, uint64_t conn, uint64_t now)
{
    (void)n;
    (void)conn;
    (void)now;
    return hre__fail(HRE_EUNSUPPORTED, "hre_node_peer_closed: not implemented yet");
}

HRE_API int hre_node_peer_disconnect(hre_node *n, uint64_t conn, uint64_t now)
{
    (void)n;
    (void)conn;
    (void)now;
    return hre__fail(HRE_EUNSUPPORTED, "hre_node_peer_disconnect: not implemented yet");
}

HRE_API size_t hre_node_peer_pending(const hre_node *n, uint64_t conn)
{
    (void)n;
    (void)conn;
    return 0;
}

HRE_API int hre_node_peer_pull(hre_node *n, uint64_t conn, uint8_t *out, size_t *len)
{
    (void)n;
    (void)conn;
    (void)out;
    (void)len;
    return hre__fail(HRE_EUNSUPPORTED, "hre_node_peer_pull: not implemented yet");
}

HRE_API int hre_node_pull(hre_node *n, uint64_t *conn, uint8_t *out, size_t *len)
{
    (void)n;
    (void)conn;
    (void)out;
    (void)len;
    return hre__fail(HRE_EUNSUPPORTED, "hre_node_pull: not implemented yet");
}

HRE_API int hre_node_peer_list(const hre_node *n, uint64_t *conns, size_t *count)
{
    (void)n;
    (void)conns;
    (void)count;
    return hre__fail(HRE_EUNSUPPORTED, "hre_node_peer_list: not implemented yet");
}

HRE_API int hre_node_peer_info_init(hre_node_peer_info *info, unsigned int version)
{
    (void)info;
    (void)version;
    return hre__fail(HRE_EUNSUPPORTED, "hre_node_peer_info_init: not implemented yet");
}

HRE_API int hre_node_peer_info_get(const hre_node *n, hre_node_peer_info *info, uint64_t conn)
{
    (void)n;
    (void)info;
    (void)conn;
    return hre__fail(HRE_EUNSUPPORTED, "hre_node_peer_info_get: not implemented yet");
}

HRE_API int hre_node_address_add(hre_node *n, const char *address, unsigned int flags, uint64_t now)
{
    (void)n;
    (void)address;
    (void)flags;
    (void)now;
    return hre__fail(HRE_EUNSUPPORTED, "hre_node_address_add: not implemented yet");
}

HRE_API int hre_node_address_remove(hre_node *n, const char *address)
{
    (void)n;
    (void)address;
    return hre__fail(HRE_EUNSUPPORTED, "hre_node_address_remove: not implemented yet");
}

HRE_API int hre_node_connect(hre_node *n, uint64_t *conn, const char *address, uint64_t now)
{
    (void)n;
    (void)conn;
    (void)address;
    (void)now;
    return hre__fail(HRE_EUNSUPPORTED, "hre_node_connect: not implemented yet");
}

HRE_API int hre_node_next_timer(const hre_node *n, uint64_t *when)
{
    (void)n;
    (void)when;
    return hre__fail(HRE_EUNSUPPORTED, "hre_node_next_timer: not implemented yet");
}

HRE_API int hre_node_tick(hre_node *n, uint64_t now)
{
    (void)n;
    (void)now;
    return hre__fail(HRE_EUNSUPPORTED, "hre_node_tick: not implemented yet");
}

HRE_API int hre_node_submit_tx(hre_node *n, uint8_t txid[32], hre_ledger_status *status, const uint8_t *tx, size_t len, uint64_t now)
{
    (void)n;
    (void)txid;
    (void)status;
    (void)tx;
    (void)len;
    (void)now;
    return hre__fail(HRE_EUNSUPPORTED, "hre_node_submit_tx: not implemented yet");
}

HRE_API int hre_node_mine(hre_node *n, uint8_t hash[32], hre_ledger_status *status, uint64_t now, uint64_t max_nonces)
{
    (void)n;
    (void)hash;
    (void)status;
    (void)now;
    (void)max_nonces;
    return hre__fail(HRE_EUNSUPPORTED, "hre_node_mine: not implemented yet");
}

HRE_API int hre_node_app_register(hre_node *n, uint16_t app_type, hre_node_app_fn fn, void *user_data)
{
    (void)n;
    (void)app_type;
    (void)fn;
    (void)user_data;
    return hre__fail(HRE_EUNSUPPORTED, "hre_node_app_register: not implemented yet");
}

HRE_API int hre_node_app_send(hre_node *n, uint64_t conn, uint16_t app_type, const uint8_t *data, size_t len, uint64_t now)
{
    (void)n;
    (void)conn;
    (void)app_type;
    (void)data;
    (void)len;
    (void)now;
    return hre__fail(HRE_EUNSUPPORTED, "hre_node_app_send: not implemented yet");
}

HRE_API int hre_node_app_send_space(const hre_node *n, size_t *space, uint64_t conn, uint64_t now)
{
    (void)n;
    (void)space;
    (void)conn;
    (void)now;
    return hre__fail(HRE_EUNSUPPORTED, "hre_node_app_send_space: not implemented yet");
}

HRE_API int hre_node_discouraged_init(hre_node_discouraged *d, unsigned int version)
{
    (void)d;
    (void)version;
    return hre__fail(HRE_EUNSUPPORTED, "hre_node_discouraged_init: not implemented yet");
}

HRE_API int hre_node_discouraged_get(const hre_node *n, hre_node_discouraged *out, const char *address, const uint8_t key[34])
{
    (void)n;
    (void)out;
    (void)address;
    (void)key;
    return hre__fail(HRE_EUNSUPPORTED, "hre_node_discouraged_get: not implemented yet");
}

HRE_API size_t hre_node_discouraged_count(const hre_node *n)
{
    (void)n;
    return 0;
}

HRE_API int hre_node_discouraged_entry(const hre_node *n, hre_node_discouraged *out, size_t i)
{
    (void)n;
    (void)out;
    (void)i;
    return hre__fail(HRE_EUNSUPPORTED, "hre_node_discouraged_entry: not implemented yet");
}

HRE_API int hre_node_discouraged_clear(hre_node *n)
{
    (void)n;
    return hre__fail(HRE_EUNSUPPORTED, "hre_node_discouraged_clear: not implemented yet");
}

HRE_API int hre_node_stats_init(hre_node_stats *st, unsigned int version)
{
    (void)st;
    (void)version;
    return hre__fail(HRE_EUNSUPPORTED, "hre_node_stats_init: not implemented yet");
}

HRE_API int hre_node_stats_get(const hre_node *n, hre_node_stats *out)
{
    (void)n;
    (void)out;
    return hre__fail(HRE_EUNSUPPORTED, "hre_node_stats_get: not implemented yet");
}
