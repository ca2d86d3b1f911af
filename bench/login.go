package bench

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/authhero-go/authhero/adapters"
	"github.com/authhero-go/authhero/internal/password"
)

// LoginCallback is the redirect URI of the login driver's public client. The
// driver never follows the redirect to it: it reads the code off the
// Location header, as a browser's address bar would show it.
const LoginCallback = "https://app.bench.test/callback"

// LoginScope is the scope the login driver asks for: an ID token with the
// profile and email claims, and a refresh token.
const LoginScope = "openid profile email offline_access"

// LoginConnection is the database connection the bench users are created in.
const LoginConnection = "Username-Password-Authentication"

// LoginServerOptions configures StartLoginServer.
type LoginServerOptions struct {
	// Alg, Database and Logger are as in ServerOptions.
	Alg      string
	Database string
	Logger   *slog.Logger
	// Users is how many users are created, each with its own email and
	// password hashed by the App (argon2id, default parameters). Zero: 200.
	Users int
}

// LoginUser is a user the login driver signs in as.
type LoginUser struct {
	// Email is the user's login identifier; Password its password.
	Email, Password string
}

// LoginServer is a Server whose tenant also has a public single-page
// application (token_endpoint_auth_method none, PKCE, the
// authorization_code and refresh_token grants, rotating refresh tokens by
// default) and Users with passwords on LoginConnection.
type LoginServer struct {
	*Server
	// PublicClientID is the public client's client_id.
	PublicClientID string
	// Users are the users the driver logs in as, in turn.
	Users []LoginUser

	next atomic.Uint64
}

// StartLoginServer starts a Server (StartServer) and provisions the public
// client and opts.Users users in its tenant; the users are created on
// GOMAXPROCS goroutines, each paying one argon2id hash. Close stops it.
func StartLoginServer(ctx context.Context, opts LoginServerOptions) (*LoginServer, error) {
	if opts.Users == 0 {
		opts.Users = 200
	}
	if opts.Users < 1 {
		return nil, fmt.Errorf("bench: users must be at least 1, got %d", opts.Users)
	}
	s, err := StartServer(ctx, ServerOptions{Alg: opts.Alg, Database: opts.Database, Logger: opts.Logger})
	if err != nil {
		return nil, err
	}
	ls := &LoginServer{Server: s}
	if err := ls.provision(ctx, opts.Users); err != nil {
		s.Close()
		return nil, err
	}
	return ls, nil
}

func (s *LoginServer) provision(ctx context.Context, n int) error {
	c, err := s.App.DataAdapter().Clients.Create(ctx, s.TenantID, adapters.Client{
		ClientID: adapters.NewID(""), Name: "bench spa", AppType: "spa", TokenEndpointAuthMethod: "none",
		Callbacks: []string{LoginCallback}, GrantTypes: []string{"authorization_code", "refresh_token"},
		IsFirstParty: true, OIDCConformant: true,
	})
	if err != nil {
		return fmt.Errorf("bench: create public client: %w", err)
	}
	s.PublicClientID = c.ClientID
	s.Users = make([]LoginUser, n)
	var (
		next  atomic.Int64
		wg    sync.WaitGroup
		errMu sync.Mutex
		first error
	)
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < n && ctx.Err() == nil; i = int(next.Add(1) - 1) {
				u := LoginUser{Email: fmt.Sprintf("user%04d@bench.test", i), Password: "bench-" + randomString(12)}
				if _, err := s.App.CreateUser(ctx, s.TenantID, LoginConnection, u.Email, u.Password); err != nil {
					errMu.Lock()
					if first == nil {
						first = fmt.Errorf("bench: create user %s: %w", u.Email, err)
					}
					errMu.Unlock()
					return
				}
				s.Users[i] = u
			}
		})
	}
	wg.Wait()
	if first != nil {
		return first
	}
	return ctx.Err()
}

// NextUser returns the users in turn, so that concurrent logins are of
// different users (as long as there are more users than workers).
func (s *LoginServer) NextUser() LoginUser {
	return s.Users[(s.next.Add(1)-1)%uint64(len(s.Users))]
}

// TokenSet is the part of a token response the driver keeps: the access
// token, the ID token, the refresh token and the token type.
type TokenSet struct {
	AccessToken  string `json:"access_token"`
	IDToken      string `json:"id_token"`
	RefreshToken string `json:"refresh_token"`
	TokenType    string `json:"token_type"`
}

// LoginSteps are the wall times of the four steps of one login, as a browser
// sees them:
//
//	0 authorize:  GET /authorize → 302 → GET /u/login/identifier (the form)
//	1 identifier: POST /u/login/identifier → 302 → GET /u/login/password (the form)
//	2 password:   POST /u/login/password → 302 to the callback with the code
//	3 token:      POST /oauth/token (authorization_code with the PKCE verifier)
type LoginSteps [4]time.Duration

// LoginStepNames names the steps of LoginSteps.
var LoginStepNames = [4]string{"authorize", "identifier", "password", "token"}

