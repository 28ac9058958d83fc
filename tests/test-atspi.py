#!/usr/bin/python3
# Drives the real envoi window like a person, through the accessibility tree (AT-SPI):
# adds an account by typing into rows found by their labels, lets the address pick its
# provider preset, saves, reopens and reads the values back.
#
#   test-atspi.py PATH-TO-ENVOI
#
# Runs inside tests/session.sh (Xvfb, session bus with AT-SPI, unlocked keyring), with
# GSETTINGS_BACKEND=keyfile so that the gsettings command sees what the app wrote.

import os
import subprocess
import sys
import time

import pyatspi

PASSWORD = "Canary-7Qz9-envoi-p4ss"   # tests/envoi-test-helpers.h: ENVOI_TEST_PASSWORD
TIMEOUT = 20


def fail(message):
    print("not ok - " + message)
    sys.exit(1)


def wait_for(what, predicate, timeout=TIMEOUT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.1)
    fail("timed out waiting for " + what)


def walk(node, depth=0):
    if node is None or depth > 60:
        return
    yield node
    try:
        count = node.childCount
    except Exception:
        return
    for i in range(count):
        try:
            child = node.getChildAtIndex(i)
        except Exception:
            continue
        yield from walk(child, depth + 1)


def find(root, role, name_prefix, showing=False):
    for node in walk(root):
        try:
            if node.getRole() != role:
                continue
            # GTK 4.8 names a mnemonic button "_Save Save": compare without underscores.
            if not (node.name or "").replace("_", "").startswith(name_prefix):
                continue
            # GTK 4.8 reports no widget as SHOWING: the filter is for newer toolkits.
            if showing and not node.getState().contains(pyatspi.STATE_SHOWING):
                continue
            return node
        except Exception:
            continue
    return None


def app_root():
    desktop = pyatspi.Registry.getDesktop(0)
    for i in range(desktop.childCount):
        app = desktop.getChildAtIndex(i)
        if app is not None and app.name == "envoi":
            return app
    return None


