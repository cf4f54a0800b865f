/*
 * Internal node declarations (layer 6): the wire codecs (msg.c), the node
 * and peer structures, and the functions the node's files share. Names are
 * hre_node__*; never exported. docs/PROTOCOL.md section 12 is normative.
 *
 * Files: msg.c (codecs), hmap.c (32-byte-key map), node.c (lifecycle, API
 * entry points, events, scheduling), peer.c (framing, Noise handshake,
 * identity, send queue, message dispatch), sync.c (header tree, locators,
 * block download, submission), relay.c (inventory, transactions, mempool
 * offer, announcements), app.c (application messages), book.c (address
 * book, discouragement list, membership), mine.c (mining steps),
 * transport.c (the vtable helper).
 */
#ifndef HRE_NODE_INTERNAL_H
#define HRE_NODE_INTERNAL_H

#include "core/internal.h"
#include "hre/block.h"
#include "hre/ledger.h"
#include "hre/node.h"
#include "hre/sys/transport.h"
#include "node/noise.h"

extern const hre__vstruct hre_node__transport_desc;

/* ------------------------------------------------------------------------ */
/* Wire format (msg.c; docs/PROTOCOL.md 12.1 - 12.6)                          */
/* ------------------------------------------------------------------------ */

#define HRE_NODE__PROLOGUE_TAG "HRE-NODE"          /* 8 bytes, then u32 version, network id */
#define HRE_NODE__PROLOGUE_LEN (8u + 4u + 32u)
/* HEADERS messages in a row whose first header does not connect that a peer
 * may send before it is discouraged (docs/PROTOCOL.md 12.6): a block
 * announced while our view of its chain is behind (a restart, a header
 * dropped by the caps) is answered with GETHEADERS, as Bitcoin Core does. */
#define HRE_NODE__MAX_UNCONNECTING 8
#define HRE_NODE__NOISE_NAME "Noise_XX_25519_AESGCM_SHA256"
#define HRE_NODE__HELLO_MAGIC "HREN"
#define HRE_NODE__HELLO_LEN (4u + 4u + 32u)         /* handshake message 1 payload */
#define HRE_NODE__ID_TAG "HRE-NODE-IDENTITY-v1"    /* 20 bytes, signed with the handshake hash */
#define HRE_NODE__ID_NONE_LEN 2u                   /* u8 version, u8 flags = 0 */
#define HRE_NODE__ID_LEN (2u + 34u + 64u)          /* ... flags = 1, key, signature */
#define HRE_NODE__MSG_HDR 10u                      /* magic 4, u16 command, u32 length */
#define HRE_NODE__VERSION_LEN 132u
#define HRE_NODE__UNKNOWN_CAP 4096u                /* unknown commands: ignored up to this */
#define HRE_NODE__REKEY_INTERVAL 65536u            /* transport messages per key and direction */
#define HRE_NODE__FUTURE_LIMIT 7200u               /* seconds, as the ledger */

enum {
    HRE_NODE__CMD_VERSION = 1,
    HRE_NODE__CMD_VERACK = 2,
    HRE_NODE__CMD_PING = 3,
    HRE_NODE__CMD_PONG = 4,
    HRE_NODE__CMD_GETHEADERS = 5,
    HRE_NODE__CMD_HEADERS = 6,
    HRE_NODE__CMD_INV = 7,
    HRE_NODE__CMD_GETDATA = 8,
    HRE_NODE__CMD_NOTFOUND = 9,
    HRE_NODE__CMD_BLOCK = 10,
    HRE_NODE__CMD_TX = 11,
    HRE_NODE__CMD_APP = 12
};

#define HRE_NODE__INV_TX 1u
#define HRE_NODE__INV_BLOCK 2u
#define HRE_NODE__INV_ENTRY 33u

typedef struct hre_node__version {
    uint32_t protocol;
    uint64_t flags;
    uint8_t network_id[32];
    uint8_t fingerprint[32];
    uint64_t best_height;
    uint8_t best_work[32];
    uint64_t nonce;
    uint64_t time_ms;
} hre_node__version;

