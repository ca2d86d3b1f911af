// End-to-end test of authhero-go's Management API with the official auth0
// npm SDK (ManagementClient). sdk_test.go starts a server and runs it:
//
//   AUTHHERO_BASE_URL=http://127.0.0.1:3000 AUTHHERO_CLIENT_ID=... \
//   AUTHHERO_CLIENT_SECRET=... node mgmt.mjs
//
// Every check asserts with node:assert; the first failure prints what was
// checked and why it failed, and the script exits 1. On success it prints
// one line: "auth0 SDK e2e: N checks passed".
//
// Plain http on loopback: the SDK builds https://{domain}/oauth/token and
// https://{domain}/api/v2 itself. It is given domain "127.0.0.1:PORT", the
// audience our issuer accepts ("http://127.0.0.1:PORT/api/v2/"), and its own
// `fetch` option, which rewrites exactly https://127.0.0.1:PORT/ to
// http://127.0.0.1:PORT/ and refuses any other URL. The SDK's own
// client_credentials path (TokenProvider) obtains and caches the token.
import assert from "node:assert/strict";
import { ManagementClient, ManagementError, Management, TokenProvider } from "auth0";

const base = (process.env.AUTHHERO_BASE_URL ?? "").replace(/\/+$/, "");
const clientId = process.env.AUTHHERO_CLIENT_ID ?? "";
const clientSecret = process.env.AUTHHERO_CLIENT_SECRET ?? "";
if (!base || !clientId || !clientSecret) {
  console.error("mgmt.mjs: set AUTHHERO_BASE_URL, AUTHHERO_CLIENT_ID and AUTHHERO_CLIENT_SECRET");
  process.exit(2);
}
const baseURL = new URL(base);
assert.equal(baseURL.protocol, "http:", "AUTHHERO_BASE_URL is the plain-http loopback server");
const domain = baseURL.host; // 127.0.0.1:PORT
const sdkOrigin = `https://${domain}`; // what the SDK builds
const audience = `${base}/api/v2/`; // {issuer}api/v2/

// ---- the SDK's fetch: https -> http for our origin only, and a request log

const requests = [];
const trace = process.env.AUTHHERO_E2E_TRACE === "1"; // log every request to stderr
async function loopbackFetch(input, init = {}) {
  const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
  if (!url.startsWith(sdkOrigin + "/")) {
    throw new Error(`the SDK asked for an unexpected URL: ${url}`);
  }
  const target = base + url.slice(sdkOrigin.length);
  const res = await fetch(target, init);
  requests.push({
    method: (init.method ?? "GET").toUpperCase(),
    url: new URL(target),
    headers: new Headers(init.headers ?? {}),
    body: typeof init.body === "string" ? init.body : undefined,
    status: res.status,
  });
  if (trace) console.error(`${(init.method ?? "GET").toUpperCase()} ${target} -> ${res.status}`);
  return res;
}

const sdkOptions = { domain, audience, fetch: loopbackFetch, maxRetries: 0, timeoutInSeconds: 30 };
const mgmt = new ManagementClient({ ...sdkOptions, clientId, clientSecret });

// ---- checks

let passed = 0;
let current = "";
async function check(name, fn) {
  current = name;
  await fn();
  passed++;
}

/** Runs fn, which must throw a ManagementError; returns it. */
async function mustThrow(fn, what) {
  try {
    await fn();
  } catch (err) {
    if (err instanceof ManagementError) return err;
    throw new Error(`${what}: expected a ManagementError, got ${err?.name}: ${err?.message}`);
  }
  throw new Error(`${what}: expected an error response, but the call succeeded`);
}

