/*
 * libhre -- Healthcare Records Exchange ledger library.
 * sys/hub.h: the in-process loopback hub, a transport backend for tests and
 * simulations. It implements the transport vtable (<hre/sys/transport.h>)
 * for any number of endpoints and carries their bytes between them on a
 * VIRTUAL clock, with fault injection (drop, duplicate, reorder, delay,
 * corrupt, split, reset), partitions (isolate, split, asymmetric) and
 * endpoint crashes -- all decided by ONE seeded PRNG, so that a run is
 * reproducible bit for bit from its seed (in the style of TigerBeetle's VOPR
 * and FoundationDB's simulation). docs/PROTOCOL.md section 13 fixes the
 * PRNG, the order of its draws and the trace digest.
 *
 * Copyright the libhre authors. Licensed under the Apache License 2.0.
 *
 * ------------------------------------------------------------------------
 * Object model
 * ------------------------------------------------------------------------
 * - hre_hub: one simulated network with its clock (milliseconds, uint64)
 *   and its event queue. Events are ordered by (time, sequence number): the
 *   sequence number counts every event the hub schedules, so events at the
 *   same virtual time come out in the order they were caused.
 * - Endpoints: one per simulated host, named by a dense id (0, 1, 2, ...
 *   in the order of hre_hub_endpoint_add) and an address string that other
 *   endpoints pass to the transport's connect. Each endpoint has its own
 *   transport vtable user_data (hre_hub_endpoint_transport): give both to
 *   hre_node_new (hre_node_options.transport / transport_user_data).
 * - Connections: made by the vtable's connect; the hub names each end with
 *   its own connection id (unique in the hub, never reused).
 *
 * The hub NEVER calls into a node (layering): the host drives everything
 * with hre_hub_next, which hands out the next event and moves the clock to
 * its time, and reacts to it -- the simulation driver in tests/sim does:
 *
 *     CONNECTED -> hre_node_peer_connected(node[ep], conn, address, flags, now)
 *                  (if the node refuses it: hre_hub_close(hub, ep, conn))
 *     DATA      -> hre_node_peer_recv(node[ep], conn, data, len, now)
 *     WRITABLE  -> hre_node_peer_writable(node[ep], conn, now)
 *     CLOSED    -> hre_node_peer_closed(node[ep], conn, now)
 *     TIMER     -> hre_node_tick(node[ep], now)
 *     USER      -> whatever the driver scheduled (mine, submit, crash, ...)
 *
 * and after every node call re-arms the endpoint's timer from
 * hre_node_next_timer with hre_hub_timer_set. All node calls use
 * now = hre_hub_now(hub): the vtable methods take the time from the hub.
 *
 * ------------------------------------------------------------------------
 * What happens to the bytes (per send call: one "segment")
 * ------------------------------------------------------------------------
 * - Flow control: each direction of a connection holds at most `window`
 *   bytes in flight (sent, not yet delivered or lost). send takes what fits
 *   (*sent may be short) or returns HRE_EAGAIN; a WRITABLE event follows as
 *   soon as bytes of that direction are delivered or lost. A receiving host
 *   that stops reading (hre_hub_pause) holds its bytes in the window, so
 *   the pressure reaches the sender. A DATA event carries at most
 *   segment_max bytes (larger segments arrive as several events).
 * - Latency: each segment gets a delay, uniform in [delay_min_ms,
 *   delay_max_ms]. Segments of one direction arrive in send order (FIFO, as
 *   on a stream) unless a fault reorders them.
 * - Faults, each with its own probability per mille (hre_hub_faults):
 *   drop (the segment is lost), duplicate (delivered twice), reorder (it
 *   leaves the FIFO and arrives after an extra delay, so later segments can
 *   overtake it), corrupt (one byte is XORed with a nonzero value), split
 *   (delivered as 2..4 DATA events), reset (the connection breaks: both ends
 *   get CLOSED, bytes in flight are lost), connect_fail (an attempt is
 *   refused).
 * - Partitions (hre_hub_partition): a cut between a set of endpoints and
 *   the rest, both ways or one way, during [start_ms, end_ms). A segment is
 *   lost if a cut separates its direction when it is sent or when it would
 *   be delivered; a connection attempt across a cut (either direction)
 *   fails after connect_timeout_ms. Connections are not closed by a cut:
 *   they go silent (the nodes' timeouts notice).
 * - Crashes: hre_hub_endpoint_crash takes an endpoint down: its connections
 *   break (the other ends get CLOSED after a delay), its queued events and
 *   its timer are dropped, attempts to reach it fail. USER events for it are
 *   still delivered (to schedule its restart). hre_hub_endpoint_restart
 *   brings it back with no connections. The host frees and recreates the
 *   node (and reopens its ledger, e.g. on power-loss storage,
 *   <hre/sys/powerloss.h>) around these calls.
 * - Closing: the vtable's close (the node closed) or hre_hub_close (the
 *   host closed): the other end gets CLOSED after the bytes already in
 *   flight towards it (an orderly close); bytes still coming back are
 *   discarded.
 *
 * Determinism: the PRNG (docs/PROTOCOL.md 13.1) is drawn only by send,
 * connect, close, endpoint_crash and the events they cause, in a fixed
 * order, never by time or addresses in memory. Two runs that make the same
 * calls with the same seed get the same events, byte for byte, and the same
 * trace digest (hre_hub_trace_digest). A node's own randomness (its Noise
 * keys) comes from OpenSSL; a simulation that wants whole runs to replay
 * makes that deterministic too (tests/sim does, for its process only).
 *
 * Threads: an hre_hub is not locked; one thread at a time, the same one that
 * drives the nodes on it.
 */