/* Each decoder reads hostile bytes: exact lengths, canonical CompactSize,
 * counts against their caps. HRE_EDECODE (malformed) or HRE_ELIMIT (a count
 * over its cap); no detail message is set (the node names the reason). */
void hre_node__prologue(uint8_t out[HRE_NODE__PROLOGUE_LEN], const uint8_t network_id[32]);
void hre_node__hello_encode(uint8_t out[HRE_NODE__HELLO_LEN], const uint8_t network_id[32]);
/* HRE_OK; HRE_EDECODE (length); HRE_EVERIFY (magic); HRE_ESTATE (version 0). */
int hre_node__hello_decode(uint32_t *version, uint8_t network_id[32], const uint8_t *p, size_t len);
/* has: 0 (none) or 1 (key and sig set). */
int hre_node__identity_decode(int *has, uint8_t key[34], uint8_t sig[64], const uint8_t *p, size_t len);
/* The digest an identity signature covers: sha256(tag || h). */
int hre_node__identity_digest(uint8_t out[32], const uint8_t h[32]);
void hre_node__version_encode(uint8_t out[HRE_NODE__VERSION_LEN], const hre_node__version *v);
int hre_node__version_decode(hre_node__version *v, const uint8_t *p, size_t len);
void hre_node__msg_header(uint8_t out[HRE_NODE__MSG_HDR], const uint8_t magic[4], uint16_t cmd,
                          uint32_t len);
/* getheaders: *hashes points into p (count x 32 bytes), stop (32). */
int hre_node__getheaders_decode(const uint8_t **hashes, size_t *count, uint8_t stop[32],
                                const uint8_t *p, size_t len);
/* headers: *hdrs points into p (count x 80 bytes); count may be 0. */
int hre_node__headers_decode(const uint8_t **hdrs, size_t *count, const uint8_t *p, size_t len);
/* inv / getdata / notfound: *entries points into p (count x 33 bytes, each
 * u8 type (TX or BLOCK) || hash); count >= 1. */
int hre_node__inv_decode(const uint8_t **entries, size_t *count, const uint8_t *p, size_t len);
/* app: u16 type (>= 1) || data. */
int hre_node__app_decode(uint16_t *type, const uint8_t **data, size_t *dlen, const uint8_t *p,
                         size_t len);
/* ping / pong: exactly 8 bytes. */
int hre_node__nonce_decode(uint64_t *nonce, const uint8_t *p, size_t len);
/* Payload cap of a command (unknown commands: HRE_NODE__UNKNOWN_CAP). */
size_t hre_node__cap(uint16_t cmd, uint64_t block_cap, uint32_t app_cap);
/* Bytes of a CompactSize count + n entries of `entry` bytes. */
size_t hre_node__list_len(size_t n, size_t entry);
void hre_node__list_begin(uint8_t *out, size_t *pos, size_t n);

/* Allocation with memory accounting (node.c): every byte the node holds
 * goes through these, so hre_node_stats_get reports it exactly (plus a
 * fixed estimate per peer for OpenSSL's cipher contexts). */
void *hre_node__alloc(struct hre_node *n, size_t size);
void *hre_node__zalloc(struct hre_node *n, size_t size);
void *hre_node__realloc(struct hre_node *n, void *p, size_t size);
void hre_node__dealloc(struct hre_node *n, void *p);
/* An empty core hash map (core/internal.h) for the node: SipHash-keyed with
 * the node's secret (peers choose some keys: inventory hashes, ephemeral
 * keys), memory through the accounting allocator above, shrinking. */
void hre_node__map_init(hre__map *m, struct hre_node *n);

/* ------------------------------------------------------------------------ */
/* Structures                                                                */
/* ------------------------------------------------------------------------ */

typedef struct hre_node__buf {
    uint8_t *p;
    size_t off, len, cap;    /* live bytes are p[off .. len) */
} hre_node__buf;

/* A complete received message waiting to be processed. */
typedef struct hre_node__msg {
    struct hre_node__msg *next;
    uint16_t cmd;
    size_t len;
    size_t cap;
    uint8_t *data;
} hre_node__msg;

