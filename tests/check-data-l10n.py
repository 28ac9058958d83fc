#!/usr/bin/python3
# Fails when the built desktop file or metainfo lacks a translation for a language of
# po/LINGUAS: the catalogue can be complete while the build merges nothing (a wrong po_dir,
# a string the ITS rules do not extract, a language missing from LINGUAS).
#
#   tests/check-data-l10n.py LINGUAS DESKTOP_FILE METAINFO_FILE [OTHER_DESKTOP_FILE...]
#
# The other desktop files (the sender's autostart entry) have their Name translated as well.

import configparser
import sys
import xml.etree.ElementTree as ET

LANG = '{http://www.w3.org/XML/1998/namespace}lang'
DESKTOP_KEYS = ('GenericName', 'Comment', 'Keywords')


def main():
    if len(sys.argv) < 4:
        print('usage: check-data-l10n.py LINGUAS DESKTOP_FILE METAINFO_FILE [OTHER_DESKTOP_FILE...]',
              file=sys.stderr)
        return 64
    linguas, desktop, metainfo = sys.argv[1:4]
    others = sys.argv[4:]
    with open(linguas, encoding='utf-8') as f:
        langs = [l.split('#', 1)[0].strip() for l in f if l.split('#', 1)[0].strip()]
    problems = []

    parser = configparser.RawConfigParser(strict=False, interpolation=None)
    parser.optionxform = str
    with open(desktop, encoding='utf-8') as f:
        parser.read_file(f)
    entry = parser['Desktop Entry']
    for lang in langs:
        for key in DESKTOP_KEYS:
            if key in entry and f'{key}[{lang}]' not in entry:
                problems.append(f'{desktop}: no {key}[{lang}]')
        if 'Keywords' in entry and f'Keywords[{lang}]' in entry:
            if not entry[f'Keywords[{lang}]'].endswith(';'):
                problems.append(f'{desktop}: Keywords[{lang}] must end with a semicolon')

    for other in others:
        parser = configparser.RawConfigParser(strict=False, interpolation=None)
        parser.optionxform = str
        with open(other, encoding='utf-8') as f:
            parser.read_file(f)
        entry = parser['Desktop Entry']
        for lang in langs:
            for key in ('Name',) + DESKTOP_KEYS:
                if key in entry and f'{key}[{lang}]' not in entry:
                    problems.append(f'{other}: no {key}[{lang}]')

    root = ET.parse(metainfo).getroot()
    # Every translatable element with English text needs a sibling in each language.
    def check(parent, tag, where):
        english = [e for e in parent.findall(tag) if e.get(LANG) is None]
        for lang in langs:
            translated = [e for e in parent.findall(tag) if e.get(LANG) == lang]
            if len(translated) < len(english):
                problems.append(f'{metainfo}: {where}: {len(english) - len(translated)} '
                                f'<{tag}> without a {lang} translation')
    check(root, 'summary', 'component')
    for description in root.iter('description'):
        check(description, 'p', 'description')
        for ul in description.findall('ul'):
            check(ul, 'li', 'description list')
    if not list(root.iter('description')):
        problems.append(f'{metainfo}: no description')

    for p in problems:
        print('FAIL: ' + p, file=sys.stderr)
    print(f'{", ".join([desktop] + others)} and {metainfo}: checked for {", ".join(langs)}')
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
