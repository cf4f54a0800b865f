/*
 * Suite "channel": the Noise core of the node channel (lib/node/noise.c)
 * and X25519 (lib/crypto/x25519.c). Both are internal, so the suite is
 * white-box only: the black-box build has no tests here and meson does not
 * register it (tests/meson.build, whitebox_only_modules).
 *
 * Vectors: every entry of noise/cacophony_25519_AESGCM_SHA256.json and
 * noise/snow_25519_AESGCM_SHA256.json (all 110 use the one suite; the
 * engine reads any fundamental, deferred or psk pattern from the name). Per
 * entry: both sides are built with the vector's prologue, keys, fixed
 * ephemerals and psks; each handshake message is written by its sender
 * (ciphertext must match exactly) and read by the other (payload exact);
 * the handshake hash must match (cacophony lists it) and be equal on both
 * sides; after Split every transport message is sealed and opened the same
 * way (one-way patterns: all by the initiator; otherwise alternating by
 * message index). The numbers of entries, Noise_XX* entries and messages are
 * asserted.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hre/errors.h"
#include "testjson.h"
#include "testutil.h"

#ifdef HRE_WHITEBOX
#include "crypto/x25519.h"
#include "node/noise.h"

#define XX "Noise_XX_25519_AESGCM_SHA256"

static int all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i]) return 0;
    return 1;
}

/* An optional 32-byte hex member into buf; returns buf or NULL. */
static const uint8_t *key32(const hre_tj *v, const char *name, uint8_t buf[32])
{
    const hre_tj *m = hre_tj_get(v, name);
    if (!m) return NULL;
    ck_assert_msg(m->type == HRE_TJ_STR && strlen(m->str) == 64, "%s is not 32 bytes of hex", name);
    hre_t_unhex(buf, 32, m->str);
    return buf;
}

static size_t psks_of(const hre_tj *v, const char *name, uint8_t psks[HRE_NOISE__MAX_PSKS][32])
{
    const hre_tj *a = hre_tj_get(v, name);
    size_t n = a ? hre_tj_len(a) : 0;
    ck_assert_uint_le(n, HRE_NOISE__MAX_PSKS);
    for (size_t i = 0; i < n; i++) {
        const hre_tj *p = hre_tj_at(a, i);
        ck_assert(p->type == HRE_TJ_STR && strlen(p->str) == 64);
        hre_t_unhex(psks[i], 32, p->str);
    }
    return n;
}

typedef struct run_counts {
    size_t entries, xx, hs_msgs, transport_msgs, hashes;
} run_counts;

