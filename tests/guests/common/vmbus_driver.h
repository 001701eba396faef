/* A guest VMBus driver for the test guests, written the way the Linux
   driver sequences things: negotiate the version newest first, request
   offers, describe the ring buffers with a GPADL, open the echo channel,
   move packets through the rings (signalling the host by HvSignalEvent on
   the offer's connection id, taking its signals from the SINT2 event
   flags), close, tear the GPADL down and unload. Independent of the host's
   C++ definitions on purpose; numbers from the public VMBus protocol.
   The architecture supplies the SynIC start-up and wait_for_interrupt(). */
#ifndef SOFTSYNIC_GUEST_VMBUS_DRIVER_H
#define SOFTSYNIC_GUEST_VMBUS_DRIVER_H

#include "common/hv_guest.h"

/* The architecture's: sleep until an interrupt has been handled. */
void vmbus_arch_wait(void);

/* Runs the whole sequence on `vp` (SynIC already started, SINT2 unmasked)
   moving `packets` echo packets of 1..4000 bytes. Returns 0 when every
   step and every byte checked out. */
int vmbus_echo_run(u32 vp, u32 packets);

#endif
