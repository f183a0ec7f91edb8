// Independent check of JWTs and .creds files with the NATS maintainers' @nats-io/jwt and @nats-io/nkeys.
// stdin: {"jwts": {"label": "<jwt>", ...}, "creds": {"label": "<path>", ...}}
// stdout: {"jwts": {"label": {"ok": true, "header": {...}, "claims": {...}} | {"ok": false, "error": "..."}},
//          "creds": {"label": {"ok": true, "public_key": "U...", "aid": "A...", "claims": {...}} | {"ok": false, ...}}}
// jwt.decode() checks the ed25519-nkey signature against the issuer (iss) and throws when it does not verify.
"use strict";
const fs = require("fs");
const jwt = require("@nats-io/jwt");
const nkeys = require("@nats-io/nkeys");

function header(token) {
  const b = token.split(".")[0].replace(/-/g, "+").replace(/_/g, "/");
  return JSON.parse(Buffer.from(b, "base64").toString("utf8"));
}

let input = "";
process.stdin.on("data", (d) => (input += d)).on("end", async () => {
  const req = JSON.parse(input);
  const out = { jwts: {}, creds: {} };
  for (const [label, token] of Object.entries(req.jwts || {})) {
    try {
      out.jwts[label] = { ok: true, header: header(token), claims: jwt.decode(token) };
    } catch (e) {
      out.jwts[label] = { ok: false, error: String(e) };
    }
  }
  for (const [label, path] of Object.entries(req.creds || {})) {
    try {
      const c = await jwt.parseCreds(fs.readFileSync(path));
      const kp = nkeys.fromSeed(new TextEncoder().encode(c.key));
      const nonce = new TextEncoder().encode("nonce-from-the-server");
      const sig = kp.sign(nonce);
      const verified = nkeys.fromPublic(kp.getPublicKey()).verify(nonce, sig);
      out.creds[label] = { ok: true, public_key: kp.getPublicKey(), aid: c.aid, claims: c.uc, signs: verified };
    } catch (e) {
      out.creds[label] = { ok: false, error: String(e) };
    }
  }
  process.stdout.write(JSON.stringify(out));
});
