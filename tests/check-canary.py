#!/usr/bin/python3
# The secret canary scan: the suite's password (ENVOI_TEST_PASSWORD in
# tests/envoi-test-helpers.h, the only one the test servers accept) and its other canaries
# (ENVOI_TEST_OAUTH_TOKEN, the start of every OAuth 2 token the tests use; any other
# ENVOI_TEST_* canary CANARIES below names) must never be written anywhere but the keyring.
#
#   tests/check-canary.py HEADER [PATH...]     scan, inside tests/session.sh, after the tests
#   tests/check-canary.py --self-test HEADER   plant the canary in every form, expect each found
#
# Scanned: every file under HOME, the XDG directories and ENVOI_TEST_DIR (the session's scratch
# directory: smtpd logs, transcripts, spools, the delivery history that test-sender keeps
# there), every PATH given (meson-logs of the build
# directories), and the environment and command line of every process still running in this
# session (the envoi daemon, the keyring, the bus). Looked for: the canary as it is, in base64
# at each of the three byte alignments (so that AUTH PLAIN's "\0user\0password" is caught too),
# standard and URL-safe, URL-encoded (%XX, any case) and as hexadecimal. Allowed only under
# $XDG_DATA_HOME/keyrings/, whose files are encrypted.
# Exit status: 0 clean, 1 found, 2 usage or setup error.

import base64
import binascii
import os
import re
import sqlite3
import sys
import tempfile


# The password first; the others are scanned when the header defines them.
CANARIES = ('ENVOI_TEST_PASSWORD', 'ENVOI_TEST_OAUTH_TOKEN', 'ENVOI_TEST_API_KEY',
            'ENVOI_TEST_POP_PASSWORD', 'ENVOI_TEST_IMAP_PASSWORD')


def read_canaries(header):
    """[(name, bytes)] for every canary the header defines; the password must be there."""
    with open(header, encoding='utf-8') as f:
        text = f.read()
    found = []
    for name in CANARIES:
        m = re.search(r'^#define\s+%s\s+"([^"]+)"' % name, text, re.M)
        if m:
            found.append((name, m.group(1).encode('utf-8')))
    if not found or found[0][0] != 'ENVOI_TEST_PASSWORD':
        sys.exit(f'check-canary: no ENVOI_TEST_PASSWORD in {header}')
    return found