/* A small set of hashes a peer is known to have (inventory), FIFO-evicted. */
#define HRE_NODE__KNOWN_MAX 4096u
typedef struct hre_node__known {
    uint8_t (*h)[32];
    size_t n, next;
    hre__map map;
} hre_node__known;

typedef struct hre_node__bucket {
    uint64_t tokens;         /* in thousandths */
    uint64_t at;             /* ms of the last refill */
} hre_node__bucket;

enum { NODE__HS = HRE_NODE_PEER_HANDSHAKE, NODE__VER = HRE_NODE_PEER_VERSION,
       NODE__READY = HRE_NODE_PEER_READY };

typedef struct hre_node__peer {
    uint64_t conn;
    uint64_t uid;                    /* unique for the node's lifetime (header ownership) */
    char address[HRE_NODE_ADDRESS_MAX + 1];
    unsigned int flags;
    int state;
    uint64_t connected_at, last_recv, last_send;

    /* channel */
    hre_noise__hs *hs;
    hre_noise__transport tr;
    int have_tr;
    uint8_t hh[32];                  /* handshake hash */
    uint8_t fhdr[2];                 /* frame assembly */
    size_t fhdr_len;
    uint8_t *frame;                  /* HRE_NOISE__MAX_MSG bytes, allocated on demand */
    size_t frame_need, frame_len;
    uint64_t recv_msgs, send_msgs;   /* transport messages (rekey points) */

    /* identity and membership */
    int has_identity;
    uint8_t key[34];
    int member;                      /* HRE_NODE_MEMBER_* */
    int was_live;
    uint8_t member_addr[32], org[32];

    /* message assembly (plaintext stream) */
    uint8_t mhdr[HRE_NODE__MSG_HDR];
    size_t mhdr_len;
    uint16_t mcmd;
    size_t mlen, mgot;
    int mskip;                       /* payload is being discarded */
    hre_node__msg *cur;              /* being assembled */
    hre_node__msg *inbox, *inbox_tail;
    size_t inbox_n;
    uint64_t in_bytes;               /* capacity held by cur + inbox */
    uint32_t budget_used;            /* messages processed in this call */

    /* send side */
    uint8_t *pt;                     /* HRE_NOISE__MAX_PAYLOAD plaintext being filled */
    size_t pt_len;
    hre_node__buf out;               /* framed ciphertext waiting for the transport */
    int blocked;                     /* push mode: waiting for hre_node_peer_writable */

    /* version exchange */
    int sent_version, got_version, got_verack;
    uint64_t best_height;            /* its version's, raised by what it shows us */
    uint8_t best_work[32];

    /* liveness */
    uint64_t ping_nonce, ping_at, next_ping;

    /* sync */
    int hdr_inflight;                /* a getheaders is outstanding */
    uint64_t hdr_req_at;
    uint64_t hdr_retry_at;           /* time-future headers: ask again then */
    int hdr_more;                    /* the last headers message was full */
    uint32_t unconnecting;           /* HEADERS in a row whose first did not connect */
    uint32_t headers_held;
    uint32_t blocks_inflight;
    uint64_t last_block_at;          /* ms of the last requested block it delivered */
    int synced_from;                 /* it answered a getheaders with fewer than the cap */

    /* relay */
    hre_node__known known;
    uint8_t (*getdata)[HRE_NODE__INV_ENTRY];  /* queued requests to answer */
    size_t gd_n, gd_off, gd_cap;
    uint32_t tx_inflight;
    uint32_t tx_alts;                /* txreq entries naming it as another announcer */
    int mempool_offered;
    size_t offer_pos;                /* mempool offer in progress: next index */

    /* application messages */
    hre_node__bucket in_msgs, in_bytes_b, out_msgs, out_bytes_b;
    int app_blocked;

    /* statistics */
    uint64_t bytes_sent, bytes_recv, msgs_recv;

    /* closing (deferred inside callbacks) */
    int closing;
    int close_reason;
    int close_call;                  /* call the vtable's close */
    int discouraged;                 /* the close put it on the list */
    char close_detail[160];
} hre_node__peer;

