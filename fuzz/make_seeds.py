#!/usr/bin/env python3
"""Writes the seed corpora in fuzz/corpus/<target>/ for fuzz_hypercall,
fuzz_synic_sequence and fuzz_vmbus_control. Each seed is a small program in the byte format the
harness reads (see FuzzInput and the harness's step switch); the seeds
walk the interesting paths once (a Linux-like start-up, traffic, errors)
so the fuzzer mutates from there. Run it again after changing a harness's
input format. Usage: fuzz/make_seeds.py [output-root]"""
import os
import struct
import sys


def u8(v):
    return bytes([v & 0xFF])


def u16(v):
    return struct.pack("<H", v & 0xFFFF)


def u32(v):
    return struct.pack("<I", v & 0xFFFFFFFF)


def u64(v):
    return struct.pack("<Q", v & 0xFFFFFFFFFFFFFFFF)


# ---- fuzz_hypercall -------------------------------------------------------
INPUT_PAGE = 0x10000
CODES = {0x50: 0, 0x51: 1, 0x5C: 2, 0x5D: 3}
HC_OP = {"call": 0, "block": 3, "msr": 5, "post": 6, "run": 7}


def hc_header(arm64, amd=False, features_off=0):
    return u8(1 if arm64 else 0) + u8(1 if amd else 0) + u8(features_off)


def hc_step(op, vp=0, vtl=0):
    return u8(0) + u8(vp) + u8(0) + u8(vtl) + u8(HC_OP[op])


def hc_control(code, fast=False, reps=0):
    raw = code | (1 << 16 if fast else 0) | (reps << 32)
    shape = 0x01 | 0x02 | (CODES[code] << 2) | 0x80
    if reps:
        shape |= 0x10 | (reps << 5)
    return u64(raw) + u8(shape)


def hc_gpa_input():
    return u8(0)  # case 0: the input page


def hc_post_block(conn, mtype, payload):
    # write_block: offset 0, kind 0 (PostMessage), connection from the table,
    # type as a byte, size as a byte, then the payload bytes.
    conn_index = [1, 2, 3, 4, 5, 6].index(conn)
    return (u8(0) + u8(0) + u8(1) + u8(conn_index) + u8(1) + u8(mtype) + u8(1) + u8(len(payload)) +
            u8(len(payload)) + payload)


def hc_signal_block(conn, flag):
    conn_index = [1, 2, 3, 4, 5, 6].index(conn)
    return u8(0) + u8(1) + u8(conn_index) + u16(flag) + u16(0)


def hc_regs_block(names):
    # kind 2: header with partition self, VP self, input VTL 0, then names.
    out = u8(0) + u8(2) + u8(1) + u8(1) + u8(0) + u8(len(names))
    for name, value in names:
        out += u8(0) + u32(name) + u64(value) + u8(1)
    return out


def x86_call(code, fast=False, reps=0, long_mode=True):
    regs = b"\x00" * (18 + 32)  # no random register contents
    mode = u8(0) if long_mode else u8(1) + u8(1)
    return mode + regs + hc_control(code, fast, reps) + hc_gpa_input() + u8(2)  # output: output page


def arm64_call(code, smccc=False, fast=False, reps=0):
    regs = b"\x00" * 31
    imm = u8(1) if smccc else u8(0)
    out = regs + imm + hc_control(code, fast, reps) + hc_gpa_input() + u8(2)
    if smccc:
        out += u8(0)  # X0 = the hypercall function
    return out


def msr_write(msr_index, value_kind, value_bytes):
    return u8(1) + u8(msr_index) + u8(value_kind) + value_bytes + u8(1)


