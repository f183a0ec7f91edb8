# -*- coding: utf-8 -*-
# Copyright: (c) 2026, natsops maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""A functional probe of one nats-server, speaking the client protocol with the standard library only,
so it runs on the node itself (where nats-py is not installed) before a change goes any further.

It does what every client does and stops at the first step that fails: connect (TLS and
authentication included), PING/PONG, a publish/subscribe request and reply through the server,
and a JetStream API request ($JS.API.INFO). Like nats.go and nats-py it refuses to publish a
message larger than the max_payload the server announces, so a setting that breaks every client's
publish fails the probe as it would fail them."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import binascii
import json
import os
import socket
import ssl
import time

from ansible_collections.natsops.jetstream.plugins.module_utils._jetstream import JetStreamAPIError, api_subject

# The probe's one JetStream request (the account's JetStream info).
JS_INFO_SUBJECT = api_subject('INFO')


class ProbeFailed(Exception):
    """A probe step failed; ``step`` names it."""

    def __init__(self, step, detail):
        super(ProbeFailed, self).__init__('%s: %s' % (step, detail))
        self.step = step
        self.detail = detail


class _Conn(object):
    def __init__(self, sock, deadline):
        self.sock = sock
        self.buf = b''
        self.deadline = deadline

    def send(self, data):
        self.sock.sendall(data)

    def _fill(self):
        remaining = self.deadline - time.time()
        if remaining <= 0:
            raise socket.timeout('deadline passed')
        self.sock.settimeout(remaining)
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError('the server closed the connection')
        self.buf += chunk

    def line(self):
        while b'\r\n' not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b'\r\n', 1)
        return line.decode('utf-8', 'replace')

    def payload(self, size):
        while len(self.buf) < size + 2:
            self._fill()
        data, self.buf = self.buf[:size], self.buf[size + 2:]
        return data

    def next_message(self):
        """The next MSG/HMSG as (subject, sid, reply, headers_bytes, data); answers server PINGs."""
        while True:
            line = self.line()
            op = line.split(' ', 1)[0].upper()
            if op == 'PING':
                self.send(b'PONG\r\n')
            elif op in ('PONG', '+OK', 'INFO', ''):
                continue
            elif op == '-ERR':
                raise _ServerError(line[5:].strip())
            elif op == 'MSG':
                parts = line.split()
                reply = parts[3] if len(parts) == 5 else None
                return parts[1], parts[2], reply, b'', self.payload(int(parts[-1]))
            elif op == 'HMSG':
                parts = line.split()
                reply = parts[3] if len(parts) == 6 else None
                hsize, total = int(parts[-2]), int(parts[-1])
                raw = self.payload(total)
                return parts[1], parts[2], reply, raw[:hsize], raw[hsize:]
            else:
                raise _ServerError('unexpected protocol line %r' % line[:80])


class _ServerError(Exception):
    pass


def _tls_context(ca_file, cert_file, key_file, verify):
    ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=ca_file or None)
    if not verify:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    if cert_file:
        ctx.load_cert_chain(cert_file, key_file)
    return ctx


def probe(host, port, timeout=10.0, tls=False, ca_file=None, cert_file=None, key_file=None, server_name=None,
          verify=True, user=None, password=None, jetstream=True, payload_size=64):
    """Run every step against host:port; return the list of steps that passed with their timings.
    Raises ProbeFailed naming the first step that failed."""
    deadline = time.time() + timeout
    steps = []
    started = time.time()
    step = 'connect'

    def done(name):
        steps.append({'step': name, 'ms': int((time.time() - started) * 1000)})

    sock = None
    try:
        try:
            sock = socket.create_connection((host, int(port)), timeout=timeout)
            conn = _Conn(sock, deadline)
            info_line = conn.line()
            if not info_line.startswith('INFO '):
                raise ProbeFailed(step, 'expected INFO from the server, got %r' % info_line[:80])
            info = json.loads(info_line[5:])
            if tls or info.get('tls_required'):
                step = 'tls handshake'
                ctx = _tls_context(ca_file, cert_file, key_file, verify)
                sock = ctx.wrap_socket(sock, server_hostname=server_name or host)
                conn.sock = sock
            done('connect')

            step = 'authenticate (CONNECT, PING/PONG)'
            connect = {'verbose': False, 'pedantic': False, 'tls_required': bool(tls or info.get('tls_required')),
                       'name': 'natsops-probe', 'lang': 'python', 'version': '1', 'protocol': 1,
                       'headers': True, 'no_responders': True}
            if user:
                connect.update(user=user, **{'pass': password or ''})
            conn.send(('CONNECT %s\r\nPING\r\n' % json.dumps(connect)).encode('utf-8'))
            while True:
                line = conn.line()
                if line.startswith('PONG'):
                    break
                if line.startswith('-ERR'):
                    raise ProbeFailed(step, 'the server refused the client: %s' % line[5:].strip())
                if line.startswith('PING'):
                    conn.send(b'PONG\r\n')
            done('authenticate')

            step = 'request/reply round trip'
            max_payload = int(info.get('max_payload', 0))
            if max_payload < payload_size:
                raise ProbeFailed(step, 'the server announces max_payload %d: clients refuse every publish larger '
                                        'than that (this probe sends %d bytes)' % (max_payload, payload_size))
            token = binascii.hexlify(os.urandom(8)).decode('ascii')
            req_subject = '_INBOX.natsops.probe.%s.req' % token
            reply_subject = '_INBOX.natsops.probe.%s.rep' % token
            body = (b'natsops-probe-' + token.encode('ascii')).ljust(payload_size, b'.')
            conn.send(('SUB %s 1\r\nSUB %s 2\r\nPUB %s %s %d\r\n' % (
                req_subject, reply_subject, req_subject, reply_subject, len(body))).encode('ascii') + body + b'\r\n')
            subject, sid, reply, dummy, data = conn.next_message()
            if sid != '1' or data != body or reply != reply_subject:
                raise ProbeFailed(step, 'the request came back wrong (subject %s)' % subject)
            conn.send(('PUB %s %d\r\n' % (reply, len(data))).encode('ascii') + data + b'\r\n')
            subject, sid, reply, dummy, data = conn.next_message()
            if sid != '2' or data != body:
                raise ProbeFailed(step, 'the reply came back wrong (subject %s)' % subject)
            done('request/reply')

            if jetstream:
                step = 'JetStream API (%s)' % JS_INFO_SUBJECT
                inbox = '_INBOX.natsops.probe.%s.js' % token
                conn.send(('SUB %s 3\r\nPUB %s %s 0\r\n\r\n' % (inbox, JS_INFO_SUBJECT, inbox)).encode('ascii'))
                subject, sid, reply, headers, data = conn.next_message()
                if headers.startswith(b'NATS/1.0 503'):
                    raise ProbeFailed(step, 'no responders: JetStream is not available to this account')
                try:
                    resp = json.loads(data.decode('utf-8'))
                except ValueError:
                    raise ProbeFailed(step, 'the reply is not JSON: %r' % data[:80])
                error = JetStreamAPIError.from_reply(resp, None)
                if error is not None:
                    raise ProbeFailed(step, str(error))
                done('jetstream')
        except ProbeFailed:
            raise
        except _ServerError as exc:
            raise ProbeFailed(step, 'the server answered -ERR %s' % exc)
        except (socket.timeout, ssl.SSLError, OSError, EOFError, ValueError) as exc:
            raise ProbeFailed(step, str(exc) or type(exc).__name__)
    finally:
        if sock is not None:
            try:
                sock.close()
            except (OSError, ssl.SSLError):
                pass
    return steps
