// The seed's Express app in a node cluster of WORKERS processes sharing one session store:
// bench/throughput.py's peer for sessionlab on the same number of worker processes.
//
//   WORKERS=2 PORT=8000 SECRET=... STORE=redis REDIS_URL=redis://127.0.0.1:6379/0 node server.js
//   WORKERS=2 PORT=8000 SECRET=... STORE=redis REDIS_SOCKET=/path/redis.sock node server.js
//   WORKERS=2 PORT=8000 SECRET=... STORE=sqlite SQLITE_PATH=/tmp/x/sessions.db node server.js
//   WORKERS=1 PORT=8000 SECRET=... STORE=memory node server.js   # the seed: one process
//
// express-session is configured as its README shows: resave false, saveUninitialized
// false (sessionlab's defaults too). Stores with their documented defaults: connect-redis
// (one key per session, TTL; express-session touches it on every request), connect-sqlite3
// with concurrentDb (WAL, which several processes need), and express-session's own
// MemoryStore, which lives in one process and so only with WORKERS=1.
// With WORKERS=1 the one process serves and prints "listening on PORT" (no cluster);
// otherwise the primary prints it once every worker listens, then only supervises.
"use strict";
const cluster = require("node:cluster");

const workers = Number(process.env.WORKERS || 2);
const port = Number(process.env.PORT);
const bind = "127.0.0.1"; // the bench never leaves this machine

if (workers === 1) {
  serve()
    .then(() => console.log(`listening on ${port}`))
    .catch((error) => {
      console.error(error);
      process.exit(1);
    });
} else if (cluster.isPrimary) {
  let listening = 0;
  cluster.on("listening", () => {
    listening += 1;
    if (listening === workers) console.log(`listening on ${port}`);
  });
  cluster.on("exit", (worker, code, signal) => {
    if (stopping) return;
    console.error(`worker ${worker.process.pid} died (${signal || code})`);
    if (listening < workers) process.exit(1); // it never served: fail, with its log above
  });
  let stopping = false;
  process.on("SIGTERM", () => {
    stopping = true;
    for (const worker of Object.values(cluster.workers)) worker.kill("SIGTERM");
    setTimeout(() => process.exit(0), 2000).unref();
    cluster.on("exit", () => {
      if (Object.keys(cluster.workers).length === 0) process.exit(0);
    });
  });
  for (let i = 0; i < workers; i += 1) cluster.fork();
} else {
  serve().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}

async function serve() {
  const express = require("express");
  const session = require("express-session");
  const store = await openStore(session);
  const app = express();
  app.use(
    session({ secret: process.env.SECRET, resave: false, saveUninitialized: false, store }),
  );

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
    req.session.destroy(() => res.send('<br />logged out!<br /><a href="/user">Check Session</a>'));
  });

  const server = app.listen(port, bind);
  process.on("SIGTERM", () => server.close(() => process.exit(0)));
  await new Promise((resolve, reject) => {
    server.once("listening", resolve);
    server.once("error", reject);
  });
}

async function openStore(session) {
  if (process.env.STORE === "redis") {
    const { createClient } = require("redis");
    const { RedisStore } = require("connect-redis");
    const options = process.env.REDIS_SOCKET
      ? { socket: { path: process.env.REDIS_SOCKET } }
      : { url: process.env.REDIS_URL };
    const client = createClient(options);
    client.on("error", (error) => console.error("redis:", error));
    await client.connect();
    return new RedisStore({ client, prefix: "sess:express:" });
  }
  if (process.env.STORE === "sqlite") {
    const SQLiteStore = require("connect-sqlite3")(session);
    const path = require("node:path");
    const file = process.env.SQLITE_PATH;
    const store = new SQLiteStore({
      db: path.basename(file),
      dir: path.dirname(file),
      concurrentDb: true,
    });
    await new Promise((resolve) => store.client.once("connect", resolve));
    return store;
  }
  if (process.env.STORE === "memory") {
    if (workers !== 1) throw new Error("STORE=memory lives in one process: WORKERS=1");
    return new session.MemoryStore(); // what express-session uses when given no store
  }
  throw new Error(`STORE must be redis, sqlite or memory, not ${process.env.STORE}`);
}