// Login signs in as u like a fresh browser (a new cookie jar, no session),
// through tr: /authorize with PKCE (S256), state and nonce, the identifier
// and password forms with their hidden state and csrf_token, the redirect to
// LoginCallback (whose state and iss it checks), and the code exchange. It
// returns the tokens, which must include an ID token and a refresh token,
// and when steps is not nil the time of each step.
func (s *LoginServer) Login(ctx context.Context, tr http.RoundTripper, u LoginUser, steps *LoginSteps) (TokenSet, error) {
	jar, _ := cookiejar.New(nil)
	host := strings.TrimSuffix(strings.TrimPrefix(s.URL, "http://"), "/")
	c := &http.Client{Transport: tr, Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if req.URL.Host != host || len(via) >= 5 {
				return http.ErrUseLastResponse
			}
			return nil
		}}
	verifier := randomString(43)
	sum := sha256.Sum256([]byte(verifier))
	state := randomString(16)
	q := url.Values{"client_id": {s.PublicClientID}, "redirect_uri": {LoginCallback}, "response_type": {"code"},
		"scope": {LoginScope}, "state": {state}, "nonce": {randomString(16)},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}}

	t0 := time.Now()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"authorize?"+q.Encode(), nil)
	if err != nil {
		return TokenSet{}, err
	}
	form, err := formPage(c, req, "/u/login/identifier")
	if err != nil {
		return TokenSet{}, fmt.Errorf("authorize: %w", err)
	}
	t1 := time.Now()
	form.Set("username", u.Email)
	if form, err = formPage(c, postForm(ctx, s.URL+"u/login/identifier", form), "/u/login/password"); err != nil {
		return TokenSet{}, fmt.Errorf("identifier: %w", err)
	}
	t2 := time.Now()
	form.Set("password", u.Password)
	code, err := callbackCode(c, postForm(ctx, s.URL+"u/login/password", form), state, s.URL)
	if err != nil {
		return TokenSet{}, fmt.Errorf("password: %w", err)
	}
	t3 := time.Now()
	var buf bytes.Buffer
	ts, err := s.tokenRequest(ctx, &http.Client{Transport: tr, Timeout: 30 * time.Second}, url.Values{
		"grant_type": {"authorization_code"}, "client_id": {s.PublicClientID}, "code": {code},
		"redirect_uri": {LoginCallback}, "code_verifier": {verifier}}, &buf)
	if err != nil {
		return TokenSet{}, fmt.Errorf("code exchange: %w", err)
	}
	if steps != nil {
		*steps = LoginSteps{t1.Sub(t0), t2.Sub(t1), t3.Sub(t2), time.Since(t3)}
	}
	return ts, nil
}

// Refresh exchanges a refresh token of the public client (grant_type
// refresh_token) and returns the new tokens; with rotation (the default) the
// returned RefreshToken replaces rt. buf holds the response.
func (s *LoginServer) Refresh(ctx context.Context, c *http.Client, rt string, buf *bytes.Buffer) (TokenSet, error) {
	return s.tokenRequest(ctx, c, url.Values{"grant_type": {"refresh_token"}, "client_id": {s.PublicClientID}, "refresh_token": {rt}}, buf)
}

// tokenRequest POSTs form to the token endpoint and requires a 200 with an
// access token, an ID token and a refresh token.
func (s *LoginServer) tokenRequest(ctx context.Context, c *http.Client, form url.Values, buf *bytes.Buffer) (TokenSet, error) {
	if err := Send(ctx, c, Target{URL: s.TokenURL, Form: []byte(form.Encode())}, buf); err != nil {
		return TokenSet{}, err
	}
	var ts TokenSet
	if err := json.Unmarshal(buf.Bytes(), &ts); err != nil {
		return TokenSet{}, fmt.Errorf("token response: %w", err)
	}
	if ts.IDToken == "" || ts.RefreshToken == "" {
		return TokenSet{}, fmt.Errorf("token response without id_token or refresh_token: %.200s", buf.Bytes())
	}
	return ts, nil
}

// postForm builds a form POST.
func postForm(ctx context.Context, u string, form url.Values) *http.Request {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		panic(err) // u is the server's own URL
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req
}

// formPage sends req, following redirects on the server, and requires a 200
// page at path; it returns the page's hidden state and csrf_token.
func formPage(c *http.Client, req *http.Request, path string) (url.Values, error) {
	res, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(io.LimitReader(res.Body, maxBody))
	res.Body.Close()
	if err != nil {
		return nil, err
	}
	if res.StatusCode != http.StatusOK || res.Request.URL.Path != path {
		return nil, fmt.Errorf("HTTP %d at %s (want 200 at %s): %.200s", res.StatusCode, res.Request.URL.Path, path, bytes.TrimSpace(body))
	}
	form := url.Values{}
	for _, name := range []string{"state", "csrf_token"} {
		v, ok := hiddenInput(body, name)
		if !ok {
			return nil, fmt.Errorf("page %s has no hidden %s", path, name)
		}
		form.Set(name, v)
	}
	return form, nil
}

