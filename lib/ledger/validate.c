/*
 * Full block validation: proof of work, expected bits, times, Merkle root and
 * mutation, duplicate txids, caps, transaction decoding, signatures on the
 * ledger's pool beside the contract apply.
 * docs/PROTOCOL.md section 7.
 */
#include <stdlib.h>
#include <string.h>

#include "chain/internal.h"
#include "core/internal.h"
#include "hre/merkle.h"
#include "hre/pow.h"
#include "ledger/internal.h"

int hre_ledger__expected_bits(const hre_ledger *l, hre_ledger__node *parent, uint32_t *bits)
{
    uint64_t h = parent->height + 1;
    hre_ledger__node *first = NULL;
    uint32_t nb;

    if (hre_chain__is_retarget(&l->params, h)) {
        first = hre_ledger__ancestor(l, parent, h - l->params.retarget_interval);
        if (!first)
            return hre__fail(HRE_ECORRUPT, "ledger: retarget ancestor at height %llu missing",
                             (unsigned long long)(h - l->params.retarget_interval));
    }
    if (hre_chain__expected_bits(&nb, &l->params, h, parent->header.bits, parent->header.time,
                                 first ? first->header.time : 0) != HRE_OK)
        return hre__fail(HRE_ECORRUPT, "ledger: retarget failed at height %llu",
                         (unsigned long long)h);
    *bits = nb;
    return HRE_OK;
}

static int cmp_hash(const void *a, const void *b)
{
    return memcmp(a, b, 32);
}

int hre_ledger__check_block(hre_ledger *l, const hre_block *blk, uint8_t hash[32],
                            uint8_t (**txids_out)[32], hre_ledger_status *st)
{
    const hre_header *h = hre_block_header(blk);
    size_t n = hre_block_tx_count(blk), i;
    uint8_t (*txids)[32] = NULL, (*sorted)[32] = NULL, root[32];
    int rc, mutated = 0;

    *txids_out = NULL;
    if ((rc = hre_header_hash(h, hash)) != HRE_OK)
        return rc;
    rc = hre_pow_check_hash(hash, h->bits, l->params.pow_limit);
    if (rc == HRE_EVERIFY) {
        char why[160];
        hre_ledger__why(why, sizeof why);
        return HRE_LEDGER__REJ(st, HRE_LEDGER_REJECT_POW, HRE_EVERIFY, "block: proof of work invalid (%s)", why);
    }
    if (rc != HRE_OK)
        return rc;
    txids = hre__malloc((n ? n : 1) * 32);
    sorted = hre__malloc((n ? n : 1) * 32);
    if (!txids || !sorted) {
        rc = hre__fail(HRE_ENOMEM, "block: out of memory");
        goto out;
    }
    for (i = 0; i < n; i++)
        if ((rc = hre_block_txid(blk, txids[i], i)) != HRE_OK)
            goto out;
    if ((rc = hre_merkle_root(root, &mutated, (const uint8_t(*)[32])txids, n)) != HRE_OK)
        goto out;
    if (memcmp(root, h->merkle_root, 32) != 0) {
        rc = HRE_LEDGER__REJ(st, HRE_LEDGER_REJECT_MERKLE, HRE_EVERIFY,
                 "block: merkle root differs from the root over its %zu txids", n);
        goto out;
    }
    if (mutated) {
        rc = HRE_LEDGER__REJ(st, HRE_LEDGER_REJECT_MERKLE_MUTATED, HRE_EVERIFY,
                 "block: mutated merkle tree (CVE-2012-2459 duplicate pattern)");
        goto out;
    }
    memcpy(sorted, txids, n * 32);
    qsort(sorted, n, 32, cmp_hash);
    for (i = 1; i < n; i++) {
        if (memcmp(sorted[i - 1], sorted[i], 32) == 0) {
            rc = HRE_LEDGER__REJ(st, HRE_LEDGER_REJECT_DUPLICATE_TX, HRE_EEXISTS,
                     "block: the same transaction appears twice");
            goto out;
        }
    }
    *txids_out = txids;
    txids = NULL;
    rc = HRE_OK;
out:
    hre__free(txids);
    hre__free(sorted);
    return rc;
}