/* A header ahead of the ledger (sync.c). */
typedef struct hre_node__hdr {
    uint8_t hash[32];
    hre_header h;
    uint64_t height;
    uint8_t work[32];                /* cumulative */
    uint64_t owner;                  /* uid of the peer that sent it first */
    uint64_t req_uid;                /* block requested from (0: not requested) */
    uint64_t req_at;
    uint64_t not_before;             /* do not request before (a time-future block) */
    uint8_t *block;                  /* received, not yet submitted */
    size_t block_len;
    uint64_t from_uid;               /* who delivered it */
    char from_addr[HRE_NODE_ADDRESS_MAX + 1];
    uint8_t from_key[34];
    int from_has_key;
    uint8_t invalid;
    uint8_t mark;                    /* scratch */
    size_t idx;                      /* index in hre_node.hdrs */
} hre_node__hdr;

/* Other announcers kept per requested transaction (relay.c). */
#define HRE_NODE__TXREQ_ALT 4u

/* A transaction requested from a peer, with the other peers that announced
 * it while the request was outstanding (relay.c): when the request fails
 * the next of them is asked. */
typedef struct hre_node__txreq {
    uint8_t txid[32];
    uint64_t uid;                    /* requested from (0: waiting for an announcer with room) */
    uint64_t at;
    uint64_t alt[HRE_NODE__TXREQ_ALT];  /* uids, in the order they announced */
    uint32_t n_alt;
} hre_node__txreq;

typedef struct hre_node__addr {
    char address[HRE_NODE_ADDRESS_MAX + 1];
    unsigned int flags;
    uint64_t next_try;
    uint64_t backoff;
    uint64_t conn;                   /* the live or pending connection */
    int connected;                   /* 1: live, 2: pending (connect returned) */
} hre_node__addr;

typedef struct hre_node__app {
    uint16_t type;
    hre_node_app_fn fn;
    void *ud;
} hre_node__app;

#define HRE_NODE__REPLAY_MAX 4096u
#define HRE_NODE__BOOK_MAX 1024u

struct hre_node {
    hre_ledger *l;
    const hre_key *identity;
    uint8_t identity_key[34];
    hre_transport_methods tm;
    void *tud;
    hre_node_event_fn on_event;
    void *ud;
    hre_log_fn log_fn;
    void *log_ud;
    hre_ledger_event_fn prev_fn;     /* the ledger's callback before us */
    void *prev_ud;

    /* resolved options */
    uint32_t max_peers, target_outbound, peer_send_max, max_headers, max_headers_per_peer;
    uint32_t block_window, blocks_in_flight, block_buffer_max, stall_timeout_ms, stall_max_ms;
    uint32_t handshake_timeout_ms, ping_interval_ms, ping_timeout_ms, request_timeout_ms;
    uint32_t max_discouraged, app_max_message, app_rate_msgs, app_rate_bytes, work_budget;
    uint32_t submit_batch, reconnect_ms;
    uint64_t max_memory, peer_recv_max;

    /* chain */
    hre_chain_params params;
    uint8_t network_id[32];
    uint8_t fingerprint[32];
    uint8_t magic[4];
    uint8_t prologue[HRE_NODE__PROLOGUE_LEN];
    hre_x25519__key stat;            /* Noise static key */
    uint64_t nonce;                  /* version nonce: self-connection detection */
    uint8_t map_secret[16];          /* the hash maps' SipHash key */
    uint8_t tip[32];
    uint64_t tip_height;
    uint8_t tip_work[32];

    /* peers */
    hre_node__peer **peers;
    size_t n_peers, cap_peers;
    size_t rr;                       /* round-robin cursor */
    uint64_t next_uid;

    /* headers and download */
    hre__map hdr_map;
    hre_node__hdr **hdrs;            /* every entry (unordered) */
    size_t n_hdrs, cap_hdrs;
    hre_node__hdr *best;
    hre_node__hdr **path;            /* fork + 1 .. best */
    size_t path_n, path_cap, path_start;
    int path_dirty;
    uint32_t blocks_buffered;
    uint64_t buffered_bytes;
    uint32_t stall_ms;               /* current stall timeout */
    uint64_t submit_retry_at;
    uint8_t *scratch;                /* HRE_NOISE__MAX_MSG: decrypted transport messages */
    uint8_t *blkbuf;                 /* scratch for reading blocks from the ledger */
    size_t blkbuf_cap;

