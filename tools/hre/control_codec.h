/*
 * hre: the wire format of the control protocol (docs/PROTOCOL.md section
 * 17), apart from the socket I/O and the handlers in control.c, so that
 * tests/fuzz/fuzz_control_frame.c can drive every decoder on its own.
 *
 * Every decoder is a pure function (const uint8_t *p, size_t n, out) that
 * bounds-checks each length against what is left, enforces the caps below
 * and refuses any encoding that is not the one its encoder writes (lengths
 * that do not add up exactly, counts out of range, NUL bytes in strings).
 * It returns CTL_OK or one of the specific CTL_E* codes (ctl_err_detail
 * names it); on failure *out is zeroed. Decoded strings point into p (not
 * NUL-terminated: their length is given). No allocation, no global state:
 * thread-safe.
 *
 * Copyright the libhre authors. Licensed under the Apache License 2.0.
 */
#ifndef HRE_TOOLS_CONTROL_CODEC_H
#define HRE_TOOLS_CONTROL_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include <hre/tx.h>
#include <hre/vault.h>

#include "cli.h"

#define CTL_VERSION 1

#define CTL_REQ_RUN        0x01
#define CTL_REQ_NONCE      0x02
#define CTL_REQ_NETWORK_ID 0x03
#define CTL_REQ_SUBMIT     0x04
#define CTL_REQ_VAULT_GET  0x05
#define CTL_REQ_XCH_PEERS  0x06
#define CTL_REQ_XCH_FETCH  0x07
#define CTL_REQ_VAULT_PUT  0x08   /* an upload's header frame */
#define CTL_REQ_PUT_DATA   0x09   /* an upload's document bytes */
#define CTL_REQ_PUT_END    0x0a   /* an upload's last frame */

#define CTL_REP_OUT  0x81
#define CTL_REP_ERR  0x82
#define CTL_REP_DATA 0x83
#define CTL_REP_DONE 0x84
#define CTL_REP_CONTINUE 0x85     /* VAULT_PUT: the header is accepted, send the data */

#define CTL_FRAME_LEN_BYTES 4                 /* len:u32 before each body */
#define CTL_FRAME_HEAD 6                      /* len:u32 version:u8 type:u8 */
#define CTL_REQ_MAX   (1u << 20)              /* a request frame's body, at most */
#define CTL_REP_FRAME (1u << 20)              /* an answer frame's body, at most */
#define CTL_ARGS_MAX  256                     /* RUN: arguments */
#define CTL_ARG_MAX   4096                    /* RUN: bytes of one argument (and of cwd) */
#define CTL_XCH_PEERS_MAX 64
#define CTL_XCH_PEER_LEN (8 + 32 + 32)
#define CTL_XCH_PEERS_RESULT_MAX (1 + CTL_XCH_PEERS_MAX * CTL_XCH_PEER_LEN)
#define CTL_NONCE_REQ_MAX (1 + 34)
#define CTL_NONCE_RESULT_LEN 8
#define CTL_NETWORK_ID_RESULT_LEN 32
#define CTL_SUBMIT_RESULT_LEN (32 + 1 + 8)
#define CTL_VAULT_GET_REQ_LEN (32 + 34)
#define CTL_XCH_PEERS_REQ_LEN 32
#define CTL_XCH_FETCH_REQ_LEN (8 + HRE_VAULT_XCH_REQUEST_LEN)
#define CTL_PUT_READERS_MAX 64
#define CTL_PUT_READER_LEN 80
#define CTL_PUT_MEDIA_LEN 127
#define CTL_PUT_HDR_MAX (8 + 1 + CTL_PUT_MEDIA_LEN + 1 + \
                         CTL_PUT_READERS_MAX * (1 + CTL_PUT_READER_LEN))
#define CTL_PUT_RESULT_LEN (32 + 32 + 8 + 8)
#define CTL_PUT_DATA_MAX (CTL_REQ_MAX - 2)    /* document bytes in one PUT_DATA frame */

/* The decoders' results (0: decoded). */
enum {
    CTL_OK = 0,
    CTL_E_FRAME_LEN,   /* a frame length under 2 or over its cap */
    CTL_E_VERSION,     /* a frame of another protocol version */
    CTL_E_TYPE,        /* a frame type not allowed here */
    CTL_E_MALFORMED,   /* lengths that do not add up exactly (short, trailing bytes) */
    CTL_E_COUNT,       /* a count out of its range (RUN argc, NONCE id length, readers) */
    CTL_E_NUL,         /* a string holds a NUL byte (RUN arguments) */
    CTL_E_EMPTY,       /* PUT_DATA without bytes */
    CTL_E_OVER,        /* PUT_DATA beyond the upload's announced length */
    CTL_E_BODY,        /* PUT_END or CONTINUE with a payload */
    CTL_E_UNDER,       /* PUT_END before the announced length */
    CTL_E_BUFSIZE      /* an encoder's output buffer is too small */
};
/* A short text for a CTL_* code ("malformed", ...); never NULL. */
const char *ctl_err_detail(int e);

