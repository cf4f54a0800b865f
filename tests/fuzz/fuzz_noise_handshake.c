/*
 * Fuzz target: the Noise handshake state machine and transport (internal
 * lib/node/noise.c) fed with arbitrary peer messages.
 *
 * Input: one mode byte (mod NF_MODES: XX responder, XX initiator, IK
 * responder, XXpsk3 responder), then frames (u16 big-endian length ||
 * message, decoded by hre_noise__frame_decode). The side under test has
 * fixed keys (noise_fuzz_keys.h), so a seed recorded from an honest peer
 * (corpus/gen_noise_seeds.c) completes the handshake and reaches the
 * transport phase. Whenever it is the target's turn it writes; when it is
 * the peer's turn the next frame is read; after the handshake the remaining
 * frames are transport messages.
 * Invariants (abort on violation): every call returns a documented code; a
 * failed read (or a write whose DH meets a low-order peer key, HRE_EDECODE)
 * leaves the handshake FAILED and every later read, write or split returns
 * HRE_EFATAL; a read payload is never longer than its message; the
 * handshake never has more messages than the pattern; no crash or leak.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hre/errors.h"
#include "node/noise.h"
#include "noise_fuzz_keys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t g_out[HRE_NOISE__MAX_MSG + 64], g_pl[HRE_NOISE__MAX_MSG + 64];
static hre_x25519__key g_si, g_sr;   /* loaded once; freed at exit */

static void release_keys(void)
{
    hre_x25519__clear(&g_si);
    hre_x25519__clear(&g_sr);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    hre_noise__config cfg = {0};
    hre_noise__hs *hs = NULL;
    hre_noise__transport t;
    int mode, split = 0, rc;
    size_t pos = 1, reads = 0;

    if (size < 1) return 0;
    if (!g_si.pkey) {
        if (hre_x25519__from_private(&g_si, NF_INIT_STATIC) != HRE_OK ||
            hre_x25519__from_private(&g_sr, NF_RESP_STATIC) != HRE_OK)
            abort();
        atexit(release_keys);
    }
    mode = data[0] % NF_MODES;
    cfg.protocol = NF_PROTOCOL[mode];
    cfg.initiator = NF_TARGET_INITIATOR[mode];
    cfg.prologue = (const uint8_t *)NF_PROLOGUE;
    cfg.prologuelen = strlen(NF_PROLOGUE);
    cfg.s = cfg.initiator ? &g_si : &g_sr;
    cfg.e = cfg.initiator ? NF_INIT_EPH : NF_RESP_EPH;
    if (mode == 3) {
        cfg.psks = NF_PSK;
        cfg.npsks = 1;
    }
    if (hre_noise__hs_new(&hs, &cfg) != HRE_OK) abort();

    for (;;) {
        const uint8_t *msg;
        size_t msglen, consumed, ol, pl;
        hre_noise__action act = hre_noise__hs_action(hs);
        if (hre_noise__hs_message_index(hs) > hre_noise__hs_message_count(hs)) abort();
        if (act == HRE_NOISE__WRITE) {
            ol = sizeof g_out;
            rc = hre_noise__hs_write(hs, g_out, &ol, (const uint8_t *)"fz", 2);
            /* writing fails only when a DH meets the peer's low-order key, which kills the handshake */
            if (rc != HRE_OK && (rc != HRE_EDECODE || hre_noise__hs_action(hs) != HRE_NOISE__FAILED)) abort();
            continue;
        }
        if (act == HRE_NOISE__FAILED) {
            ol = sizeof g_out;
            pl = sizeof g_pl;
            if (hre_noise__hs_write(hs, g_out, &ol, NULL, 0) != HRE_EFATAL) abort();
            if (hre_noise__hs_read(hs, g_pl, &pl, g_out, 40) != HRE_EFATAL) abort();
            if (hre_noise__hs_split(hs, &t) != HRE_EFATAL) abort();
            break;
        }
        if (act == HRE_NOISE__DONE) {
            if (hre_noise__hs_split(hs, &t) != HRE_OK) abort();
            split = 1;
            break;
        }
        if (act != HRE_NOISE__READ) abort();
        /* the target may not write now */
        ol = sizeof g_out;
        if (hre_noise__hs_write(hs, g_out, &ol, NULL, 0) != HRE_ESTATE) abort();
        if (hre_noise__frame_decode(&msg, &msglen, &consumed, data + pos, size - pos) != HRE_OK) abort();
        if (!consumed) break;   /* no complete frame left */
        pos += consumed;
        pl = sizeof g_pl;
        rc = hre_noise__hs_read(hs, g_pl, &pl, msg, msglen);
        reads++;
        if (rc == HRE_OK) {
            if (pl > msglen) abort();
        } else if (rc == HRE_EDECODE || rc == HRE_EDECRYPT || rc == HRE_ELIMIT) {
            if (hre_noise__hs_action(hs) != HRE_NOISE__FAILED) abort();
        } else {
            abort();
        }
    }
    if (split) {
        for (;;) {
            const uint8_t *msg;
            size_t msglen, consumed, pl = sizeof g_pl, ol = sizeof g_out;
            if (hre_noise__frame_decode(&msg, &msglen, &consumed, data + pos, size - pos) != HRE_OK) abort();
            if (!consumed) break;
            pos += consumed;
            rc = hre_noise__transport_read(&t, g_pl, &pl, msg, msglen);
            if (rc == HRE_OK) {
                if (pl + HRE_NOISE__TAG_LEN != msglen) abort();
            } else if (rc != HRE_EDECRYPT && rc != HRE_EDECODE) {
                abort();
            }
            if (hre_noise__transport_write(&t, g_out, &ol, g_pl, rc == HRE_OK ? pl : 0) != HRE_OK) abort();
        }
        hre_noise__transport_clear(&t);
    }
    (void)reads;
    hre_noise__hs_free(hs);
    return 0;
}
