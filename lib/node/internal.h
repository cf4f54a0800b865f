/* Internal node declarations (layer 6). Names are hre_node__*; never exported. */
#ifndef HRE_NODE_INTERNAL_H
#define HRE_NODE_INTERNAL_H

#include "core/internal.h"
#include "hre/node.h"
#include "hre/sys/transport.h"

extern const hre__vstruct hre_node__transport_desc;

#endif /* HRE_NODE_INTERNAL_H */
