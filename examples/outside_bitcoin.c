/*
 * An "outside" program: built against the INSTALLED library with
 *     cc outside_bitcoin.c $(pkg-config --cflags --libs libhre)
 * it reproduces Bitcoin main-net facts with libhre's public API only:
 * the genesis block hash and its proof of work, the header chain 0 -> 1 -> 2,
 * block 100000's hash and Merkle root from its four txids, nBits decoding and
 * four real retarget periods. CI runs it after `meson install`.
 * Exit status 0 if every fact is reproduced.
 */
#include <stdio.h>
#include <string.h>

#include <hre/hre.h>

static const struct { unsigned height; const char *hash, *raw; } headers[] = {
    {0, "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f",
     "0100000000000000000000000000000000000000000000000000000000000000000000003ba3edfd7a7b12b27ac72c3e67768f617fc81bc3888a51323a9fb8aa4b1e5e4a29ab5f49ffff001d1dac2b7c"},
    {1, "00000000839a8e6886ab5951d76f411475428afc90947ee320161bbf18eb6048",
     "010000006fe28c0ab6f1b372c1a6a246ae63f74f931e8365e15a089c68d6190000000000982051fd1e4ba744bbbe680e1fee14677ba1a3c3540bf7b1cdb606e857233e0e61bc6649ffff001d01e36299"},
    {2, "000000006a625f06636b8bb6ac7b960a8d03705d1ace08b1a19da3fdcc99ddbd",
     "010000004860eb18bf1b1620e37e9490fc8a427514416fd75159ab86688e9a8300000000d5fdcc541e25de1c7a5addedf24858b8bb665c9f36ef744ee42c316022c90f9bb0bc6649ffff001d08d2bd61"},
    {100000, "000000000003ba27aa200b1cecaad478d2b00432346c3f1f3986da1afd33e506",
     "0100000050120119172a610421a6c3011dd330d9df07b63616c2cc1f1cd00200000000006657a9252aacd5c0b2940996ecff952228c3067cc38d4885efb5a4ac4247e9f337221b4d4c86041b0f2b5710"},
};

static const char *txids_100000[] = {
    "8c14f0db3df150123e6f3dbbf30f8b955a8249b62ac1d1ff16284aefa3d06d87",
    "fff2525b8931402dd09222c50775608f75787bd2b87e56995a7bdd30f79702c4",
    "6359f0868171b1d194cbee1af2f16ea598ae8fad666d9b012c8ed2b79a236ec4",
    "e9a66845e05d5abc0ad04ec80f774a7e585c6e8db975962d069a522137b80c1d",
};
static const char *merkle_100000 = "f3e94742aca4b5ef85488dc37c06c3282295ffec960994b2c0d5ac2a25a95766";

static const struct { uint32_t last_bits; int64_t first, last; uint32_t expected; } retargets[] = {
    {0x1d00ffff, 1261130161, 1262152739, 0x1d00d86a},
    {0x1d00ffff, 1231006505, 1233061996, 0x1d00ffff},
    {0x1c05a3f4, 1279008237, 1279297671, 0x1c0168fd},
    {0x1c387f6f, 1263163443, 1269211443, 0x1d00e1fd},
};

static int failures;
#define CHECK(cond, ...) do { if (!(cond)) { failures++; printf("FAIL: " __VA_ARGS__); printf("\n"); } } while (0)

int main(void)
{
    uint8_t pow_limit[32], prev[32] = {0};
    int neg, ovf;

    printf("libhre %s (headers %s)\n", hre_version_string(), HRE_VERSION_STRING);
    CHECK(hre_pow_target_from_compact(pow_limit, &neg, &ovf, 0x1d00ffff) == HRE_OK && !neg && !ovf,
          "pow limit decode");

    for (size_t i = 0; i < sizeof headers / sizeof headers[0]; i++) {
        uint8_t raw[80], enc[80], hash[32];
        size_t n = sizeof raw;
        hre_header h;
        char disp[65];
        CHECK(hre_hex_decode(raw, &n, headers[i].raw, 160) == HRE_OK && n == 80, "hex");
        CHECK(hre_header_decode(&h, raw, 80) == HRE_OK, "decode header %u", headers[i].height);
        CHECK(hre_header_encode(&h, enc) == HRE_OK && memcmp(enc, raw, 80) == 0,
              "re-encode header %u", headers[i].height);
        CHECK(hre_header_hash(&h, hash) == HRE_OK, "hash header %u", headers[i].height);
        CHECK(hre_hash_display_encode(disp, hash) == HRE_OK && strcmp(disp, headers[i].hash) == 0,
              "hash of header %u: %s", headers[i].height, disp);
        CHECK(hre_pow_check(&h, pow_limit) == HRE_OK, "PoW of header %u", headers[i].height);
        if (headers[i].height <= 2)
            CHECK(memcmp(h.prev_hash, prev, 32) == 0, "header %u links to its parent", headers[i].height);
        memcpy(prev, hash, 32);
        printf("block %6u  %s  PoW ok\n", headers[i].height, disp);
        if (headers[i].height == 100000) {
            uint8_t leaves[4][32], root[32];
            int mutated = -1;
            for (int t = 0; t < 4; t++)
                CHECK(hre_hash_display_decode(leaves[t], txids_100000[t], 64) == HRE_OK, "txid");
            CHECK(hre_merkle_root(root, &mutated, (const uint8_t (*)[32])leaves, 4) == HRE_OK, "root");
            CHECK(hre_hash_display_encode(disp, root) == HRE_OK && strcmp(disp, merkle_100000) == 0 && !mutated,
                  "block 100000 Merkle root %s", disp);
            CHECK(memcmp(root, h.merkle_root, 32) == 0, "root matches the header");
            printf("block 100000 Merkle root rebuilt from 4 txids: %s\n", disp);
        }
    }

    for (size_t i = 0; i < sizeof retargets / sizeof retargets[0]; i++) {
        uint32_t got = 0;
        CHECK(hre_pow_retarget(&got, retargets[i].last_bits, retargets[i].last - retargets[i].first,
                               14 * 24 * 60 * 60, pow_limit) == HRE_OK, "retarget %zu", i);
        CHECK(got == retargets[i].expected, "retarget %zu: %08x, want %08x", i, got, retargets[i].expected);
        printf("retarget %08x over %lld s -> %08x\n", retargets[i].last_bits,
               (long long)(retargets[i].last - retargets[i].first), got);
    }

    if (failures) {
        printf("%d Bitcoin fact(s) NOT reproduced\n", failures);
        return 1;
    }
    printf("all Bitcoin main-net facts reproduced\n");
    return 0;
}
