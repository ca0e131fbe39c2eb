#!/usr/bin/python3
"""A WebKitGTK browser for WebKitWebDriver with a persistent profile.

WebKitWebDriver starts it with --automation (and the inspector address in the environment).
MiniBrowser's automation mode keeps website data in memory only, so a store could not outlive a
relaunch; this one keeps IndexedDB, OPFS and the rest under the folder WALDEN_WEBKIT_PROFILE.
Feature flags from WALDEN_WEBKIT_FEATURES (e.g. "+StorageAPI,+FileSystem") are applied to every view.
"""
import os
import sys

import gi

gi.require_version("Gtk", "3.0")
gi.require_version("WebKit2", "4.1")
from gi.repository import Gtk, WebKit2  # noqa: E402

profile = os.environ.get("WALDEN_WEBKIT_PROFILE")
if not profile:
    sys.exit("WALDEN_WEBKIT_PROFILE must name the profile folder")
manager = WebKit2.WebsiteDataManager(
    base_data_directory=os.path.join(profile, "data"),
    base_cache_directory=os.path.join(profile, "cache"),
)
context = WebKit2.WebContext(website_data_manager=manager)
context.set_automation_allowed("--automation" in sys.argv)
features = [f for f in os.environ.get("WALDEN_WEBKIT_FEATURES", "").split(",") if f]
windows = []


def new_view(related=None):
    view = WebKit2.WebView(web_context=context, is_controlled_by_automation=True) if related is None else WebKit2.WebView(related_view=related, is_controlled_by_automation=True)
    settings = view.get_settings()
    all_features = WebKit2.Settings.get_all_features()
    for flag in features:
        wanted = flag[0] != "-"
        name = flag.lstrip("+-")
        for i in range(all_features.get_length()):
            feature = all_features.get(i)
            if feature.get_identifier() == name:
                settings.set_feature_enabled(feature, wanted)
    window = Gtk.Window()
    window.set_default_size(800, 600)
    window.add(view)
    window.show_all()
    view.connect("close", lambda v: window.destroy())
    windows.append(window)
    return view


def on_automation_started(_context, session):
    info = WebKit2.ApplicationInfo()
    info.set_name("walden-webkit")
    info.set_version(1, 0, 0)
    session.set_application_info(info)
    session.connect("create-web-view", lambda _session: new_view())


context.connect("automation-started", on_automation_started)
if "--automation" not in sys.argv:
    # By hand: open the URLs given.
    for url in [a for a in sys.argv[1:] if not a.startswith("-")] or ["about:blank"]:
        new_view().load_uri(url)
Gtk.main()