#ifndef HRE_SYS_HUB_H
#define HRE_SYS_HUB_H

#include "../common.h"
#include "transport.h"

HRE_BEGIN_DECLS

/** Bytes of an endpoint address, without the NUL (as HRE_NODE_ADDRESS_MAX). */
#define HRE_HUB_ADDRESS_MAX 255
/** CONNECTED event flag: this end made the connection (same value as
 *  HRE_NODE_PEER_OUTBOUND, so it can be passed on unchanged). */
#define HRE_HUB_OUTBOUND 0x1u
/** The largest per-mille value. */
#define HRE_HUB_PER_MILLE 1000u

/** Default window (bytes in flight per direction). */
#define HRE_HUB_DEFAULT_WINDOW          (256u * 1024u)
/** Default connect_timeout_ms of hre_hub_options. */
#define HRE_HUB_DEFAULT_CONNECT_TIMEOUT 1000u
/** Default segment_max: bytes of one DATA event at most. */
#define HRE_HUB_DEFAULT_SEGMENT         65536u

/* ------------------------------------------------------------------------ */
/* Faults                                                                    */
/* ------------------------------------------------------------------------ */

/** Newest version of hre_hub_faults this header declares (its .version field). */
#define HRE_HUB_FAULTS_VERSION 1

/** Fault probabilities and latency. All zero (HRE_HUB_FAULTS_INIT) is a
 *  perfect network with no latency: here 0 means none, literally.
 *  Probabilities are per mille (0..1000), per segment (reset and the
 *  segment faults) or per connection attempt (connect_fail).
 *  Since: 1.1 */
typedef struct hre_hub_faults {
    unsigned int version;      /* HRE_HUB_FAULTS_VERSION */
    uint32_t drop;             /* segment lost */
    uint32_t duplicate;        /* segment delivered twice */
    uint32_t reorder;          /* segment taken out of FIFO order */
    uint32_t corrupt;          /* one byte of the segment changed */
    uint32_t split;            /* segment delivered in 2..4 pieces */
    uint32_t reset;            /* the segment breaks the connection instead */
    uint32_t connect_fail;     /* a connection attempt is refused */
    uint32_t delay_min_ms;     /* latency of a segment or attempt: uniform in */
    uint32_t delay_max_ms;     /* [delay_min_ms, delay_max_ms] (min <= max) */
} hre_hub_faults;

