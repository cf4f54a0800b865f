/*
 * tcp_host: a reusable POSIX TCP host for one libhre node (<hre/node.h>).
 * An example built on the public API only; hre_node_tcp (examples/
 * hre_node_tcp.c) is a program around it, and other programs (a CLI's
 * `node run`, the two-institution demo) can embed it the same way.
 *
 * What it does, in one thread, with poll():
 * - opens the ledger on the POSIX file storage (<hre/storage.h>) in a data
 *   directory, with the network of a network file (<hre/network.h>) or the
 *   one the directory already holds (network.dat);
 * - loads the node's identity key from a PKCS#8 PEM file; the passphrase
 *   comes from the caller (tcp_host_read_passphrase reads it from a file
 *   descriptor or an environment variable -- never from argv);
 * - listens on a numeric address "HOST:PORT" (IPv4 dotted or "[v6]"; port 0
 *   picks a free port; the bound port is written to port_file, atomically);
 * - dials its configured peers with non-blocking connect(); they are
 *   PERSISTENT entries of the node's address book, so the node itself asks
 *   for reconnection with doubling backoff (reconnect_ms .. 64x) whenever a
 *   connection fails or drops;
 * - push-mode transport: send() takes what the socket takes; a short write
 *   or EAGAIN arms POLLOUT, and POLLOUT calls hre_node_peer_writable;
 *   receive back-pressure: it stops polling POLLIN while
 *   hre_node_peer_want_read says 0;
 * - timers: hre_node_next_timer -> poll timeout -> hre_node_tick;
 * - extra descriptors of the program's own (e.g. the `hre` tool's control
 *   socket) are polled in the same loop (extra_fds / extra_ready); the
 *   ledger and the node log through the program's log_fn;
 * - EINTR is retried; SIGINT / SIGTERM (tcp_host_install_signals) stop the
 *   loop through a self-pipe; tcp_host_close frees the node and closes the
 *   ledger cleanly (the index synced).
 * Addresses are numeric only (AI_NUMERICHOST): the loop never blocks in a
 * DNS lookup.
 *
 * Threads: a tcp_host is used from one thread; tcp_host_stop (and the
 * installed signal handlers) may be called from any thread or a signal
 * handler.
 *
 * Copyright the libhre authors. Licensed under the Apache License 2.0.
 */
#ifndef HRE_EXAMPLES_TCP_HOST_H
#define HRE_EXAMPLES_TCP_HOST_H

#include <stddef.h>
#include <stdint.h>

#include <hre/hre.h>

typedef struct tcp_host tcp_host;

/** Called once per loop iteration (after I/O and timers) so the program can
 *  do its own work on the node (submit, mine, write a status file).
 *  Return the next time (ms, tcp_host_now's clock) it wants to be called;
 *  the loop sleeps no longer than that. UINT64_MAX: no wish. */
typedef uint64_t (*tcp_host_idle_fn)(void *user_data, tcp_host *h, uint64_t now);

struct pollfd;
/** Most extra descriptors a program may add to one poll (tcp_host_fds_fn). */
#define TCP_HOST_EXTRA_FDS_MAX 32

/** Extra descriptors the program wants polled in the host's loop (e.g. a
 *  control socket and its connections): fill fds[0..cap) (fd, events; cap is
 *  TCP_HOST_EXTRA_FDS_MAX) and return how many. *wake_at (ms, tcp_host_now's
 *  clock; UINT64_MAX on entry) may be lowered: the loop then sleeps no longer
 *  than that (a deadline of the program's own). */
typedef size_t (*tcp_host_fds_fn)(void *user_data, struct pollfd *fds, size_t cap,
                                  uint64_t *wake_at);
/** Called after each poll that included extra descriptors, with the same
 *  entries and their revents (all 0 when poll timed out), so the program
 *  does its I/O and checks its deadlines. It must not close the host. */
typedef void (*tcp_host_fds_ready_fn)(void *user_data, tcp_host *h, const struct pollfd *fds,
                                      size_t n, uint64_t now);

