package browser

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/authhero-go/authhero"
	"github.com/authhero-go/authhero/adapters"
	"github.com/authhero-go/authhero/adapters/bunadapter"
	"github.com/authhero-go/authhero/email"
	"github.com/authhero-go/authhero/internal/testdb"
)

// world is a provider with tenants acme and globex at {tenant}.auth.test and
// relying parties at app.test, all on loopback.
type world struct {
	t      *testing.T
	app    *authhero.App
	base   string // http://auth.test:port/
	port   string
	dial   *http.Client // server-side client that resolves the test hosts
	outbox *email.Outbox
}

func (w *world) issuer(tenantID string) string {
	return "http://" + tenantID + ".auth.test:" + w.port + "/"
}

func newWorld(t *testing.T) *world {
	t.Helper()
	ctx := context.Background()
	db, err := bunadapter.Open(ctx, testdb.Fresh(t, "sqlite"))
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	require.NoError(t, db.Migrate(ctx))
	srv := httptest.NewUnstartedServer(nil)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	key := make([]byte, 32)
	rand.Read(key)
	out := &email.Outbox{}
	app, err := authhero.InitMultiTenant(authhero.Options{DataAdapter: db.DataAdapters, EncryptionKey: key,
		Issuer: "http://auth.test:" + port + "/", EmailSender: out, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.NoError(t, err)
	srv.Config.Handler = app
	srv.Start()
	t.Cleanup(srv.Close)
	for _, id := range []string{"acme", "globex"} {
		_, err := app.CreateTenant(ctx, adapters.Tenant{ID: id, FriendlyName: strings.ToUpper(id)})
		require.NoError(t, err)
	}
	return &world{t: t, app: app, base: "http://auth.test:" + port + "/", port: port, dial: loopbackClient(), outbox: out}
}

// loopbackClient dials every host name on 127.0.0.1 (the test hosts have no
// DNS), keeping the port.
func loopbackClient() *http.Client {
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			_, port, _ := net.SplitHostPort(addr)
			return (&net.Dialer{}).DialContext(ctx, network, "127.0.0.1:"+port)
		}}}
}

func (w *world) user(tenantID, mail, pw string) {
	w.t.Helper()
	_, err := w.app.CreateUser(context.Background(), tenantID, "Username-Password-Authentication", mail, pw)
	require.NoError(w.t, err)
}

// rp is a relying party: a web app at app.test using x/oauth2 and go-oidc.
type rp struct {
	w        *world
	tenantID string
	client   *adapters.Client
	url      string // http://app.test:port
	cfg      oauth2.Config
	verifier *oidc.IDTokenVerifier

	mu      sync.Mutex
	pending map[string][2]string // state -> verifier, nonce
	last    *oauth2.Token
}

// newRP registers a public client in tenantID and serves its pages.
func (w *world) newRP(tenantID string) *rp {
	w.t.Helper()
	r := &rp{w: w, tenantID: tenantID, pending: map[string][2]string{}}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(r.serve))
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	r.url = "http://app.test:" + port
	srv.Start()
	w.t.Cleanup(srv.Close)
	c, err := w.app.DataAdapter().Clients.Create(context.Background(), tenantID, adapters.Client{
		ClientID: adapters.NewID(""), Name: "RP " + port, AppType: "spa", TokenEndpointAuthMethod: "none",
		Callbacks: []string{r.url + "/callback"}, AllowedLogoutURLs: []string{r.url + "/"},
		GrantTypes: []string{"authorization_code", "refresh_token"},
	})
	require.NoError(w.t, err)
	r.client = c
	ctx := oidc.ClientContext(context.Background(), w.dial)
	provider, err := oidc.NewProvider(ctx, w.issuer(tenantID))
	require.NoError(w.t, err)
	r.cfg = oauth2.Config{ClientID: c.ClientID, Endpoint: provider.Endpoint(), RedirectURL: r.url + "/callback",
		Scopes: []string{oidc.ScopeOpenID, "profile", "email", "offline_access"}}
	r.verifier = provider.Verifier(&oidc.Config{ClientID: c.ClientID})
	return r
}

