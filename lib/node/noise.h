/*
 * The Noise Protocol Framework core (revision 34) for the node's channel:
 * Noise_XX_25519_AESGCM_SHA256, and every other handshake pattern of the
 * spec (the 12 interactive and 3 one-way fundamental patterns, the 23
 * deferred ones, and psk modifiers), since the engine reads the pattern from
 * the protocol name. DH is X25519, the cipher AES-256-GCM with Noise's nonce
 * (32 zero bits || 64-bit big-endian counter), the hash SHA-256 with HMAC and
 * HKDF as the spec defines them. docs/PROTOCOL.md section 9 fixes the
 * framing and limits.
 *
 * Internal to libhre (layer 6): the node wraps it. Thread safety: every
 * object here is used by one thread at a time.
 *
 * Failure rules:
 *  - A refused call that changed nothing (wrong turn, buffer too small, a
 *    payload that would make the message exceed 65535 bytes) returns its code
 *    and the handshake carries on.
 *  - A message from the peer that is oversized, truncated, or fails to
 *    decrypt, or a local crypto failure, kills the handshake: it returns the
 *    code (HRE_ELIMIT, HRE_EDECODE, HRE_EDECRYPT, HRE_ECRYPTO) and from then
 *    on every call except the queries and free returns HRE_EFATAL
 *    (common.h rule 10). The peer must be disconnected.
 *  - Transport messages that fail to decrypt return HRE_EDECRYPT and leave
 *    the receiving nonce unchanged; the node decides whether to drop the
 *    connection (on a reliable stream it must).
 */
#ifndef HRE_NODE_NOISE_H
#define HRE_NODE_NOISE_H

#include "core/internal.h"
#include "crypto/x25519.h"

#define HRE_NOISE__MAX_MSG 65535     /* every Noise message, handshake or transport */
#define HRE_NOISE__TAG_LEN 16
#define HRE_NOISE__KEY_LEN 32
#define HRE_NOISE__HASH_LEN 32
#define HRE_NOISE__DH_LEN 32
#define HRE_NOISE__MAX_PAYLOAD (HRE_NOISE__MAX_MSG - HRE_NOISE__TAG_LEN)   /* transport */
#define HRE_NOISE__MAX_PSKS 4
#define HRE_NOISE__FRAME_HDR 2       /* frame = u16 big-endian length || message */

typedef struct hre_aead hre_aead;

/* ---- CipherState ---- */
typedef struct hre_noise__cipher {
    hre_aead *aead;                   /* NULL: no key (k = empty) */
    uint8_t k[HRE_NOISE__KEY_LEN];
    uint64_t n;
} hre_noise__cipher;

/* InitializeKey(k): n = 0. HRE_OK, HRE_ENOMEM, HRE_ECRYPTO. */
int hre_noise__cipher_init(hre_noise__cipher *c, const uint8_t k[32]);
int hre_noise__cipher_has_key(const hre_noise__cipher *c);
/* SetNonce (tests of the nonce limit). */
void hre_noise__cipher_set_nonce(hre_noise__cipher *c, uint64_t n);
/* EncryptWithAd: out = ct || tag (pt copied as is without a key).
 * In/Out: *outlen capacity in, bytes written out (needed, on HRE_EBUFSIZE).
 * HRE_ELIMIT when n has reached 2^64 - 1 (never used: refused instead).
 * out may equal pt. */
int hre_noise__cipher_encrypt(hre_noise__cipher *c, uint8_t *out, size_t *outlen,
                              const uint8_t *ad, size_t adlen, const uint8_t *pt, size_t ptlen);
/* DecryptWithAd. HRE_EDECRYPT (n unchanged, out zeroed), HRE_EDECODE
 * (ctlen < 16 with a key), HRE_ELIMIT, HRE_EBUFSIZE. out may equal ct. */
int hre_noise__cipher_decrypt(hre_noise__cipher *c, uint8_t *out, size_t *outlen,
                              const uint8_t *ad, size_t adlen, const uint8_t *ct, size_t ctlen);
/* Rekey(): k = first 32 bytes of ENCRYPT(k, 2^64 - 1, "", 32 zero bytes); n kept. */
int hre_noise__cipher_rekey(hre_noise__cipher *c);
void hre_noise__cipher_clear(hre_noise__cipher *c);

/* ---- HandshakeState ---- */
typedef struct hre_noise__hs hre_noise__hs;

typedef struct hre_noise__config {
    const char *protocol;          /* e.g. "Noise_XX_25519_AESGCM_SHA256" */
    int initiator;                 /* 1: initiator, 0: responder */
    const uint8_t *prologue;       /* may be NULL if prologuelen == 0 */
    size_t prologuelen;
    const hre_x25519__key *s;      /* local static key pair (a reference is taken) or NULL */
    const uint8_t *rs;             /* remote static public key (32) when the pattern has it as a pre-message */
    const uint8_t (*psks)[32];     /* one per psk modifier, in token order */
    size_t npsks;
    const uint8_t *e;              /* TESTS ONLY (the vectors): a fixed ephemeral private key; NULL = fresh */
} hre_noise__config;

typedef enum hre_noise__action {
    HRE_NOISE__WRITE = 1,          /* our turn: hre_noise__hs_write */
    HRE_NOISE__READ = 2,           /* the peer's turn: hre_noise__hs_read */
    HRE_NOISE__DONE = 3,           /* handshake complete: hre_noise__hs_split */
    HRE_NOISE__FAILED = 4          /* dead: only queries and free */
} hre_noise__action;

