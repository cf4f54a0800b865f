/*
 * Internal definitions of the document exchange (lib/vault/exchange*.c;
 * PROTOCOL.md section 15). Never installed.
 */
#ifndef HRE_VAULT_EXCHANGE_H
#define HRE_VAULT_EXCHANGE_H

/* Domain separator of the request signature (PROTOCOL.md 15.2). */
#define HRE_VAULT_XCH__REQ_DOMAIN "HRE-VAULT-XCH-REQ-v1"

/* The refusal audit log (refusal_log.c, PROTOCOL.md 15.8). */
typedef struct hre_vault__xaud hre_vault__xaud;
/* Open (create, or rewrite when its capacity is not cap) the log of vault v:
 * the file's records are checked (HRE_ECORRUPT, HRE_EUNSUPPORTED). */
int hre_vault__xaud_open(hre_vault__xaud **out, hre_vault *v, uint32_t cap);
/* Write r as the next record (r->seq is set); durable at the next sync. */
int hre_vault__xaud_append(hre_vault__xaud *a, hre_vault_xch_audit *r);
int hre_vault__xaud_sync(hre_vault__xaud *a);
/* Sync (errors ignored) and close; NULL is fine. */
void hre_vault__xaud_close(hre_vault__xaud *a);
/* Codecs of the file's header and records (HRE_VAULT_XCH_AUDIT_HEADER_LEN,
 * _RECORD_LEN bytes). The record decoder: HRE_OK; HRE_ENOTFOUND (an all-zero,
 * empty slot); HRE_EDECODE (wrong length, or its check does not match: torn);
 * HRE_ECORRUPT (the check matches but a field is not canonical). The header
 * decoder: HRE_OK, HRE_ECORRUPT, HRE_EUNSUPPORTED (a newer format). */
void hre_vault__xaud_header_encode(uint8_t *b, uint32_t cap);
int hre_vault__xaud_header_decode(uint32_t *cap, const uint8_t *b, size_t len);
void hre_vault__xaud_record_encode(uint8_t *b, const hre_vault_xch_audit *r);
int hre_vault__xaud_record_decode(hre_vault_xch_audit *out, const uint8_t *b, size_t len);

#endif