int hre_ledger__check_bytes(hre_ledger *l, const uint8_t *b, size_t len, hre_block **out,
                            uint8_t hash[32], uint8_t (**txids)[32], hre_ledger_status *st)
{
    hre__reader r;
    uint64_t count;
    int rc;

    *out = NULL;
    *txids = NULL;
    if (len > l->limits.max_block_size)
        return HRE_LEDGER__REJ(st, HRE_LEDGER_REJECT_SIZE, HRE_ELIMIT,
                   "block: %zu bytes, over the %llu-byte cap", len,
                   (unsigned long long)l->limits.max_block_size);
    if (len < HRE_HEADER_LEN + 1)
        return HRE_LEDGER__REJ(st, HRE_LEDGER_REJECT_DECODE, HRE_EDECODE, "block: %zu bytes, too short", len);
    hre__reader_init(&r, b + HRE_HEADER_LEN, len - HRE_HEADER_LEN);
    if (hre__reader_compact(&r, &count, UINT64_MAX) != HRE_OK)
        return HRE_LEDGER__REJ(st, HRE_LEDGER_REJECT_DECODE, HRE_EDECODE, "block: bad transaction count");
    if (count > l->limits.max_tx_count)
        return HRE_LEDGER__REJ(st, HRE_LEDGER_REJECT_TX_COUNT, HRE_ELIMIT,
                   "block: %llu transactions, over the cap of %llu", (unsigned long long)count,
                   (unsigned long long)l->limits.max_tx_count);
    rc = hre_block_decode(out, b, len, &l->limits);
    if (rc == HRE_ENOMEM)
        return rc;
    if (rc != HRE_OK) {
        char why[160];
        hre_ledger__why(why, sizeof why);
        return HRE_LEDGER__REJ(st, HRE_LEDGER_REJECT_DECODE, rc, "block: does not decode (%s)", why);
    }
    rc = hre_ledger__check_block(l, *out, hash, txids, st);
    if (rc != HRE_OK) {
        hre_block_free(*out);
        *out = NULL;
    }
    return rc;
}

int hre_ledger__check_context(hre_ledger *l, hre_ledger__node *parent, const hre_header *h,
                              uint64_t now, int check_future, hre_ledger_status *st)
{
    uint32_t bits = 0, mtp;
    int rc = hre_ledger__expected_bits(l, parent, &bits);
    if (rc != HRE_OK)
        return rc;
    if (h->bits != bits)
        return HRE_LEDGER__REJ(st, HRE_LEDGER_REJECT_BITS, HRE_EVERIFY,
                   "block at height %llu: bits 0x%08x, expected 0x%08x",
                   (unsigned long long)(parent->height + 1), h->bits, bits);
    mtp = hre_ledger__mtp(l, parent);
    if (h->time <= mtp)
        return HRE_LEDGER__REJ(st, HRE_LEDGER_REJECT_TIME_OLD, HRE_ESTATE,
                   "block at height %llu: time %u not above the median time past %u",
                   (unsigned long long)(parent->height + 1), h->time, mtp);
    if (check_future && now <= UINT64_MAX - HRE_LEDGER__FUTURE_LIMIT &&
        (uint64_t)h->time > now + HRE_LEDGER__FUTURE_LIMIT)
        return HRE_LEDGER__REJ(st, HRE_LEDGER_REJECT_TIME_FUTURE, HRE_ESTATE,
                   "block at height %llu: time %u more than 2 h after now (%llu)",
                   (unsigned long long)(parent->height + 1), h->time, (unsigned long long)now);
    return HRE_OK;
}

/* Signature verification of a block's transactions, one loop item each. */
typedef struct vctx {
    int *res;
    hre_tx **vtx;
    const uint8_t *net;
    hre_keycache *kc;
} vctx;

static void verify_item(void *arg, size_t i)
{
    vctx *v = arg;
    v->res[i] = hre_tx_verify(v->vtx[i], v->kc, v->net);
}

