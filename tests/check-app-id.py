#!/usr/bin/python3
# Fails when something Envoi exports to the desktop is not named after its application ID.
#
#   tests/check-app-id.py APP_ID BUILDDIR SRCDIR
#
# Flatpak only exports files whose names start with the app ID (desktop file, metainfo, icons,
# D-Bus service files), and only lets the app own bus names that start with it. So this reads
# the install plan of the build (meson-info/intro-installed.json) and fails when an exported
# file's name does not start with the ID, then looks inside the files for the names they point
# at: the desktop file's Icon and D-Bus activation, the metainfo id and launchable, the Name of
# each D-Bus service file, the GSettings schema ids and paths, and the Flatpak manifest's id
# and bus names.

import configparser
import json
import os
import re
import sys
import xml.etree.ElementTree as ET

# Directories under the data dir whose files Flatpak exports or that hold names by convention.
EXPORTED = {
    'applications': 'desktop file',
    'metainfo': 'metainfo',
    'appdata': 'metainfo',
    'icons': 'icon',
    'dbus-1/services': 'D-Bus service file',
    'dbus-1/interfaces': 'D-Bus interface',
    'glib-2.0/schemas': 'GSettings schema',
    'gnome-shell/search-providers': 'search provider',
    'mime/packages': 'MIME package',
}

problems = []


def fail(message):
    problems.append(message)


def starts_with_id(name, app_id):
    return name == app_id or name.startswith(app_id + '.') or name.startswith(app_id + '-')


def read_keyfile(path, group):
    parser = configparser.RawConfigParser(strict=False, interpolation=None)
    parser.optionxform = str
    with open(path, encoding='utf-8') as f:
        parser.read_file(f)
    return parser[group] if parser.has_section(group) else {}


def main():
    if len(sys.argv) != 4:
        print('usage: check-app-id.py APP_ID BUILDDIR SRCDIR', file=sys.stderr)
        return 64
    app_id, builddir, srcdir = sys.argv[1:]
    app_path = '/' + app_id.replace('.', '/') + '/'

    with open(os.path.join(builddir, 'meson-info', 'intro-installed.json'), encoding='utf-8') as f:
        installed = json.load(f)

    kinds = {}
    for source, dest in sorted(installed.items()):
        parts = dest.split('/share/', 1)
        if len(parts) != 2:
            continue
        rel = parts[1]
        for top, kind in EXPORTED.items():
            if rel.startswith(top + '/'):
                break
        else:
            continue
        base = os.path.basename(dest)
        kinds.setdefault(kind, []).append((source, dest))
        if not starts_with_id(base, app_id):
            fail(f'{kind} {dest} is not named after the application ID {app_id}')

    for kind in ('desktop file', 'metainfo', 'icon', 'GSettings schema'):
        if kind not in kinds:
            fail(f'the build installs no {kind}: the install plan changed, adapt this check')
    icons = [os.path.basename(d) for _, d in kinds.get('icon', [])]
    for want in (app_id + '.svg', app_id + '-symbolic.svg'):
        if want not in icons:
            fail(f'the build installs no icon {want}')

    services = {}
    for source, dest in kinds.get('D-Bus service file', []):
        entry = read_keyfile(source, 'D-BUS Service')
        name = entry.get('Name', '')
        services[name] = dest
        if os.path.basename(dest) != name + '.service':
            fail(f'{dest}: Name={name} does not match the file name')
        if not starts_with_id(name, app_id):
            fail(f'{dest}: bus name {name} does not start with {app_id}')
        if not entry.get('Exec'):
            fail(f'{dest}: no Exec line')

    for source, dest in kinds.get('desktop file', []):
        entry = read_keyfile(source, 'Desktop Entry')
        if os.path.basename(dest) != app_id + '.desktop':
            fail(f'{dest}: the desktop file must be {app_id}.desktop')
        if entry.get('Icon') != app_id:
            fail(f'{dest}: Icon={entry.get("Icon")}, expected {app_id}')
        if entry.get('DBusActivatable', 'false') == 'true' and app_id not in services:
            fail(f'{dest} is DBusActivatable but no D-Bus service file {app_id}.service '
                 'is installed: the shell could not start the app')

    for source, dest in kinds.get('metainfo', []):
        root = ET.parse(source).getroot()
        if root.findtext('id') != app_id:
            fail(f'{dest}: <id> is {root.findtext("id")}, expected {app_id}')
        launchables = [l.text for l in root.findall('launchable')]
        if app_id + '.desktop' not in launchables:
            fail(f'{dest}: no <launchable type="desktop-id">{app_id}.desktop</launchable>')
        desktops = {os.path.basename(d) for _, d in kinds.get('desktop file', [])}
        for l in launchables:
            if l not in desktops:
                fail(f'{dest}: launchable {l} is not installed')

    for source, dest in kinds.get('GSettings schema', []):
        root = ET.parse(source).getroot()
        for element in root:
            ident = element.get('id', '')
            if element.tag in ('schema', 'enum', 'flags') and not starts_with_id(ident, app_id):
                fail(f'{dest}: {element.tag} id {ident} does not start with {app_id}')
            path = element.get('path')
            if path is not None and not path.startswith(app_path):
                fail(f'{dest}: schema path {path} is not under {app_path}')

    for source, dest in kinds.get('D-Bus interface', []):
        root = ET.parse(source).getroot()
        for interface in root.iter('interface'):
            if not starts_with_id(interface.get('name', ''), app_id):
                fail(f'{dest}: interface {interface.get("name")} does not start with {app_id}')

    manifest_path = os.path.join(srcdir, 'flatpak', app_id + '.json')
    if not os.path.isfile(manifest_path):
        fail(f'the Flatpak manifest flatpak/{app_id}.json is missing')
    else:
        with open(manifest_path, encoding='utf-8') as f:
            manifest = json.load(f)
        if manifest.get('id', manifest.get('app-id')) != app_id:
            fail(f'flatpak/{app_id}.json: id is {manifest.get("id")}, expected {app_id}')
        for arg in manifest.get('finish-args', []):
            # Flatpak lets an app own its ID and every name below it (APP_ID.*) by itself; an
            # --own-name for such a name is redundant (Flathub's linter rejects it), and one for
            # any other name would be a name the app does not own.
            m = re.match(r'--own-name=(.*)$', arg)
            if m and starts_with_id(m.group(1), app_id):
                fail(f'flatpak/{app_id}.json: {arg} is redundant: the app owns {app_id}.* already')
            elif m:
                fail(f'flatpak/{app_id}.json: {arg} is not a name under {app_id}')
        for name in services:
            if not (name == app_id or name.startswith(app_id + '.')):
                fail(f'D-Bus service {name} is not {app_id} or below it: '
                     'the app could not own it inside Flatpak')

    for p in problems:
        print('FAIL: ' + p, file=sys.stderr)
    count = sum(len(v) for v in kinds.values())
    print(f'{count} exported files looked at')
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