/** Static initializer for hre_hub_faults: HRE_HUB_FAULTS_VERSION, every other field at its default. */
#define HRE_HUB_FAULTS_INIT { HRE_HUB_FAULTS_VERSION, 0, 0, 0, 0, 0, 0, 0, 0, 0 }

/** Zero the fields of `version` and set it.
 *  Returns: HRE_OK; HRE_EINVAL (NULL); HRE_EUNSUPPORTED (version).
 *  Thread safety: any thread.  Since: 1.1 */
HRE_API int hre_hub_faults_init(hre_hub_faults *f, unsigned int version);

/* ------------------------------------------------------------------------ */
/* Partitions                                                                */
/* ------------------------------------------------------------------------ */

/** Newest version of hre_hub_partition this header declares (its .version field). */
#define HRE_HUB_PARTITION_VERSION 1

/** Which directions a partition cuts (between `side` and every other
 *  endpoint). */
#define HRE_HUB_CUT_BOTH 0  /* nothing crosses */
#define HRE_HUB_CUT_OUT  1  /* side -> rest is lost; rest -> side passes (asymmetric) */
#define HRE_HUB_CUT_IN   2  /* rest -> side is lost; side -> rest passes */

/** One partition. Isolate a node: side = { ep }. Split in halves: side =
 *  the first half. Asymmetric: CUT_OUT or CUT_IN. Several partitions may be
 *  active at once; a direction is cut if any active one cuts it.
 *  Since: 1.1 */
typedef struct hre_hub_partition {
    unsigned int version;      /* HRE_HUB_PARTITION_VERSION */
    int cut;                   /* HRE_HUB_CUT_* */
    uint64_t start_ms;         /* active while start_ms <= now < end_ms */
    uint64_t end_ms;           /* UINT64_MAX: until removed */
    const uint32_t *side;      /* endpoint ids (copied; ids need not exist yet) */
    size_t side_count;         /* 1..4096 */
} hre_hub_partition;

/** Static initializer for hre_hub_partition: HRE_HUB_PARTITION_VERSION, every other field at its default. */
#define HRE_HUB_PARTITION_INIT { HRE_HUB_PARTITION_VERSION, HRE_HUB_CUT_BOTH, 0, UINT64_MAX, NULL, 0 }

/** Set `version`, cut = BOTH, start 0, end UINT64_MAX, no side.
 *  Returns: HRE_OK; HRE_EINVAL; HRE_EUNSUPPORTED.  Since: 1.1 */
HRE_API int hre_hub_partition_init(hre_hub_partition *p, unsigned int version);

/* ------------------------------------------------------------------------ */
/* Options, new and free                                                     */
/* ------------------------------------------------------------------------ */

/** Newest version of hre_hub_options this header declares (its .version field). */
#define HRE_HUB_OPTIONS_VERSION 1

/** Options of hre_hub_new. Start from HRE_HUB_OPTIONS_INIT or
 *  hre_hub_options_init(). Everything is copied during hre_hub_new except
 *  log_user_data (borrowed until hre_hub_free).
 *  Since: 1.1 */
typedef struct hre_hub_options {
    unsigned int version;                /* HRE_HUB_OPTIONS_VERSION */
    uint64_t seed;                       /* the PRNG seed (any value, 0 included) */
    uint64_t start_ms;                   /* the clock at creation */
    const hre_hub_faults *faults;        /* NULL: no faults, no latency */
    uint32_t window;                     /* bytes in flight per direction; 0: the default
                                            HRE_HUB_DEFAULT_WINDOW */
    uint32_t connect_timeout_ms;         /* an attempt across a cut fails after this; 0: the
                                            default HRE_HUB_DEFAULT_CONNECT_TIMEOUT */
    uint32_t segment_max;                /* bytes of one DATA event at most (what one socket
                                            read would return); 0: HRE_HUB_DEFAULT_SEGMENT */
    const hre_hub_partition *partitions; /* the partition schedule (may be NULL if count 0) */
    size_t partition_count;              /**< entries in partitions */
    size_t partition_size;               /* sizeof(hre_hub_partition) of the caller (rule 7) */
    hre_log_fn log_fn;                   /* may be NULL; every fault decision at HRE_LOG_DEBUG */
    void *log_user_data;                 /**< passed to log_fn */
} hre_hub_options;

