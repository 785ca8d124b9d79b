// The seed tutorial's Express app, on Express 5 + express-session, in two modes.
//
// MODE=faithful (default): the tutorial's three routes and `session({secret: 'some secret key'})`
//   and nothing else, i.e. express-session's defaults (resave and saveUninitialized true,
//   MemoryStore, cookie `connect.sid; Path=/; HttpOnly`, no Expires, no SameSite).
//   The name is written back unescaped, as the tutorial does (XSS).
// MODE=recommended: express-session's README advice applied: resave/saveUninitialized false,
//   a strong secret from SESSION_SECRET, cookie HttpOnly + SameSite=Lax (+ Secure and a
//   `__Host-` name under HTTPS), a new id at login (req.session.regenerate), POST login and
//   logout with a synchronizer CSRF token (field `_csrf`), server-side idle and absolute
//   timeouts (IDLE_TIMEOUT, ABSOLUTE_TIMEOUT seconds), logout destroys and clears the cookie.
//
// Both modes: listens on 127.0.0.1:PORT (0: any free port) and prints `listening on PORT`;
// GET /_sessionlab/sessions (answered only to a loopback peer) lists the MemoryStore's records as JSON.
// HTTPS when TLS_CERT and TLS_KEY name PEM files.
"use strict";
const crypto = require("crypto");
const fs = require("fs");
const express = require("express");
const session = require("express-session");

const MODE = process.env.MODE || "faithful";
const PORT = Number(process.env.PORT || 0);
const HTTPS = Boolean(process.env.TLS_CERT && process.env.TLS_KEY);

const app = express();
const store = new session.MemoryStore();

// Loopback-only view of the server's records, for sessionlab's store_frame/timeline.
// Mounted before the session middleware so that looking never creates a session.
app.get("/_sessionlab/sessions", (req, res) => {
  const peer = req.socket.remoteAddress || "";
  if (!["127.0.0.1", "::1", "::ffff:127.0.0.1"].includes(peer)) return res.status(403).end();
  store.all((err, sessions) => {
    if (err) return res.status(500).json({ error: String(err) });
    res.json(Object.entries(sessions || {}).map(([sid, data]) => ({ sid, data })));
  });
});

if (MODE === "faithful") {
  // The tutorial, byte for byte where Express 5 allows (express.session -> express-session).
  app.use(session({ secret: "some secret key", store }));

  app.get("/user/:user", (req, res) => {
    req.session.name = req.params.user;
    res.send('<p>Session Set: <a href="/user">View Here</a></p>');
  });

  app.get("/user", (req, res) => {
    if (req.session.name) {
      res.send(req.session.name + '<br /><a href="/logout">Logout</a>');
    } else {
      res.send("user logged out!");
    }
  });

  app.get("/logout", (req, res) => {
    req.session.destroy();
    res.send('<br />logged out!<br /><a href="/user">Check Session</a>');
  });
} else if (MODE === "recommended") {
  // One secret, or a JSON array of them, newest first: express-session signs with the first
  // and accepts a cookie signed with any (key rotation).
  const raw = process.env.SESSION_SECRET || "";
  const secret = raw.startsWith("[") ? JSON.parse(raw) : raw;
  const secrets = Array.isArray(secret) ? secret : [secret];
  if (!secrets.length || secrets.some((s) => typeof s !== "string" || s.length < 32)) {
    console.error("SESSION_SECRET must hold at least 32 characters (each, in a JSON array)");
    process.exit(2);
  }
  const IDLE = Number(process.env.IDLE_TIMEOUT || 1800) * 1000;
  const ABSOLUTE = Number(process.env.ABSOLUTE_TIMEOUT || 8 * 3600) * 1000;
  const NAME = HTTPS ? "__Host-sid" : "sid";
  const cookie = { path: "/", httpOnly: true, sameSite: "lax", secure: HTTPS };

  if (HTTPS) app.set("trust proxy", false);
  app.use(express.urlencoded({ extended: false }));
  app.use(
    session({ secret, name: NAME, store, resave: false, saveUninitialized: false, cookie })
  );

  // Server-side timeouts: the store keeps a record without cookie.maxAge forever, so the
  // session carries its own clock (a non-persistent cookie, as OWASP advises).
  app.use((req, res, next) => {
    const s = req.session;
    const now = Date.now();
    if (s.name && (now - (s.seenAt || 0) > IDLE || now - (s.loginAt || 0) > ABSOLUTE)) {
      return s.destroy(() => {
        res.clearCookie(NAME, cookie);
        next();
      });
    }
    if (s.name) s.seenAt = now;
    next();
  });

  const escape = (text) =>
    String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  const token = (req) => {
    if (!req.session.csrf) req.session.csrf = crypto.randomBytes(32).toString("base64url");
    return req.session.csrf;
  };
  const validToken = (req) => {
    const sent = Buffer.from(String((req.body && req.body._csrf) || ""));
    const kept = Buffer.from(String(req.session && req.session.csrf ? req.session.csrf : ""));
    return kept.length > 0 && sent.length === kept.length && crypto.timingSafeEqual(sent, kept);
  };
  const form = (action, fields, button, req) =>
    `<form method="post" action="${action}">${fields}` +
    `<input type="hidden" name="_csrf" value="${token(req)}">` +
    `<button>${button}</button></form>`;

  app.get("/login", (req, res) => {
    res.send(form("/login", '<input name="user">', "Log in", req));
  });

  app.post("/login", (req, res, next) => {
    if (!validToken(req)) return res.status(403).send("invalid CSRF token");
    const user = String(req.body.user || "");
    if (!user) return res.status(400).send("user required");
    req.session.regenerate((err) => {
      if (err) return next(err);
      req.session.name = user;
      req.session.loginAt = req.session.seenAt = Date.now();
      req.session.save((err2) => {
        if (err2) return next(err2);
        res.send('<p>Session Set: <a href="/user">View Here</a></p>');
      });
    });
  });

  app.get("/user", (req, res) => {
    if (req.session.name) {
      res.send(escape(req.session.name) + "<br />" + form("/logout", "", "Logout", req));
    } else {
      res.send("user logged out!");
    }
  });

  app.post("/logout", (req, res, next) => {
    if (!validToken(req)) return res.status(403).send("invalid CSRF token");
    req.session.destroy((err) => {
      if (err) return next(err);
      res.clearCookie(NAME, cookie);
      res.send('<br />logged out!<br /><a href="/user">Check Session</a>');
    });
  });
} else {
  console.error(`MODE must be faithful or recommended, not ${MODE}`);
  process.exit(2);
}

const server = HTTPS
  ? require("https").createServer(
      { cert: fs.readFileSync(process.env.TLS_CERT), key: fs.readFileSync(process.env.TLS_KEY) },
      app
    )
  : require("http").createServer(app);
server.listen(PORT, "127.0.0.1", () => {
  console.log(`listening on ${server.address().port}`);
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
