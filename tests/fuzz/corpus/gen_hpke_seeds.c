/*
 * Generates the seed corpus tests/fuzz/corpus/hpke_unwrap/ for
 * fuzz_hpke_unwrap.c: wraps (base, base with info "doc-1" appended, auth) to
 * the target's fixed receiver key (DeriveKeyPair of 32 bytes 0x42; sender
 * 0x53), and an all-zero point. Not built by meson; run by hand, e.g.
 *   cc -std=c11 -Iinclude tests/fuzz/corpus/gen_hpke_seeds.c -Lbuild -lhre \
 *      -Wl,-rpath,$PWD/build -o gen && ./gen tests/fuzz/corpus/hpke_unwrap
 * (the wraps are random: rerunning gives different, equally valid seeds).
 */
#include <stdio.h>
#include <string.h>
#include "hre/hpke.h"
#include "hre/errors.h"
int main(int argc, char **argv)
{
  if (argc < 2) return 2;
  uint8_t ikm[32], w[113], dek[32]; hre_key *r, *s; hre_pubkey *p;
  memset(ikm,0x42,32); hre_hpke_derive_key(&r, ikm, 32); hre_key_pubkey(r, &p);
  memset(ikm,0x53,32); hre_hpke_derive_key(&s, ikm, 32);
  memset(dek, 7, 32);
  char path[512]; FILE *f;
  if (hre_hpke_wrap(w, p, NULL, 0, NULL, 0, dek)) return 1;
  snprintf(path, sizeof path, "%s/valid_base", argv[1]); f=fopen(path,"wb"); fwrite(w,1,113,f); fclose(f);
  if (hre_hpke_wrap(w, p, (const uint8_t*)"doc-1", 5, NULL, 0, dek)) return 1;
  snprintf(path, sizeof path, "%s/valid_base_info", argv[1]); f=fopen(path,"wb"); fwrite(w,1,113,f); fwrite("doc-1",1,5,f); fclose(f);
  if (hre_hpke_wrap_auth(w, p, s, NULL, 0, NULL, 0, dek)) return 1;
  snprintf(path, sizeof path, "%s/valid_auth", argv[1]); f=fopen(path,"wb"); fwrite(w,1,113,f); fclose(f);
  memset(w, 0, 113); w[0]=4;
  snprintf(path, sizeof path, "%s/zero_point", argv[1]); f=fopen(path,"wb"); fwrite(w,1,113,f); fclose(f);
  return 0;
}