/** Static initializer for hre_hub_options: HRE_HUB_OPTIONS_VERSION, every other field at its default. */
#define HRE_HUB_OPTIONS_INIT { HRE_HUB_OPTIONS_VERSION, 0, 0, NULL, 0, 0, 0, NULL, 0, 0, NULL, NULL }

/** Zero the fields of `version` and set it.
 *  Returns: HRE_OK; HRE_EINVAL (NULL); HRE_EUNSUPPORTED (version).
 *  Thread safety: any thread.  Since: 1.1 */
HRE_API int hre_hub_options_init(hre_hub_options *opts, unsigned int version);

/** The hub. Opaque handle. */
typedef struct hre_hub hre_hub;

/** Create a hub with no endpoints.
 *  Out: *out: the hub, owned by the caller; free with hre_hub_free (NULL on
 *       failure).
 *  In:  opts: read up to its version (NULL: all defaults, seed 0).
 *  Returns: HRE_OK; HRE_EINVAL (a per-mille value over 1000, delay_min_ms >
 *           delay_max_ms, a bad partition: the detail names it);
 *           HRE_EUNSUPPORTED (a version, or partition_size below version 1);
 *           HRE_ENOMEM.
 *  Since: 1.1 */
HRE_API int hre_hub_new(hre_hub **out, const hre_hub_options *opts);

/** Free the hub, its queued events and bytes. The transport user_data of its
 *  endpoints dies with it: free the nodes that use them first. NULL is fine.
 *  Since: 1.1 */
HRE_API void hre_hub_free(hre_hub *hub);

/** The virtual clock (ms): the time of the last event hre_hub_next handed
 *  out, or the `until` it advanced to (0 for NULL).  Since: 1.1 */
HRE_API uint64_t hre_hub_now(const hre_hub *hub);

/* ------------------------------------------------------------------------ */
/* Endpoints                                                                 */
/* ------------------------------------------------------------------------ */

/** Add an endpoint (up, no connections).
 *  Out: *ep (may be NULL): its id (the number of endpoints before it).
 *  In:  address: NUL-terminated, 1..HRE_HUB_ADDRESS_MAX bytes, unique in
 *       the hub (copied): what other endpoints connect to, and the address
 *       their CONNECTED events name for inbound connections from it.
 *  Returns: HRE_OK; HRE_EEXISTS (address taken); HRE_EINVAL; HRE_ELIMIT
 *           (65536 endpoints); HRE_ENOMEM.
 *  Since: 1.1 */
HRE_API int hre_hub_endpoint_add(hre_hub *hub, uint32_t *ep, const char *address);

/** Number of endpoints (0 for NULL).  Since: 1.1 */
HRE_API uint32_t hre_hub_endpoint_count(const hre_hub *hub);

/** The endpoint's address (borrowed, valid until hre_hub_free); NULL for an
 *  unknown ep.  Since: 1.1 */
HRE_API const char *hre_hub_endpoint_address(const hre_hub *hub, uint32_t ep);

/** The transport of an endpoint: a vtable (static, valid for ever) and the
 *  user_data its methods need (valid until hre_hub_free). The methods
 *  behave as sys/transport.h says: send never fails for a live connection
 *  (it takes what the window allows), connect starts an attempt to the
 *  endpoint with that address (an unknown address fails later, with a
 *  CLOSED event, as a refused TCP connection does), close closes.
 *  Out: *methods, *user_data.
 *  Returns: HRE_OK; HRE_ENOTFOUND (ep); HRE_EINVAL.
 *  Since: 1.1 */
