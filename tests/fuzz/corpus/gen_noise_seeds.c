/*
 * Generates the seed corpus tests/fuzz/corpus/noise_handshake/: for each
 * mode of fuzz_noise_handshake.c, an honest peer (the complementary keys of
 * noise_fuzz_keys.h) completes the handshake with a copy of the side under
 * test and sends three transport messages; its messages are written as
 * frames after the mode byte. Not built by meson; run by hand, e.g.
 *   cc -std=c11 -DHRE_WHITEBOX -Iinclude -Ilib -Itests/fuzz \
 *      tests/fuzz/corpus/gen_noise_seeds.c build/libhre_test.a -lcrypto -lz -lpthread -o gen \
 *   && ./gen tests/fuzz/corpus/noise_handshake
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hre/errors.h"
#include "node/noise.h"
#include "noise_fuzz_keys.h"

static uint8_t out[1 << 17];
static size_t outlen;

static void frame(const uint8_t *m, size_t n)
{
    size_t l = sizeof out - outlen;
    if (hre_noise__frame_encode(out + outlen, &l, m, n) != HRE_OK) exit(1);
    outlen += l;
}

static void check(int rc, const char *what)
{
    if (rc != HRE_OK) {
        fprintf(stderr, "%s: %d %s\n", what, rc, hre_error_detail());
        exit(1);
    }
}

int main(int argc, char **argv)
{
    for (int mode = 0; mode < NF_MODES; mode++) {
        hre_noise__config ct = {0}, cp = {0};
        hre_noise__hs *target, *peer;
        hre_noise__transport tt, tp;
        hre_x25519__key rk, ks, kp;
        uint8_t m[1024], pl[1024];
        char path[512];
        FILE *f;
        int ti = NF_TARGET_INITIATOR[mode];
        ct.protocol = cp.protocol = NF_PROTOCOL[mode];
        ct.prologue = cp.prologue = (const uint8_t *)NF_PROLOGUE;
        ct.prologuelen = cp.prologuelen = strlen(NF_PROLOGUE);
        ct.initiator = ti;
        cp.initiator = !ti;
        check(hre_x25519__from_private(&ks, ti ? NF_INIT_STATIC : NF_RESP_STATIC), "key");
        check(hre_x25519__from_private(&kp, ti ? NF_RESP_STATIC : NF_INIT_STATIC), "key");
        ct.s = &ks;
        ct.e = ti ? NF_INIT_EPH : NF_RESP_EPH;
        cp.s = &kp;
        cp.e = ti ? NF_RESP_EPH : NF_INIT_EPH;
        if (mode == 2) {   /* IK: the initiator (peer) knows the responder's static */
            check(hre_x25519__from_private(&rk, NF_RESP_STATIC), "key");
            cp.rs = rk.pub;
        }
        if (mode == 3) {
            ct.psks = cp.psks = NF_PSK;
            ct.npsks = cp.npsks = 1;
        }
        check(hre_noise__hs_new(&target, &ct), "target");
        check(hre_noise__hs_new(&peer, &cp), "peer");
        outlen = 0;
        out[outlen++] = (uint8_t)mode;
        while (hre_noise__hs_action(target) != HRE_NOISE__DONE) {
            size_t ml = sizeof m, pll = sizeof pl;
            int target_writes = hre_noise__hs_action(target) == HRE_NOISE__WRITE;
            hre_noise__hs *w = target_writes ? target : peer, *r = target_writes ? peer : target;
            check(hre_noise__hs_write(w, m, &ml, (const uint8_t *)(target_writes ? "fz" : "seed"),
                                      target_writes ? 2 : 4), "write");
            check(hre_noise__hs_read(r, pl, &pll, m, ml), "read");
            if (!target_writes) frame(m, ml);
        }
        check(hre_noise__hs_split(target, &tt), "split");
        check(hre_noise__hs_split(peer, &tp), "split");
        for (int i = 0; i < 3; i++) {
            size_t ml = sizeof m;
            check(hre_noise__transport_write(&tp, m, &ml, (const uint8_t *)"transport", 9), "transport");
            frame(m, ml);
        }
        snprintf(path, sizeof path, "%s/mode%d_honest", argc > 1 ? argv[1] : ".", mode);
        f = fopen(path, "wb");
        if (!f || fwrite(out, 1, outlen, f) != outlen || fclose(f) != 0) {
            perror(path);
            return 1;
        }
        hre_noise__transport_clear(&tt);
        hre_noise__transport_clear(&tp);
        hre_noise__hs_free(target);
        hre_noise__hs_free(peer);
        if (mode == 2) hre_x25519__clear(&rk);
        hre_x25519__clear(&ks);
        hre_x25519__clear(&kp);
    }
    return 0;
}
