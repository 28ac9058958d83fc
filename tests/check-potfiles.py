#!/usr/bin/python3
# Fails when po/POTFILES.in does not list exactly the files that hold translatable strings.
#
#   tests/check-potfiles.py SRCDIR
#
# A file belongs in POTFILES.in when xgettext, run with the keywords the build uses, extracts at
# least one string from it, or when it plainly marks one (_(, N_(, C_(, NC_(, ngettext( or
# g_dngettext( before a string literal in C; translatable="yes" in a .ui file) — so a file that
# xgettext could not parse is caught too. The desktop, metainfo and gschema sources in data/
# are always catalogued. POTFILES.in must also be sorted, free of duplicates, and name only
# files that exist.

import os
import re
import subprocess
import sys
import tempfile

KEYWORDS = ['_', 'N_', 'C_:1c,2', 'NC_:1c,2', 'g_dcgettext:2', 'g_dngettext:2,3',
            'g_dpgettext2:2c,3', 'ngettext:1,2']

# In C: a gettext call whose first argument (or the second, after a context) is a literal.
C_MARK = re.compile(r'(?<![A-Za-z0-9_])(?:_|N_|ngettext)\s*\(\s*"'
                    r'|(?<![A-Za-z0-9_])N?C_\s*\(\s*"(?:[^"\\]|\\.)*"\s*,\s*"'
                    r'|(?<![A-Za-z0-9_])g_d[cnp]?gettext2?\s*\([^,;]*,\s*"')
UI_MARK = re.compile(r'translatable\s*=\s*["\']yes["\']')

SOURCE_DIRS = ['src']
SOURCE_SUFFIXES = ('.c', '.h', '.ui')
DATA_PATTERNS = (re.compile(r'^data/[^/]+\.desktop\.in(\.in)?$'),
                 re.compile(r'^data/[^/]+\.metainfo\.xml\.in(\.in)?$'),
                 re.compile(r'^data/[^/]+\.gschema\.xml$'))


def strip_c_comments(text):
    # Good enough for marking: drops /* */ and // comments, keeps string literals intact.
    out = []
    i = 0
    n = len(text)
    while i < n:
        c = text[i]
        if c == '"' or c == "'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == '\\' else 1
            out.append(text[i:j + 1])
            i = j + 1
        elif text.startswith('/*', i):
            j = text.find('*/', i + 2)
            i = n if j < 0 else j + 2
            out.append(' ')
        elif text.startswith('//', i):
            j = text.find('\n', i)
            i = n if j < 0 else j
        else:
            out.append(c)
            i += 1
    return ''.join(out)


def candidates(srcdir):
    found = []
    for top in SOURCE_DIRS:
        for root, dirs, files in os.walk(os.path.join(srcdir, top)):
            dirs.sort()
            for name in sorted(files):
                if name.endswith(SOURCE_SUFFIXES):
                    found.append(os.path.relpath(os.path.join(root, name), srcdir))
    for name in sorted(os.listdir(os.path.join(srcdir, 'data'))):
        rel = 'data/' + name
        if any(p.match(rel) for p in DATA_PATTERNS):
            found.append(rel)
    return found


def marked_by_hand(srcdir, rel):
    with open(os.path.join(srcdir, rel), encoding='utf-8', errors='replace') as f:
        text = f.read()
    if rel.endswith('.ui'):
        return bool(UI_MARK.search(text))
    if rel.endswith(('.c', '.h')):
        return bool(C_MARK.search(strip_c_comments(text)))
    return True  # desktop, metainfo, gschema: always catalogued


def extracted_by_xgettext(srcdir, files):
    with tempfile.TemporaryDirectory(prefix='envoi-potfiles.') as tmp:
        listing = os.path.join(tmp, 'files')
        with open(listing, 'w') as f:
            f.write('\n'.join(files) + '\n')
        pot = os.path.join(tmp, 'all.pot')
        cmd = ['xgettext', '--from-code=UTF-8', '--files-from=' + listing,
               '--directory=' + srcdir, '--output=' + pot, '--force-po']
        cmd += ['--keyword=' + k for k in KEYWORDS]
        subprocess.run(cmd, check=True)
        refs = set()
        with open(pot, encoding='utf-8') as f:
            for line in f:
                if line.startswith('#: '):
                    for ref in line[3:].split():
                        refs.add(ref.rsplit(':', 1)[0])
        return refs


def main():
    if len(sys.argv) != 2:
        print('usage: check-potfiles.py SRCDIR', file=sys.stderr)
        return 64
    srcdir = os.path.abspath(sys.argv[1])
    problems = []

    listed = []
    with open(os.path.join(srcdir, 'po', 'POTFILES.in'), encoding='utf-8') as f:
        for number, line in enumerate(f, 1):
            entry = line.split('#', 1)[0].strip()
            if entry:
                listed.append(entry)
    if listed != sorted(listed):
        for a, b in zip(listed, sorted(listed)):
            if a != b:
                problems.append(f'po/POTFILES.in is not sorted: “{a}” is where “{b}” belongs')
                break
    seen = set()
    for entry in listed:
        if entry in seen:
            problems.append(f'po/POTFILES.in lists {entry} twice')
        seen.add(entry)
        if not os.path.isfile(os.path.join(srcdir, entry)):
            problems.append(f'po/POTFILES.in lists {entry}, which does not exist')

    files = candidates(srcdir)
    need = extracted_by_xgettext(srcdir, files)
    need |= {rel for rel in files if marked_by_hand(srcdir, rel)}

    for rel in sorted(need - seen):
        problems.append(f'{rel} has translatable strings but po/POTFILES.in does not list it')
    for rel in sorted(seen - need):
        # Harmless for xgettext, so only a note: the file may be about to get strings.
        if os.path.isfile(os.path.join(srcdir, rel)):
            print(f'note: po/POTFILES.in lists {rel}, which has no translatable string')

    for p in problems:
        print('FAIL: ' + p, file=sys.stderr)
    print(f'{len(files)} files looked at, {len(need)} with translatable strings, '
          f'{len(listed)} listed')
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
