/* Guest (x86-64 and aarch64): signalling host ports through the monitor
   page (TLFS "Monitored
   Notification Facility") 10^5 times. The guest chooses the page, gives
   its GPA to the host command port (as a VMBus guest does in
   InitiateContact) and asks the host to register all 128 monitor ids
   against its counting port: ids 0-63 with latency 0, ids 64-127 with a
   2 us latency (20 x 100 ns). Then:
   - exact phase: SETS sets of a mix of ids with an atomic OR (`lock or`;
     on aarch64 an exclusive load/store pair), each after
     the id's previous set was consumed (its pending bit is clear again):
     the port must count exactly one signal per set, per id;
   - coalescing phase: COALESCE_SETS sets without waiting, each id twice
     in a row. A set that finds the bit still pending merges into it (the
     TLFS allows it; a latency id is always still pending), so
     the port must count exactly the sets that found the bit clear: the
     guest knows which from the old value its atomic OR returns.
   Host counters come back in MONITOR_REPLY_TYPE messages on SINT2 (x86-64
   vector SINT_VECTOR, aarch64 PPI SINT_INTID). */
#include "runtime/synic.h"

#if defined(__x86_64__)
#define SINT_VECTOR 0xF3
#endif
#define IDS 128
#define FAST_IDS 64            /* ids below: latency 0 */
#define SLOW_LATENCY 20        /* 100 ns units, ids FAST_IDS..127 */
#define SETS 100000u
#define COALESCE_SETS 20000u

static u8 monitor_page[PAGE_SIZE] PAGE_ALIGNED;
static struct hv_monitor_page_head *const page = (struct hv_monitor_page_head *)monitor_page;

static struct host_monitor_reply reply;
static volatile u32 replies;
static volatile u32 stray_messages;
static u32 expected[IDS];