func (r *rp) serve(wr http.ResponseWriter, req *http.Request) {
	switch req.URL.Path {
	case "/login":
		state, nonce, verifier := oauth2.GenerateVerifier(), oauth2.GenerateVerifier(), oauth2.GenerateVerifier()
		r.mu.Lock()
		r.pending[state] = [2]string{verifier, nonce}
		r.mu.Unlock()
		opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(verifier), oidc.Nonce(nonce)}
		if p := req.URL.Query().Get("prompt"); p != "" {
			opts = append(opts, oauth2.SetAuthURLParam("prompt", p))
		}
		if h := req.URL.Query().Get("screen_hint"); h != "" {
			opts = append(opts, oauth2.SetAuthURLParam("screen_hint", h))
		}
		http.Redirect(wr, req, r.cfg.AuthCodeURL(state, opts...), http.StatusFound)
	case "/callback":
		q := req.URL.Query()
		if e := q.Get("error"); e != "" {
			fmt.Fprintf(wr, `<p id="error">%s</p>`, html.EscapeString(e))
			return
		}
		if q.Get("iss") != r.w.issuer(r.tenantID) {
			http.Error(wr, "wrong iss", 400)
			return
		}
		r.mu.Lock()
		p, ok := r.pending[q.Get("state")]
		delete(r.pending, q.Get("state"))
		r.mu.Unlock()
		if !ok {
			http.Error(wr, "unknown state", 400)
			return
		}
		ctx := context.WithValue(req.Context(), oauth2.HTTPClient, r.w.dial)
		tok, err := r.cfg.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(p[0]))
		if err != nil {
			http.Error(wr, "exchange: "+err.Error(), 400)
			return
		}
		raw, _ := tok.Extra("id_token").(string)
		idt, err := r.verifier.Verify(oidc.ClientContext(ctx, r.w.dial), raw)
		if err != nil || idt.Nonce != p[1] {
			http.Error(wr, fmt.Sprintf("id token: %v", err), 400)
			return
		}
		r.mu.Lock()
		r.last = tok
		r.mu.Unlock()
		fmt.Fprintf(wr, `<p id="sub">%s</p>`, html.EscapeString(idt.Subject))
	default:
		fmt.Fprint(wr, `<p id="home">home</p>`)
	}
}

// token returns the tokens of the last successful callback.
func (r *rp) token() *oauth2.Token {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.last
}

// chrome starts a headless Chromium that resolves the test hosts to
// loopback; each call is a fresh browser profile (no shared cookies).
func chrome(t *testing.T) context.Context {
	t.Helper()
	path := os.Getenv("CHROMIUM")
	if path == "" {
		path = "/usr/bin/chromium"
	}
	if _, err := exec.LookPath(path); err != nil {
		testdb.Unavailable(t, "chromium not found at %s", path)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("host-resolver-rules", "MAP auth.test 127.0.0.1, MAP *.auth.test 127.0.0.1, MAP app.test 127.0.0.1"),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-quic", true),
	)
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel2 := chromedp.NewContext(actx)
	t.Cleanup(cancel2)
	ctx, cancel3 := context.WithTimeout(ctx, 60*time.Second)
	t.Cleanup(cancel3)
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate("about:blank")))
	return ctx
}

// text returns the text of the element matching sel once it is visible.
func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	require.NoError(t, chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(sel))))
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	require.NoError(t, err)
	return s
}

// fill types v into the field sel.
func fill(sel, v string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(chromedp.WaitVisible(chromedp.CSS(sel)), chromedp.SendKeys(chromedp.CSS(sel), v))
}

// login drives the identifier and password pages from start.
func login(t *testing.T, ctx context.Context, start, mail, pw string) {
	t.Helper()
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(start),
		fill(`#username`, mail),
		chromedp.Submit(chromedp.CSS(`#username`)),
		fill(`#password`, pw),
		chromedp.Submit(chromedp.CSS(`#password`)),
	))
}

func pretty(v any) string {
	b, _ := json.MarshalIndent(v, "", "  ")
	return string(b)
}