int hre_ledger__apply_txs(hre_ledger *l, hre_contract *c, const hre_block *blk,
                          const uint8_t (*txids)[32], int verify, int skip_known,
                          hre_ledger_status *st)
{
    size_t n = hre_block_tx_count(blk), i, nv = 0;
    hre_tx **txs = NULL, **vtx = NULL;
    size_t *vidx = NULL, k;
    int *res = NULL, rc = HRE_OK, crc = HRE_OK, parallel, vfail = 0;
    uint32_t btime = hre_block_header(blk)->time;
    size_t applied = 0, cbad = 0;
    char cwhy[200] = "";
    vctx vc;
    hre__pool_job vjob;

    if (n == 0)
        return HRE_OK;
    txs = hre__calloc(n, sizeof *txs);
    vtx = hre__calloc(n, sizeof *vtx);
    vidx = hre__calloc(n, sizeof *vidx);
    res = hre__calloc(n, sizeof *res);
    if (!txs || !vtx || !vidx || !res) {
        rc = hre__fail(HRE_ENOMEM, "block: out of memory");
        goto out;
    }
    for (i = 0; i < n; i++) {
        const uint8_t *p;
        size_t len;
        (void)hre_block_tx(blk, &p, &len, i);
        rc = hre_tx_decode_cached(&txs[i], l->kc, p, len);
        if (rc == HRE_ENOMEM)
            goto out;
        if (rc != HRE_OK) {
            char why[160];
            hre_ledger__why(why, sizeof why);
            rc = HRE_LEDGER__REJ(st, HRE_LEDGER_REJECT_TX_DECODE, rc, "block tx %zu does not decode (%s)", i, why);
            goto out;
        }
        if (verify && !(skip_known && txids && hre__map_get(&l->mp_map, txids[i]))) {
            vtx[nv] = txs[i];
            vidx[nv++] = i;
        }
    }
    /* Signatures are verified on the pool's workers while this thread
     * applies the transactions to the contract (apply is undoable, so a bad
     * signature found afterwards just undoes the block); this thread joins
     * the verification when it is done applying. With a pool of 0 threads
     * everything runs here, verification first. */
    vc.res = res;
    vc.vtx = vtx;
    vc.net = l->network_id;
    vc.kc = l->kc;
    parallel = nv > 0 && hre_pool_threads(l->pool) > 0;
    if (parallel) {
        hre__pool_begin(l->pool, &vjob, nv, verify_item, &vc);
    } else if (nv) {
        hre__pool_for(NULL, nv, verify_item, &vc);
        for (i = 0; i < nv; i++)
            vfail |= res[i] != HRE_OK;
    }
    for (i = 0, k = 0; i < n && !vfail; i++) {
        /* The signature of txs[i] is settled when it was verified in the
         * mempool (not in vtx) or on the serial path (already marked); on
         * the parallel path it is being verified right now, and a failure
         * undoes the block below: the ledger vouches for it (defect 1.7). */
        int in_flight = k < nv && vidx[k] == i;
        if (in_flight)
            k++;
        l->cur_tx = (uint32_t)i;
        crc = hre_contract_apply(c, txs[i], btime,
                                 !in_flight || parallel ? HRE_CONTRACT_APPLY_SIG_VERIFIED_BY_CALLER : 0);
        if (crc != HRE_OK) {
            hre_ledger__why(cwhy, sizeof cwhy);
            cbad = i;
            (void)hre_ledger__undo(c, applied);
            applied = 0;
            break;
        }
        applied++;
    }
    if (parallel) {
        hre__pool_join(l->pool, &vjob);
        for (i = 0; i < nv; i++)
            vfail |= res[i] != HRE_OK;
    }
    if (vfail) {
        (void)hre_ledger__undo(c, applied);
        applied = 0;
        for (i = 0; i < nv; i++) {
            if (res[i] == HRE_ENOMEM || res[i] == HRE_ECRYPTO) {
                rc = hre__fail(res[i], "block tx %zu: verification could not run", vidx[i]);
                goto out;
            }
        }
        for (i = 0; i < nv && res[i] == HRE_OK; i++)
            ;
        if (i == nv)
            i = 0;
        rc = HRE_LEDGER__REJ(st, HRE_LEDGER_REJECT_TX_SIGNATURE, HRE_EVERIFY,
                 "block tx %zu: signature or network id does not verify", vidx[i]);
        goto out;
    }
    if (crc != HRE_OK) {
        l->bad_tx = cbad;
        if (crc == HRE_ENOMEM)
            rc = hre__fail(HRE_ENOMEM, "block tx %zu: out of memory", cbad);
        else
            rc = HRE_LEDGER__REJ(st, HRE_LEDGER_REJECT_CONTRACT, crc,
                     "block tx %zu refused by the contract: %s", cbad, cwhy);
        goto out;
    }
    rc = HRE_OK;
out:
    if (txs)
        for (i = 0; i < n; i++)
            hre_tx_free(txs[i]);
    hre__free(txs);
    hre__free(vtx);
    hre__free(vidx);
    hre__free(res);
    return rc;
}