/* A string inside a payload (not NUL-terminated). */
typedef struct ctl_str {
    const uint8_t *p;
    size_t len;
} ctl_str;

/* ---- frames ------------------------------------------------------------ */
/* The 6 bytes before a payload of payload_len bytes: len:u32 (= 2 +
 * payload_len) version type. The caller has checked 2 + payload_len
 * against the cap of the direction. */
void ctl_frame_head(uint8_t out[CTL_FRAME_HEAD], uint8_t type, size_t payload_len);
/* A frame's len:u32: *body_len in 2..cap, else CTL_E_FRAME_LEN. */
int ctl_frame_len_decode(const uint8_t p[CTL_FRAME_LEN_BYTES], uint32_t cap, uint32_t *body_len);
/* A frame's body (version type payload): CTL_E_MALFORMED under 2 bytes,
 * CTL_E_VERSION for another version (*type is still set then). */
typedef struct ctl_frame {
    uint8_t type;
    const uint8_t *payload;
    size_t len;
} ctl_frame;
int ctl_frame_body_decode(const uint8_t *body, size_t n, ctl_frame *out);

/* ---- requests (the node decodes them) ----------------------------------- */
/* RUN: cwd_len:u16 cwd argc:u16 (len:u16 arg)*argc, argc 1..CTL_ARGS_MAX,
 * every string at most CTL_ARG_MAX bytes and without NUL. Decoding checks
 * in order: the cwd and argc fields (CTL_E_MALFORMED), argc (CTL_E_COUNT,
 * out->argc set), each argument's bounds (CTL_E_MALFORMED) then its NUL
 * (CTL_E_NUL), then trailing bytes or a NUL in cwd (CTL_E_MALFORMED). */
typedef struct ctl_run {
    ctl_str cwd;
    size_t argc;
    ctl_str argv[CTL_ARGS_MAX];
} ctl_run;
int ctl_run_decode(const uint8_t *p, size_t n, ctl_run *out);
/* The encoded length of r (0 when it breaks a cap: too many arguments, a
 * string too long; NULs are the caller's to refuse). */
size_t ctl_run_encoded_len(const ctl_run *r);
/* Encode r into out[0..cap): CTL_E_COUNT / CTL_E_MALFORMED when r breaks a
 * cap or holds a NUL, CTL_E_BUFSIZE when cap is short. */
int ctl_run_encode(const ctl_run *r, uint8_t *out, size_t cap, size_t *len);

/* NONCE: id_len:u8 id, id_len 32 (address) or 34 (wire key). */
typedef struct ctl_nonce_req {
    const uint8_t *id;
    size_t id_len;
} ctl_nonce_req;
int ctl_nonce_req_decode(const uint8_t *p, size_t n, ctl_nonce_req *out);
int ctl_nonce_req_encode(const uint8_t *id, size_t id_len, uint8_t out[CTL_NONCE_REQ_MAX],
                         size_t *len);
/* NETWORK_ID: an empty payload. */
int ctl_network_id_req_decode(const uint8_t *p, size_t n);
/* SUBMIT: an encoded transaction, 1..HRE_TX_MAX_LEN bytes (its own decoder
 * is the library's). */
int ctl_submit_req_decode(const uint8_t *p, size_t n, ctl_str *tx);
/* VAULT_GET: record_id[32] enc_key[34]. */
typedef struct ctl_vault_get_req {
    const uint8_t *record_id;   /* 32 bytes */
    const uint8_t *enc_key;     /* 34 bytes */
} ctl_vault_get_req;
int ctl_vault_get_req_decode(const uint8_t *p, size_t n, ctl_vault_get_req *out);
void ctl_vault_get_req_encode(const uint8_t record_id[32], const uint8_t enc_key[34],
                              uint8_t out[CTL_VAULT_GET_REQ_LEN]);
/* XCH_PEERS: record_id[32]. */
int ctl_xch_peers_req_decode(const uint8_t *p, size_t n, const uint8_t **record_id);
/* XCH_FETCH: conn:u64 request[HRE_VAULT_XCH_REQUEST_LEN] (the request's own
 * decoder is the library's). */
typedef struct ctl_xch_fetch_req {
    uint64_t conn;
    const uint8_t *request;     /* HRE_VAULT_XCH_REQUEST_LEN bytes */
} ctl_xch_fetch_req;
int ctl_xch_fetch_req_decode(const uint8_t *p, size_t n, ctl_xch_fetch_req *out);
void ctl_xch_fetch_req_encode(uint64_t conn, const uint8_t request[HRE_VAULT_XCH_REQUEST_LEN],
                              uint8_t out[CTL_XCH_FETCH_REQ_LEN]);
