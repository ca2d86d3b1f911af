package bench

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// maxBody bounds how much of a response the driver reads.
const maxBody = 1 << 20

// NewClient returns an HTTP client tuned for driving one loopback server
// from conns concurrent workers: HTTP/1.1 keep-alive with up to conns idle
// connections kept (so workers never reconnect), no compression, no proxy
// and a 30s timeout per request.
func NewClient(conns int) *http.Client {
	if conns < 1 {
		conns = 1
	}
	return &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			Proxy:               nil,
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			ForceAttemptHTTP2:   false,
			DisableCompression:  true,
			DisableKeepAlives:   false,
			MaxIdleConns:        conns,
			MaxIdleConnsPerHost: conns,
			MaxConnsPerHost:     conns,
			IdleConnTimeout:     90 * time.Second,
		},
	}
}

// Target is what the driver sends: a form POSTed to a URL.
type Target struct {
	// URL is where the form is POSTed.
	URL string
	// Form is the application/x-www-form-urlencoded body.
	Form []byte
}

// TokenTarget is the client_credentials token request of the management
// client: client_secret_post, audience ManagementAudience.
func (s *Server) TokenTarget() Target { return Target{URL: s.TokenURL, Form: s.form} }

// EchoTarget is the same request to EchoURL, the HTTP floor.
func (s *Server) EchoTarget() Target { return Target{URL: s.EchoURL, Form: s.form} }

// Post sends one token request (TokenTarget) and reads the response into
// buf, as Send does.
func (s *Server) Post(ctx context.Context, c *http.Client, buf *bytes.Buffer) error {
	return Send(ctx, c, s.TokenTarget(), buf)
}

// Send POSTs t.Form to t.URL and reads the response into buf, which it
// resets first. Any status but 200, or a body without an access_token, is an
// error.
func Send(ctx context.Context, c *http.Client, t Target, buf *bytes.Buffer) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.URL, bytes.NewReader(t.Form))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := c.Do(req)
	if err != nil {
		return err
	}
	buf.Reset()
	_, err = buf.ReadFrom(io.LimitReader(res.Body, maxBody))
	res.Body.Close()
	if err != nil {
		return fmt.Errorf("reading token response: %w", err)
	}
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("token endpoint: HTTP %d: %.200s", res.StatusCode, bytes.TrimSpace(buf.Bytes()))
	}
	if !bytes.Contains(buf.Bytes(), []byte(`"access_token"`)) {
		return fmt.Errorf("token endpoint: HTTP 200 without access_token: %.200s", buf.Bytes())
	}
	return nil
}

// FetchToken gets one access token and checks it: a Bearer token that is a
// compact JWS of the server's algorithm. It returns the token, and keeps the
// response for EchoURL to send.
func (s *Server) FetchToken(ctx context.Context, c *http.Client) (string, error) {
	var buf bytes.Buffer
	if err := s.Post(ctx, c, &buf); err != nil {
		return "", err
	}
	var body struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
	}
	if err := json.Unmarshal(buf.Bytes(), &body); err != nil {
		return "", fmt.Errorf("token response: %w", err)
	}
	if body.TokenType != "Bearer" {
		return "", fmt.Errorf("token response: token_type %q, want Bearer", body.TokenType)
	}
	alg, err := TokenAlg(body.AccessToken)
	if err != nil {
		return "", err
	}
	if alg != s.Alg {
		return "", fmt.Errorf("token signed with %s, want %s", alg, s.Alg)
	}
	echo := bytes.Clone(buf.Bytes())
	s.echo.Store(&echo)
	return body.AccessToken, nil
}

// TokenAlg returns the alg of a compact JWS's protected header.
func TokenAlg(token string) (string, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return "", errors.New("access token is not a compact JWS")
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return "", fmt.Errorf("access token header: %w", err)
	}
	var h struct {
		Alg string `json:"alg"`
	}
	if err := json.Unmarshal(raw, &h); err != nil {
		return "", fmt.Errorf("access token header: %w", err)
	}
	return h.Alg, nil
}

// SigningInput returns the part of a compact JWS that its signature covers:
// the protected header and payload, "header.payload".
func SigningInput(token string) []byte {
	if i := strings.LastIndexByte(token, '.'); i >= 0 {
		return []byte(token[:i])
	}
	return []byte(token)
}