    /* relay */
    hre__map txreq_map;         /* txid -> hre_node__txreq */
    size_t txreq_alts;               /* other announcers held, all entries */
    size_t txreq_waiting;            /* entries with no request outstanding */
    int txreq_retry;                 /* a peer's request slots or the peers changed */
    uint64_t txreq_due;              /* no request expires before (a lower bound) */
    hre__map recent_rej;        /* txids recently rejected */
    uint8_t (*rej)[32];
    size_t rej_n, rej_next;
    int mempool_changed;             /* announce / template refresh */
    uint64_t mempool_gen;

    /* membership and events */
    int member;                      /* our own */
    int chain_changed;               /* re-check memberships */
    int reorged;                     /* re-offer the mempool */
    int announce_tip;

    /* replay cache (initiator ephemerals seen as responder) */
    uint8_t (*replay)[32];
    size_t replay_n, replay_next;
    hre__map replay_map;

    /* address book and discouragement */
    hre_node__addr *book;
    size_t n_book;
    hre_node_discouraged *disc;
    size_t n_disc, disc_start;

    /* apps */
    hre_node__app *apps;
    size_t n_apps;

    /* mining */
    uint8_t *tmpl;
    size_t tmpl_len, tmpl_cap;
    uint8_t tmpl_prev[32];
    uint64_t tmpl_gen;
    size_t tmpl_mp;
    uint64_t tmpl_nonce;             /* next nonce to try (0 .. 2^32) */
    uint64_t tmpl_made;

    /* state */
    int fatal;
    int in_cb;                       /* inside a host callback */
    int depth;                       /* inside an entry point */
    uint64_t now;                    /* the `now` of the call in progress */
    uint64_t mem_used, mem_peak;

    /* statistics */
    uint64_t bytes_sent, bytes_recv, blocks_recv, txs_recv, deferred;
};

/* ------------------------------------------------------------------------ */
/* Shared functions                                                          */
/* ------------------------------------------------------------------------ */

/* node.c */
void hre_node__emit(hre_node *n, unsigned int type, uint64_t conn, int reason, const char *detail,
                    const uint8_t hash[32], const hre_ledger_event *lev, int member, int disc);
void hre_node__go_fatal(hre_node *n, int code, const char *what);
void hre_node__mem(hre_node *n, int64_t delta);
hre_node__peer *hre_node__peer_find(const hre_node *n, uint64_t conn);
hre_node__peer *hre_node__peer_by_uid(const hre_node *n, uint64_t uid);
#define HRE_NODE__LOG(n, level, ...) hre__log((n)->log_fn, (n)->log_ud, (level), __VA_ARGS__)
int hre_node__refresh_tip(hre_node *n);

/* peer.c */
int hre_node__peer_start(hre_node *n, hre_node__peer *p);
/* Feed received bytes. HRE_OK; HRE_EPROTO (p is closing). */
int hre_node__peer_feed(hre_node *n, hre_node__peer *p, const uint8_t *data, size_t len);
/* Process up to the budget of p's complete messages. */
void hre_node__peer_work(hre_node *n, hre_node__peer *p);
/* Queue a message (header + payload, or header + two payload parts). */
int hre_node__send(hre_node *n, hre_node__peer *p, uint16_t cmd, const uint8_t *a, size_t alen,
                   const uint8_t *b, size_t blen);
void hre_node__flush(hre_node *n, hre_node__peer *p);
size_t hre_node__queued(const hre_node__peer *p);
/* Mark p closing (idempotent; the first reason wins). */
void hre_node__close(hre_node *n, hre_node__peer *p, int reason, int call_close, const char *fmt,
                     ...) HRE__PRINTF(5, 6);
/* Free p (after its disconnect was processed). */
void hre_node__peer_free(hre_node *n, hre_node__peer *p);
void hre_node__peer_ready(hre_node *n, hre_node__peer *p);
int hre_node__buf_take(hre_node *n, hre_node__peer *p, uint8_t *out, size_t *len);

