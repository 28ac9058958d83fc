#!/usr/bin/python3
# Fails when the Flatpak manifest is broken or asks for more than Envoi needs.
#
#   tests/check-flatpak.py MANIFEST BUILDDIR
#
# No runtime can be downloaded on the build machines, so the manifest cannot be built here.
# What can be checked offline is checked:
# - flatpak-builder parses it (--show-manifest) with G_DEBUG=fatal-warnings, so an unknown
#   key or a value of the wrong type fails; skipped (77) only when flatpak-builder is absent;
# - finish-args stay within the sandbox the README promises: network, IPC, Wayland with X11
#   as a fallback, GPU, and GNOME Online Accounts on the session bus (no portal lends its
#   sign-ins). No file system, no device beyond dri, no system bus, no other --talk-name (the
#   keyring, notifications and background running go through portals) and no --own-name (the
#   app owns its ID and the names below it by itself);
# - every archive source is pinned by sha256 and every git source by a tag or a commit;
# - the command is a program the build installs into bindir, and every file a post-install
#   command edits under /app is one the build installs.

import json
import os
import shlex
import shutil
import subprocess
import sys

ALLOWED = {
    '--share=network',
    '--share=ipc',
    '--socket=wayland',
    '--socket=fallback-x11',
    '--device=dri',
    '--talk-name=org.gnome.OnlineAccounts',
}
REQUIRED = ALLOWED


def main():
    if len(sys.argv) != 3:
        print('usage: check-flatpak.py MANIFEST BUILDDIR', file=sys.stderr)
        return 64
    manifest_path, builddir = sys.argv[1:]
    problems = []

    builder = shutil.which('flatpak-builder')
    if builder is None:
        print('flatpak-builder is not installed (build-aux/install-deps.sh test installs it): skipped')
        return 77

    env = dict(os.environ, G_DEBUG='fatal-warnings')
    run = subprocess.run([builder, '--show-manifest', manifest_path], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if run.returncode != 0:
        sys.stderr.write(run.stderr)
        problems.append(f'flatpak-builder --show-manifest failed (exit {run.returncode})')

    with open(manifest_path, encoding='utf-8') as f:
        manifest = json.load(f)

    finish_args = manifest.get('finish-args', [])
    for arg in finish_args:
        if arg.startswith('--own-name='):
            problems.append(f'finish-args: {arg} is redundant or wrong: Flatpak lets the app own '
                            'its ID and every name below it, and nothing else is needed')
        elif arg not in ALLOWED:
            problems.append(f'finish-args: {arg} is more than Envoi needs '
                            '(portals cover the keyring, notifications and background)')
    for arg in sorted(REQUIRED - set(finish_args)):
        problems.append(f'finish-args: {arg} is missing')
    if len(finish_args) != len(set(finish_args)):
        problems.append('finish-args: an entry is repeated')

    if not manifest.get('runtime', '').startswith('org.gnome.') or \
            manifest.get('sdk', '').replace('.Sdk', '.Platform') != manifest.get('runtime'):
        problems.append('runtime and sdk must be the matching org.gnome.Platform / org.gnome.Sdk')

    with open(os.path.join(builddir, 'meson-info', 'intro-installed.json'), encoding='utf-8') as f:
        installed = json.load(f)
    prefix_files = {}
    for dest in installed.values():
        # Map /usr/local/share/x to /app/share/x: the Flatpak build uses prefix /app.
        for marker in ('/bin/', '/libexec/', '/share/', '/lib/'):
            if marker in dest:
                prefix_files['/app' + marker + dest.split(marker, 1)[1]] = dest
                break
    command = manifest.get('command', '')
    if '/app/bin/' + command not in prefix_files:
        problems.append(f'command {command} is not a program the build installs into bindir')

    envoi_module = None
    for module in manifest.get('modules', []):
        if isinstance(module, str):
            continue
        for source in module.get('sources', []):
            kind = source.get('type')
            if kind in ('archive', 'file') and 'url' in source and not source.get('sha256'):
                problems.append(f'module {module.get("name")}: {source["url"]} has no sha256')
            if kind == 'git' and not (source.get('tag') or source.get('commit')):
                problems.append(f'module {module.get("name")}: git source without tag or commit')
            if kind == 'dir':
                envoi_module = module
        for command_line in module.get('post-install', []):
            for word in shlex.split(command_line):
                if word.startswith('/app/') and word not in prefix_files:
                    problems.append(f'module {module.get("name")}: post-install touches {word}, '
                                    'which the build does not install')
    if envoi_module is None:
        problems.append('no module builds Envoi from this tree (a "dir" source)')

    for p in problems:
        print('FAIL: ' + p, file=sys.stderr)
    print(f'{manifest_path}: {len(manifest.get("modules", []))} modules, '
          f'finish-args {" ".join(finish_args)}')
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