typedef struct tcp_host_config {
    const char *data_dir;        /* required: the ledger's directory (created if missing) */
    const char *network_file;    /* network file to open with; NULL: the data dir's network.dat */
    const char *key_file;        /* node identity, PKCS#8 PEM; NULL: no identity (sync only) */
    const char *pass;            /* passphrase of key_file (NULL for a clear PEM) */
    size_t pass_len;
    const char *listen;          /* "HOST:PORT" to listen on (port 0: any); NULL: no listener */
    const char *port_file;       /* write the bound port here (decimal + "\n"); NULL: don't */
    const char *const *peers;    /* "HOST:PORT" addresses to keep connections to */
    size_t n_peers;
    uint64_t recv_rate;          /* bytes per second read over all peers; 0: no limit
                                    (a bandwidth cap; the tests use it to slow a sync) */
    size_t send_limit;           /* hand at most this many bytes to one send(); 0: no limit
                                    (a test knob: every larger write becomes a partial
                                    write, resumed through hre_node_peer_writable) */
    unsigned int storage_flags;  /* HRE_STORAGE_POSIX_* (e.g. NOSYNC for scratch tests) */
    int verbose;                 /* 1: log peer events to stderr */
    tcp_host_idle_fn idle;       /* may be NULL */
    void *idle_user_data;
    const hre_key *identity;     /* instead of key_file: a key the caller holds (borrowed
                                    until tcp_host_close); NULL: key_file decides */
    hre_node_event_fn on_event;  /* also told every node event (after the host's own
                                    handling); the node's re-entrancy rule applies */
    void *event_user_data;
    tcp_host_fds_fn extra_fds;   /* may be NULL: extra descriptors to poll */
    tcp_host_fds_ready_fn extra_ready;   /* required with extra_fds */
    void *extra_user_data;
    hre_log_fn log_fn;           /* the ledger's and the node's log hook; may be NULL */
    void *log_user_data;
} tcp_host_config;

/** Open everything: storage, ledger, node, listener, peers.
 *  Returns HRE_OK or an hre error code; what failed is printed to stderr
 *  (with hre_error_detail() for library calls). *out is NULL on failure. */
int tcp_host_open(tcp_host **out, const tcp_host_config *cfg);

/** One loop iteration: poll (at most max_wait_ms, and no longer than the
 *  node's next timer and the idle hook ask), then reads, writes, connects,
 *  accepts, ticks, the idle hook. Returns HRE_OK; HRE_ESTATE once stopped;
 *  HRE_EFATAL if the node became fatal; HRE_EIO if poll failed. */
int tcp_host_step(tcp_host *h, int max_wait_ms);

/** Loop tcp_host_step until tcp_host_stop (or a signal) or an error.
 *  Returns HRE_OK after a stop, else the error of tcp_host_step. */
int tcp_host_run(tcp_host *h);

/** Ask the loop to stop. Async-signal-safe. */
void tcp_host_stop(tcp_host *h);

/** Route SIGINT and SIGTERM to tcp_host_stop(h) (one host per process),
 *  and ignore SIGPIPE. Returns HRE_OK or HRE_EIO. */
int tcp_host_install_signals(tcp_host *h);

/** Close the sockets, free the node, close the ledger and the storage.
 *  NULL is fine. */
void tcp_host_close(tcp_host *h);

hre_node *tcp_host_node(const tcp_host *h);
hre_ledger *tcp_host_ledger(const tcp_host *h);
/** The bound listening port (0 if none). */
unsigned int tcp_host_port(const tcp_host *h);
/** The host's clock: Unix time in ms (CLOCK_REALTIME, so block times are right). */
uint64_t tcp_host_now(void);

/** Read a passphrase: from file descriptor fd (>= 0; up to EOF or the first
 *  newline, which is dropped) or else from the environment variable env
 *  (non-NULL). The caller wipes buf (hre_wipe) when done.
 *  Returns HRE_OK (*len set); HRE_ENOTFOUND (env unset); HRE_ELIMIT (longer
 *  than cap - 1); HRE_EIO; HRE_EINVAL. */
int tcp_host_read_passphrase(char *buf, size_t cap, size_t *len, int fd, const char *env);

#endif
