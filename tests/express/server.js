// The seed's Express app with modern express-session, for sessionlab's parity tests.
// SECRET: a string, or a JSON array of strings (newest first). Listens on 127.0.0.1 on a
// port the system picks and prints it as its first line, so the test never races for one.
"use strict";
const express = require("express");
const session = require("express-session");
const signature = require(require.resolve("cookie-signature", {
  paths: [require.resolve("express-session")],
}));

const raw = process.env.SECRET || "some secret key";
const secret = raw.startsWith("[") ? JSON.parse(raw) : raw;

const app = express();
app.use(session({ secret, resave: false, saveUninitialized: false }));

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

// express-session's own signer (cookie-signature), for the worked example.
app.get("/sign", (req, res) => res.send(signature.sign(req.query.value, req.query.secret)));

const server = app.listen(0, "127.0.0.1", () => {
  console.log(`listening on ${server.address().port}`);
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