def click(node):
    # Rows have no AT-SPI action in GTK 4.8. Extents are window-relative there, and with
    # no window manager under Xvfb the window sits at the origin, so they are screen ones.
    extents = node.queryComponent().getExtents(pyatspi.WINDOW_COORDS)
    pyatspi.Registry.generateMouseEvent(extents.x + extents.width // 2,
                                        extents.y + extents.height // 2, "b1c")


def press(node):
    action = node.queryAction()
    for i in range(action.nActions):
        if action.getName(i) in ("click", "activate", "press"):
            action.doAction(i)
            return
    action.doAction(0)


def choose_from_combo(root, label, choice):
    combo = wait_for("the %s list" % label, lambda: find(root, pyatspi.ROLE_COMBO_BOX, label))
    click(combo)

    def popover_labels():
        for node in walk(combo):
            if node.getRole() == pyatspi.ROLE_FILLER and node.name == "GtkPopover":
                labels = [n.name for n in walk(node) if n.getRole() == pyatspi.ROLE_LABEL]
                return labels if choice in labels else None
        return None

    labels = wait_for("the %s popover" % label, popover_labels)
    for _ in range(labels.index(choice)):
        pyatspi.Registry.generateKeyboardEvent(0xff54, None, pyatspi.KEY_SYM)   # Down
        time.sleep(0.05)
    pyatspi.Registry.generateKeyboardEvent(0xff0d, None, pyatspi.KEY_SYM)       # Return


def type_into(root, label, text):
    field = wait_for("the field " + label, lambda: find(root, pyatspi.ROLE_TEXT, label) or
                     find(root, pyatspi.ROLE_PASSWORD_TEXT, label))
    editable = field.queryEditableText()
    editable.setTextContents(text)
    return field


def text_of(node):
    t = node.queryText()
    return t.getText(0, t.characterCount)


def gsettings(account_id, key):
    path = "/io/github/envoimail/Envoi/accounts/%s/" % account_id
    return subprocess.run(["gsettings", "get", "io.github.envoimail.Envoi.Account:" + path, key],
                          check=True, capture_output=True, text=True).stdout.strip()


class App:
    """The real envoi, started and stopped as a person would."""

    def __init__(self, path):
        env = dict(os.environ, LANGUAGE="en", GTK_A11Y="atspi")
        env.pop("NO_AT_BRIDGE", None)
        self.process = subprocess.Popen([path], env=env)

    def quit(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        wait_for("envoi to leave the accessibility bus", lambda: app_root() is None)


def main():
    envoi = sys.argv[1]
    os.environ["GSETTINGS_BACKEND"] = "keyfile"   # the app and the gsettings command alike
    app = App(envoi)
    try:
        run(envoi, app)
    finally:
        app.quit()


def run(envoi, app):
    root = wait_for("the envoi application on the accessibility bus", app_root)
    print("ok 1 - envoi is on the accessibility bus")

    add = wait_for("the Add Account button", lambda: find(root, pyatspi.ROLE_PUSH_BUTTON, "Add Account"))
    press(add)
    # Add Account opens the quick setup first; the full form is one "Set Up Manually" away.
    manual = wait_for("the Set Up Manually button",
                      lambda: find(root, pyatspi.ROLE_PUSH_BUTTON, "Set Up Manually"))
    press(manual)
    wait_for("the full dialog", lambda: find(root, pyatspi.ROLE_TEXT, "Server"))

    type_into(root, "Email Address", "jean.dupont@example.fr")
    type_into(root, "Display Name", "Jean Dupont")

    # Pick the Fastmail preset from the Provider list: the list opens in a popover, whose
    # items have no AT-SPI action in GTK 4.8, so the keyboard chooses, as a person would.
    choose_from_combo(root, "Provider", "Fastmail")
    wait_for("the preset's server", lambda: (lambda f: f if f and text_of(f) == "smtp.fastmail.com" else None)(
        find(root, pyatspi.ROLE_TEXT, "Server")))
    port = find(root, pyatspi.ROLE_TEXT, "Port")
    if text_of(port) != "465":
        fail("the Fastmail preset should set port 465, not %r" % text_of(port))
    print("ok 2 - picking the Fastmail preset filled smtp.fastmail.com:465")

    type_into(root, "Password", PASSWORD)
    save = find(root, pyatspi.ROLE_PUSH_BUTTON, "Save")
    if save is None:
        fail("no Save button")
    wait_for("Save to become sensitive", lambda: save.getState().contains(pyatspi.STATE_SENSITIVE))
    press(save)

    # The dialog closes and the account is listed.
    wait_for("the dialog to close", lambda: find(root, pyatspi.ROLE_PUSH_BUTTON, "Save") is None)
    print("ok 3 - Save closed the dialog")

    account_id = "jean-dupont-example-fr"
    wait_for("the settings", lambda: gsettings(account_id, "host") == "'smtp.fastmail.com'")
    if gsettings(account_id, "port") != "uint16 465" or gsettings(account_id, "security") != "'tls'":
        fail("port/security in GSettings: %s %s" % (gsettings(account_id, "port"),
                                                    gsettings(account_id, "security")))
    if gsettings(account_id, "provider") != "'fastmail'":
        fail("provider in GSettings: " + gsettings(account_id, "provider"))
    print("ok 4 - gsettings shows the account's keys")

    looked_up = subprocess.run(["secret-tool", "lookup", "xdg:schema", "io.github.envoimail.Envoi.Smtp",
                                "account", account_id], capture_output=True, text=True).stdout
    if looked_up != PASSWORD:
        fail("secret-tool lookup gave %r" % looked_up)
    print("ok 5 - secret-tool finds the password in the keyring")

    home = os.environ["HOME"]
    keyrings = os.path.join(home, ".local", "share", "keyrings")
    for dirpath, _, files in os.walk(home):
        if dirpath.startswith(keyrings):
            continue
        for name in files:
            path = os.path.join(dirpath, name)
            try:
                with open(path, "rb") as f:
                    if PASSWORD.encode() in f.read():
                        fail("the password is in " + path)
            except OSError:
                pass
    print("ok 6 - the password is in no file under HOME but the keyring")

    # Quit, start again, reopen the account by its row and read the values back. (GTK 4.8's
    # AT-SPI code loses rows added to a list while it is shown — a critical about a NULL object
    # path — so the row is looked for in a fresh start, where the list is built at once.)
    app.quit()
    app.process = App(envoi).process
    root = wait_for("envoi on the accessibility bus again", app_root)
    row = wait_for("the account row", lambda: find(root, pyatspi.ROLE_LIST_ITEM, "Jean Dupont"))
    click(row)
    address = wait_for("the dialog", lambda: find(root, pyatspi.ROLE_TEXT, "Email Address"))
    if text_of(address) != "jean.dupont@example.fr":
        fail("reopened address: %r" % text_of(address))
    if text_of(find(root, pyatspi.ROLE_TEXT, "Display Name")) != "Jean Dupont":
        fail("reopened display name")
    if text_of(find(root, pyatspi.ROLE_TEXT, "Server")) != "smtp.fastmail.com":
        fail("reopened server")
    print("ok 7 - reopening shows what was saved")
    print("1..7")


if __name__ == "__main__":
    main()
