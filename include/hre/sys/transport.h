/*
 * libhre -- Healthcare Records Exchange ledger library.
 * sys/transport.h: the transport vtable ("the network") a host fills in so
 * that a node (<hre/node.h>) can send bytes and ask for connections to be
 * opened and closed. The node itself never opens a socket, reads a clock or
 * starts a thread (sans-I/O, in the style of nghttp2 and ngtcp2): the host
 * owns every connection and names each with its own uint64_t id.
 *
 * Copyright the libhre authors. Licensed under the Apache License 2.0.
 *
 * ------------------------------------------------------------------------
 * Object model
 * ------------------------------------------------------------------------
 * - hre_transport_methods: a versioned table of function pointers, given to
 *   hre_node_new in hre_node_options.transport together with a `void *`
 *   user_data that every method receives first. The node copies the table
 *   (up to its version) at hre_node_new; the user_data must stay valid until
 *   hre_node_free.
 * - Connections are named by the host: a uint64_t id, unique among the
 *   host's live connections to this node (any value, 0 included). The host
 *   reports each connection with hre_node_peer_connected (inbound, or
 *   outbound with HRE_NODE_PEER_OUTBOUND), hands received bytes in with
 *   hre_node_peer_recv, and reports its end with hre_node_peer_closed.
 *
 * Directions of the calls:
 *
 *     host --> node:  hre_node_peer_connected / _recv / _writable / _closed,
 *                     hre_node_tick, hre_node_pull (pull mode)
 *     node --> host:  send, connect, close (this table)
 *
 * ------------------------------------------------------------------------
 * Push mode and pull mode
 * ------------------------------------------------------------------------
 * - Push mode (send != NULL): the node calls send for a connection's bytes
 *   at the end of the node call that produced them. send takes what it can:
 *   *sent = len (everything), fewer, or it returns HRE_EAGAIN (nothing).
 *   The node keeps what was not taken, in order, counted against its
 *   per-peer send cap (hre_node_options.peer_send_max), and does not call
 *   send for that connection again until the host calls
 *   hre_node_peer_writable. A peer whose queue would exceed the cap is
 *   disconnected (reason HRE_NODE_REASON_SEND_BUFFER).
 * - Pull mode (send == NULL): the node only queues; the host takes the bytes
 *   with hre_node_pull / hre_node_peer_pull after its calls into the node
 *   (hre_node_peer_pending says how many wait), e.g. from an asyncio
 *   writer. The same per-peer cap applies.
 *
 * ------------------------------------------------------------------------
 * Rules for every method
 * ------------------------------------------------------------------------
 * - Methods are called on the thread that is making the node call, during
 *   that call. They must not call into the node (hre_node_* on the same
 *   node) nor free it; they may do anything else (queue the bytes, write to
 *   a socket, schedule a connection attempt).
 * - A method the table leaves NULL (or that the table's version does not
 *   declare) is "not provided": no send = pull mode; no connect = the node
 *   never opens connections itself (the address book then only informs
 *   hre_node_connect, which fails with HRE_EUNSUPPORTED); no close = the
 *   host learns of the node's disconnections only from the
 *   HRE_NODE_EVENT_PEER_DISCONNECTED event.
 * - Versions: 1 is the only one so far. Methods are only ever appended;
 *   the node accepts every version from 1 to its own (common.h rule 7).
 */
#ifndef HRE_SYS_TRANSPORT_H
#define HRE_SYS_TRANSPORT_H

#include "../common.h"

HRE_BEGIN_DECLS

/** Newest version of hre_transport_methods this header declares (its .version field). */
#define HRE_TRANSPORT_METHODS_VERSION 1

#ifndef HRE_TRANSPORT_METHODS_TYPEDEF
/** Guard: the hre_transport_methods typedef is also in node.h. */
#define HRE_TRANSPORT_METHODS_TYPEDEF
typedef struct hre_transport_methods hre_transport_methods;
#endif

/** The transport vtable. Start from HRE_TRANSPORT_METHODS_INIT or
 *  hre_transport_methods_init(). Since: 1.1 */
struct hre_transport_methods {
    unsigned int version;   /* HRE_TRANSPORT_METHODS_VERSION */

    /** Send bytes on a connection (push mode). NULL: pull mode.
     *  Args: user_data: the hre_node_options.transport_user_data;
     *        conn: the host's connection id.
     *  Out:  *sent: bytes taken, 0..len (set it on HRE_OK; it is ignored
     *        on any other result). Taking fewer than len means "the rest
     *        later": the node waits for hre_node_peer_writable(conn).
     *  In:   data/len: the next bytes of the connection's stream (len >= 1),
     *        valid only during the call (copy what you keep).
     *  Returns: HRE_OK (with *sent); HRE_EAGAIN (nothing taken, the same as
     *        HRE_OK with *sent == 0); any other negative code: the
     *        connection is broken -- the node forgets it at once (as if
     *        hre_node_peer_closed had been called, reason
     *        HRE_NODE_REASON_TRANSPORT), calls close for it, and reports
     *        HRE_NODE_EVENT_PEER_DISCONNECTED. */
    int (*send)(void *user_data, uint64_t conn, const uint8_t *data, size_t len, size_t *sent);

    /** Ask the host to open a connection to an address of the node's address
     *  book (hre_node_address_add) or given to hre_node_connect. NULL: the
     *  node never asks.
     *  Out:  *conn: the id the host gives the new connection. The host later
     *        calls hre_node_peer_connected(node, *conn, address,
     *        HRE_NODE_PEER_OUTBOUND, now) once it is established, or
     *        hre_node_peer_closed(node, *conn, now) if it fails.
     *  In:   address: NUL-terminated, at most HRE_NODE_ADDRESS_MAX bytes,
     *        exactly as the host added it (the node gives it no meaning),
     *        valid only during the call.
     *  Returns: HRE_OK (attempt started, *conn set); any negative code:
     *        no attempt (the node retries that address later, with backoff). */
    int (*connect)(void *user_data, uint64_t *conn, const char *address);

    /** Ask the host to close a connection. The node has already forgotten it:
     *  it reported HRE_NODE_EVENT_PEER_DISCONNECTED with the reason first,
     *  and it ignores (HRE_ENOTFOUND) any later call naming this conn until
     *  the host reuses the id for a new connection. Bytes still queued in
     *  the node for it are dropped; the host may flush what it holds itself.
     *  NULL: not provided.
     *  In: conn; reason: HRE_NODE_REASON_* (node.h), for the host's logs. */
    void (*close)(void *user_data, uint64_t conn, int reason);
};

/** Static initializer for hre_transport_methods: HRE_TRANSPORT_METHODS_VERSION, every other field at its default. */
#define HRE_TRANSPORT_METHODS_INIT { HRE_TRANSPORT_METHODS_VERSION, NULL, NULL, NULL }

/** Initialise a vtable for `version` (1..HRE_TRANSPORT_METHODS_VERSION):
 *  every method that version declares is NULL, nothing past it is written.
 *  Returns: HRE_OK; HRE_EINVAL (NULL); HRE_EUNSUPPORTED (unknown version).
 *  Thread safety: any thread.
 *  Since: 1.1 */
HRE_API int hre_transport_methods_init(hre_transport_methods *m, unsigned int version);

HRE_END_DECLS

#endif /* HRE_SYS_TRANSPORT_H */
