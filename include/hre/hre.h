/*
 * libhre -- Healthcare Records Exchange ledger library.
 *
 * The umbrella header: includes every public (caller-tier) header. Backend
 * implementers also include the headers under <hre/sys/>.
 */
#ifndef HRE_HRE_H
#define HRE_HRE_H

#include "common.h"     /* layer 0: the calling convention, export macros, hex, log hook */
#include "errors.h"     /* layer 0: error codes and detail messages */
#include "version.h"    /* layer 0: version */
#include "pool.h"       /* layer 0: worker pool */
#include "hash.h"       /* layer 1: SHA-256, HMAC, HKDF, randomness */
#include "key.h"        /* layer 1: ECDSA keys and signatures */
#include "block.h"      /* layer 2: block header and block */
#include "merkle.h"     /* layer 2: Merkle root, branch, verify */
#include "pow.h"        /* layer 2: compact targets, work, retarget, mining */
#include "tx.h"         /* layer 3: the transaction envelope */
#include "proof.h"      /* layer 3 (1.1): self-contained transaction inclusion proofs */
#include "contract.h"   /* layer 4: the record contract */
#include "storage.h"    /* storage handles: POSIX and memory backends */
#include "ledger.h"     /* layer 5: the ledger */
#include "network.h"    /* layer 5: networks and the network file */
#include "aead.h"       /* layer 1 (1.1): AES-256-GCM */
#include "hpke.h"       /* layer 1 (1.1): HPKE (RFC 9180) key wrap */
#include "node.h"       /* layer 6 (1.1): the peer-to-peer node (sys/transport.h: its vtable) */
#include "vault.h"      /* layer 7 (1.1): encrypted documents, wraps, erasure */

#endif /* HRE_HRE_H */