def hypercall_seeds():
    seeds = {}
    payload = bytes(range(24))
    seeds["x86_post_message"] = (hc_header(False) + hc_step("block") + hc_post_block(1, 7, payload) +
                                 hc_step("call") + x86_call(0x5C) + hc_step("run"))
    seeds["x86_post_message_32bit"] = (hc_header(False, amd=True) + hc_step("block") + hc_post_block(1, 7, payload) +
                                       hc_step("call") + x86_call(0x5C, long_mode=False))
    seeds["x86_post_to_throwing_port"] = (hc_header(False) + hc_step("block") + hc_post_block(5, 7, payload) +
                                          hc_step("call") + x86_call(0x5C))
    seeds["x86_signal_event"] = (hc_header(False) + hc_step("block") + hc_signal_block(2, 5) + hc_step("call") +
                                 x86_call(0x5D))
    seeds["x86_set_sint_rep"] = (hc_header(False) + hc_step("block") +
                                 hc_regs_block([(0x000A0002, 0x30), (0x000A0010, 1)]) + hc_step("call") +
                                 x86_call(0x51, reps=2) + hc_step("call") + x86_call(0x50, reps=2))
    seeds["x86_msrs_then_post"] = (hc_header(False) + hc_step("msr") + msr_write(0, 2, u8(5)) + hc_step("msr") +
                                   msr_write(1, 0, u8(0)) + hc_step("msr") + msr_write(8, 0, u8(0x10)) +
                                   hc_step("post") + u8(24) + payload + u8(0) + u8(0) + u8(2) + u32(1) +
                                   hc_step("run"))
    seeds["x86_features_off"] = hc_header(False, features_off=0x0E) + hc_step("call") + x86_call(0x5C)
    seeds["arm64_post_message"] = (hc_header(True) + hc_step("block") + hc_post_block(1, 7, payload) +
                                   hc_step("call") + arm64_call(0x5C))
    seeds["arm64_smccc_signal_event"] = (hc_header(True) + hc_step("block") + hc_signal_block(2, 1) +
                                         hc_step("call") + arm64_call(0x5D, smccc=True))
    seeds["arm64_smccc_set_registers"] = (hc_header(True) + hc_step("block") +
                                          hc_regs_block([(0x000A0013, 0x20001), (0x000A0010, 1)]) +
                                          hc_step("call") + arm64_call(0x51, smccc=True, reps=2))
    seeds["arm64_vtl1_post"] = (hc_header(True) + hc_step("block") + hc_post_block(3, 9, payload) +
                                hc_step("call", vtl=1) + arm64_call(0x5C))
    return seeds


# ---- fuzz_synic_sequence --------------------------------------------------
SEQ_OP = {"write": 0, "read": 2, "post": 3, "async": 5, "consume": 6, "eom_eoi": 7, "signal": 8, "raw": 9,
          "deliver": 10, "run": 11}
NAME = {"scontrol": 16, "simp": 17, "siefp": 18, "eom": 19, "sversion": 20}


def seq_header(two_vtls=False, capacity=2):
    return u8(1 if two_vtls else 0) + u8(capacity - 1)


def seq_write(vp, vtl, name, value_bytes):
    return u8(SEQ_OP["write"]) + u8(vp) + u8(0) + u8(vtl) + u8(name) + value_bytes


def page(gpn, enabled=True):
    return u8(2 | (1 if enabled else 0)) + u8(gpn)


def sint_value(sint_vector_offset=0, masked=False, auto_eoi=False, polling=False):
    shape = (4 if masked else 0) | (8 if auto_eoi else 0) | (16 if polling else 0)
    return u8(shape) + u8(sint_vector_offset)


def seq_enable(vp=0, vtl=0, simp_gpn=1, siefp_gpn=2):
    return (seq_write(vp, vtl, NAME["simp"], page(simp_gpn)) + seq_write(vp, vtl, NAME["siefp"], page(siefp_gpn)) +
            seq_write(vp, vtl, NAME["scontrol"], u8(1)))


def seq_unmask(sint, vp=0, vtl=0, **kw):
    return seq_write(vp, vtl, sint, sint_value(sint % 4, **kw))


def seq_post(vp=0, vtl=0, sint=0, size=16, async_=False):
    return (u8(SEQ_OP["async" if async_ else "post"]) + u8(0) + u8(vtl) + u8(0) + u8(vp) + u8(0) + u8(sint) +
            u8(64) + u8(0) + u8(size - 8))


def seq_consume(vp=0, vtl=0, sint=0, eom=True):
    return u8(SEQ_OP["consume"]) + u8(vp) + u8(vtl) + u8(sint) + u8(0 if eom else 255)


def seq_run():
    return u8(SEQ_OP["run"])


