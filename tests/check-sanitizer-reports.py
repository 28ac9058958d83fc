#!/usr/bin/python3
# Reads the ASan/UBSan/LeakSanitizer report files of a sanitized pass and fails on any finding
# but one kind of leak: GLib 2.74's per-thread bookkeeping (the main-context dispatch state and
# the slice allocator's thread memory, allocated once per thread through g_private_set_alloc0).
# A thread still running when the process exits — GLib's D-Bus worker, a parked thread-pool
# worker — holds them, and LeakSanitizer, which warns "Running thread … was not suspended. False
# leaks are possible", reports them. They are recognised by the allocation itself: g_malloc0
# called by GLib's internal allocator on behalf of g_slice_free1, g_main_current_source or
# g_main_context_dispatch. Every other finding, from any process, fails.
#
#   check-sanitizer-reports.py REPORT...
# Exit status: 0 when nothing is left, 1 otherwise (the findings are printed).

import re
import sys

THREAD_BOOKKEEPING = ("g_slice_free1", "g_main_current_source", "g_main_context_dispatch")
FRAME = re.compile(r"^\s*#(\d+) 0x[0-9a-f]+ in (\S+)|^\s*#(\d+) 0x[0-9a-f]+\s+\(")


def frames(block):
    """The function names of a leak's stack, None for unnamed frames, in order."""
    names = []
    for line in block:
        m = re.match(r"^\s*#\d+ 0x[0-9a-f]+ in (\S+)", line)
        if m:
            names.append(m.group(1))
        elif re.match(r"^\s*#\d+ 0x[0-9a-f]+\s", line):
            names.append(None)
    return names


def is_thread_bookkeeping(block):
    names = frames(block)
    # calloc/malloc interceptor, g_malloc0, GLib's unnamed per-thread allocator, then the caller.
    if len(names) < 4 or names[1] != "g_malloc0" or names[2] is not None:
        return False
    return names[3] in THREAD_BOOKKEEPING


def check(path):
    text = open(path, encoding="utf-8", errors="replace").read()
    if "LeakSanitizer: detected memory leaks" not in text or "ERROR: AddressSanitizer" in text \
            or "runtime error" in text:
        return [text] if text.strip() else []

    findings = []
    blocks = re.split(r"\n(?=(?:Direct|Indirect) leak of )", text)
    for block in blocks[1:]:
        lines = block.split("\n")
        if not is_thread_bookkeeping(lines):
            findings.append(block.split("\nSUMMARY")[0])
    return findings


def main():
    failed = False
    for path in sys.argv[1:]:
        findings = check(path)
        if findings:
            failed = True
            print(f"--- sanitizer report {path}")
            for finding in findings:
                print(finding.rstrip())
                print()
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