#if defined(__x86_64__)
static void on_sint2(struct interrupt_frame *frame) {
  (void)frame;
#else
static void on_sint2(u32 intid) {
  (void)intid;
#endif
  struct hv_message m;
  while (synic_take_message(0, REPLY_SINT, &m)) {
    if (m.message_type == MONITOR_REPLY_TYPE && m.payload_size == sizeof reply) {
      memcpy(&reply, m.payload, sizeof reply);
      replies++;
    } else {
      stray_messages++;
    }
  }
}

/* One monitor op on the host command port; returns the reply's status. */
static u32 host_monitor(u32 op, u32 first_id, u32 id_count, u32 latency, u64 gpa) {
  struct host_monitor_command c = {op, first_id, id_count, latency, gpa, 0};
  u32 before = replies;
  u16 status = hv_post_message(0, COMMAND_CONNECTION_ID, 1, &c, sizeof c);
  if (status != HV_STATUS_SUCCESS) return 0x10000u | status;
  while (replies == before) wait_for_interrupt();
  return reply.status;
}

/* A spread of ids, both latencies, neighbours in one trigger word. */
static u32 id_of(u32 i) { return (i * 37u + (i >> 7)) % IDS; }

static u32 set_bit(u32 id) {
  volatile u32 *word = &page->group[id / 32].pending;
  return __atomic_fetch_or(word, 1u << (id % 32), __ATOMIC_SEQ_CST) & (1u << (id % 32));
}

static int all_clear(void) {
  for (int g = 0; g < 4; ++g) {
    if (page->group[g].pending != 0) return 0;
  }
  return 1;
}

/* Pending bits of latency ids clear once reference time moves on, which
   it does as the guest runs. */
static void wait_all_clear(void) {
  while (!all_clear()) cpu_relax();
}

static u32 check_counts(const char *what) {
  u32 mismatches = 0;
  for (u32 first = 0; first < IDS; first += MONITOR_REPLY_IDS) {
    check_eq(host_monitor(HOST_COMMAND_MONITOR_QUERY, first, MONITOR_REPLY_IDS, 0, 0), 0, "query");
    for (u32 i = 0; i < MONITOR_REPLY_IDS; ++i) {
      if (reply.id_counts[i] != expected[first + i]) {
        if (mismatches++ < 4) printf("id %u: port saw %u, expected %u\n", first + i, reply.id_counts[i], expected[first + i]);
      }
    }
  }
  check_eq(mismatches, 0, what);
  return mismatches;
}

int guest_main(u32 vp, u32 vp_count) {
  (void)vp_count;
  if (vp != 0) return 0;
  printf("monitor_signal: start\n");
#if defined(__x86_64__)
  apic_enable();
  set_handler(SINT_VECTOR, on_sint2);
  check_eq((u64)synic_init(vp, REPLY_SINT, SINT_VECTOR, 1), 0, "SynIC started");
#else
  set_irq_handler(SINT_INTID, on_sint2);
  check_eq((u64)synic_init(vp, REPLY_SINT, SINT_INTID), 0, "SynIC started");
#endif

  check_eq(host_monitor(HOST_COMMAND_MONITOR_PAGE, 0, 0, 0, (u64)monitor_page), 0, "host took the monitor page");
  check_eq(host_monitor(HOST_COMMAND_MONITOR_REGISTER, 0, FAST_IDS, 0, 0), 0, "ids 0-63 registered, latency 0");
  check_eq(host_monitor(HOST_COMMAND_MONITOR_REGISTER, FAST_IDS, IDS - FAST_IDS, SLOW_LATENCY, 0), 0,
           "ids 64-127 registered, latency 2 us");
  CHECK(host_monitor(HOST_COMMAND_MONITOR_REGISTER, 5, 1, 0, 0) != 0); /* id in use: a typed error */
  check_eq(page->trigger_state & 0xF, 0xF, "registration enabled all four trigger groups");

  /* Exact phase: wait for the previous set of an id to be consumed. */
  for (u32 i = 0; i < SETS; ++i) {
    u32 id = id_of(i);
    while (page->group[id / 32].pending & (1u << (id % 32))) cpu_relax();
    if (set_bit(id) != 0) printf("FAIL: id %u pending after it read clear\n", id);
    expected[id]++;
  }
  wait_all_clear();
  check_eq(host_monitor(HOST_COMMAND_MONITOR_QUERY, 0, MONITOR_REPLY_IDS, 0, 0), 0, "query");
  printf("monitor_signal: exact: %u sets, port saw %lu signals, %lu write reports\n", SETS, reply.port_signals,
         reply.write_reports);
  check_eq(reply.port_signals, SETS, "one signal per set when each set waits for the last");
  check_counts("every id signalled once per set");

  /* Coalescing phase: set without waiting. */
  u64 before = reply.port_signals;
  u32 fresh = 0, coalesced = 0;
  for (u32 i = 0; i < COALESCE_SETS; ++i) {
    u32 id = id_of(i / 2); /* each id twice in a row */
    if (set_bit(id) != 0) {
      coalesced++;
    } else {
      fresh++;
      expected[id]++;
    }
  }
  wait_all_clear();
  check_eq(host_monitor(HOST_COMMAND_MONITOR_QUERY, 0, MONITOR_REPLY_IDS, 0, 0), 0, "query");
  printf("monitor_signal: coalescing: %u sets, %u found the bit pending, port saw %lu signals\n", COALESCE_SETS,
         coalesced, reply.port_signals - before);
  check_eq(reply.port_signals - before, fresh, "one signal per set that found its bit clear");
  CHECK(coalesced > 0);
  check_counts("every id signalled once per set that found its bit clear");
  check_eq(reply.unknown_ids, 0, "no unregistered id was set");
  check_eq(reply.undelivered, 0, "every signal reached the port");
  check_eq(stray_messages, 0, "only monitor replies on SINT2");

  check_eq(host_monitor(HOST_COMMAND_MONITOR_PAGE, 0, 0, 0, 0), 0, "monitor page removed");
  printf("monitor_signal: %s\n", failures ? "FAILED" : "done");
  return 0;
}