HRE_API int hre_hub_endpoint_transport(hre_hub *hub, const hre_transport_methods **methods,
                                       void **user_data, uint32_t ep);

/** Crash an endpoint (see the file comment). Crashing a down endpoint is
 *  a no-op.
 *  Returns: HRE_OK; HRE_ENOTFOUND; HRE_EINVAL.  Since: 1.1 */
HRE_API int hre_hub_endpoint_crash(hre_hub *hub, uint32_t ep);

/** Bring a crashed endpoint back up (no connections, no timer). Restarting
 *  a live endpoint is a no-op.
 *  Returns: HRE_OK; HRE_ENOTFOUND; HRE_EINVAL.  Since: 1.1 */
HRE_API int hre_hub_endpoint_restart(hre_hub *hub, uint32_t ep);

/** Is the endpoint up? 1 or 0 (0 for an unknown ep or NULL).  Since: 1.1 */
HRE_API int hre_hub_endpoint_up(const hre_hub *hub, uint32_t ep);

/* ------------------------------------------------------------------------ */
/* Connections, timers, user events                                          */
/* ------------------------------------------------------------------------ */

/** The host closes its end of a connection (e.g. the node refused it at
 *  hre_node_peer_connected). The other end gets CLOSED after the bytes in
 *  flight towards it. No CLOSED event for this end.
 *  Returns: HRE_OK; HRE_ENOTFOUND (not a live connection of ep); HRE_EINVAL.
 *  Since: 1.1 */
HRE_API int hre_hub_close(hre_hub *hub, uint32_t ep, uint64_t conn);

/** Stop (paused != 0) or resume (0) reading a connection, as a host does
 *  while its node says hre_node_peer_want_read(node, conn) == 0. While
 *  paused, DATA for this end and an orderly CLOSED after it are held, in
 *  order; the bytes stay counted in the sender's window, so the sender sees
 *  back-pressure (short sends, HRE_EAGAIN), as with a TCP receive window.
 *  Resuming hands the held events out in order, after the events already
 *  due (at once, or at their own time if that is later). A reset or a crash of the other end is not held. Pausing a
 *  paused end (or resuming a running one) is a no-op.
 *  Returns: HRE_OK; HRE_ENOTFOUND (conn is not open at ep); HRE_EINVAL;
 *           HRE_ENOMEM.  Since: 1.1 */
HRE_API int hre_hub_pause(hre_hub *hub, uint32_t ep, uint64_t conn, int paused);

/** Set (replace) the endpoint's timer: a TIMER event at `when` (at once,
 *  after the events already due, when `when` <= now). UINT64_MAX cancels
 *  it. A down endpoint's timer never fires.
 *  Returns: HRE_OK; HRE_ENOTFOUND; HRE_EINVAL; HRE_ENOMEM.  Since: 1.1 */
HRE_API int hre_hub_timer_set(hre_hub *hub, uint32_t ep, uint64_t when);

/** Schedule a USER event for the host at `when` (at once if in the past)
 *  carrying ep and tag back unchanged (ep need not exist: it is the host's
 *  number). Always delivered, whether the endpoint is up or not.
 *  Returns: HRE_OK; HRE_EINVAL; HRE_ENOMEM.  Since: 1.1 */
HRE_API int hre_hub_schedule(hre_hub *hub, uint64_t when, uint32_t ep, uint64_t tag);

/* ------------------------------------------------------------------------ */
/* Events                                                                    */
/* ------------------------------------------------------------------------ */

/** Newest version of hre_hub_event this header declares (its .version field). */
#define HRE_HUB_EVENT_VERSION 1

#define HRE_HUB_EVENT_CONNECTED 1 /* conn is established at ep (flags: HRE_HUB_OUTBOUND) */
#define HRE_HUB_EVENT_DATA      2 /* bytes arrived on conn */
#define HRE_HUB_EVENT_WRITABLE  3 /* conn can take bytes again after a short send */
#define HRE_HUB_EVENT_CLOSED    4 /* conn is gone: closed or reset by the other end, broken,
                                     or (outbound, before CONNECTED) the attempt failed */
