/*
 * Fuzz target: the refusal audit log's decoders (PROTOCOL.md 15.8): the
 * file header (hre_vault__xaud_header_decode) and the fixed-size record
 * (hre_vault__xaud_record_decode), run on the input as a header, as one
 * record, and as a whole log file (header, then records) that is also
 * loaded through hre_vault_xch_refusals from a memory storage.
 * Invariants (abort on violation): the header decoder returns HRE_OK,
 * HRE_ECORRUPT or HRE_EUNSUPPORTED, a capacity in 1..the limit exactly on
 * HRE_OK, and a decoded header encodes back to its bytes; the record
 * decoder returns HRE_OK, HRE_ENOTFOUND (all zero), HRE_EDECODE or
 * HRE_ECORRUPT, a zeroed struct on failure, and a decoded record encodes
 * back byte for byte; loading the file returns HRE_OK, HRE_ECORRUPT or
 * HRE_EUNSUPPORTED (HRE_ENOMEM under a tight memory) with the records in
 * increasing seq order, each one a record of the file.
 * Seeds: corpus/xch_audit/ (gen_xch_audit_seeds.py).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vault/internal.h"
#include "vault/exchange.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define HL HRE_VAULT_XCH_AUDIT_HEADER_LEN
#define RL HRE_VAULT_XCH_AUDIT_RECORD_LEN

static void zero_or_die(const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i]) abort();
}

static void one_record(const uint8_t *data, size_t size)
{
    hre_vault_xch_audit r;
    uint8_t back[RL];
    int rc = hre_vault__xaud_record_decode(&r, data, size);
    if (rc == HRE_OK) {
        if (size != RL || r.seq == 0 || r.reason == 0 || r.reason > HRE_VAULT_XCH_REFUSE_MAX) abort();
        hre_vault__xaud_record_encode(back, &r);
        if (memcmp(back, data, RL) != 0) abort();
    } else if (rc == HRE_ENOTFOUND || rc == HRE_EDECODE || rc == HRE_ECORRUPT) {
        zero_or_die(&r, sizeof r);
    } else {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint32_t cap = 7;
    uint8_t back[HL];
    int rc = hre_vault__xaud_header_decode(&cap, data, size);
    if (rc == HRE_OK) {
        if (cap == 0 || cap > HRE_VAULT_XCH_AUDIT_MAX_LIMIT) abort();
        hre_vault__xaud_header_encode(back, cap);
        if (memcmp(back, data, HL) != 0) abort();
    } else if (rc == HRE_ECORRUPT || rc == HRE_EUNSUPPORTED) {
        if (cap != 0) abort();
    } else {
        abort();
    }
    one_record(data, size);
    if (size >= RL) one_record(data, RL);
    if (size >= HL + RL) one_record(data + HL, RL);

    /* the whole input as a log file of a vault (bounded: 64 records) */
    if (size >= HL && size <= HL + 64 * RL) {
        hre_storage *st = NULL;
        hre_storage_file *f = NULL;
        hre_vault *v = NULL;
        hre_vault_options o = HRE_VAULT_OPTIONS_INIT;
        hre_vault_xch_audit out[64];
        size_t n = 64;
        if (hre_storage_memory_new(&st, 0) != HRE_OK) return 0;
        o.storage = st;
        if (hre_vault_open(&v, &o) != HRE_OK ||
            hre_storage_file_open(&f, st, "vault-refusals.aud", HRE_STORAGE_WRITE | HRE_STORAGE_CREATE) != HRE_OK ||
            hre_storage_file_write(f, 0, data, size) != HRE_OK) {
            if (f) (void)hre_storage_file_close(f);
            hre_vault_close(v);
            hre_storage_free(st);
            return 0;
        }
        (void)hre_storage_file_close(f);
        rc = hre_vault_xch_refusals(v, out, sizeof out[0], &n);
        if (rc == HRE_OK) {
            uint8_t rec[RL];
            if (n && cap == 0) abort();   /* records only behind a valid header */
            for (size_t i = 0; i < n; i++) {
                size_t slot;
                if (i && out[i].seq <= out[i - 1].seq) abort();
                slot = (size_t)((out[i].seq - 1) % cap);
                if (HL + (slot + 1) * RL > size) abort();
                hre_vault__xaud_record_encode(rec, &out[i]);
                if (memcmp(rec, data + HL + slot * RL, RL) != 0) abort();
            }
        } else if (rc != HRE_ECORRUPT && rc != HRE_EUNSUPPORTED && rc != HRE_ENOMEM) {
            abort();
        }
        hre_vault_close(v);
        hre_storage_free(st);
    }
    return 0;
}
