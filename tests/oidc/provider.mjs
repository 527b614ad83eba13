// A real OpenID provider for the tests (the `oidc-provider` package, certified OpenID
// Connect): authorization code with PKCE (S256 required), refresh tokens, token revocation
// (RFC 7009) and introspection (RFC 7662), which Dovecot's `passdb oauth2` asks about every
// token. It serves its own login and consent pages (the package's development interactions).
//
//   node tests/oidc/provider.mjs [--short-ttl SECONDS] [--user NAME]... [--redirect-uri URI]...
//
// It listens on a free loopback port and prints one JSON line:
//   { issuer, port, client_id, short_client_id, confidential_client_id,
//     confidential_client_secret, redirect_uri, introspection_url }
// `client_id` is a public client (no secret, PKCE), as a browser app is, whose access tokens
// live an hour; `short_client_id` is the same but its access tokens live --short-ttl seconds
// (default 5), for the tests of expiry and refresh. `confidential_client_id` is a confidential
// client (its secret fresh per run, presented as client_secret_basic, PKCE still required), as
// Google's "Web application" clients are: the proxy's /oauth/token does its token requests,
// so its token endpoint allows no page to call it (no CORS). `redirect_uri` is the
// one address it may return codes to (a test intercepts it in the browser). `introspection_url`
// carries Dovecot's own confidential client in its user-info part, which is how Dovecot's
// oauth2 passdb authenticates to an introspection endpoint (introspection_mode = post).
// Each --redirect-uri is registered for both public clients too (the app's callback page,
// `<app origin>/oauth-callback.html`), and that origin may call the token endpoint from a page
// (CORS), as a browser app does. It stops when stdin closes. It logs nothing: no token, no code, no account.
//
// `POST /_test/forget-access-token` with the form field `token` destroys that access token and
// nothing else (its grant and refresh token stay), so Dovecot's next introspection finds it
// inactive while it has not expired: what a provider does when it revokes one token early,
// and what the app meets as a login refused with a token that looked good. (The revocation
// endpoint would end the whole grant.)
//
// Only the accounts named with --user exist. The development login page takes any password,
// so the password typed in a test proves nothing; what the tests check is the token that
// comes out of the flow and what Dovecot makes of it.

import { createServer } from 'node:http';
import { randomBytes } from 'node:crypto';
import Provider from 'oidc-provider';

const args = process.argv.slice(2);
const users = new Set();
const appRedirects = [];
let shortTtl = 5;
for (let i = 0; i < args.length; i += 1) {
  if (args[i] === '--short-ttl') shortTtl = Number(args[++i]);
  else if (args[i] === '--user') users.add(args[++i]);
  else if (args[i] === '--redirect-uri') appRedirects.push(args[++i]);
  else throw new Error(`unknown argument ${args[i]}`);
}

const CLIENT_ID = 'postbag-test';
const SHORT_CLIENT_ID = 'postbag-test-short';
const CONFIDENTIAL_ID = 'postbag-test-confidential';
// Fresh per run: only the proxy started for this run is given it.
const CONFIDENTIAL_SECRET = randomBytes(18).toString('base64url');
const REDIRECT_URI = 'http://127.0.0.1:9/oauth/callback';
const DOVECOT_ID = 'dovecot';
// Fresh per run: only the Dovecot started for this run learns it.
const DOVECOT_SECRET = randomBytes(18).toString('base64url');

const server = createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address();
const issuer = `http://127.0.0.1:${port}`;

const publicClient = (clientId) => ({
  client_id: clientId,
  token_endpoint_auth_method: 'none',
  redirect_uris: [REDIRECT_URI, ...appRedirects],
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
});

const provider = new Provider(issuer, {
  clients: [
    publicClient(CLIENT_ID),
    publicClient(SHORT_CLIENT_ID),
    {
      ...publicClient(CONFIDENTIAL_ID),
      client_secret: CONFIDENTIAL_SECRET,
      token_endpoint_auth_method: 'client_secret_basic',
    },
    {
      client_id: DOVECOT_ID,
      client_secret: DOVECOT_SECRET,
      redirect_uris: [],
      grant_types: [],
      response_types: [],
    },
  ],
  async findAccount(ctx, id) {
    if (!users.has(id)) return undefined;
    return { accountId: id, claims: async () => ({ sub: id }) };
  },
  scopes: ['openid', 'offline_access'],
  // A public client is given refresh tokens when it asked for offline_access.
  issueRefreshToken: async (ctx, client, code) => client.grantTypeAllowed('refresh_token')
    && code.scopes.has('offline_access'),
  // CORS for a browser app's token requests: only from the origin of a redirect URI the
  // client registered (the package's default allows none).
  clientBasedCORS: (_ctx, origin, client) => client.clientAuthMethod === 'none'
    && client.redirectUris.some((uri) => new URL(uri).origin === origin),
  features: {
    devInteractions: { enabled: true },
    introspection: { enabled: true },
    revocation: { enabled: true },
  },
  ttl: {
    AccessToken: (ctx, token, client) => (client.clientId === SHORT_CLIENT_ID ? shortTtl : 3600),
  },
  cookies: { keys: [randomBytes(32).toString('base64url')] },
});
// The package reports server errors through this event; tell only their class, never a body.
provider.on('server_error', (_ctx, err) => process.stderr.write(`oidc provider: ${err.name}\n`));
// Its pages send Cross-Origin-Opener-Policy: same-origin, as large providers' sign-in pages do:
// the popup is cut off from the app (which reads it as closed), and the answer must still
// arrive through the callback page's BroadcastChannel.
provider.use(async (ctx, next) => {
  if (ctx.method === 'POST' && ctx.path === '/_test/forget-access-token') {
    let body = '';
    for await (const chunk of ctx.req) body += chunk;
    const token = await provider.AccessToken.find(new URLSearchParams(body).get('token') ?? '');
    if (token) await token.destroy();
    ctx.status = token ? 204 : 404;
    return;
  }
  await next();
  ctx.set('Cross-Origin-Opener-Policy', 'same-origin');
});
server.on('request', provider.callback());

process.stdout.write(`${JSON.stringify({
  issuer,
  port,
  client_id: CLIENT_ID,
  short_client_id: SHORT_CLIENT_ID,
  confidential_client_id: CONFIDENTIAL_ID,
  confidential_client_secret: CONFIDENTIAL_SECRET,
  redirect_uri: REDIRECT_URI,
  introspection_url: `http://${DOVECOT_ID}:${DOVECOT_SECRET}@127.0.0.1:${port}/token/introspection`,
})}\n`);

process.stdin.resume();
process.stdin.on('end', () => server.close(() => process.exit(0)));
