#!/usr/bin/python3
# notification-server.py: a desktop notification server for the tests, on the session bus
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
#   /usr/bin/python3 tests/notification-server.py --out FILE
#
# Owns org.freedesktop.Notifications (the specification's interface, as GLib's GNotification
# uses it outside a sandbox when nothing provides org.gtk.Notifications) and appends every
# notification it is given to FILE, one JSON object a line: app_name, summary, body, urgency
# (from the hints) and id. Once the name is owned it writes FILE.ready. Runs until killed, or
# until the process that started it exits.

import argparse
import json
import os
import sys

from gi.repository import Gio, GLib

INTERFACE = """
<node>
  <interface name="org.freedesktop.Notifications">
    <method name="Notify">
      <arg type="s" name="app_name" direction="in"/>
      <arg type="u" name="replaces_id" direction="in"/>
      <arg type="s" name="app_icon" direction="in"/>
      <arg type="s" name="summary" direction="in"/>
      <arg type="s" name="body" direction="in"/>
      <arg type="as" name="actions" direction="in"/>
      <arg type="a{sv}" name="hints" direction="in"/>
      <arg type="i" name="expire_timeout" direction="in"/>
      <arg type="u" name="id" direction="out"/>
    </method>
    <method name="CloseNotification">
      <arg type="u" name="id" direction="in"/>
    </method>
    <method name="GetCapabilities">
      <arg type="as" name="capabilities" direction="out"/>
    </method>
    <method name="GetServerInformation">
      <arg type="s" name="name" direction="out"/>
      <arg type="s" name="vendor" direction="out"/>
      <arg type="s" name="version" direction="out"/>
      <arg type="s" name="spec_version" direction="out"/>
    </method>
    <signal name="NotificationClosed">
      <arg type="u" name="id"/>
      <arg type="u" name="reason"/>
    </signal>
    <signal name="ActionInvoked">
      <arg type="u" name="id"/>
      <arg type="s" name="action_key"/>
    </signal>
  </interface>
</node>
"""


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    args = parser.parse_args()

    loop = GLib.MainLoop()
    state = {"next_id": 0}
    node = Gio.DBusNodeInfo.new_for_xml(INTERFACE)

    def method_call(connection, sender, path, interface, method, params, invocation):
        if method == "Notify":
            app_name, replaces_id, _icon, summary, body, _actions, hints, _timeout = params.unpack()
            if replaces_id:
                nid = replaces_id
            else:
                state["next_id"] += 1
                nid = state["next_id"]
            record = {"app_name": app_name, "summary": summary, "body": body,
                      "urgency": hints.get("urgency"), "id": nid}
            with open(args.out, "a", encoding="utf-8") as f:
                f.write(json.dumps(record) + "\n")
            invocation.return_value(GLib.Variant("(u)", (nid,)))
        elif method == "CloseNotification":
            invocation.return_value(None)
        elif method == "GetCapabilities":
            invocation.return_value(GLib.Variant("(as)", (["body"],)))
        elif method == "GetServerInformation":
            invocation.return_value(GLib.Variant("(ssss)", ("envoi-test", "Envoi", "1", "1.2")))
        else:
            invocation.return_dbus_error("org.freedesktop.DBus.Error.UnknownMethod", method)

    def bus_acquired(connection, name):
        connection.register_object("/org/freedesktop/Notifications", node.interfaces[0],
                                   method_call, None, None)

    def name_acquired(connection, name):
        open(args.out + ".ready", "w").close()

    def name_lost(connection, name):
        print("notification-server: could not own %s" % name, file=sys.stderr)
        loop.quit()

    Gio.bus_own_name(Gio.BusType.SESSION, "org.freedesktop.Notifications",
                     Gio.BusNameOwnerFlags.NONE, bus_acquired, name_acquired, name_lost)

    # Never outlive the test that started us, even when it aborts.
    parent = os.getppid()

    def check_parent():
        if os.getppid() != parent:
            loop.quit()
            return False
        return True

    GLib.timeout_add(200, check_parent)
    loop.run()


if __name__ == "__main__":
    main()