/* VAULT_PUT's header: doc_len:u64 media_len:u8 media reader_count:u8
 * (len:u8 reader)*reader_count; media 0..CTL_PUT_MEDIA_LEN bytes, 1..
 * CTL_PUT_READERS_MAX readers of 1..CTL_PUT_READER_LEN bytes, no NUL in
 * any; every failure is CTL_E_MALFORMED. doc_len is not capped here (the
 * node's cap, HRE_CTL_PUT_MAX, is checked after its vault). */
typedef struct ctl_put_hdr {
    uint64_t doc_len;
    ctl_str media;
    size_t n_readers;
    ctl_str readers[CTL_PUT_READERS_MAX];
} ctl_put_hdr;
int ctl_put_hdr_decode(const uint8_t *p, size_t n, ctl_put_hdr *out);
/* Encode h into out[0..cap): CTL_E_MALFORMED when h breaks a cap, CTL_E_BUFSIZE
 * when cap is short. */
int ctl_put_hdr_encode(const ctl_put_hdr *h, uint8_t *out, size_t cap, size_t *len);
/* A frame inside an upload that has taken `got` of `total` bytes: type
 * PUT_DATA with 1..total-got bytes or PUT_END without a payload when got ==
 * total. CTL_E_TYPE (any other type), CTL_E_EMPTY, CTL_E_OVER, CTL_E_BODY,
 * CTL_E_UNDER. */
int ctl_put_frame_check(uint8_t type, size_t n, uint64_t total, uint64_t got);

/* ---- answers (the client decodes them) --------------------------------- */
/* An answer frame's payload by type: OUT / ERR / DATA (any bytes), DONE
 * (exit:u8 then the result; CTL_E_MALFORMED when empty), CONTINUE (empty:
 * else CTL_E_BODY). Any other type: CTL_E_TYPE. */
typedef struct ctl_rep {
    uint8_t type;
    ctl_str data;         /* OUT, ERR, DATA: the payload; DONE: the result */
    uint8_t exit_code;    /* DONE */
} ctl_rep;
int ctl_rep_decode(uint8_t type, const uint8_t *p, size_t n, ctl_rep *out);
/* DONE's payload: exit_code then (only when it is 0) the result. Writes
 * 1 + res_len bytes (or 1) to out[0..cap). */
int ctl_done_encode(uint8_t exit_code, const uint8_t *res, size_t res_len, uint8_t *out,
                    size_t cap, size_t *len);
/* The results in DONE. */
int ctl_nonce_result_decode(const uint8_t *p, size_t n, uint64_t *nonce);
void ctl_nonce_result_encode(uint64_t nonce, uint8_t out[CTL_NONCE_RESULT_LEN]);
/* SUBMIT: txid[32] status:u8 height:u64 (in_block is 0: the node relays). */
int ctl_submit_result_decode(const uint8_t *p, size_t n, cli_submitted *out);
void ctl_submit_result_encode(const uint8_t txid[32], uint8_t status, uint64_t height,
                              uint8_t out[CTL_SUBMIT_RESULT_LEN]);
/* XCH_PEERS: count:u8 (conn:u64 binding[32] org_id[32])*count, count at
 * most CTL_XCH_PEERS_MAX (CTL_E_COUNT), the length exactly that
 * (CTL_E_MALFORMED). The first min(count, cap) peers go to out, *n_out. */
int ctl_xch_peers_result_decode(const uint8_t *p, size_t n, cli_xch_peer *out, size_t cap,
                                size_t *n_out);
/* n at most CTL_XCH_PEERS_MAX (else CTL_E_COUNT); out holds
 * CTL_XCH_PEERS_RESULT_MAX bytes. */
int ctl_xch_peers_result_encode(const cli_xch_peer *peers, size_t n,
                                uint8_t out[CTL_XCH_PEERS_RESULT_MAX], size_t *len);
/* VAULT_PUT: doc_sha256[32] locator[32] doc_len:u64 envelope_len:u64. */
int ctl_put_result_decode(const uint8_t *p, size_t n, cli_put_result *out);
void ctl_put_result_encode(const cli_put_result *r, uint8_t out[CTL_PUT_RESULT_LEN]);

/* ---- big-endian integers (the protocol's only integer form) ------------ */
void ctl_put_u16(uint8_t *p, uint32_t v);
void ctl_put_u32(uint8_t *p, uint32_t v);
void ctl_put_u64(uint8_t *p, uint64_t v);
uint32_t ctl_get_u16(const uint8_t *p);
uint32_t ctl_get_u32(const uint8_t *p);
uint64_t ctl_get_u64(const uint8_t *p);

#endif