static void run_vector(const hre_tj *v, run_counts *c)
{
    const char *name = hre_tj_str(v, "protocol_name");
    uint8_t is[32], irs[32], ie[32], rsk[32], rrs[32], re[32], ipsk[HRE_NOISE__MAX_PSKS][32],
        rpsk[HRE_NOISE__MAX_PSKS][32], hh[32], h1[32], h2[32];
    uint8_t *ipro, *rpro;
    hre_noise__config ci = {0}, cr = {0};
    hre_noise__hs *hi = NULL, *hr = NULL;
    hre_noise__transport ti, tr;
    hre_x25519__key ski = {0}, skr = {0};
    const hre_tj *msgs = hre_tj_get(v, "messages");
    size_t nmsg = hre_tj_len(msgs), nhs;
    int one_way;

    ci.protocol = cr.protocol = name;
    ci.initiator = 1;
    ci.prologuelen = hre_tj_hex(v, "init_prologue", &ipro);
    cr.prologuelen = hre_tj_hex(v, "resp_prologue", &rpro);
    ci.prologue = ipro;
    cr.prologue = rpro;
    if (key32(v, "init_static", is)) {
        ck_assert_int_eq(hre_x25519__from_private(&ski, is), HRE_OK);
        ci.s = &ski;
    }
    ci.rs = key32(v, "init_remote_static", irs);
    ci.e = key32(v, "init_ephemeral", ie);
    if (key32(v, "resp_static", rsk)) {
        ck_assert_int_eq(hre_x25519__from_private(&skr, rsk), HRE_OK);
        cr.s = &skr;
    }
    cr.rs = key32(v, "resp_remote_static", rrs);
    cr.e = key32(v, "resp_ephemeral", re);
    ci.npsks = psks_of(v, "init_psks", ipsk);
    cr.npsks = psks_of(v, "resp_psks", rpsk);
    ci.psks = (const uint8_t(*)[32])ipsk;
    cr.psks = (const uint8_t(*)[32])rpsk;
    ck_assert_msg(hre_noise__hs_new(&hi, &ci) == HRE_OK, "%s initiator: %s", name, hre_error_detail());
    ck_assert_msg(hre_noise__hs_new(&hr, &cr) == HRE_OK, "%s responder: %s", name, hre_error_detail());
    nhs = hre_noise__hs_message_count(hi);
    one_way = nhs == 1;
    ck_assert_uint_le(nhs, nmsg);

    for (size_t i = 0; i < nmsg; i++) {
        const hre_tj *m = hre_tj_at(msgs, i);
        uint8_t *payload, *ct, buf[HRE_NOISE__MAX_MSG], out[HRE_NOISE__MAX_MSG];
        size_t pl = hre_tj_hex(m, "payload", &payload), cl = hre_tj_hex(m, "ciphertext", &ct);
        size_t bl = sizeof buf, ol = sizeof out;
        int from_init = one_way || i % 2 == 0;
        if (i < nhs) {
            hre_noise__hs *w = from_init ? hi : hr, *r = from_init ? hr : hi;
            ck_assert_int_eq(hre_noise__hs_action(w), HRE_NOISE__WRITE);
            ck_assert_int_eq(hre_noise__hs_action(r), HRE_NOISE__READ);
            ck_assert_msg(hre_noise__hs_write(w, buf, &bl, payload, pl) == HRE_OK, "%s msg %zu: write: %s",
                          name, i, hre_error_detail());
            ck_assert_msg(bl == cl && memcmp(buf, ct, cl) == 0, "%s handshake message %zu differs", name, i);
            ck_assert_msg(hre_noise__hs_read(r, out, &ol, buf, bl) == HRE_OK, "%s msg %zu: read: %s",
                          name, i, hre_error_detail());
            ck_assert_msg(ol == pl && memcmp(out, payload, pl) == 0, "%s msg %zu: payload differs", name, i);
            c->hs_msgs++;
            if (i + 1 == nhs) {
                ck_assert_int_eq(hre_noise__hs_action(hi), HRE_NOISE__DONE);
                ck_assert_int_eq(hre_noise__hs_action(hr), HRE_NOISE__DONE);
                hre_noise__hs_hash(hi, h1);
                hre_noise__hs_hash(hr, h2);
                ck_assert_mem_eq(h1, h2, 32);
                if (key32(v, "handshake_hash", hh)) {
                    ck_assert_msg(memcmp(h1, hh, 32) == 0, "%s: handshake hash differs", name);
                    c->hashes++;
                }
                ck_assert_int_eq(hre_noise__hs_split(hi, &ti), HRE_OK);
                ck_assert_int_eq(hre_noise__hs_split(hr, &tr), HRE_OK);
                ck_assert_mem_eq(ti.h, h1, 32);
            }
        } else {
            hre_noise__transport *w = from_init ? &ti : &tr, *r = from_init ? &tr : &ti;
            ck_assert_msg(hre_noise__transport_write(w, buf, &bl, payload, pl) == HRE_OK, "%s msg %zu: %s",
                          name, i, hre_error_detail());
            ck_assert_msg(bl == cl && memcmp(buf, ct, cl) == 0, "%s transport message %zu differs", name, i);
            ck_assert_int_eq(hre_noise__transport_read(r, out, &ol, buf, bl), HRE_OK);
            ck_assert_msg(ol == pl && memcmp(out, payload, pl) == 0, "%s msg %zu: payload differs", name, i);
            c->transport_msgs++;
        }
        free(payload);
        free(ct);
    }
    if (one_way) {
        /* the responder of a one-way pattern never sends */
        uint8_t b[32];
        size_t bl = sizeof b;
        ck_assert_int_eq(hre_noise__transport_write(&tr, b, &bl, b, 1), HRE_ESTATE);
    }
    c->entries++;
    if (!strncmp(name, "Noise_XX", 8)) c->xx++;
    hre_noise__transport_clear(&ti);
    hre_noise__transport_clear(&tr);
    hre_noise__hs_free(hi);
    hre_noise__hs_free(hr);
    hre_x25519__clear(&ski);
    hre_x25519__clear(&skr);
    free(ipro);
    free(rpro);
}

static void run_file(const char *rel, run_counts *c)
{
    hre_tj *doc = hre_tj_load_vector(rel);
    const hre_tj *vs = hre_tj_get(doc, "vectors");
    for (size_t i = 0; i < hre_tj_len(vs); i++) run_vector(hre_tj_at(vs, i), c);
    hre_tj_free(doc);
}

START_TEST(test_vectors_cacophony)
{
    run_counts c = {0};
    run_file("noise/cacophony_25519_AESGCM_SHA256.json", &c);
    printf("noise cacophony_25519_AESGCM_SHA256.json: %zu entries (%zu Noise_XX*), %zu handshake and %zu "
           "transport messages, %zu handshake hashes\n", c.entries, c.xx, c.hs_msgs, c.transport_msgs, c.hashes);
    ck_assert_uint_eq(c.entries, 59);
    ck_assert_uint_eq(c.xx, 3);   /* Noise_XX, Noise_XXpsk3, Noise_XX1 */
    ck_assert_uint_eq(c.hashes, 59);
    ck_assert_uint_eq(c.hs_msgs, 143);
    ck_assert_uint_eq(c.transport_msgs, 211);
}
END_TEST

