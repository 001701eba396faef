/* Guest VMBus driver: control messages, GPADL, rings; see vmbus_driver.h. */
#include "common/vmbus_driver.h"

#define VMBUS_SYNIC_TYPE 1
#define HV_STATUS_INSUFFICIENT_BUFFERS 0x13

enum {
  MSG_OFFERCHANNEL = 1,
  MSG_RESCIND = 2,
  MSG_REQUESTOFFERS = 3,
  MSG_ALLOFFERS_DELIVERED = 4,
  MSG_OPENCHANNEL = 5,
  MSG_OPENCHANNEL_RESULT = 6,
  MSG_CLOSECHANNEL = 7,
  MSG_GPADL_HEADER = 8,
  MSG_GPADL_BODY = 9,
  MSG_GPADL_CREATED = 10,
  MSG_GPADL_TEARDOWN = 11,
  MSG_GPADL_TORNDOWN = 12,
  MSG_INITIATE_CONTACT = 14,
  MSG_VERSION_RESPONSE = 15,
  MSG_UNLOAD = 16,
  MSG_UNLOAD_RESPONSE = 17,
};

#define VER(major, minor) (((u32)(major) << 16) | (minor))

struct __attribute__((packed)) msg_header { u32 type, padding; };
struct __attribute__((packed)) initiate_contact {
  struct msg_header h;
  u32 version, target_vcpu;
  u64 sint_or_page, monitor1, monitor2;
};
struct __attribute__((packed)) version_response {
  struct msg_header h;
  u8 supported, state;
  u16 padding;
  u32 msg_conn_id;
};
struct __attribute__((packed)) offer_channel {
  struct msg_header h;
  u8 if_type[16], if_instance[16];
  u64 reserved1, reserved2;
  u16 flags, mmio;
  u8 user[120];
  u16 sub_index, reserved3;
  u32 relid;
  u8 monitor_id, monitor_flags;
  u16 interrupt_flags;
  u32 connection_id;
};
struct __attribute__((packed)) gpadl_header {
  struct msg_header h;
  u32 relid, gpadl;
  u16 range_buflen, range_count;
  u32 byte_count, byte_offset;
  u64 pfn[26];
};
struct __attribute__((packed)) gpadl_body {
  struct msg_header h;
  u32 number, gpadl;
  u64 pfn[28];
};
struct __attribute__((packed)) gpadl_created { struct msg_header h; u32 relid, gpadl, status; };
struct __attribute__((packed)) gpadl_teardown { struct msg_header h; u32 relid, gpadl; };
struct __attribute__((packed)) gpadl_torndown { struct msg_header h; u32 gpadl; };
struct __attribute__((packed)) open_channel {
  struct msg_header h;
  u32 relid, open_id, gpadl, target_vp, downstream_page;
  u8 user[120];
};
struct __attribute__((packed)) open_result { struct msg_header h; u32 relid, open_id, status; };
struct __attribute__((packed)) close_channel { struct msg_header h; u32 relid; };

/* The echo device's interface GUID in wire order
   ({5f0c9a6e-2b1d-4e57-9a3c-736f66747379}). */
static const u8 echo_interface[16] = {0x6e, 0x9a, 0x0c, 0x5f, 0x1d, 0x2b, 0x57, 0x4e,
                                      0x9a, 0x3c, 0x73, 0x6f, 0x66, 0x74, 0x73, 0x79};

/* ---- control messages ---- */

static u32 message_connection;
static u32 insufficient_retries;

/* Monitor pages as the Linux driver hands them over in INITIATE_CONTACT
   (page 1 host-to-guest, page 2 guest-to-host). Built with
   VMBUS_MONITOR=0 the driver offers none, and the host's offers then carry
   no monitor id: the channel signals by HvSignalEvent. */
#ifndef VMBUS_MONITOR
#define VMBUS_MONITOR 1
#endif
#define NO_MONITOR_ID 0xFFFFFFFFu
static u8 monitor_pages[2][PAGE_SIZE] PAGE_ALIGNED;

/* Messages taken from the SIMP slot, in arrival order. */
#define FIFO_SIZE 64
static struct hv_message fifo[FIFO_SIZE];
static u32 fifo_head, fifo_tail;

