import assert from "node:assert/strict";
import { test } from "node:test";
import { apiError, ConsoleApi, CONSOLE_HEADER, requestInit } from "../src/console/console_api";
import { canCorrect, parseSession, roleAllows } from "../src/console/roles";

test("role gating: both roles view, only an official corrects", () => {
  assert.equal(roleAllows("viewer", "view"), true);
  assert.equal(roleAllows("viewer", "correct"), false);
  assert.equal(roleAllows("official", "view"), true);
  assert.equal(roleAllows("official", "correct"), true);
  assert.equal(roleAllows(undefined, "view"), false);
  assert.equal(canCorrect({ name: "Ri", role: "official", expires_ms: 1 }), true);
  assert.equal(canCorrect({ name: "Ri", role: "viewer", expires_ms: 1 }), false);
  assert.equal(canCorrect(null), false);
});

test("the session body is checked: an unknown role is no session", () => {
  assert.deepEqual(parseSession({ name: "Ri Chol", role: "official", expires_ms: 5 }), { name: "Ri Chol", role: "official", expires_ms: 5 });
  assert.deepEqual(parseSession({ name: "Kim", role: "viewer" }), { name: "Kim", role: "viewer", expires_ms: 0 });
  assert.equal(parseSession({ name: "Kim", role: "admin" }), null);
  assert.equal(parseSession({ name: "", role: "viewer" }), null);
  assert.equal(parseSession(null), null);
});

test("requests: the cookie (same origin) always; the console header and JSON on unsafe ones only", () => {
  const get = requestInit("GET");
  assert.equal(get.credentials, "same-origin");
  assert.equal((get.headers as Record<string, string>)[CONSOLE_HEADER], undefined);
  assert.equal(get.body, undefined);
  const post = requestInit("POST", { kind: "set_status", bib: "1", status: "dnf" });
  assert.equal(post.credentials, "same-origin");
  assert.equal((post.headers as Record<string, string>)[CONSOLE_HEADER], "1");
  assert.equal((post.headers as Record<string, string>)["Content-Type"], "application/json");
  assert.equal(post.body, '{"kind":"set_status","bib":"1","status":"dnf"}');
  const del = requestInit("DELETE");
  assert.equal((del.headers as Record<string, string>)[CONSOLE_HEADER], "1");
  assert.equal(del.body, undefined);
});

test("errors carry the server's code and message", () => {
  const e = apiError(403, { error: { code: "forbidden", message: "Kim is a viewer; corrections need the official role" } }, "/x");
  assert.equal(e.status, 403);
  assert.equal(e.code, "forbidden");
  assert.equal(e.message, "Kim is a viewer; corrections need the official role");
  const bare = apiError(502, null, "/api/v1/devices");
  assert.equal(bare.code, "http_error");
  assert.equal(bare.message, "/api/v1/devices: HTTP 502");
});

function fakeFetch(status: number, body: unknown, seen: { path: string; init: RequestInit }[] = []): typeof fetch {
  return async (input, init) => {
    seen.push({ path: String(input), init: init ?? {} });
    return new Response(body === undefined ? null : JSON.stringify(body), { status });
  };
}

test("a 401 sends the page back to sign-in; checking the session does not", async () => {
  const api = new ConsoleApi(fakeFetch(401, { error: { code: "session_expired", message: "sign in again" } }));
  const seen: string[] = [];
  api.onUnauthorized = (e) => seen.push(e.code);
  await assert.rejects(api.review(), { code: "session_expired" });
  assert.deepEqual(seen, ["session_expired"]);
  assert.equal(await api.session(), null);
  assert.deepEqual(seen, ["session_expired"], "GET /api/v1/session answering 401 is just 'signed out'");
});

test("sign-in posts the token in the body, never in the URL; sign-out is a DELETE", async () => {
  const seen: { path: string; init: RequestInit }[] = [];
  const api = new ConsoleApi(fakeFetch(200, { name: "Ri Chol", role: "official", expires_ms: 9 }, seen));
  assert.deepEqual(await api.signIn("secret-token-0123456789"), { name: "Ri Chol", role: "official", expires_ms: 9 });
  assert.equal(seen[0]!.path, "/api/v1/session");
  assert.equal(seen[0]!.init.method, "POST");
  assert.equal(seen[0]!.init.body, '{"token":"secret-token-0123456789"}');
  const out = new ConsoleApi(fakeFetch(204, undefined, seen));
  assert.equal(await out.signOut(), undefined);
  assert.equal(seen[1]!.init.method, "DELETE");
});

test("undo posts to the correction's own path", async () => {
  const seen: { path: string; init: RequestInit }[] = [];
  const api = new ConsoleApi(fakeFetch(201, { id: "2-0", applied: true }, seen));
  await api.undo("1743896522123-0");
  assert.equal(seen[0]!.path, "/api/v1/admin/corrections/1743896522123-0/undo");
  assert.equal(seen[0]!.init.body, "{}");
});
