#!/usr/bin/env python3
"""Offline stand-in for ansible-test's pip bootstrap script (get-pip-<version>.py).

ansible-test creates one virtualenv per sanity test and bootstraps pip in it with a script it
downloads from a host this machine cannot reach. This replacement does the same job with the
standard library's ensurepip and then installs the requested packages from the configured
package index. ansible-test runs pip with a cleaned environment, so the machine's pip settings
(index, certificate bundle) are copied into the new virtualenv's own pip.conf.
scripts/sanity.sh installs this file into ansible-test's cache.
"""
import ensurepip
import os
import shutil
import subprocess
import sys

for conf in ("/etc/xdg/pip/pip.conf", "/etc/pip.conf", os.path.expanduser("~/.config/pip/pip.conf")):
    if os.path.exists(conf):
        shutil.copyfile(conf, os.path.join(sys.prefix, "pip.conf"))
        break

ensurepip.bootstrap(upgrade=True)
args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
cert = "/etc/ssl/certs/ca-certificates.crt"
extra = ["--cert", cert] if os.path.exists(cert) else []
sys.exit(subprocess.call([sys.executable, "-m", "pip", "install"] + extra + args))