static void pump(u32 vp) {
  while (fifo_tail - fifo_head < FIFO_SIZE && synic_take_message(vp, REPLY_SINT, &fifo[fifo_tail % FIFO_SIZE]))
    fifo_tail++;
}

/* Posts a control message, retrying while the host says its buffers are
   full (it frees them once the replies it has queued are delivered). */
static u16 post(u32 vp, u32 connection, const void *msg, u32 size) {
  for (;;) {
    u16 s = hv_post_message(vp, connection, VMBUS_SYNIC_TYPE, msg, size);
    if (s != HV_STATUS_INSUFFICIENT_BUFFERS) return s;
    insufficient_retries++;
    pump(vp);
    /* Spin: the host's replies move on when this CPU slice ends. */
    __asm__ volatile("" ::: "memory");
  }
}

/* The next control message (waits for it). */
static struct hv_message *next_message(u32 vp) {
  for (;;) {
    pump(vp);
    if (fifo_head != fifo_tail) return &fifo[fifo_head++ % FIFO_SIZE];
    vmbus_arch_wait();
  }
}

static u32 type_of(const struct hv_message *m) { return ((const struct msg_header *)m->payload)->type; }

static int expect(u32 vp, u32 type, void *out, u32 size) {
  struct hv_message *m = next_message(vp);
  if (type_of(m) != type || m->payload_size < size) {
    printf("vmbus: expected message %u, got %u (%u bytes)\n", type, type_of(m), m->payload_size);
    check(0, "control message type");
    return 0;
  }
  memcpy(out, m->payload, size);
  return 1;
}

/* ---- negotiation ---- */

static const u32 versions[] = {VER(6, 0), VER(5, 3), VER(5, 2), VER(5, 1), VER(5, 0),
                               VER(4, 1), VER(4, 0), VER(3, 0), VER(2, 4)};

static u32 negotiate(u32 vp) {
  for (u32 i = 0; i < sizeof versions / sizeof versions[0]; ++i) {
    struct initiate_contact c;
    memset(&c, 0, sizeof c);
    c.h.type = MSG_INITIATE_CONTACT;
    c.version = versions[i];
    c.target_vcpu = vp;
    c.sint_or_page = versions[i] >= VER(5, 0) ? REPLY_SINT : 0;
    if (VMBUS_MONITOR) {
      c.monitor1 = (u64)monitor_pages[0];
      c.monitor2 = (u64)monitor_pages[1];
    }
    u32 conn = versions[i] >= VER(5, 0) ? 4 : 1;
    check_eq(post(vp, conn, &c, sizeof c), HV_STATUS_SUCCESS, "INITIATE_CONTACT posted");
    struct version_response r;
    if (!expect(vp, MSG_VERSION_RESPONSE, &r, sizeof r)) return 0;
    printf("vmbus: version %u.%u %s\n", versions[i] >> 16, versions[i] & 0xFFFF, r.supported ? "accepted" : "refused");
    if (r.supported) {
      message_connection = versions[i] >= VER(5, 0) ? r.msg_conn_id : 1;
      return versions[i];
    }
  }
  return 0;
}

/* A burst of refused probes without reading replies in between: the host
   pushes back with INSUFFICIENT_BUFFERS and every reply still arrives. */
static void flood(u32 vp, u32 count) {
  struct initiate_contact c;
  memset(&c, 0, sizeof c);
  c.h.type = MSG_INITIATE_CONTACT;
  c.target_vcpu = vp;
  u32 before = insufficient_retries;
  for (u32 i = 0; i < count; ++i) {
    c.version = VER(9, i);
    post(vp, 4, &c, sizeof c);
  }
  u32 refused = 0;
  for (u32 i = 0; i < count; ++i) {
    struct version_response r;
    if (expect(vp, MSG_VERSION_RESPONSE, &r, sizeof r) && !r.supported) refused++;
  }
  check_eq(refused, count, "every flooded probe answered (refused)");
  printf("vmbus: flood of %u probes: %u INSUFFICIENT_BUFFERS retries\n", count, insufficient_retries - before);
}

/* ---- rings ---- */

#define RING_PAGES 17 /* control page + 16 data pages, each way */
#define GPADL_PAGES (2 * RING_PAGES)
#define GPADL_ID 0xE1
static u8 ring_pages[GPADL_PAGES][PAGE_SIZE] PAGE_ALIGNED;

