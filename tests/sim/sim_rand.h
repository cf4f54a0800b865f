/* Deterministic OpenSSL randomness for the simulation process (sim_rand.c). */
#ifndef HRE_SIM_RAND_H
#define HRE_SIM_RAND_H

#include <stdint.h>

/* Install (or restart) the process-wide deterministic RAND method, seeded by
 * seed: from here on every OpenSSL random byte of this process is a function
 * of the seed and of the order of the draws. */
void sim_rand_reseed(uint64_t seed);
/* Random bytes handed out since the last reseed. */
uint64_t sim_rand_drawn(void);

#endif