#define HRE_HUB_EVENT_TIMER     5 /* ep's timer expired */
#define HRE_HUB_EVENT_USER      6 /* hre_hub_schedule (tag) */

/** One event. An output struct: set .version first (HRE_HUB_EVENT_INIT).
 *  Pointers are borrowed until the next hre_hub_next or hre_hub_free.
 *  Since: 1.1 */
typedef struct hre_hub_event {
    unsigned int version;      /* in: HRE_HUB_EVENT_VERSION */
    unsigned int type;         /* HRE_HUB_EVENT_* */
    uint64_t time;             /* ms (hre_hub_now) */
    uint64_t seq;              /* sequence number, increasing */
    uint32_t endpoint;         /* the endpoint it is for */
    uint64_t conn;             /* connection id (CONNECTED, DATA, WRITABLE, CLOSED) */
    unsigned int flags;        /* CONNECTED: HRE_HUB_OUTBOUND */
    const char *address;       /* CONNECTED: outbound, the address asked for; inbound, the
                                  connecting endpoint's address. Else "" (never NULL) */
    const uint8_t *data;       /* DATA (else NULL) */
    size_t len;                /**< DATA: bytes at data (else 0) */
    uint64_t tag;              /* USER */
} hre_hub_event;

/** Static initializer for hre_hub_event: HRE_HUB_EVENT_VERSION, every other field at its default. */
#define HRE_HUB_EVENT_INIT { HRE_HUB_EVENT_VERSION, 0, 0, 0, 0, 0, 0, NULL, NULL, 0, 0 }

/** Zero the fields of `version` and set it.
 *  Returns: HRE_OK; HRE_EINVAL; HRE_EUNSUPPORTED.  Since: 1.1 */
HRE_API int hre_hub_event_init(hre_hub_event *ev, unsigned int version);

/** Hand out the next event due at or before `until` and move the clock to
 *  its time (events are never in the past). Events that lost their meaning
 *  meanwhile (for a closed connection, a down endpoint, a replaced timer)
 *  are skipped.
 *  Out: *ev (set .version first).
 *  In:  until: ms; UINT64_MAX for "whatever comes next".
 *  Returns: HRE_OK (*ev set); HRE_ENOTFOUND (nothing due by `until`: the
 *           clock moves to `until` unless that is UINT64_MAX; *ev's type is
 *           0); HRE_EINVAL; HRE_EUNSUPPORTED (ev->version).
 *  Since: 1.1 */
HRE_API int hre_hub_next(hre_hub *hub, hre_hub_event *ev, uint64_t until);

/* ------------------------------------------------------------------------ */
/* Faults and partitions during a run                                        */
/* ------------------------------------------------------------------------ */

/** Replace the fault settings (segments already queued keep their fate).
 *  In: f: read up to its version (NULL: no faults, no latency).
 *  Returns: HRE_OK; HRE_EINVAL; HRE_EUNSUPPORTED.  Since: 1.1 */
HRE_API int hre_hub_faults_set(hre_hub *hub, const hre_hub_faults *f);

/** The current fault settings.
 *  Out: *f (set .version first).
 *  Returns: HRE_OK; HRE_EINVAL; HRE_EUNSUPPORTED.  Since: 1.1 */
HRE_API int hre_hub_faults_get(const hre_hub *hub, hre_hub_faults *f);

/** Add a partition (schedule one: start_ms may be in the future).
 *  Out: *id (may be NULL): its id, for hre_hub_partition_remove.
 *  In:  p: read up to its version; side copied.
 *  Returns: HRE_OK; HRE_EINVAL (cut, start >= end, side NULL or empty or
 *           over 4096); HRE_ELIMIT (1024 partitions); HRE_EUNSUPPORTED;
 *           HRE_ENOMEM.
 *  Since: 1.1 */
