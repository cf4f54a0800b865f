/*
 * Fuzz target: every node message decoder (lib/node/msg.c) on hostile
 * bytes. Input: one selector byte (mod 8: hello, identity, version,
 * getheaders, headers, inv/getdata/notfound, app, ping/pong), then the
 * payload.
 * Invariants (abort on violation): every decoder returns one of its
 * documented codes; an accepted payload has exactly the length its counts
 * imply, counts within their caps, borrowed pointers inside the input, and
 * re-encodes to the same bytes where the format has an encoder; a refused
 * payload leaves the outputs zeroed; nothing reads past the input.
 * Seeds: tests/fuzz/corpus/node_msg/ (written by the "node" Check suite's
 * test_write_fuzz_seeds with HRE_NODE_CORPUS_DIR set).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "node/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int zero(const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i]) return 0;
    return 1;
}

static void in_input(const uint8_t *p, size_t n, const uint8_t *d, size_t size)
{
    if (n && (p < d || p + n > d + size)) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *d = data + 1, *ptr = NULL;
    size_t len, count = 0;
    int rc;
    if (size < 1) return 0;
    len = size - 1;
    switch (data[0] % 8) {
    case 0: {
        uint32_t v;
        uint8_t net[32], again[HRE_NODE__HELLO_LEN];
        rc = hre_node__hello_decode(&v, net, d, len);
        if (rc == HRE_OK) {
            if (len != HRE_NODE__HELLO_LEN || v == 0) abort();
            hre_node__hello_encode(again, net);
            /* the encoder writes our version; compare the rest */
            if (memcmp(again, d, 4) != 0 || memcmp(again + 8, d + 8, 32) != 0) abort();
        } else if (rc != HRE_EDECODE && rc != HRE_EVERIFY && rc != HRE_ESTATE) {
            abort();
        }
        break;
    }
    case 1: {
        int has;
        uint8_t key[34], sig[64];
        rc = hre_node__identity_decode(&has, key, sig, d, len);
        if (rc == HRE_OK) {
            if (has ? len != HRE_NODE__ID_LEN || memcmp(key, d + 2, 34) || memcmp(sig, d + 36, 64)
                    : len != HRE_NODE__ID_NONE_LEN)
                abort();
        } else if (rc != HRE_EDECODE || has || !zero(key, 34) || !zero(sig, 64)) {
            abort();
        }
        break;
    }
    case 2: {
        hre_node__version v;
        uint8_t again[HRE_NODE__VERSION_LEN];
        rc = hre_node__version_decode(&v, d, len);
        if (rc == HRE_OK) {
            if (len < HRE_NODE__VERSION_LEN || (v.protocol <= HRE_NODE_PROTOCOL_VERSION && len != HRE_NODE__VERSION_LEN))
                abort();
            hre_node__version_encode(again, &v);
            if (memcmp(again, d, HRE_NODE__VERSION_LEN) != 0) abort();
        } else if (rc != HRE_EDECODE || !zero(&v, sizeof v)) {
            abort();
        }
        break;
    }
    case 3: {
        uint8_t stop[32];
        rc = hre_node__getheaders_decode(&ptr, &count, stop, d, len);
        if (rc == HRE_OK) {
            if (count < 1 || count > HRE_NODE_MAX_LOCATOR) abort();
            if (len != hre_node__list_len(count, 32) + 32) abort();
            in_input(ptr, 32 * count, d, len);
            if (memcmp(stop, d + len - 32, 32) != 0) abort();
        } else if ((rc != HRE_EDECODE && rc != HRE_ELIMIT) || ptr || count || !zero(stop, 32)) {
            abort();
        }
        break;
    }
    case 4:
        rc = hre_node__headers_decode(&ptr, &count, d, len);
        if (rc == HRE_OK) {
            if (count > HRE_NODE_MAX_HEADERS || len != hre_node__list_len(count, 80)) abort();
            in_input(ptr, 80 * count, d, len);
        } else if ((rc != HRE_EDECODE && rc != HRE_ELIMIT) || ptr || count) {
            abort();
        }
        break;
    case 5:
        rc = hre_node__inv_decode(&ptr, &count, d, len);
        if (rc == HRE_OK) {
            if (count < 1 || count > HRE_NODE_MAX_INV || len != hre_node__list_len(count, HRE_NODE__INV_ENTRY))
                abort();
            in_input(ptr, HRE_NODE__INV_ENTRY * count, d, len);
            for (size_t i = 0; i < count; i++)
                if (ptr[33 * i] != HRE_NODE__INV_TX && ptr[33 * i] != HRE_NODE__INV_BLOCK) abort();
        } else if ((rc != HRE_EDECODE && rc != HRE_ELIMIT) || ptr || count) {
            abort();
        }
        break;
    case 6: {
        uint16_t type;
        size_t dl;
        rc = hre_node__app_decode(&type, &ptr, &dl, d, len);
        if (rc == HRE_OK) {
            if (type == 0 || dl != len - 2 || type != (uint16_t)(d[0] | d[1] << 8)) abort();
            in_input(ptr, dl, d, len);
        } else if (rc != HRE_EDECODE || ptr || dl) {
            abort();
        }
        break;
    }
    default: {
        uint64_t nonce;
        rc = hre_node__nonce_decode(&nonce, d, len);
        if ((rc == HRE_OK) != (len == 8)) abort();
        if (rc != HRE_OK && (rc != HRE_EDECODE || nonce)) abort();
        break;
    }
    }
    /* the caps the framing applies are consistent with the decoders' */
    if (hre_node__cap(HRE_NODE__CMD_HEADERS, 0, 0) != hre_node__list_len(HRE_NODE_MAX_HEADERS, 80)) abort();
    return 0;
}