def base64_forms(secret):
    """The part of base64(prefix + secret + suffix) that depends on secret alone, for a prefix
    of 0, 1 and 2 bytes: wherever the secret sits in an encoded stream, one of these appears."""
    forms = []
    n = len(secret)
    for k in range(3):
        encoded = base64.b64encode(b'\0' * k + secret)
        start = -(-8 * k // 6)            # first character made only of the secret's bits
        end = (8 * (k + n)) // 6          # after the last one
        core = encoded[start:end]
        forms.append((f'base64 (alignment {k})', core))
        urlsafe = core.replace(b'+', b'-').replace(b'/', b'_')
        if urlsafe != core:
            forms.append((f'base64url (alignment {k})', urlsafe))
    return forms


def needles(secret):
    forms = [('plain', secret)]
    forms += base64_forms(secret)
    # URL encoding: the canary's characters are all unreserved, so a URL-encoded copy is the
    # plain one; an encoder that escapes every byte writes this.
    forms.append(('URL-encoded (every byte)', ''.join(f'%{b:02X}' for b in secret).encode()))
    forms.append(('URL-encoded (every byte, lower case)', ''.join(f'%{b:02x}' for b in secret).encode()))
    forms.append(('hexadecimal', binascii.hexlify(secret)))
    forms.append(('hexadecimal, upper case', binascii.hexlify(secret).upper()))
    return forms


def all_needles(canaries):
    """Every form of every canary, each named after its canary."""
    return [(f'{name}, {form}', needle) for name, secret in canaries
            for form, needle in needles(secret)]


def find(data, forms):
    return [name for name, needle in forms if needle in data]


def scan_file(path, forms, hits):
    try:
        with open(path, 'rb') as f:
            data = f.read()
    except OSError:
        return 0
    for name in find(data, forms):
        hits.append(f'{path}: {name}')
    return 1


def scan_tree(root, forms, allowed, hits, seen):
    count = 0
    if os.path.isfile(root) and not os.path.islink(root):
        return scan_file(root, forms, hits)
    for dirpath, dirnames, filenames in os.walk(root):
        real = os.path.realpath(dirpath)
        if any(real == a or real.startswith(a + os.sep) for a in allowed):
            dirnames[:] = []
            continue
        for name in filenames:
            path = os.path.join(dirpath, name)
            real = os.path.realpath(path)
            if real in seen or os.path.islink(path) or not os.path.isfile(path):
                continue
            seen.add(real)
            count += scan_file(path, forms, hits)
    return count


def scan_processes(forms, hits):
    """Environment and command line of every other process of this session."""
    count = 0
    session = os.getsid(0)
    for pid in filter(str.isdigit, os.listdir('/proc')):
        if int(pid) in (os.getpid(), os.getppid()):
            continue
        try:
            if os.getsid(int(pid)) != session:
                continue
            with open(f'/proc/{pid}/cmdline', 'rb') as f:
                cmdline = f.read()
            with open(f'/proc/{pid}/environ', 'rb') as f:
                environ = f.read()
        except (OSError, ProcessLookupError):
            continue
        count += 1
        what = cmdline.replace(b'\0', b' ').decode('utf-8', 'replace').strip()[:80]
        for name in find(cmdline, forms):
            hits.append(f'process {pid} ({what}): command line: {name}')
        for name in find(environ, forms):
            hits.append(f'process {pid} ({what}): environment: {name}')
    return count


def scan(canaries, roots, allowed):
    forms = all_needles(canaries)
    hits = []
    seen = set()
    files = 0
    for root in roots:
        if root and os.path.exists(root):
            files += scan_tree(root, forms, allowed, hits, seen)
    processes = scan_processes(forms, hits)
    return hits, files, processes


def self_test(canaries):
    """Every form of every canary is found, in a file and at any offset; the keyring directory
    is allowed."""
    failures = 0
    for name, secret in canaries:
        failures += self_test_one(canaries, name, secret)
    return 1 if failures else 0


def self_test_one(canaries, canary, secret):
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        keyrings = os.path.join(tmp, 'keyrings')
        os.mkdir(keyrings)
        with open(os.path.join(keyrings, 'login.keyring'), 'wb') as f:
            f.write(secret)
        hits, _, _ = scan([(canary, secret)], [tmp], [os.path.realpath(keyrings)])
        if hits:
            print(f'not ok - {canary}: the keyring directory is not allowed: {hits}')
            failures += 1
        else:
            print(f'ok - {canary}: the keyring directory is allowed')

        samples = [('plain', b'password=' + secret + b'\n'),
                   ('AUTH PLAIN', b'AUTH PLAIN ' + base64.b64encode(b'\0envoi-test\0' + secret)),
                   ('URL', b'smtp://envoi-test:' + ''.join(f'%{b:02x}' for b in secret).encode() + b'@h')]
        for k in range(3):
            samples.append((f'base64 after {k} bytes', base64.b64encode(b'x' * k + secret + b'tail')))
            samples.append((f'base64url after {k} bytes',
                            base64.urlsafe_b64encode(b'?>' * k + secret + b'\xff\xfe')))
        for label, content in samples:
            path = os.path.join(tmp, 'planted')
            with open(path, 'wb') as f:
                f.write(b'noise ' + content + b' noise')
            hits, _, _ = scan([(canary, secret)], [tmp], [os.path.realpath(keyrings)])
            if any(h.startswith(path) for h in hits):
                print(f'ok - {canary}: found when planted: {label}')
            else:
                print(f'not ok - {canary}: missed when planted: {label}')
                failures += 1
            os.unlink(path)

        # The delivery history is an SQLite file ($XDG_STATE_HOME/envoi/history.db): a
        # password in a record, committed to its write-ahead log or checkpointed, is found.
        for mode in ('WAL', 'DELETE'):
            path = os.path.join(tmp, 'history.db')
            db = sqlite3.connect(path)
            db.execute(f'PRAGMA journal_mode={mode}')
            db.execute('CREATE TABLE history (reply TEXT)')
            db.execute('INSERT INTO history VALUES (?)', ('250 ok ' + secret.decode('utf-8', 'replace'),))
            db.commit()
            hits, _, _ = scan([(canary, secret)], [tmp], [os.path.realpath(keyrings)])
            db.close()
            if any(h.startswith(path) for h in hits):
                print(f'ok - {canary}: found in an SQLite history ({mode})')
            else:
                print(f'not ok - {canary}: missed in an SQLite history ({mode})')
                failures += 1
            for suffix in ('', '-wal', '-shm', '-journal'):
                if os.path.exists(path + suffix):
                    os.unlink(path + suffix)

        hits, _, _ = scan([(canary, secret)], [tmp], [os.path.realpath(keyrings)])
        if hits:
            print(f'not ok - {canary}: found after removal: {hits}')
            failures += 1
        else:
            print(f'ok - {canary}: clean once removed')
    return failures


def main(argv):
    if len(argv) >= 2 and argv[0] == '--self-test':
        return self_test(read_canaries(argv[1]))
    if not argv:
        print(__doc__ or 'usage: check-canary.py HEADER [PATH...]', file=sys.stderr)
        return 2

    canaries = read_canaries(argv[0])
    env = os.environ
    home = env.get('HOME')
    if not env.get('ENVOI_TEST_DIR') or not home:
        print('check-canary: run it inside tests/session.sh', file=sys.stderr)
        return 2
    data_home = env.get('XDG_DATA_HOME', os.path.join(home, '.local', 'share'))
    roots = [home, env['ENVOI_TEST_DIR']]
    roots += [env.get(v) for v in ('XDG_CONFIG_HOME', 'XDG_DATA_HOME', 'XDG_STATE_HOME',
                                   'XDG_CACHE_HOME', 'XDG_RUNTIME_DIR')]
    roots += argv[1:]
    allowed = [os.path.realpath(os.path.join(data_home, 'keyrings'))]

    hits, files, processes = scan(canaries, roots, allowed)
    for hit in hits:
        print(f'check-canary: a test secret was found in {hit}')
    state = 'FOUND' if hits else 'clean'
    print(f'check-canary: {files} files and {processes} processes scanned, {len(hits)} finding(s): {state}')
    return 1 if hits else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
