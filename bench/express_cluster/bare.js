// A bare Node http server in a cluster of WORKERS processes, no session: the Node ceiling
// beside bench/throughput.py's Express rows. Prints "listening on PORT" when all listen.
"use strict";
const cluster = require("node:cluster");
const workers = Number(process.env.WORKERS || 2);
const port = Number(process.env.PORT);

if (cluster.isPrimary) {
  let up = 0;
  cluster.on("listening", () => {
    up += 1;
    if (up === workers) console.log(`listening on ${port}`);
  });
  for (let i = 0; i < workers; i += 1) cluster.fork();
  process.on("SIGTERM", () => {
    for (const worker of Object.values(cluster.workers)) worker.kill();
    process.exit(0);
  });
} else {
  require("node:http")
    .createServer((req, res) => res.end("user logged out!"))
    .listen(port, "127.0.0.1");
}