/** Asserts Auth0's Management API error body as the SDK parsed it. */
function assertAuth0Error(err, status, expect, what) {
  assert.equal(err.statusCode, status, `${what}: SDK statusCode`);
  const body = err.body;
  assert.ok(body !== null && typeof body === "object" && !Array.isArray(body),
    `${what}: the SDK did not parse the error body as a JSON object: ${JSON.stringify(body)}` +
      ` (content-type ${err.rawResponse?.headers?.get?.("content-type")})`);
  assert.equal(body.statusCode, status, `${what}: body.statusCode`);
  assert.equal(typeof body.error, "string", `${what}: body.error is a string`);
  assert.equal(typeof body.message, "string", `${what}: body.message is a string`);
  assert.ok(body.message.length > 0, `${what}: body.message is not empty`);
  for (const [k, v] of Object.entries(expect)) {
    assert.equal(body[k], v, `${what}: body.${k}`);
  }
}

const run = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const created = { users: [], clients: [], grants: [], apis: [] };
const MAX_PAGES = 200;

/** Walks an offset-paged list (page/per_page/include_totals) with the SDK's Page. */
async function walkOffset(list, key, perPage) {
  let page = await list({ per_page: perPage, include_totals: true });
  const items = [];
  const totals = new Set();
  for (let n = 0; ; n++) {
    assert.ok(n < MAX_PAGES, `${key}: more than ${MAX_PAGES} pages`);
    const r = page.response;
    assert.ok(r && !Array.isArray(r) && Array.isArray(r[key]),
      `${key} page ${n}: include_totals=true must give {${key}: [...], start, limit, total}, got ${JSON.stringify(r)}`);
    assert.equal(typeof r.total, "number", `${key} page ${n}: total`);
    assert.equal(r.start, n * perPage, `${key} page ${n}: start`);
    assert.equal(r.limit, perPage, `${key} page ${n}: limit`);
    assert.ok(page.data.length <= perPage, `${key} page ${n}: at most per_page items`);
    totals.add(r.total);
    items.push(...page.data);
    if (!page.hasNextPage()) break;
    page = await page.getNextPage();
  }
  assert.equal(totals.size, 1, `${key}: total is the same on every page`);
  const [total] = totals;
  assert.equal(items.length, total, `${key}: the pages hold total items`);
  return items;
}

/** Walks a checkpoint list (from/take) the SDK does not type for this endpoint, via queryParams. */
async function walkCheckpoint(list, key, take) {
  const items = [];
  let from;
  for (let n = 0; ; n++) {
    assert.ok(n < MAX_PAGES, `${key}: more than ${MAX_PAGES} checkpoint pages`);
    const queryParams = { take, ...(from ? { from } : {}) };
    const page = await list({}, { queryParams });
    const r = page.response;
    assert.ok(r && !Array.isArray(r) && Array.isArray(r[key]),
      `${key} checkpoint page ${n}: from/take must give {${key}: [...], next?}, got ${JSON.stringify(r)}`);
    assert.ok(!("start" in r) && !("limit" in r), `${key} checkpoint page ${n}: no offset fields`);
    assert.ok(r[key].length <= take, `${key} checkpoint page ${n}: at most take items`);
    items.push(...r[key]);
    if (r.next === undefined || r.next === null || r.next === "") break;
    assert.equal(typeof r.next, "string", `${key} checkpoint page ${n}: next is a string`);
    assert.notEqual(r.next, from, `${key} checkpoint page ${n}: next moves forward`);
    from = r.next;
  }
  return items;
}

function ids(items, field) {
  const out = items.map((i) => i[field]);
  assert.equal(new Set(out).size, out.length, `no ${field} appears twice across pages`);
  return out;
}

function jwtPayload(token) {
  const [, payload] = token.split(".");
  return JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
}