struct ring_control {
  volatile u32 write_index, read_index, interrupt_mask, pending_send_size;
  u32 reserved[12];
  volatile u32 features;
};
struct ring {
  struct ring_control *ctl;
  u8 *data;
  u32 size;
};
struct packet_desc {
  u16 type, offset8, len8, flags;
  u64 trans_id;
};

static struct ring out_ring, in_ring;
static u32 channel_connection;
static u32 channel_monitor_id = NO_MONITOR_ID;
static u64 signals_sent, monitor_sets, waits, checked_bytes, bad_bytes;

/* Tells the host the channel has work, as Linux's vmbus_set_event does:
   the offer's monitor id when it has one (a pending bit in the
   guest-to-host monitor page, no hypercall), else HvSignalEvent. */
static void signal_host(void) {
  signals_sent++;
  if (channel_monitor_id != NO_MONITOR_ID) {
    struct hv_monitor_page_head *page = (struct hv_monitor_page_head *)monitor_pages[1];
    __atomic_fetch_or(&page->group[channel_monitor_id / 32].pending, 1u << (channel_monitor_id % 32),
                      __ATOMIC_SEQ_CST);
    monitor_sets++;
  } else {
    hv_signal_event_fast(channel_connection, 0);
  }
}

static void fence(void) { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
static u32 ring_room(const struct ring *r, u32 w, u32 rd) { return w >= rd ? r->size - (w - rd) : rd - w; }

/* Payload word k of packet `seq` (little-endian bytes checked one by one). */
static u64 pattern(u64 seq, u64 k) { return (seq * 0x9E3779B97F4A7C15ul) ^ (k * 0xD1B54A32D192ED03ul) ^ (k << 56); }

static u32 packet_size(u32 seq) { return seq < 4000 ? seq + 1 : 1 + (u32)((seq * 2654435761ul) >> 7) % 4000; }

static u32 ring_needed(u32 size) { return 16 + ((size + 7) & ~7u) + 8; }

/* Writes packet `seq`; 0 when the ring lacks room. */
static int ring_write(u32 seq) {
  struct ring *r = &out_ring;
  u32 size = packet_size(seq), total = ring_needed(size);
  u32 w = r->ctl->write_index, rd = r->ctl->read_index;
  if (ring_room(r, w, rd) <= total) return 0;
  struct packet_desc d = {6, 2, (u16)((total - 8) / 8), 0, ((u64)seq << 32) | size};
  u64 *words = (u64 *)r->data;
  u32 at = w / 8, n = r->size / 8;
  words[at] = ((u64 *)&d)[0];
  words[(at + 1) % n] = ((u64 *)&d)[1];
  u32 full = size / 8;
  for (u32 k = 0; k < full; ++k) words[(at + 2 + k) % n] = pattern(seq, k);
  if (size & 7) words[(at + 2 + full) % n] = pattern(seq, full) & ((1ul << (8 * (size & 7))) - 1);
  words[(at + (total - 8) / 8) % n] = (u64)w << 32;
  fence();
  r->ctl->write_index = (w + total) % r->size;
  fence();
  if (r->ctl->interrupt_mask == 0 && r->ctl->read_index == w) signal_host();
  return 1;
}

/* Reads and checks one echoed packet; 0 when the ring is empty. */
static int ring_read(u32 expected_seq) {
  struct ring *r = &in_ring;
  u32 w = r->ctl->write_index, rd = r->ctl->read_index;
  if (w == rd) return 0;
  fence();
  u64 *words = (u64 *)r->data;
  u32 at = rd / 8, n = r->size / 8;
  struct packet_desc d;
  ((u64 *)&d)[0] = words[at];
  ((u64 *)&d)[1] = words[(at + 1) % n];
  u32 seq = (u32)(d.trans_id >> 32), size = (u32)d.trans_id;
  if (d.type != 6 || d.offset8 != 2 || seq != expected_seq || size != packet_size(seq) ||
      d.len8 != (ring_needed(size) - 8) / 8) {
    if (bad_bytes++ < 5) printf("vmbus: bad echo header seq %u (want %u) type %u len8 %u\n", seq, expected_seq, d.type, d.len8);
  } else {
    u32 full = size / 8;
    for (u32 k = 0; k < full; ++k) {
      u64 got = words[(at + 2 + k) % n], want = pattern(seq, k);
      if (got != want) {
        for (u32 b = 0; b < 8; ++b) bad_bytes += ((got >> (8 * b)) & 0xFF) != ((want >> (8 * b)) & 0xFF);
      }
    }
    if (size & 7) {
      u64 got = words[(at + 2 + full) % n], want = pattern(seq, full) & ((1ul << (8 * (size & 7))) - 1);
      for (u32 b = 0; b < 8; ++b) bad_bytes += ((got >> (8 * b)) & 0xFF) != ((want >> (8 * b)) & 0xFF);
    }
    checked_bytes += size;
  }
  u32 room_before = ring_room(r, w, rd);
  u32 next = (rd + d.len8 * 8u + 8) % r->size;
  fence();
  r->ctl->read_index = next;
  fence();
  /* The host waits for room: signal when the room passes what it asked. */
  u32 pending = r->ctl->pending_send_size;
  if (pending && room_before <= pending && ring_room(r, r->ctl->write_index, next) > pending) signal_host();
  return 1;
}

static void move_packets(u32 vp, u32 packets) {
  u32 sent = 0, received = 0;
  in_ring.ctl->interrupt_mask = 1; /* polling while busy */
  while (received < packets) {
    int progress = 0;
    while (sent < packets && ring_write(sent)) { sent++; progress = 1; }
    while (received < sent && ring_read(received)) { received++; progress = 1; }
    if (progress) continue;
    /* Nothing to do: clear old flags, unmask, ask for room, look again,
       then sleep until the host signals. */
    synic_scan_events(vp, REPLY_SINT, 0);
    in_ring.ctl->interrupt_mask = 0;
    if (sent < packets) out_ring.ctl->pending_send_size = ring_needed(packet_size(sent));
    fence();
    u32 w = out_ring.ctl->write_index, rd = out_ring.ctl->read_index;
    int can_send = sent < packets && ring_room(&out_ring, w, rd) > ring_needed(packet_size(sent));
    if (!can_send && in_ring.ctl->write_index == in_ring.ctl->read_index) {
      waits++;
      vmbus_arch_wait();
    }
    in_ring.ctl->interrupt_mask = 1;
    out_ring.ctl->pending_send_size = 0;
  }
}

/* ---- the sequence ---- */

int vmbus_echo_run(u32 vp, u32 packets) {
  u32 version = negotiate(vp);
  check(version != 0, "a version was accepted");
  if (!version) return 1;
  flood(vp, 24);

  struct msg_header req = {MSG_REQUESTOFFERS, 0};
  check_eq(post(vp, message_connection, &req, sizeof req), HV_STATUS_SUCCESS, "REQUESTOFFERS posted");
  u32 relid = 0, offers = 0;
  for (;;) {
    struct hv_message *m = next_message(vp);
    if (type_of(m) == MSG_ALLOFFERS_DELIVERED) break;
    if (type_of(m) != MSG_OFFERCHANNEL) {
      check(0, "only offers before ALLOFFERS_DELIVERED");
      continue;
    }
    struct offer_channel o;
    memcpy(&o, m->payload, sizeof o);
    offers++;
    if (memcmp(o.if_type, echo_interface, 16) == 0) {
      relid = o.relid;
      channel_connection = o.connection_id;
      channel_monitor_id = (o.monitor_flags & 1) ? o.monitor_id : NO_MONITOR_ID;
    }
  }
  printf("vmbus: %u offer(s); echo channel relid %u, connection 0x%x\n", offers, relid, channel_connection);
  if (channel_monitor_id != NO_MONITOR_ID)
    printf("vmbus: the channel signals the host through monitor id %u\n", channel_monitor_id);
  else
    printf("vmbus: the channel signals the host by HvSignalEvent\n");
  check_eq(channel_monitor_id != NO_MONITOR_ID, VMBUS_MONITOR, "a monitor id exactly when the driver gave monitor pages");
  check(relid != 0, "the echo device is offered");
  if (!relid) return 1;

  /* Rings: zeroed control pages, pending-send-size feature on. */
  memset(ring_pages, 0, sizeof ring_pages);
  out_ring.ctl = (struct ring_control *)ring_pages[0];
  out_ring.data = ring_pages[1];
  out_ring.size = (RING_PAGES - 1) * PAGE_SIZE;
  in_ring.ctl = (struct ring_control *)ring_pages[RING_PAGES];
  in_ring.data = ring_pages[RING_PAGES + 1];
  in_ring.size = (RING_PAGES - 1) * PAGE_SIZE;
  out_ring.ctl->features = 1;
  in_ring.ctl->features = 1;

  struct gpadl_header gh;
  memset(&gh, 0, sizeof gh);
  gh.h.type = MSG_GPADL_HEADER;
  gh.relid = relid;
  gh.gpadl = GPADL_ID;
  gh.range_count = 1;
  gh.range_buflen = (u16)(8 + 8 * GPADL_PAGES);
  gh.byte_count = GPADL_PAGES * PAGE_SIZE;
  u64 pfn0 = (u64)ring_pages / PAGE_SIZE;
  for (u32 i = 0; i < 26; ++i) gh.pfn[i] = pfn0 + i;
  check_eq(post(vp, message_connection, &gh, sizeof gh), HV_STATUS_SUCCESS, "GPADL_HEADER posted");
  struct gpadl_body gb;
  memset(&gb, 0, sizeof gb);
  gb.h.type = MSG_GPADL_BODY;
  gb.number = 1;
  gb.gpadl = GPADL_ID;
  for (u32 i = 26; i < GPADL_PAGES; ++i) gb.pfn[i - 26] = pfn0 + i;
  check_eq(post(vp, message_connection, &gb, 16 + 8 * (GPADL_PAGES - 26)), HV_STATUS_SUCCESS, "GPADL_BODY posted");
  struct gpadl_created gc;
  if (expect(vp, MSG_GPADL_CREATED, &gc, sizeof gc)) {
    check_eq(gc.gpadl, GPADL_ID, "GPADL_CREATED id");
    check_eq(gc.status, 0, "GPADL_CREATED status");
  }

  struct open_channel oc;
  memset(&oc, 0, sizeof oc);
  oc.h.type = MSG_OPENCHANNEL;
  oc.relid = relid;
  oc.open_id = 0x51;
  oc.gpadl = GPADL_ID;
  oc.target_vp = vp;
  oc.downstream_page = RING_PAGES;
  check_eq(post(vp, message_connection, &oc, sizeof oc), HV_STATUS_SUCCESS, "OPENCHANNEL posted");
  struct open_result orr;
  if (expect(vp, MSG_OPENCHANNEL_RESULT, &orr, sizeof orr)) {
    check_eq(orr.open_id, 0x51, "OPENCHANNEL_RESULT open id");
    check_eq(orr.status, 0, "OPENCHANNEL_RESULT status");
  }
  if (failures) return 1;

  printf("vmbus: moving %u packets\n", packets);
  move_packets(vp, packets);
  printf("vmbus: %u packets, %lu bytes echoed and checked, %lu bad bytes, %lu signals (%lu through the monitor page), %lu waits\n",
         packets, checked_bytes, bad_bytes, signals_sent, monitor_sets, waits);
  check_eq(bad_bytes, 0, "every echoed byte matches");

  struct close_channel cc = {{MSG_CLOSECHANNEL, 0}, relid};
  check_eq(post(vp, message_connection, &cc, sizeof cc), HV_STATUS_SUCCESS, "CLOSECHANNEL posted");
  struct gpadl_teardown td = {{MSG_GPADL_TEARDOWN, 0}, relid, GPADL_ID};
  check_eq(post(vp, message_connection, &td, sizeof td), HV_STATUS_SUCCESS, "GPADL_TEARDOWN posted");
  struct gpadl_torndown torn;
  if (expect(vp, MSG_GPADL_TORNDOWN, &torn, sizeof torn)) check_eq(torn.gpadl, GPADL_ID, "GPADL_TORNDOWN id");
  struct msg_header unload = {MSG_UNLOAD, 0};
  check_eq(post(vp, message_connection, &unload, sizeof unload), HV_STATUS_SUCCESS, "UNLOAD posted");
  struct msg_header ur;
  if (expect(vp, MSG_UNLOAD_RESPONSE, &ur, sizeof ur)) check(1, "UNLOAD_RESPONSE");
  return failures ? 1 : 0;
}