def synic_sequence_seeds():
    seeds = {}
    seeds["post_consume_eom"] = (seq_header() + seq_enable() + seq_unmask(0) + seq_post() + seq_post() +
                                 seq_post() + seq_run() + seq_consume() + seq_run() + seq_consume() + seq_run())
    seeds["queue_full_then_async"] = (seq_header(capacity=1) + seq_post() + seq_post() + seq_post(async_=True) +
                                      seq_enable() + seq_unmask(0) + seq_run() + seq_consume() + seq_run() +
                                      seq_consume() + seq_run())
    seeds["masked_then_unmasked"] = (seq_header() + seq_enable() + seq_unmask(3, masked=True) + seq_post(sint=3) +
                                     seq_run() + seq_unmask(3) + seq_run() + seq_consume(sint=3))
    seeds["polling_and_auto_eoi"] = (seq_header() + seq_enable() + seq_unmask(1, polling=True) +
                                     seq_unmask(2, auto_eoi=True) + seq_post(sint=1) + seq_post(sint=2) +
                                     seq_run() + seq_consume(sint=1) + seq_consume(sint=2))
    seeds["simp_moved_while_queued"] = (seq_header() + seq_enable() + seq_unmask(0) + seq_post() + seq_post() +
                                        seq_run() + seq_write(0, 0, NAME["simp"], page(5)) + seq_run() +
                                        seq_consume() + seq_run())
    seeds["simp_outside_ram"] = (seq_header() + seq_write(0, 0, NAME["simp"], page(200)) +
                                 seq_write(0, 0, NAME["scontrol"], u8(1)) + seq_unmask(0) + seq_post() + seq_run() +
                                 seq_write(0, 0, NAME["simp"], page(3)) + seq_run() + seq_consume())
    seeds["two_vtls_two_vps"] = (seq_header(two_vtls=True) + seq_enable(0, 1, 4, 5) + seq_enable(1, 0, 6, 7) +
                                 seq_unmask(4, 0, 1) + seq_unmask(4, 1, 0) + seq_post(0, 1, 4) + seq_post(1, 0, 4) +
                                 seq_run() + seq_consume(0, 1, 4) + seq_consume(1, 0, 4))
    seeds["scontrol_off_holds"] = (seq_header() + seq_enable() + seq_unmask(0) +
                                   seq_write(0, 0, NAME["scontrol"], u8(0)) + seq_post() + seq_run() +
                                   seq_write(0, 0, NAME["scontrol"], u8(1)) + seq_run() + seq_consume())
    seeds["event_signal"] = (seq_header() + seq_enable() + seq_unmask(2) + u8(SEQ_OP["signal"]) + u8(0) + u8(0) +
                             u8(0) + u8(0) + u8(0) + u8(2) + u8(0) + u8(7) + u8(0) + seq_run())
    seeds["eoi_retries"] = (seq_header() + seq_enable() + seq_unmask(0) + seq_post() + seq_post() + seq_run() +
                            seq_consume(eom=False) + u8(SEQ_OP["eom_eoi"]) + u8(0) + u8(0) + u8(0) + u8(0) + u8(1) +
                            u8(0) + seq_run())
    # A long mixed session, so the fuzzer's length limit starts high enough
    # for sequences that fill queues on several SINTs.
    long = seq_header(two_vtls=True, capacity=3) + seq_enable() + seq_enable(1, 0, 3, 4) + seq_enable(0, 1, 5, 6)
    for sint in range(4):
        long += seq_unmask(sint) + seq_unmask(sint, 1, 0) + seq_unmask(sint, 0, 1, polling=sint == 3)
    for round_ in range(6):
        for sint in range(4):
            long += seq_post(0, 0, sint) + seq_post(1, 0, sint) + seq_post(0, 1, sint, async_=round_ % 2 == 1)
        long += seq_run()
        for sint in range(4):
            long += seq_consume(0, 0, sint) + seq_consume(1, 0, sint, eom=sint != 2) + seq_consume(0, 1, sint)
        if round_ == 3:
            long += seq_write(1, 0, NAME["simp"], page(9))
        long += seq_run()
    seeds["long_mixed_session"] = long
    return seeds


# ---- fuzz_vmbus_control --------------------------------------------------
# Steps as Session::step() reads them: an op byte (below(14)), then its
# fields; below(n) takes one byte modulo n.
VB = {"contact": 0, "offers": 1, "gpadl": 2, "body": 3, "open": 4, "teardown": 5, "raw": 6, "packet": 7,
      "poke": 8, "signal": 9, "monitor": 10, "take": 11, "rescind": 12, "read": 13}
CONN_V5 = 1  # control_connection(): below(4) == 1 -> connection 4


def vb_header(capacity_choice=4, use_monitor=True):
    return u8(capacity_choice) + u8(1 if use_monitor else 0)


def vb_contact(version_index=0, monitor=1, vp=0):
    # version, no override, target VP 0, SINT 2, monitor choice, default connection, from vp
    return u8(VB["contact"]) + u8(version_index) + u8(1) + u8(0) + u8(1) + u8(monitor) + u8(1) + u8(vp)