async function main() {
  // -- token: the SDK's client_credentials request, then the bearer on the API call
  let api;
  await check("create a resource server (first call: SDK fetches a client_credentials token)", async () => {
    const identifier = `https://api-${run}.e2e.example/`;
    api = await mgmt.resourceServers.create({
      name: `e2e API ${run}`,
      identifier,
      scopes: [
        { value: "read:things", description: "Read things" },
        { value: "write:things", description: "Write things" },
      ],
      signing_alg: "RS256",
      token_lifetime: 3600,
    });
    created.apis.push(api.id);
    assert.equal(typeof api.id, "string", "resource server id");
    assert.equal(api.identifier, identifier);
    assert.equal(api.name, `e2e API ${run}`);
    assert.equal(api.signing_alg, "RS256");
    assert.equal(api.token_lifetime, 3600);
    assert.deepEqual(api.scopes, [
      { value: "read:things", description: "Read things" },
      { value: "write:things", description: "Write things" },
    ]);
  });

  await check("the SDK's token request and bearer", async () => {
    assert.ok(requests.length >= 2, "a token request and the API request were made");
    const [tok, call] = requests;
    assert.equal(tok.method, "POST");
    assert.equal(tok.url.pathname, "/oauth/token");
    assert.equal(tok.status, 200, "token endpoint status");
    const form = new URLSearchParams(tok.body);
    assert.equal(form.get("grant_type"), "client_credentials");
    assert.equal(form.get("client_id"), clientId);
    assert.equal(form.get("audience"), audience);
    assert.equal(call.url.pathname, "/api/v2/resource-servers");
    const auth = call.headers.get("authorization") ?? "";
    assert.match(auth, /^Bearer [\w-]+\.[\w-]+\.[\w-]+$/, "API call carries the bearer JWT");
    const claims = jwtPayload(auth.slice(7));
    assert.equal(claims.iss, `${base}/`, "token iss");
    assert.ok([claims.aud].flat().includes(audience), "token aud");
  });

  await check("get the resource server by id", async () => {
    const got = await mgmt.resourceServers.get(api.id);
    assert.equal(got.id, api.id);
    assert.equal(got.identifier, api.identifier);
    assert.equal(got.scopes.length, 2);
  });

  await check("creating the same resource server identifier again is a 409", async () => {
    const err = await mustThrow(() => mgmt.resourceServers.create({ name: "dup", identifier: api.identifier }),
      "duplicate resource server");
    assert.ok(err instanceof Management.ConflictError, `a ConflictError, got ${err.constructor.name}`);
    assertAuth0Error(err, 409, { error: "Conflict" }, "duplicate resource server");
  });

  // -- client and client grant
  let app;
  await check("create a client", async () => {
    app = await mgmt.clients.create({
      name: `e2e client ${run}`,
      app_type: "non_interactive",
      grant_types: ["client_credentials"],
      token_endpoint_auth_method: "client_secret_post",
    });
    created.clients.push(app.client_id);
    assert.equal(typeof app.client_id, "string", "client_id");
    assert.ok(app.client_id.length > 0, "client_id not empty");
    assert.equal(typeof app.client_secret, "string", "client_secret is returned on create");
    assert.ok(app.client_secret.length >= 32, "client_secret length");
    assert.equal(app.name, `e2e client ${run}`);
    assert.equal(app.app_type, "non_interactive");
    assert.deepEqual(app.grant_types, ["client_credentials"]);
  });

  await check("get the client", async () => {
    const got = await mgmt.clients.get(app.client_id);
    assert.equal(got.client_id, app.client_id);
    assert.equal(got.name, app.name);
  });

  let grant;
  await check("create a client grant", async () => {
    grant = await mgmt.clientGrants.create({ client_id: app.client_id, audience: api.identifier, scope: ["read:things"] });
    created.grants.push(grant.id);
    assert.equal(typeof grant.id, "string", "grant id");
    assert.equal(grant.client_id, app.client_id);
    assert.equal(grant.audience, api.identifier);
    assert.deepEqual(grant.scope, ["read:things"]);
  });

  await check("creating the same client grant again is a 409", async () => {
    const err = await mustThrow(
      () => mgmt.clientGrants.create({ client_id: app.client_id, audience: api.identifier, scope: ["read:things"] }),
      "duplicate client grant");
    assert.ok(err instanceof Management.ConflictError, `a ConflictError, got ${err.constructor.name}`);
    assertAuth0Error(err, 409, { error: "Conflict" }, "duplicate client grant");
  });

  await check("the new client gets a token for the API through the grant (SDK TokenProvider)", async () => {
    const tp = new TokenProvider({ domain, clientId: app.client_id, clientSecret: app.client_secret,
      audience: api.identifier, fetch: loopbackFetch });
    const token = await tp.getAccessToken();
    const claims = jwtPayload(token);
    assert.ok([claims.aud].flat().includes(api.identifier), "aud is the API");
    assert.equal(claims.scope, "read:things", "scope is the granted one");
  });

  await check("list client grants with the SDK's checkpoint pagination (take=1, for await)", async () => {
    const seen = [];
    let n = 0;
    for await (const g of await mgmt.clientGrants.list({ take: 1 })) {
      seen.push(g.id);
      assert.ok(++n < MAX_PAGES, "client grants: too many pages");
    }
    assert.equal(new Set(seen).size, seen.length, "no grant appears twice");
    assert.ok(seen.includes(grant.id), "the new grant is listed");
    assert.ok(seen.length >= 2, "the management client's grant is listed too");
  });

  await check("filter client grants by client_id", async () => {
    const page = await mgmt.clientGrants.list({ client_id: app.client_id });
    assert.deepEqual(page.data.map((g) => g.id), [grant.id]);
  });

  await check("list connections with the SDK's checkpoint pagination (take=1)", async () => {
    const names = [];
    for await (const c of await mgmt.connections.list({ take: 1 })) names.push(c.name);
    assert.ok(names.includes("Username-Password-Authentication"), `connections: ${names}`);
  });

  // -- users
  const email = `e2e-${run}@example.com`;
  const password = "Correct-Horse-Battery-9!";
  const userBody = {
    connection: "Username-Password-Authentication",
    email: `E2E-${run}@Example.com`, // stored lower-cased
    password,
    email_verified: false,
    given_name: "Eve",
    family_name: "Tester",
    user_metadata: { theme: "dark", lang: "en" },
    app_metadata: { plan: "free" },
  };
  let user;
  await check("create a user in Username-Password-Authentication", async () => {
    user = await mgmt.users.create(userBody);
    created.users.push(user.user_id);
    assert.match(user.user_id, /^auth0\|.+/, "user_id is auth0|...");
    assert.equal(user.email, email, "email is lower-cased");
    assert.equal(user.email_verified, false);
    assert.equal(user.given_name, "Eve");
    assert.ok(!("password" in user), "no password in the response");
    assert.deepEqual(user.user_metadata, { theme: "dark", lang: "en" });
    assert.deepEqual(user.app_metadata, { plan: "free" });
    assert.ok(Array.isArray(user.identities) && user.identities.length === 1, "one identity");
    const [id] = user.identities;
    assert.equal(id.connection, "Username-Password-Authentication");
    assert.equal(id.provider, "auth0");
    assert.equal(`auth0|${id.user_id}`, user.user_id);
    assert.equal(id.isSocial, false);
    assert.ok(!Number.isNaN(Date.parse(user.created_at)), "created_at is a date");
  });

  await check("creating the same user twice is a 409 with Auth0's body", async () => {
    const err = await mustThrow(() => mgmt.users.create(userBody), "duplicate user");
    assert.ok(err instanceof Management.ConflictError, `a ConflictError, got ${err.constructor.name}`);
    assertAuth0Error(err, 409, { error: "Conflict", message: "The user already exists.", errorCode: "auth0_idp_error" },
      "duplicate user");
  });

  await check("get the user", async () => {
    const got = await mgmt.users.get(user.user_id);
    assert.equal(got.user_id, user.user_id);
    assert.equal(got.email, email);
    assert.deepEqual(got.user_metadata, { theme: "dark", lang: "en" });
  });

  await check("update the user: user_metadata merges top-level keys", async () => {
    const up = await mgmt.users.update(user.user_id, { name: "Eve Tester", user_metadata: { lang: "fr", newsletter: true } });
    assert.equal(up.name, "Eve Tester");
    assert.deepEqual(up.user_metadata, { theme: "dark", lang: "fr", newsletter: true });
    assert.deepEqual(up.app_metadata, { plan: "free" }, "app_metadata untouched");
  });

  await check("update the user: a user_metadata key set to null is removed", async () => {
    const up = await mgmt.users.update(user.user_id, { user_metadata: { theme: null } });
    assert.deepEqual(up.user_metadata, { lang: "fr", newsletter: true });
    const got = await mgmt.users.get(user.user_id);
    assert.deepEqual(got.user_metadata, { lang: "fr", newsletter: true }, "the merge is stored");
    assert.equal(got.name, "Eve Tester");
  });

  await check("search the user with q=email:\"...\"", async () => {
    const page = await mgmt.users.list({ q: `email:"${email}"`, search_engine: "v3" });
    assert.deepEqual(page.data.map((u) => u.user_id), [user.user_id]);
    assert.equal(page.response.total, 1);
    assert.equal(page.response.users[0].email, email);
  });

  await check("users-by-email finds the user", async () => {
    const list = await mgmt.users.listUsersByEmail({ email });
    assert.ok(Array.isArray(list), "an array");
    assert.deepEqual(list.map((u) => u.user_id), [user.user_id]);
  });

  await check("create more users to page through", async () => {
    for (let i = 0; i < 4; i++) {
      const u = await mgmt.users.create({ connection: "Username-Password-Authentication", email: `e2e-${run}-${i}@example.com`, password });
      created.users.push(u.user_id);
    }
  });

  let byOffset;
  await check("list users with page/per_page/include_totals, walking every page", async () => {
    byOffset = ids(await walkOffset((r) => mgmt.users.list(r), "users", 2), "user_id");
    for (const id of created.users) assert.ok(byOffset.includes(id), `user ${id} is listed`);
  });

  await check("list users with the SDK's auto-pagination (for await, per_page=2)", async () => {
    const seen = [];
    for await (const u of await mgmt.users.list({ per_page: 2 })) seen.push(u.user_id);
    assert.deepEqual([...seen].sort(), [...byOffset].sort());
  });

  await check("list users with include_totals=false gives Auth0's bare array", async () => {
    const page = await mgmt.users.list({ per_page: 2, include_totals: false });
    assert.ok(Array.isArray(page.response), `a bare array, got ${JSON.stringify(page.response)}`);
    assert.equal(page.response.length, 2);
  });

  await check("list users with from/take (checkpoint), walking every page", async () => {
    const byCheckpoint = ids(await walkCheckpoint((r, o) => mgmt.users.list(r, o), "users", 2), "user_id");
    assert.deepEqual([...byCheckpoint].sort(), [...byOffset].sort(), "checkpoint and offset list the same users");
  });

  await check("list clients with page/per_page/include_totals and with from/take", async () => {
    const byPage = ids(await walkOffset((r) => mgmt.clients.list(r), "clients", 1), "client_id");
    assert.ok(byPage.includes(app.client_id), "the new client is listed");
    assert.ok(byPage.includes(clientId), "the management client is listed");
    const byCheckpoint = ids(await walkCheckpoint((r, o) => mgmt.clients.list(r, o), "clients", 1), "client_id");
    assert.deepEqual([...byCheckpoint].sort(), [...byPage].sort(), "checkpoint and offset list the same clients");
  });

  // -- delete, then 404s
  await check("delete the users", async () => {
    for (const id of created.users.splice(0)) await mgmt.users.delete(id);
    const page = await mgmt.users.list({ q: `email:"${email}"` });
    assert.equal(page.data.length, 0, "the search finds nobody");
  });

  await check("getting a deleted user is a 404 with Auth0's body", async () => {
    const err = await mustThrow(() => mgmt.users.get(user.user_id), "deleted user");
    assert.ok(err instanceof Management.NotFoundError, `a NotFoundError, got ${err.constructor.name}`);
    assertAuth0Error(err, 404, { error: "Not Found", message: "The user does not exist.", errorCode: "inexistent_user" },
      "deleted user");
    assert.match(err.rawResponse.headers.get("content-type") ?? "", /^application\/json/);
  });

  await check("delete the client grant, client and resource server", async () => {
    for (const id of created.grants.splice(0)) await mgmt.clientGrants.delete(id);
    for (const id of created.clients.splice(0)) await mgmt.clients.delete(id);
    for (const id of created.apis.splice(0)) await mgmt.resourceServers.delete(id);
  });

  await check("getting the deleted client and resource server is a 404", async () => {
    let err = await mustThrow(() => mgmt.clients.get(app.client_id), "deleted client");
    assert.ok(err instanceof Management.NotFoundError, `a NotFoundError, got ${err.constructor.name}`);
    assertAuth0Error(err, 404, { error: "Not Found", errorCode: "inexistent_client" }, "deleted client");
    err = await mustThrow(() => mgmt.resourceServers.get(api.id), "deleted resource server");
    assert.ok(err instanceof Management.NotFoundError, `a NotFoundError, got ${err.constructor.name}`);
    assertAuth0Error(err, 404, { error: "Not Found" }, "deleted resource server");
    err = await mustThrow(() => mgmt.clientGrants.get(grant.id), "deleted client grant");
    assert.ok(err instanceof Management.NotFoundError, `a NotFoundError, got ${err.constructor.name}`);
    assertAuth0Error(err, 404, { error: "Not Found" }, "deleted client grant");
  });

  await check("the SDK cached its token (expires_in honoured): one token request for the whole run", async () => {
    const tokenCalls = requests.filter((r) => r.url.pathname === "/oauth/token" &&
      new URLSearchParams(r.body).get("client_id") === clientId);
    assert.equal(tokenCalls.length, 1);
  });

  await check("a wrong client secret fails the SDK's token request with a ManagementError 401", async () => {
    const bad = new ManagementClient({ ...sdkOptions, clientId, clientSecret: "wrong-secret" });
    const err = await mustThrow(() => bad.users.get("auth0|x"), "wrong secret");
    assert.equal(err.statusCode, 401);
    assert.equal(typeof err.body?.error, "string", `an OAuth error body, got ${JSON.stringify(err.body)}`);
  });

  await check("every request went to our origin over http and no call was a 5xx", async () => {
    for (const r of requests) {
      assert.equal(r.url.origin, base, `${r.method} ${r.url}`);
      assert.ok(r.status < 500, `${r.method} ${r.url.pathname}: ${r.status}`);
    }
  });
}

/** Best effort: remove what a failed run left behind. */
async function cleanup() {
  const del = async (f) => { try { await f(); } catch { /* already gone */ } };
  for (const id of created.users) await del(() => mgmt.users.delete(id));
  for (const id of created.grants) await del(() => mgmt.clientGrants.delete(id));
  for (const id of created.clients) await del(() => mgmt.clients.delete(id));
  for (const id of created.apis) await del(() => mgmt.resourceServers.delete(id));
}

try {
  await main();
  console.log(`auth0 SDK e2e: ${passed} checks passed`);
} catch (err) {
  console.error(`auth0 SDK e2e: FAILED after ${passed} passing checks`);
  console.error(`check: ${current}`);
  console.error(err instanceof ManagementError ? err.message : err?.stack ?? err);
  const last = requests.at(-1);
  if (last) console.error(`last request: ${last.method} ${last.url.pathname}${last.url.search} -> ${last.status}`);
  await cleanup();
  process.exit(1);
}