START_TEST(test_vectors_snow)
{
    run_counts c = {0};
    run_file("noise/snow_25519_AESGCM_SHA256.json", &c);
    printf("noise snow_25519_AESGCM_SHA256.json: %zu entries (%zu Noise_XX*), %zu handshake and %zu "
           "transport messages\n", c.entries, c.xx, c.hs_msgs, c.transport_msgs);
    ck_assert_uint_eq(c.entries, 51);
    ck_assert_uint_eq(c.xx, 6);   /* XX, XX1, XXpsk0+psk1, +psk2, +psk3, psk0+psk1+psk2+psk3 */
    ck_assert_uint_eq(c.hs_msgs, 133);
    ck_assert_uint_eq(c.transport_msgs, 99);
}
END_TEST

/* RFC 7748 section 6.1. */
START_TEST(test_x25519_rfc7748)
{
    uint8_t a[32], b[32], apub[32], bpub[32], want[32], s1[32], s2[32], back[32];
    hre_x25519__key ka, kb, zero_peer;
    hre_t_unhex(a, 32, "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
    hre_t_unhex(apub, 32, "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
    hre_t_unhex(b, 32, "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
    hre_t_unhex(bpub, 32, "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
    hre_t_unhex(want, 32, "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
    ck_assert_int_eq(hre_x25519__from_private(&ka, a), HRE_OK);
    ck_assert_int_eq(hre_x25519__from_private(&kb, b), HRE_OK);
    ck_assert_mem_eq(ka.pub, apub, 32);
    ck_assert_mem_eq(kb.pub, bpub, 32);
    ck_assert_int_eq(hre_x25519__dh(s1, &ka, bpub), HRE_OK);
    ck_assert_int_eq(hre_x25519__dh(s2, &kb, apub), HRE_OK);
    ck_assert_mem_eq(s1, want, 32);
    ck_assert_mem_eq(s2, want, 32);
    ck_assert_int_eq(hre_x25519__private(back, &ka), HRE_OK);
    ck_assert_mem_eq(back, a, 32);
    /* low-order points (0 and 1) give an all-zero secret: refused */
    memset(back, 0, 32);
    ck_assert_int_eq(hre_x25519__dh(s1, &ka, back), HRE_EDECODE);
    ck_assert(all_zero(s1, 32));
    back[0] = 1;
    ck_assert_int_eq(hre_x25519__dh(s1, &ka, back), HRE_EDECODE);
    hre_x25519__clear(&ka);
    hre_x25519__clear(&kb);
    ck_assert_ptr_null(ka.pkey);
    ck_assert_int_eq(hre_x25519__generate(&zero_peer), HRE_OK);
    ck_assert(!all_zero(zero_peer.pub, 32));
    hre_x25519__clear(&zero_peer);
}
END_TEST

/* ---- a live XX handshake with fresh keys ---- */

typedef struct pair {
    hre_noise__hs *i, *r;
    hre_x25519__key ki, kr;
} pair;

static void pair_new(pair *p, const char *prologue)
{
    hre_noise__config ci = {0}, cr = {0};
    ck_assert_int_eq(hre_x25519__generate(&p->ki), HRE_OK);
    ck_assert_int_eq(hre_x25519__generate(&p->kr), HRE_OK);
    ci.protocol = cr.protocol = XX;
    ci.initiator = 1;
    ci.prologue = cr.prologue = (const uint8_t *)prologue;
    ci.prologuelen = cr.prologuelen = strlen(prologue);
    ci.s = &p->ki;
    cr.s = &p->kr;
    ck_assert_int_eq(hre_noise__hs_new(&p->i, &ci), HRE_OK);
    ck_assert_int_eq(hre_noise__hs_new(&p->r, &cr), HRE_OK);
}

static void pair_free(pair *p)
{
    hre_noise__hs_free(p->i);
    hre_noise__hs_free(p->r);
    hre_x25519__clear(&p->ki);
    hre_x25519__clear(&p->kr);
}

/* w writes a message with payload, r reads it; both must succeed. */
static void step(hre_noise__hs *w, hre_noise__hs *r, const char *payload)
{
    uint8_t m[1024], out[1024];
    size_t ml = sizeof m, ol = sizeof out;
    ck_assert_int_eq(hre_noise__hs_write(w, m, &ml, (const uint8_t *)payload, strlen(payload)), HRE_OK);
    ck_assert_int_eq(hre_noise__hs_read(r, out, &ol, m, ml), HRE_OK);
    ck_assert_uint_eq(ol, strlen(payload));
    ck_assert(memcmp(out, payload, ol) == 0);
}

START_TEST(test_xx_live)
{
    pair p;
    hre_noise__transport ti, tr;
    uint8_t rs[32], h1[32], h2[32], m[100], out[100];
    size_t ml, ol;
    pair_new(&p, "hre-test");
    ck_assert_int_eq(hre_noise__hs_remote_static(p.r, rs), HRE_ENOTFOUND);
    step(p.i, p.r, "hello");
    step(p.r, p.i, "node identity proof goes here");
    ck_assert_int_eq(hre_noise__hs_remote_static(p.i, rs), HRE_OK);
    ck_assert_mem_eq(rs, p.kr.pub, 32);
    step(p.i, p.r, "");
    ck_assert_int_eq(hre_noise__hs_remote_static(p.r, rs), HRE_OK);
    ck_assert_mem_eq(rs, p.ki.pub, 32);
    hre_noise__hs_hash(p.i, h1);
    hre_noise__hs_hash(p.r, h2);
    ck_assert_mem_eq(h1, h2, 32);
    ck_assert_int_eq(hre_noise__hs_split(p.i, &ti), HRE_OK);
    ck_assert_int_eq(hre_noise__hs_split(p.r, &tr), HRE_OK);
    {
        hre_noise__transport again;
        ck_assert_int_eq(hre_noise__hs_split(p.r, &again), HRE_ESTATE);   /* once */
        ck_assert(all_zero((const uint8_t *)&again, sizeof again));
    }
    /* both directions, then rekey one direction on both ends */
    for (int round = 0; round < 3; round++) {
        ml = sizeof m;
        ck_assert_int_eq(hre_noise__transport_write(&ti, m, &ml, (const uint8_t *)"ping", 4), HRE_OK);
        ck_assert_uint_eq(ml, 20);
        ol = sizeof out;
        ck_assert_int_eq(hre_noise__transport_read(&tr, out, &ol, m, ml), HRE_OK);
        ck_assert(ol == 4 && memcmp(out, "ping", 4) == 0);
        ml = sizeof m;
        ck_assert_int_eq(hre_noise__transport_write(&tr, m, &ml, (const uint8_t *)"pong", 4), HRE_OK);
        ol = sizeof out;
        ck_assert_int_eq(hre_noise__transport_read(&ti, out, &ol, m, ml), HRE_OK);
        /* replay is refused (the nonce moved on), without harming the channel */
        ol = sizeof out;
        ck_assert_int_eq(hre_noise__transport_read(&ti, out, &ol, m, ml), HRE_EDECRYPT);
        ck_assert_int_eq(hre_noise__transport_rekey_send(&ti), HRE_OK);
        ck_assert_int_eq(hre_noise__transport_rekey_recv(&tr), HRE_OK);
    }
    /* a rekey on one end only: the other end cannot read */
    ck_assert_int_eq(hre_noise__transport_rekey_send(&ti), HRE_OK);
    ml = sizeof m;
    ck_assert_int_eq(hre_noise__transport_write(&ti, m, &ml, (const uint8_t *)"x", 1), HRE_OK);
    ol = sizeof out;
    ck_assert_int_eq(hre_noise__transport_read(&tr, out, &ol, m, ml), HRE_EDECRYPT);
    /* size limits */
    {
        uint8_t *big = calloc(1, HRE_NOISE__MAX_MSG + 32);
        size_t bl = HRE_NOISE__MAX_MSG + 32;
        ck_assert_int_eq(hre_noise__transport_write(&tr, big, &bl, big, HRE_NOISE__MAX_PAYLOAD + 1), HRE_ELIMIT);
        bl = HRE_NOISE__MAX_MSG + 32;
        ck_assert_int_eq(hre_noise__transport_write(&tr, big, &bl, big, HRE_NOISE__MAX_PAYLOAD), HRE_OK);
        ck_assert_uint_eq(bl, HRE_NOISE__MAX_MSG);
        ol = HRE_NOISE__MAX_MSG + 32;
        ck_assert_int_eq(hre_noise__transport_read(&ti, big, &ol, big, HRE_NOISE__MAX_MSG + 1), HRE_ELIMIT);
        ck_assert_int_eq(hre_noise__transport_read(&ti, big, &ol, big, 15), HRE_EDECODE);
        free(big);
    }
    hre_noise__transport_clear(&ti);
    hre_noise__transport_clear(&tr);
    pair_free(&p);
}
END_TEST

/* The nonce is never reused and never reaches 2^64 - 1. */
START_TEST(test_nonce_limit)
{
    hre_noise__cipher a = {0}, b = {0};
    uint8_t k[32] = {7}, m[64], out[64];
    size_t ml = sizeof m, ol = sizeof out;
    ck_assert_int_eq(hre_noise__cipher_init(&a, k), HRE_OK);
    ck_assert_int_eq(hre_noise__cipher_init(&b, k), HRE_OK);
    hre_noise__cipher_set_nonce(&a, UINT64_MAX - 1);
    hre_noise__cipher_set_nonce(&b, UINT64_MAX - 1);
    ck_assert_int_eq(hre_noise__cipher_encrypt(&a, m, &ml, NULL, 0, (const uint8_t *)"last", 4), HRE_OK);
    ck_assert_int_eq(hre_noise__cipher_decrypt(&b, out, &ol, NULL, 0, m, ml), HRE_OK);
    ml = sizeof m;
    ck_assert_int_eq(hre_noise__cipher_encrypt(&a, m, &ml, NULL, 0, (const uint8_t *)"more", 4), HRE_ELIMIT);
    ck_assert_ptr_nonnull(strstr(hre_error_detail(), "nonce exhausted"));
    ol = sizeof out;
    ck_assert_int_eq(hre_noise__cipher_decrypt(&b, out, &ol, NULL, 0, m, 20), HRE_ELIMIT);
    /* rekey keeps n, so it does not reopen the door */
    ck_assert_int_eq(hre_noise__cipher_rekey(&a), HRE_OK);
    ml = sizeof m;
    ck_assert_int_eq(hre_noise__cipher_encrypt(&a, m, &ml, NULL, 0, (const uint8_t *)"more", 4), HRE_ELIMIT);
    hre_noise__cipher_clear(&a);
    hre_noise__cipher_clear(&b);
    /* without a key, EncryptWithAd is the identity */
    ml = sizeof m;
    ck_assert_int_eq(hre_noise__cipher_encrypt(&a, m, &ml, NULL, 0, (const uint8_t *)"clear", 5), HRE_OK);
    ck_assert(ml == 5 && memcmp(m, "clear", 5) == 0);
}
END_TEST

/* Out-of-order, oversized, truncated and tampered messages. */
START_TEST(test_state_machine_refusals)
{
    pair p;
    uint8_t m[2048], out[2048];
    size_t ml, ol;

    pair_new(&p, "");
    /* the responder may not write first, the initiator may not read first: not fatal */
    ml = sizeof m;
    ck_assert_int_eq(hre_noise__hs_write(p.r, m, &ml, NULL, 0), HRE_ESTATE);
    ol = sizeof out;
    ck_assert_int_eq(hre_noise__hs_read(p.i, out, &ol, m, 32), HRE_ESTATE);
    ck_assert_int_eq(hre_noise__hs_action(p.i), HRE_NOISE__WRITE);
    ck_assert_int_eq(hre_noise__hs_action(p.r), HRE_NOISE__READ);
    /* a payload that would exceed 65535 bytes, a short buffer: not fatal */
    {
        uint8_t *big = calloc(1, HRE_NOISE__MAX_MSG);
        ml = HRE_NOISE__MAX_MSG;
        ck_assert_int_eq(hre_noise__hs_write(p.i, big, &ml, big, HRE_NOISE__MAX_MSG - 31), HRE_ELIMIT);
        ml = HRE_NOISE__MAX_MSG;
        ck_assert_int_eq(hre_noise__hs_write(p.i, big, &ml, big, HRE_NOISE__MAX_MSG - 32), HRE_OK);
        ck_assert_uint_eq(ml, HRE_NOISE__MAX_MSG);
        free(big);
        hre_noise__hs_free(p.i);
        hre_noise__hs_free(p.r);
        hre_x25519__clear(&p.ki);
        hre_x25519__clear(&p.kr);
        pair_new(&p, "");
    }
    ml = 10;
    ck_assert_int_eq(hre_noise__hs_write(p.i, m, &ml, (const uint8_t *)"ab", 2), HRE_EBUFSIZE);
    ck_assert_uint_eq(ml, 34);
    ml = sizeof m;
    ck_assert_int_eq(hre_noise__hs_write(p.i, m, &ml, (const uint8_t *)"ab", 2), HRE_OK);
    ol = 1;
    ck_assert_int_eq(hre_noise__hs_read(p.r, out, &ol, m, ml), HRE_EBUFSIZE);   /* not fatal */
    ck_assert_uint_eq(ol, 2);
    ol = sizeof out;
    ck_assert_int_eq(hre_noise__hs_read(p.r, out, &ol, m, ml), HRE_OK);
    /* message 2, tampered: fatal for the initiator */
    ml = sizeof m;
    ck_assert_int_eq(hre_noise__hs_write(p.r, m, &ml, (const uint8_t *)"cd", 2), HRE_OK);
    ck_assert_uint_eq(ml, 32 + 48 + 2 + 16);
    m[40] ^= 1;
    ol = sizeof out;
    ck_assert_int_eq(hre_noise__hs_read(p.i, out, &ol, m, ml), HRE_EDECRYPT);
    ck_assert_int_eq(hre_noise__hs_action(p.i), HRE_NOISE__FAILED);
    m[40] ^= 1;
    ol = sizeof out;
    ck_assert_int_eq(hre_noise__hs_read(p.i, out, &ol, m, ml), HRE_EFATAL);   /* dead */
    ml = sizeof m;
    ck_assert_int_eq(hre_noise__hs_write(p.i, m, &ml, NULL, 0), HRE_EFATAL);
    pair_free(&p);

    /* truncated and oversized: fatal */
    pair_new(&p, "");
    ml = sizeof m;
    ck_assert_int_eq(hre_noise__hs_write(p.i, m, &ml, NULL, 0), HRE_OK);
    ol = sizeof out;
    ck_assert_int_eq(hre_noise__hs_read(p.r, out, &ol, m, 31), HRE_EDECODE);
    ck_assert_int_eq(hre_noise__hs_action(p.r), HRE_NOISE__FAILED);
    pair_free(&p);
    pair_new(&p, "");
    {
        uint8_t *big = calloc(1, HRE_NOISE__MAX_MSG + 1);
        ol = HRE_NOISE__MAX_MSG + 1;
        ck_assert_int_eq(hre_noise__hs_read(p.r, big, &ol, big, HRE_NOISE__MAX_MSG + 1), HRE_ELIMIT);
        ck_assert_int_eq(hre_noise__hs_action(p.r), HRE_NOISE__FAILED);
        free(big);
    }
    pair_free(&p);

    /* a low-order ephemeral from the peer: refused at the first DH */
    pair_new(&p, "");
    memset(m, 0, 32);
    ol = sizeof out;
    ck_assert_int_eq(hre_noise__hs_read(p.r, out, &ol, m, 32), HRE_OK);   /* "e" alone has no DH */
    ml = sizeof m;
    ck_assert_int_eq(hre_noise__hs_write(p.r, m, &ml, NULL, 0), HRE_EDECODE);
    ck_assert_ptr_nonnull(strstr(hre_error_detail(), "low-order"));
    ck_assert_int_eq(hre_noise__hs_action(p.r), HRE_NOISE__FAILED);
    pair_free(&p);

    /* different prologues: the responder cannot read message 2's static */
    {
        hre_noise__config ci = {0}, cr = {0};
        hre_noise__hs *i = NULL, *r = NULL;
        uint8_t s1[32] = {1}, s2[32] = {2};
        hre_x25519__key k1, k2;
        ck_assert_int_eq(hre_x25519__from_private(&k1, s1), HRE_OK);
        ck_assert_int_eq(hre_x25519__from_private(&k2, s2), HRE_OK);
        ci.protocol = cr.protocol = XX;
        ci.initiator = 1;
        ci.prologue = (const uint8_t *)"a";
        cr.prologue = (const uint8_t *)"b";
        ci.prologuelen = cr.prologuelen = 1;
        ci.s = &k1;
        cr.s = &k2;
        ck_assert_int_eq(hre_noise__hs_new(&i, &ci), HRE_OK);
        ck_assert_int_eq(hre_noise__hs_new(&r, &cr), HRE_OK);
        step(i, r, "");   /* message 1 has no encryption */
        ml = sizeof m;
        ck_assert_int_eq(hre_noise__hs_write(r, m, &ml, NULL, 0), HRE_OK);
        ol = sizeof out;
        ck_assert_int_eq(hre_noise__hs_read(i, out, &ol, m, ml), HRE_EDECRYPT);
        hre_noise__hs_free(i);
        hre_noise__hs_free(r);
        hre_x25519__clear(&k1);
        hre_x25519__clear(&k2);
    }
}
END_TEST

START_TEST(test_config_errors)
{
    hre_noise__config c = {0};
    hre_noise__hs *hs = (hre_noise__hs *)1;
    uint8_t sb[32] = {1}, psk[2][32] = {{0}};
    hre_x25519__key s, none = {0};
    ck_assert_int_eq(hre_x25519__from_private(&s, sb), HRE_OK);
    c.protocol = XX;
    c.initiator = 1;
    ck_assert_int_eq(hre_noise__hs_new(&hs, &c), HRE_EINVAL);   /* XX needs s */
    ck_assert_ptr_null(hs);
    c.s = &none;
    ck_assert_int_eq(hre_noise__hs_new(&hs, &c), HRE_EINVAL);   /* an empty key */
    c.s = &s;
    c.rs = sb;
    ck_assert_int_eq(hre_noise__hs_new(&hs, &c), HRE_EINVAL);   /* XX takes no rs */
    c.rs = NULL;
    c.protocol = "Noise_XX_25519_ChaChaPoly_SHA256";
    ck_assert_int_eq(hre_noise__hs_new(&hs, &c), HRE_EUNSUPPORTED);
    c.protocol = "Noise_QQ_25519_AESGCM_SHA256";
    ck_assert_int_eq(hre_noise__hs_new(&hs, &c), HRE_EUNSUPPORTED);
    c.protocol = "Noise_XXfallback_25519_AESGCM_SHA256";
    ck_assert_int_eq(hre_noise__hs_new(&hs, &c), HRE_EUNSUPPORTED);
    c.protocol = "Noise_XXpsk4_25519_AESGCM_SHA256";   /* XX has 3 messages */
    ck_assert_int_eq(hre_noise__hs_new(&hs, &c), HRE_EUNSUPPORTED);
    c.protocol = "Noise_XXpsk0+psk0_25519_AESGCM_SHA256";
    ck_assert_int_eq(hre_noise__hs_new(&hs, &c), HRE_EUNSUPPORTED);
    c.protocol = "Noise_XXpsk0+_25519_AESGCM_SHA256";
    ck_assert_int_eq(hre_noise__hs_new(&hs, &c), HRE_EUNSUPPORTED);
    c.protocol = "Noise_XXpsk0+psk3_25519_AESGCM_SHA256";
    ck_assert_int_eq(hre_noise__hs_new(&hs, &c), HRE_EINVAL);   /* 2 psks needed, 0 given */
    c.psks = (const uint8_t(*)[32])psk;
    c.npsks = 2;
    ck_assert_int_eq(hre_noise__hs_new(&hs, &c), HRE_OK);
    hre_noise__hs_free(hs);
    c.protocol = "Noise_IK_25519_AESGCM_SHA256";
    c.npsks = 0;
    ck_assert_int_eq(hre_noise__hs_new(&hs, &c), HRE_EINVAL);   /* IK initiator needs rs */
    c.initiator = 0;
    ck_assert_int_eq(hre_noise__hs_new(&hs, &c), HRE_OK);   /* the responder does not */
    hre_noise__hs_free(hs);
    hre_noise__hs_free(NULL);
    hre_x25519__clear(&s);
}
END_TEST

/* Frames of every length class, fed one byte at a time. */
START_TEST(test_framing)
{
    static const size_t lens[] = {0, 1, 255, 256, 65535};
    uint8_t *msg = malloc(65535), *stream = malloc(5 * (65535 + 2));
    size_t pos = 0, n, consumed, ml;
    const uint8_t *m;
    hre_t_reseed(hre_t_seed() ^ 0xf4a3e);
    hre_t_rand_bytes(msg, 65535);
    for (size_t i = 0; i < 5; i++) {
        n = 5 * (65535 + 2) - pos;
        ck_assert_int_eq(hre_noise__frame_encode(stream + pos, &n, msg, lens[i]), HRE_OK);
        ck_assert_uint_eq(n, lens[i] + 2);
        pos += n;
    }
    n = 1;
    ck_assert_int_eq(hre_noise__frame_encode(stream, &n, msg, 3), HRE_EBUFSIZE);
    ck_assert_uint_eq(n, 5);
    n = 70000;
    ck_assert_int_eq(hre_noise__frame_encode(stream, &n, msg, 65536), HRE_ELIMIT);
    /* decode: incomplete prefixes give consumed = 0 */
    {
        size_t at = 0;
        for (size_t i = 0; i < 5; i++) {
            for (size_t have = 0; have < lens[i] + 2; have += (lens[i] > 300 ? 997 : 1)) {
                ck_assert_int_eq(hre_noise__frame_decode(&m, &ml, &consumed, stream + at, have), HRE_OK);
                ck_assert_uint_eq(consumed, 0);
                ck_assert_ptr_null(m);
            }
            ck_assert_int_eq(hre_noise__frame_decode(&m, &ml, &consumed, stream + at, pos - at), HRE_OK);
            ck_assert_uint_eq(consumed, lens[i] + 2);
            ck_assert_uint_eq(ml, lens[i]);
            ck_assert(ml == 0 || memcmp(m, msg, ml) == 0);
            at += consumed;
        }
        ck_assert_uint_eq(at, pos);
    }
    free(msg);
    free(stream);
}
END_TEST

/* Every fundamental and deferred pattern, with fresh keys: both sides agree
 * and the transport works (the pattern table beyond the vectors' fixed keys). */
START_TEST(test_all_patterns_live)
{
    static const char *const names[] = {
        "N", "K", "X", "NN", "NK", "NX", "KN", "KK", "KX", "XN", "XK", "XX", "IN", "IK", "IX",
        "NK1", "NX1", "X1N", "X1K", "XK1", "X1K1", "X1X", "XX1", "X1X1", "K1N", "K1K", "KK1",
        "K1K1", "K1X", "KX1", "K1X1", "I1N", "I1K", "IK1", "I1K1", "I1X", "IX1", "I1X1"};
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
        char proto[64];
        hre_x25519__key ki, kr;
        uint8_t m[512], out[512];
        hre_noise__config ci = {0}, cr = {0};
        hre_noise__hs *hi = NULL, *hr = NULL;
        hre_noise__transport ti, tr;
        const char *nm = names[k];
        int ini_s, resp_s, pre_i, pre_r;
        snprintf(proto, sizeof proto, "Noise_%s_25519_AESGCM_SHA256", nm);
        ck_assert_int_eq(hre_x25519__generate(&ki), HRE_OK);
        ck_assert_int_eq(hre_x25519__generate(&kr), HRE_OK);
        /* The letters name each side's static key: N none, K known in advance
         * (a pre-message), X or I sent in the handshake. A one-way pattern's
         * letter is the initiator's; its responder's key is always known. */
        {
            size_t L = strlen(nm);
            char a = nm[0], b = L == 1 ? 'K' : (nm[1] == '1' ? nm[2] : nm[1]);
            ini_s = a != 'N';
            pre_i = a == 'K';
            resp_s = b != 'N';
            pre_r = b == 'K';
        }
        ci.protocol = cr.protocol = proto;
        ci.initiator = 1;
        if (ini_s) ci.s = &ki;
        if (resp_s) cr.s = &kr;
        if (pre_r) ci.rs = kr.pub;
        if (pre_i) cr.rs = ki.pub;
        ck_assert_msg(hre_noise__hs_new(&hi, &ci) == HRE_OK, "%s initiator: %s", proto, hre_error_detail());
        ck_assert_msg(hre_noise__hs_new(&hr, &cr) == HRE_OK, "%s responder: %s", proto, hre_error_detail());
        for (size_t i = 0; i < hre_noise__hs_message_count(hi); i++) {
            hre_noise__hs *w = i % 2 == 0 ? hi : hr, *r = i % 2 == 0 ? hr : hi;
            size_t ml = sizeof m, ol = sizeof out;
            ck_assert_int_eq(hre_noise__hs_write(w, m, &ml, (const uint8_t *)"pl", 2), HRE_OK);
            ck_assert_msg(hre_noise__hs_read(r, out, &ol, m, ml) == HRE_OK, "%s msg %zu: %s", proto, i,
                          hre_error_detail());
            ck_assert(ol == 2 && memcmp(out, "pl", 2) == 0);
        }
        ck_assert_int_eq(hre_noise__hs_split(hi, &ti), HRE_OK);
        ck_assert_int_eq(hre_noise__hs_split(hr, &tr), HRE_OK);
        if (ini_s && !pre_i) {
            uint8_t rs[32];
            ck_assert_int_eq(hre_noise__hs_remote_static(hr, rs), HRE_OK);
            ck_assert_mem_eq(rs, ki.pub, 32);
        }
        {
            size_t ml = sizeof m, ol = sizeof out;
            ck_assert_int_eq(hre_noise__transport_write(&ti, m, &ml, (const uint8_t *)"t", 1), HRE_OK);
            ck_assert_int_eq(hre_noise__transport_read(&tr, out, &ol, m, ml), HRE_OK);
        }
        hre_noise__transport_clear(&ti);
        hre_noise__transport_clear(&tr);
        hre_noise__hs_free(hi);
        hre_noise__hs_free(hr);
        hre_x25519__clear(&ki);
        hre_x25519__clear(&kr);
    }
}
END_TEST
#endif /* HRE_WHITEBOX */

Suite *hre_suite_channel(void);
Suite *hre_suite_channel(void)
{
    Suite *s = suite_create("channel");
#ifdef HRE_WHITEBOX
    TCase *tc = tcase_create("vectors");
    tcase_add_test(tc, test_vectors_cacophony);
    tcase_add_test(tc, test_vectors_snow);
    tcase_add_test(tc, test_x25519_rfc7748);
    suite_add_tcase(s, tc);
    tc = tcase_create("engine");
    tcase_add_test(tc, test_xx_live);
    tcase_add_test(tc, test_nonce_limit);
    tcase_add_test(tc, test_state_machine_refusals);
    tcase_add_test(tc, test_config_errors);
    tcase_add_test(tc, test_framing);
    tcase_add_test(tc, test_all_patterns_live);
    suite_add_tcase(s, tc);
#endif
    return s;
}
