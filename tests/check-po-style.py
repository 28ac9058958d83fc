#!/usr/bin/python3
# Fails when a French or Japanese translation breaks the typography of its language
# (the rules of the GNOME French and Japanese teams), or is English left as is.
#
#   tests/check-po-style.py PO...
#
# The language comes from the file name (fr.po, ja.po). Checked, on translated entries only:
# French: a non-breaking space (U+00A0, or the narrow U+202F) before : ; ! ? and », after «;
#   « » rather than “ ” or "; ’ rather than '; … rather than ...; mnemonics on a letter, not (_X)
# Japanese: 「」 rather than “ ” or "; 。、！？ rather than . , ! ? after Japanese text; a mnemonic
#   written as (_X) with an ASCII letter or digit.
# Both: desktop-file keyword lists keep their ASCII semicolons; a sentence of English is not
#   left untranslated (a msgstr equal to its msgid, or with no Japanese in ja).

import re
import subprocess
import sys

NBSP = '\u00a0\u202f'
CJK = r'\u3040-\u30ff\u3400-\u9fff\uff01-\uff5e\u3000-\u303f'
JAPANESE = re.compile('[\u3040-\u30ff\u3400-\u9fff]')
ENGLISH_SENTENCE = re.compile(r'(?<![\w.])[a-z]{2,}(?:\s+[a-z]{2,}){2,}(?![\w.])')
PLACEHOLDER = re.compile(r'%(?:\d+\$)?[-#0 +\']*\d*(?:\.\d+)?(?:hh|h|ll|l|j|z|t|L)?[a-zA-Z%]'
                         r'|\$\{[^}]*\}|<[^>]*>|&[a-z]+;')


def decode(quoted):
    # A PO string body: C escapes over UTF-8 text.
    return bytes(quoted, 'utf-8').decode('unicode_escape').encode('latin-1').decode('utf-8')


def parse(path):
    """The translated, non-fuzzy entries of a catalogue, one field a line (msgattrib --no-wrap)."""
    out = subprocess.run(['msgattrib', '--translated', '--no-fuzzy', '--no-obsolete', '--no-wrap', path],
                         check=True, stdout=subprocess.PIPE, text=True).stdout
    entries = []
    for block in out.split('\n\n'):
        entry = {'msgstr': {}, 'where': ''}
        field = None
        for line in block.split('\n'):
            if line.startswith('#: '):
                entry['where'] = entry['where'] or line[3:].split()[0]
            if line.startswith('"') and field is not None:
                # A continuation: --no-wrap still breaks strings after each \n.
                if isinstance(field, int):
                    entry['msgstr'][field] += decode(line[1:-1])
                else:
                    entry[field] += decode(line[1:-1])
                continue
            m = re.match(r'(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?) "(.*)"$', line)
            if not m:
                field = None
                continue
            if m.group(1).startswith('msgstr'):
                field = int(m.group(2) or 0)
                entry['msgstr'][field] = decode(m.group(3))
            else:
                field = m.group(1)
                entry[field] = decode(m.group(3))
        if entry.get('msgid'):
            entries.append(entry)
    return entries


def without_placeholders(s):
    # A neutral letter, so that “%s:%u” does not look like a colon before a space.
    return PLACEHOLDER.sub('X', s)


def check_fr(msgid, msgstr, fail):
    text = without_placeholders(msgstr)
    for m in re.finditer(r'[:;!?»]', text):
        i = m.start()
        c = m.group()
        after = text[i + 1:i + 2]
        before = text[i - 1:i] if i else ''
        if c == ':' and after not in ('', ' ', '\n', NBSP[0], NBSP[1]):
            continue  # a URL, a time, a port: not punctuation
        if c in '!?' and before in '!?':
            continue
        if c in '!?' and before.isalpha():
            word = re.search(r'\w+$', text[:i]).group() + c
            if word in msgid:
                continue  # part of a name, as in “Yahoo!”
        if before not in NBSP:
            fail(f'French needs a non-breaking space before “{c}”')
    for m in re.finditer('«', text):
        if text[m.end():m.end() + 1] not in NBSP:
            fail('French needs a non-breaking space after «')
    if '“' in msgstr or '”' in msgstr:
        fail('French quotes are « », not “ ”')
    if '"' in msgstr and '"' not in msgid:
        fail('French quotes are « », not "')
    if "'" in msgstr and "'" not in msgid:
        fail("French apostrophe is ’, not '")
    if '...' in msgstr and '...' not in msgid:
        fail('an ellipsis is …, not ...')
    if re.search(r'\(_\w\)', msgstr) and not re.search(r'\(_\w\)', msgid):
        fail('a French mnemonic goes on a letter of the label, not in (_X)')


def check_ja(msgid, msgstr, fail):
    text = without_placeholders(msgstr)
    if '“' in msgstr or '”' in msgstr:
        fail('Japanese quotes are 「」, not “ ”')
    if '"' in msgstr and '"' not in msgid:
        fail('Japanese quotes are 「」, not "')
    for m in re.finditer(f'[{CJK}]([.,!?])(?=\\s|$)', text):
        fail(f'“{m.group(1)}” after Japanese text: use the full-width form (。、！？)')
    if '_' in msgid and re.search(r'_[A-Za-z0-9]', msgid):
        if not re.search(r'\(_[A-Za-z0-9]\)|^_?[\x00-\x7f]*_[A-Za-z0-9]', msgstr):
            fail('a Japanese mnemonic is written (_X) with an ASCII letter or digit')


def main():
    status = 0
    for path in sys.argv[1:]:
        lang = re.sub(r'\.po$', '', path.rsplit('/', 1)[-1])
        count = 0
        for entry in parse(path):
            msgid = entry['msgid']
            plural = entry.get('msgid_plural')
            for index, msgstr in sorted(entry['msgstr'].items()):
                if not msgstr:
                    continue
                source = plural if (plural and index > 0) else msgid
                problems = []
                fail = problems.append
                keywords = source.endswith(';') and source.count(';') >= 2
                if lang == 'fr':
                    if not keywords:
                        check_fr(source, msgstr, fail)
                    if msgstr == source and ENGLISH_SENTENCE.search(without_placeholders(source)):
                        fail('left in English')
                elif lang == 'ja':
                    check_ja(source, msgstr, fail)
                    if not JAPANESE.search(msgstr) and \
                            ENGLISH_SENTENCE.search(without_placeholders(source)):
                        fail('left in English')
                if keywords:
                    if not msgstr.endswith(';') or '；' in msgstr or '、' in msgstr:
                        fail('a keyword list is separated and ended by ASCII semicolons')
                for p in problems:
                    print(f'{path}: {p} ({entry["where"]})\n  msgid:  {source}\n  msgstr: {msgstr}',
                          file=sys.stderr)
                    status = 1
                count += 1
        print(f'{path}: {count} translations looked at')
    return status


if __name__ == '__main__':
    sys.exit(main())
