/*
 * Internal definitions of the document exchange (lib/vault/exchange*.c;
 * PROTOCOL.md section 15). Never installed.
 */
#ifndef HRE_VAULT_EXCHANGE_H
#define HRE_VAULT_EXCHANGE_H

/* Domain separator of the request signature (PROTOCOL.md 15.2). */
#define HRE_VAULT_XCH__REQ_DOMAIN "HRE-VAULT-XCH-REQ-v1"

#endif