// hiddenInput returns the value of the input named name in page.
func hiddenInput(page []byte, name string) (string, bool) {
	marker := []byte(`name="` + name + `" value="`)
	i := bytes.Index(page, marker)
	if i < 0 {
		return "", false
	}
	rest := page[i+len(marker):]
	j := bytes.IndexByte(rest, '"')
	if j < 0 {
		return "", false
	}
	return html.UnescapeString(string(rest[:j])), true
}

// callbackCode sends req, which must answer 302 to LoginCallback with a code,
// the state sent and the issuer as iss (RFC 9207).
func callbackCode(c *http.Client, req *http.Request, state, issuer string) (string, error) {
	res, err := c.Do(req)
	if err != nil {
		return "", err
	}
	body, _ := io.ReadAll(io.LimitReader(res.Body, maxBody))
	res.Body.Close()
	loc, _ := url.Parse(res.Header.Get("Location"))
	if res.StatusCode != http.StatusFound || loc == nil || !strings.HasPrefix(loc.String(), LoginCallback+"?") {
		return "", fmt.Errorf("HTTP %d to %q, want 302 to %s: %.200s", res.StatusCode, res.Header.Get("Location"), LoginCallback, bytes.TrimSpace(body))
	}
	q := loc.Query()
	if e := q.Get("error"); e != "" {
		return "", fmt.Errorf("callback error %s: %s", e, q.Get("error_description"))
	}
	if q.Get("code") == "" || q.Get("state") != state || q.Get("iss") != issuer {
		return "", fmt.Errorf("callback %s: want a code, state %q and iss %q", loc, state, issuer)
	}
	return q.Get("code"), nil
}

// randomString returns n random base64url characters.
func randomString(n int) string {
	b := make([]byte, (n*3+3)/4)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)[:n]
}

// NewHashVerifier returns a function that verifies pw against its argon2id
// hash with the default password.Hasher (the parameters the App hashes user
// passwords with), as one login does, and fails if it does not match; and a
// description of the parameters. The function is safe for concurrent use.
func NewHashVerifier(pw string) (verify func() error, params string, err error) {
	var h password.Hasher
	hash, alg, err := h.Hash(pw)
	if err != nil {
		return nil, "", err
	}
	params = alg
	if p := strings.Split(hash, "$"); len(p) == 6 {
		params = alg + " " + p[3]
	}
	return func() error {
		ok, _, err := h.Verify(hash, alg, pw)
		if err == nil && !ok {
			err = errors.New("bench: password did not verify")
		}
		return err
	}, params, nil
}

// DriveFunc runs op from concurrency workers, each in a loop bounded by d
// and ctx (stopped early after 1000 errors), as Drive does for one request:
// op gets the worker's index, 0 ≤ worker < concurrency, and its error
// counts the operation as failed. Requests in the returned Load counts
// operations, PerSecond successful operations per second, and the
// latencies are of whole operations.
func DriveFunc(ctx context.Context, concurrency int, d time.Duration, op func(ctx context.Context, worker int) error) Load {
	if concurrency < 1 {
		concurrency = 1
	}
	var (
		wg      sync.WaitGroup
		ops     atomic.Int64
		errs    atomic.Int64
		errOnce sync.Once
		first   string
		samples = make([][]time.Duration, concurrency)
	)
	ticks0, ticksOK := machineTicks()
	cpu0, cpuOK := processCPU()
	start := time.Now()
	deadline := start.Add(d)
	for w := range concurrency {
		wg.Go(func() {
			lat := make([]time.Duration, 0, 1024)
			for ctx.Err() == nil && errs.Load() < maxErrors {
				t0 := time.Now()
				if !t0.Before(deadline) {
					break
				}
				err := op(ctx, w)
				el := time.Since(t0)
				ops.Add(1)
				if err != nil {
					if ctx.Err() != nil {
						ops.Add(-1) // cancelled, not a server failure
						break
					}
					errs.Add(1)
					errOnce.Do(func() { first = err.Error() })
				}
				if len(lat) < maxSamplesPerWorker {
					lat = append(lat, el)
				}
			}
			samples[w] = lat
		})
	}
	wg.Wait()
	return summarize(samples, time.Since(start), ops.Load(), errs.Load(), first, ticks0, ticksOK, cpu0, cpuOK)
}

// summarize fills a Load from per-worker latency samples and counters.
func summarize(samples [][]time.Duration, elapsed time.Duration, n, errs int64, first string, ticks0 cpuTicks, ticksOK bool, cpu0 time.Duration, cpuOK bool) Load {
	l := Load{Elapsed: elapsed, Requests: n, Errors: errs, FirstError: first, MachineIdle: idleSince(ticks0, ticksOK)}
	if cpu1, ok := processCPU(); ok && cpuOK {
		l.CPU = cpu1 - cpu0
	}
	if l.Elapsed > 0 {
		l.PerSecond = float64(l.Requests-l.Errors) / l.Elapsed.Seconds()
	}
	var all []time.Duration
	for _, s := range samples {
		all = append(all, s...)
	}
	slices.Sort(all)
	l.P50, l.P90, l.P99 = percentile(all, 0.50), percentile(all, 0.90), percentile(all, 0.99)
	if len(all) > 0 {
		l.Max = all[len(all)-1]
	}
	return l
}