def vb_take(vp=0):
    return u8(VB["take"]) + u8(vp)


def vb_simple(op, vp=0):
    return u8(VB[op]) + u8(CONN_V5) + u8(vp)


def vb_gpadl(relid=1, gpadl=1, pages=8, first=0):
    return (u8(VB["gpadl"]) + u8(pages - 2) + u8(first) + u8(relid) + u8(gpadl) + u8(1) + u8(1) + u8(1) +
            u8(CONN_V5) + u8(0))


def vb_open(relid=1, gpadl=1, downstream=4):
    return u8(VB["open"]) + u8(relid) + u8(5) + u8(gpadl) + u8(0) + u8(downstream) + u8(CONN_V5) + u8(0)


def vb_packet(ring_page=0, size=51):
    return u8(VB["packet"]) + u8(ring_page) + u8(size - 1) + u64(0x1234) + u8(1) + bytes(range(size))


def vb_teardown(which, relid=1, gpadl=1):
    body = u8(VB["teardown"]) + u8(which)
    if which == 0 or which == 2:
        body += u8(relid)
    elif which == 1:
        body += u8(relid) + u8(gpadl)
    return body + u8(CONN_V5) + u8(0)


def vmbus_control_seeds():
    seeds = {}
    open_channel = (vb_header() + vb_contact() + vb_take() + vb_simple("offers") + vb_take() * 3 + vb_gpadl() +
                    vb_take() + vb_open() + vb_take())
    traffic = (vb_packet() + u8(VB["signal"]) + u8(0) + u8(1) + u8(1) + u8(0) + vb_packet() + u8(VB["monitor"]) +
               u8(0) + u8(VB["read"]) + u8(4))
    close = vb_teardown(0) + vb_take() + vb_teardown(1) + vb_take() + vb_teardown(3) + vb_take()
    seeds["full_session"] = open_channel + traffic * 4 + close
    seeds["no_monitor_pages"] = vb_header() + vb_contact(monitor=0) + vb_take() + vb_simple("offers") + vb_take() * 3
    seeds["old_version_walk"] = vb_header() + b"".join(vb_contact(i) + vb_take() for i in range(8))
    seeds["flood_without_taking"] = vb_header(capacity_choice=0) + vb_contact() + vb_simple("offers") * 12
    seeds["rescind_and_release"] = (open_channel + u8(VB["rescind"]) + u8(1) + vb_take() + vb_teardown(2) +
                                    vb_take())
    seeds["corrupt_ring"] = (open_channel + u8(VB["poke"]) + u8(0) + u8(0) + u64(0xFFFFFFF0FFFFFFF0) +
                             u8(VB["signal"]) + u8(0) + u8(1) + u8(1) + u8(0))
    return seeds


def x86_block_decode_seeds():
    """Blocks of 64-bit code: the trapped instructions among ordinary ones."""
    return {
        "rdmsr_site": bytes.fromhex("b922000040" "0f32" "48c1e220" "4809d0" "c3"),
        "wrmsr_gp_site": bytes.fromhex("b981000040" "b802000000" "31d2" "0f30" "ffc0" "c3"),
        "vmcall_and_rdtscp": bytes.fromhex("4889f9" "0f01c1" "0f01f9" "0f31" "c3"),
        "lfence_rdtsc": bytes.fromhex("0faee8" "0f31" "48c1e220" "4809d0" "c3"),
        "prefixes_modrm_sib": bytes.fromhex("f0480fb10c25" "00100000" "66448b84c8" "78563412" "c3"),
        "imm64_moffs": bytes.fromhex("48b8" "efcdab8967452301" "48a1" "0010000000000000" "c3"),
        "sites_inside_immediates": bytes.fromhex("b80f320f30" "3d0f01c190" "c3"),
    }


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")
    for target, seeds in (("hypercall", hypercall_seeds()), ("synic_sequence", synic_sequence_seeds()),
                          ("vmbus_control", vmbus_control_seeds()), ("x86_block_decode", x86_block_decode_seeds())):
        out = os.path.join(root, target)
        os.makedirs(out, exist_ok=True)
        for name, data in sorted(seeds.items()):
            with open(os.path.join(out, name), "wb") as f:
                f.write(data)
        print(f"{out}: {len(seeds)} seeds")


if __name__ == "__main__":
    main()