/* Create a handshake. HRE_OK; HRE_EUNSUPPORTED (unknown pattern, modifier
 * or cipher suite); HRE_EINVAL (a static key, remote static or psk the
 * pattern needs is missing, or one is given that it does not use; prologue
 * longer than 65535); HRE_ENOMEM; HRE_ECRYPTO. */
int hre_noise__hs_new(hre_noise__hs **out, const hre_noise__config *cfg);
void hre_noise__hs_free(hre_noise__hs *hs);
hre_noise__action hre_noise__hs_action(const hre_noise__hs *hs);
/* Write the next handshake message carrying payload.
 * In/Out: *msglen capacity in, bytes written out (or needed: HRE_EBUFSIZE).
 * HRE_ESTATE (not our turn), HRE_EFATAL (failed earlier), HRE_ELIMIT (message would exceed
 * 65535 bytes), HRE_ECRYPTO. */
int hre_noise__hs_write(hre_noise__hs *hs, uint8_t *msg, size_t *msglen,
                        const uint8_t *payload, size_t payloadlen);
/* As hre_noise__hs_write, with a payload of exactly payloadlen bytes that
 * fn writes once the message's tokens are processed: fn(arg, h, payload,
 * payloadlen) gets the handshake hash h at that point -- the hash the
 * payload is then mixed into, which the peer reads back with
 * hre_noise__hs_payload_hash after hre_noise__hs_read -- and fills
 * payload[0..payloadlen). A failure fn returns kills the handshake. */
typedef int (*hre_noise__payload_fn)(void *arg, const uint8_t h[32], uint8_t *payload, size_t len);
int hre_noise__hs_write_fn(hre_noise__hs *hs, uint8_t *msg, size_t *msglen, size_t payloadlen,
                           hre_noise__payload_fn fn, void *arg);
/* The handshake hash just before the payload of the last message written
 * or read was mixed in (what a signature in that payload covers). */
void hre_noise__hs_payload_hash(const hre_noise__hs *hs, uint8_t h[32]);
/* Read the peer's next handshake message.
 * In/Out: *payloadlen capacity in, bytes written out (needed: HRE_EBUFSIZE,
 * which is not fatal). HRE_ESTATE (not the peer's turn); HRE_EFATAL (failed earlier);
 * HRE_ELIMIT (msglen > 65535), HRE_EDECODE (too short), HRE_EDECRYPT
 * (authentication failed), HRE_ECRYPTO: all fatal. */
int hre_noise__hs_read(hre_noise__hs *hs, uint8_t *payload, size_t *payloadlen,
                       const uint8_t *msg, size_t msglen);
/* The handshake hash h (channel binding; final once DONE). */
void hre_noise__hs_hash(const hre_noise__hs *hs, uint8_t h[32]);
/* The peer's static public key, once received (or given). HRE_ENOTFOUND before. */
int hre_noise__hs_remote_static(const hre_noise__hs *hs, uint8_t rs[32]);
/* Index of the next handshake message (0-based) and the pattern's count. */
size_t hre_noise__hs_message_index(const hre_noise__hs *hs);
size_t hre_noise__hs_message_count(const hre_noise__hs *hs);

/* ---- Transport (after Split) ---- */
typedef struct hre_noise__transport {
    hre_noise__cipher send;        /* no key for a one-way responder */
    hre_noise__cipher recv;        /* no key for a one-way initiator */
    uint8_t h[HRE_NOISE__HASH_LEN];
    int initiator;
    int one_way;
} hre_noise__transport;

/* Split() into t (zeroed first). HRE_ESTATE unless DONE. The handshake may
 * be freed afterwards; t owns its keys (clear with _transport_clear). */
int hre_noise__hs_split(hre_noise__hs *hs, hre_noise__transport *t);
/* Encrypt one transport message: *outlen = ptlen + 16. HRE_ELIMIT
 * (ptlen > HRE_NOISE__MAX_PAYLOAD, or the send nonce exhausted), HRE_ESTATE
 * (a one-way responder), HRE_EBUFSIZE, HRE_ECRYPTO. The transport payload
 * is authenticated with an empty ad. */
int hre_noise__transport_write(hre_noise__transport *t, uint8_t *out, size_t *outlen,
                               const uint8_t *pt, size_t ptlen);
/* Decrypt one transport message. HRE_EDECRYPT, HRE_EDECODE (< 16 bytes),
 * HRE_ELIMIT (> 65535 bytes, or the receive nonce exhausted), HRE_ESTATE,
 * HRE_EBUFSIZE. */
int hre_noise__transport_read(hre_noise__transport *t, uint8_t *out, size_t *outlen,
                              const uint8_t *ct, size_t ctlen);
int hre_noise__transport_rekey_send(hre_noise__transport *t);
int hre_noise__transport_rekey_recv(hre_noise__transport *t);
void hre_noise__transport_clear(hre_noise__transport *t);

/* ---- Stream framing ---- */
/* frame = u16 big-endian length || message, length <= 65535.
 * encode: *outlen capacity in, 2 + msglen out (HRE_EBUFSIZE, HRE_ELIMIT). */
int hre_noise__frame_encode(uint8_t *out, size_t *outlen, const uint8_t *msg, size_t msglen);
/* decode the first frame of buf[0..len): HRE_OK with *msg / *msglen set and
 * *consumed = 2 + msglen; HRE_OK with *consumed = 0 when the frame is not
 * complete yet (read more); never reads past len. */
int hre_noise__frame_decode(const uint8_t **msg, size_t *msglen, size_t *consumed,
                            const uint8_t *buf, size_t len);

#endif /* HRE_NODE_NOISE_H */