/* ---- a block's transactions, decoded ahead (reorgs) ---- */

void hre_ledger__btx_free(hre_ledger__btx *b)
{
    size_t i;
    if (!b || !b->tx)
        return;
    for (i = 0; i < b->n; i++)
        hre_tx_free(b->tx[i]);
    hre__free(b->tx);
    b->tx = NULL;
    b->n = 0;
}

int hre_ledger__btx_decode(hre_ledger *l, hre_ledger__btx *b, const hre_block *blk,
                           hre_ledger_status *st)
{
    size_t i;
    int rc;
    b->n = hre_block_tx_count(blk);
    b->time = hre_block_header(blk)->time;
    b->tx = hre__calloc(b->n ? b->n : 1, sizeof *b->tx);
    if (!b->tx) {
        b->n = 0;
        return hre__fail(HRE_ENOMEM, "block: out of memory");
    }
    for (i = 0; i < b->n; i++) {
        const uint8_t *p;
        size_t len;
        (void)hre_block_tx(blk, &p, &len, i);
        rc = hre_tx_decode_cached(&b->tx[i], l->kc, p, len);
        if (rc != HRE_OK) {
            char why[160];
            hre_ledger__why(why, sizeof why);
            hre_ledger__btx_free(b);
            if (rc == HRE_ENOMEM)
                return hre__fail(HRE_ENOMEM, "block tx %zu: out of memory", i);
            return HRE_LEDGER__REJ(st, HRE_LEDGER_REJECT_TX_DECODE, rc,
                                   "block tx %zu does not decode (%s)", i, why);
        }
    }
    return HRE_OK;
}

int hre_ledger__btx_verify(hre_ledger *l, hre_ledger__btx *b, size_t nb,
                           const uint8_t (*const *txids)[32], size_t *bad_block,
                           hre_ledger_status *st)
{
    size_t total = 0, nv = 0, i, j;
    hre_tx **vtx = NULL;
    size_t *vblk = NULL, *vidx = NULL;
    int *res = NULL, rc = HRE_OK;
    vctx vc;

    *bad_block = SIZE_MAX;
    for (i = 0; i < nb; i++)
        total += b[i].n;
    if (total == 0)
        return HRE_OK;
    vtx = hre__calloc(total, sizeof *vtx);
    vblk = hre__calloc(total, sizeof *vblk);
    vidx = hre__calloc(total, sizeof *vidx);
    res = hre__calloc(total, sizeof *res);
    if (!vtx || !vblk || !vidx || !res) {
        rc = hre__fail(HRE_ENOMEM, "block: out of memory");
        goto out;
    }
    for (i = 0; i < nb; i++) {
        for (j = 0; j < b[i].n; j++) {
            /* verified when it entered the mempool */
            if (txids && txids[i] && hre__map_get(&l->mp_map, txids[i][j]))
                continue;
            vtx[nv] = b[i].tx[j];
            vblk[nv] = i;
            vidx[nv++] = j;
        }
    }
    vc.res = res;
    vc.vtx = vtx;
    vc.net = l->network_id;
    vc.kc = l->kc;
    hre__pool_for(l->pool, nv, verify_item, &vc);
    for (i = 0; i < nv; i++) {
        if (res[i] == HRE_OK)
            continue;
        if (res[i] == HRE_ENOMEM || res[i] == HRE_ECRYPTO) {
            rc = hre__fail(res[i], "block tx %zu: verification could not run", vidx[i]);
            goto out;
        }
    }
    for (i = 0; i < nv && res[i] == HRE_OK; i++)
        ;
    if (i < nv) {
        *bad_block = vblk[i];
        rc = HRE_LEDGER__REJ(st, HRE_LEDGER_REJECT_TX_SIGNATURE, HRE_EVERIFY,
                             "block tx %zu: signature or network id does not verify", vidx[i]);
    }
out:
    hre__free(vtx);
    hre__free(vblk);
    hre__free(vidx);
    hre__free(res);
    return rc;
}