/* sync.c */
void hre_node__sync_on_ready(hre_node *n, hre_node__peer *p);
void hre_node__sync_on_close(hre_node *n, hre_node__peer *p);
void hre_node__on_getheaders(hre_node *n, hre_node__peer *p, const uint8_t *d, size_t len);
void hre_node__on_headers(hre_node *n, hre_node__peer *p, const uint8_t *d, size_t len);
void hre_node__on_block(hre_node *n, hre_node__peer *p, hre_node__msg *m);
int hre_node__block_wanted(const hre_node *n, const hre_node__peer *p, uint32_t len);
void hre_node__on_block_inv(hre_node *n, hre_node__peer *p, const uint8_t hash[32]);
void hre_node__sync_step(hre_node *n, int force_submit);
void hre_node__sync_timers(hre_node *n, uint64_t *when);
void hre_node__sync_free(hre_node *n);
int hre_node__hdr_known(const hre_node *n, const uint8_t hash[32]);
void hre_node__send_getheaders(hre_node *n, hre_node__peer *p);

/* relay.c */
void hre_node__on_inv(hre_node *n, hre_node__peer *p, const uint8_t *d, size_t len);
void hre_node__on_getdata(hre_node *n, hre_node__peer *p, const uint8_t *d, size_t len);
void hre_node__on_notfound(hre_node *n, hre_node__peer *p, const uint8_t *d, size_t len);
void hre_node__on_tx(hre_node *n, hre_node__peer *p, const uint8_t *d, size_t len);
void hre_node__serve_getdata(hre_node *n, hre_node__peer *p);
void hre_node__announce_tx(hre_node *n, const uint8_t txid[32], const hre_node__peer *except);
void hre_node__announce_block(hre_node *n, const uint8_t hash[32]);
void hre_node__offer_mempool(hre_node *n, hre_node__peer *p);
void hre_node__relay_step(hre_node *n);
void hre_node__relay_timers(const hre_node *n, uint64_t *when);
void hre_node__relay_on_close(hre_node *n, hre_node__peer *p);
int hre_node__known_add(hre_node *n, hre_node__known *k, const uint8_t h[32]);
int hre_node__known_has(const hre_node__known *k, const uint8_t h[32]);
void hre_node__known_free(hre_node *n, hre_node__known *k);
void hre_node__relay_free(hre_node *n);

/* app.c */
void hre_node__on_app(hre_node *n, hre_node__peer *p, const uint8_t *d, size_t len);
void hre_node__app_step(hre_node *n, hre_node__peer *p);
void hre_node__bucket_init(hre_node__bucket *b, uint64_t rate, uint64_t now);
int hre_node__bucket_take(hre_node__bucket *b, uint64_t rate, uint64_t amount, uint64_t now);
uint64_t hre_node__bucket_avail(const hre_node__bucket *b, uint64_t rate, uint64_t now);

/* book.c */
int hre_node__membership(hre_node *n, const uint8_t key[34], uint8_t addr[32], uint8_t org[32]);
void hre_node__recheck_members(hre_node *n);
/* Record an address and/or key (either may be empty / NULL). Returns 1 if
 * anything was recorded. */
int hre_node__discourage(hre_node *n, const char *address, const uint8_t *key, int reason);
int hre_node__is_discouraged(const hre_node *n, const char *address, const uint8_t *key);
void hre_node__book_step(hre_node *n);
void hre_node__book_on_close(hre_node *n, uint64_t conn);
int hre_node__book_pending(const hre_node *n, uint64_t conn);
void hre_node__book_on_connected(hre_node *n, hre_node__peer *p);
void hre_node__book_timers(const hre_node *n, uint64_t *when);
int hre_node__replay_seen(hre_node *n, const uint8_t e[32]);

/* mine.c */
void hre_node__mine_free(hre_node *n);

/* Entry points shared by the files (node.c). */
int hre_node__enter(hre_node *n, uint64_t now, const char *fn);
int hre_node__leave(hre_node *n, int rc);

#endif /* HRE_NODE_INTERNAL_H */