HRE_API int hre_hub_partition_add(hre_hub *hub, uint32_t *id, const hre_hub_partition *p);

/** Remove a partition now (healed).
 *  Returns: HRE_OK; HRE_ENOTFOUND; HRE_EINVAL.  Since: 1.1 */
HRE_API int hre_hub_partition_remove(hre_hub *hub, uint32_t id);

/** Remove every partition (the network is whole again).
 *  Returns: HRE_OK; HRE_EINVAL.  Since: 1.1 */
HRE_API int hre_hub_partition_clear(hre_hub *hub);

/** Is the direction from -> to cut right now? 1 or 0 (0 for NULL).
 *  Since: 1.1 */
HRE_API int hre_hub_cut(const hre_hub *hub, uint32_t from, uint32_t to);

/* ------------------------------------------------------------------------ */
/* Statistics and the trace digest                                           */
/* ------------------------------------------------------------------------ */

/** Newest version of hre_hub_stats this header declares (its .version field). */
#define HRE_HUB_STATS_VERSION 1

/** Counters. An output struct: set .version first.  Since: 1.1 */
typedef struct hre_hub_stats {
    unsigned int version;      /* in: HRE_HUB_STATS_VERSION */
    uint64_t now;              /* the clock */
    uint64_t events;           /* handed out by hre_hub_next */
    uint64_t segments;         /* send calls that took bytes */
    uint64_t bytes_sent;       /* bytes taken by send */
    uint64_t bytes_delivered;  /* bytes in DATA events (duplicates included) */
    uint64_t dropped;          /* segments lost to the drop fault */
    uint64_t duplicated;  /**< segments delivered twice by the duplicate fault */
    uint64_t reordered;  /**< segments taken out of FIFO order by the reorder fault */
    uint64_t corrupted;  /**< segments with one byte changed by the corrupt fault */
    uint64_t split;  /**< segments delivered in pieces by the split fault */
    uint64_t resets;           /* connections broken by the reset fault */
    uint64_t cut;              /* segments lost to a partition */
    uint64_t lost;             /* segments lost to a close, reset or crash */
    uint64_t short_sends;      /* send calls that took less than offered */
    uint64_t connects;         /* connection attempts */
    uint64_t connect_failures; /* ... that failed */
    uint64_t crashes;          /* hre_hub_endpoint_crash of a live endpoint */
    uint64_t queued;           /* events waiting */
    uint64_t queued_bytes;     /* bytes they hold */
    uint64_t held;             /* events held for a paused end (hre_hub_pause) */
} hre_hub_stats;

/** Static initializer for hre_hub_stats: HRE_HUB_STATS_VERSION, every other field at its default. */
#define HRE_HUB_STATS_INIT { HRE_HUB_STATS_VERSION, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, \
                             0, 0, 0, 0, 0, 0 }

/** Zero the fields of `version` and set it.
 *  Returns: HRE_OK; HRE_EINVAL; HRE_EUNSUPPORTED.  Since: 1.1 */
HRE_API int hre_hub_stats_init(hre_hub_stats *st, unsigned int version);

/** The counters.
 *  Out: *st (set .version first).
 *  Returns: HRE_OK; HRE_EINVAL; HRE_EUNSUPPORTED.  Since: 1.1 */
HRE_API int hre_hub_stats_get(const hre_hub *hub, hre_hub_stats *st);

/** SHA-256 over the run so far: every send call (what was offered and
 *  taken) and every event handed out, in order, encoded as
 *  docs/PROTOCOL.md 13.4 says. Two runs are the same run if their digests
 *  are equal.
 *  Out: out (32 bytes; zeroed on failure).
 *  Returns: HRE_OK; HRE_EINVAL; HRE_ENOMEM; HRE_ECRYPTO.  Since: 1.1 */
HRE_API int hre_hub_trace_digest(const hre_hub *hub, uint8_t out[32]);

HRE_END_DECLS

#endif /* HRE_SYS_HUB_H */