int hre_ledger__btx_apply(hre_ledger *l, hre_contract *c, const hre_ledger__btx *b,
                          hre_ledger_status *st)
{
    size_t i;
    for (i = 0; i < b->n; i++) {
        int rc;
        l->cur_tx = (uint32_t)i;
        /* every signature was verified (btx_verify) or vouched for */
        rc = hre_contract_apply(c, b->tx[i], b->time, HRE_CONTRACT_APPLY_SIG_VERIFIED_BY_CALLER);
        if (rc != HRE_OK) {
            char why[200];
            hre_ledger__why(why, sizeof why);
            (void)hre_ledger__undo(c, i);
            l->bad_tx = i;
            if (rc == HRE_ENOMEM)
                return hre__fail(HRE_ENOMEM, "block tx %zu: out of memory", i);
            return HRE_LEDGER__REJ(st, HRE_LEDGER_REJECT_CONTRACT, rc,
                                   "block tx %zu refused by the contract: %s", i, why);
        }
    }
    return HRE_OK;
}

/* ---- blocks rejected for good (in memory, the newest BAD_MAX) ---- */

int hre_ledger__verdict_final(hre_ledger_status st)
{
    /* Verdicts fixed by the header hash: header-only checks against a known
     * parent, and checks of a body the Merkle root commits to (a body that
     * failed the root, the mutation or the duplicate check, or that does
     * not decode as a block, proves nothing about the header: the same
     * header may come with a good body). */
    switch (st) {
    case HRE_LEDGER_REJECT_POW:
    case HRE_LEDGER_REJECT_BITS:
    case HRE_LEDGER_REJECT_TIME_OLD:
    case HRE_LEDGER_REJECT_TX_DECODE:
    case HRE_LEDGER_REJECT_TX_SIGNATURE:
    case HRE_LEDGER_REJECT_CONTRACT:
    case HRE_LEDGER_REJECT_INVALID_PARENT:
        return 1;
    default:
        return 0;
    }
}

void hre_ledger__bad_add(hre_ledger *l, const uint8_t hash[32])
{
    size_t slot;
    if (hre__map_get(&l->bad_map, hash))
        return;
    if (!l->bad_ring) {
        l->bad_ring = hre__malloc(HRE_LEDGER__BAD_MAX * sizeof *l->bad_ring);
        if (!l->bad_ring)
            return;   /* best effort: the block is refused anyway */
    }
    if (hre__map_reserve(&l->bad_map, 1) != HRE_OK)
        return;
    if (l->bad_n == HRE_LEDGER__BAD_MAX) {
        slot = l->bad_head;
        hre__map_del(&l->bad_map, l->bad_ring[slot]);
        l->bad_head = (l->bad_head + 1) % HRE_LEDGER__BAD_MAX;
    } else {
        slot = (l->bad_head + l->bad_n++) % HRE_LEDGER__BAD_MAX;
    }
    memcpy(l->bad_ring[slot], hash, 32);
    (void)hre__map_put(&l->bad_map, l->bad_ring[slot], l->bad_ring[slot]);
}

int hre_ledger__bad_known(const hre_ledger *l, const uint8_t hash[32])
{
    return hre__map_get(&l->bad_map, hash) != NULL;
}
