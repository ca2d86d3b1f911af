package routing

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Proxy is a reverse proxy in front of several deployments: an http.Handler
// that routes each request with a Router and forwards it with
// httputil.ReverseProxy. See the package documentation for what it forwards
// and when it retries. It is safe for concurrent use.
type Proxy struct {
	router     *Router
	rp         *httputil.ReverseProxy
	logger     *slog.Logger
	hostMode   string // "client", "origin" or a literal Host
	trusted    []netip.Prefix
	bodyLimit  int64
	retryAfter string

	requests, retries, unavailable, badGateway atomic.Uint64
}

// attempt is the per-request routing state, carried in the request context
// from ServeHTTP to Rewrite and RoundTrip.
type attempt struct {
	in         *http.Request
	origin     *originState
	hasBody    bool
	replayable bool // no body, or the body is buffered
	idempotent bool
	retried    bool
}

type attemptKey struct{}

// NewProxy validates cfg and returns a Proxy whose health probes are
// running. Close stops them.
func NewProxy(cfg *Config, opts ...Option) (*Proxy, error) {
	o := buildOptions(opts)
	r, err := newRouter(cfg, o)
	if err != nil {
		return nil, err
	}
	c := r.cfg
	p := &Proxy{router: r, logger: o.logger, hostMode: c.Proxy.HostHeader, bodyLimit: c.Proxy.RetryBodyLimit}
	p.trusted, _ = parsePrefixes(c.Proxy.TrustedProxies) // checked
	secs := int64(time.Duration(c.Proxy.RetryAfter).Round(time.Second) / time.Second)
	p.retryAfter = strconv.FormatInt(max(1, secs), 10)
	p.rp = &httputil.ReverseProxy{
		Rewrite:      p.rewrite,
		Transport:    (*proxyTransport)(p),
		ErrorHandler: p.proxyError,
		ErrorLog:     slog.NewLogLogger(o.logger.Handler(), slog.LevelWarn),
		BufferPool:   bufferPool{},
	}
	return p, nil
}

// Router returns the proxy's Router, to read its decisions or change
// weights and pools live.
func (p *Proxy) Router() *Router { return p.router }

// Stats returns the proxy's counters and its router's.
func (p *Proxy) Stats() Stats {
	s := p.router.Stats()
	s.Requests, s.Retries = p.requests.Load(), p.retries.Load()
	s.Unavailable, s.BadGateway = p.unavailable.Load(), p.badGateway.Load()
	return s
}

// Close stops the health probes and closes idle connections to the origins.
// Requests still in flight finish; new ones use the last known health.
func (p *Proxy) Close() error { return p.router.Close() }

// ServeHTTP routes and forwards one request.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.requests.Add(1)
	_, o, err := p.router.pick(r, nil)
	if err != nil {
		p.unavailable.Add(1)
		w.Header().Set("Retry-After", p.retryAfter)
		w.Header().Set("Cache-Control", "no-store")
		writeJSON(w, http.StatusServiceUnavailable, "no_healthy_origin", "No origin is healthy right now; retry later.")
		return
	}
	st := &attempt{origin: o}
	r2 := r.WithContext(context.WithValue(r.Context(), attemptKey{}, st))
	st.in = r2
	st.hasBody = r.Body != nil && r.Body != http.NoBody && r.ContentLength != 0
	st.replayable = !st.hasBody
	if st.hasBody {
		if err := p.bufferBody(r2, st); err != nil {
			writeJSON(w, http.StatusBadRequest, "invalid_request", "The request body could not be read.")
			return
		}
	}
	st.idempotent = !st.hasBody
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		st.idempotent = true
	}
	p.rp.ServeHTTP(w, r2)
}

// bufferBody reads a body of at most RetryBodyLimit bytes into memory so it
// can be sent twice. A larger (or unknown and larger) body streams through
// untouched, apart from the prefix already read, and is never retried.
func (p *Proxy) bufferBody(r *http.Request, st *attempt) error {
	limit := p.bodyLimit
	if limit <= 0 || r.ContentLength > limit {
		return nil
	}
	var buf []byte
	if r.ContentLength > 0 {
		buf = make([]byte, r.ContentLength)
		if _, err := io.ReadFull(r.Body, buf); err != nil {
			return err
		}
	} else {
		b, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
		if err != nil {
			return err
		}
		if int64(len(b)) > limit {
			r.Body = &prefixedBody{Reader: io.MultiReader(bytes.NewReader(b), r.Body), body: r.Body}
			return nil
		}
		buf = b
		r.ContentLength = int64(len(b))
		r.TransferEncoding = nil
	}
	r.Body = io.NopCloser(bytes.NewReader(buf))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(buf)), nil }
	st.replayable = true
	return nil
}

type prefixedBody struct {
	io.Reader
	body io.Closer
}

// Close closes the client's body.
func (b *prefixedBody) Close() error { return b.body.Close() }

// rewrite points the outbound request at the chosen origin and sets the
// forwarding headers.
func (p *Proxy) rewrite(pr *httputil.ProxyRequest) {
	st := pr.In.Context().Value(attemptKey{}).(*attempt)
	pr.SetURL(st.origin.base)
	p.setHost(pr.Out, pr.In)

	// X-Forwarded-For: whatever the client sent, then the peer this proxy
	// saw. The appended entry is the only one this proxy vouches for.
	peer := pr.In.RemoteAddr
	if h, _, err := net.SplitHostPort(peer); err == nil {
		peer = h
	}
	if prior := pr.In.Header.Values("X-Forwarded-For"); len(prior) > 0 && peer != "" {
		pr.Out.Header.Set("X-Forwarded-For", strings.Join(prior, ", ")+", "+peer)
	} else if peer != "" {
		pr.Out.Header.Set("X-Forwarded-For", peer)
	}
	trusted := p.isTrusted(peer)
	host := pr.In.Host
	if v := pr.In.Header.Get("X-Forwarded-Host"); trusted && v != "" {
		host = v
	}
	pr.Out.Header.Set("X-Forwarded-Host", host)
	proto := "http"
	if pr.In.TLS != nil {
		proto = "https"
	}
	if v := pr.In.Header.Get("X-Forwarded-Proto"); trusted && v != "" {
		proto = v
	}
	pr.Out.Header.Set("X-Forwarded-Proto", proto)
}

func (p *Proxy) setHost(out, in *http.Request) {
	switch p.hostMode {
	case "client":
		out.Host = in.Host
	case "origin":
		out.Host = ""
	default:
		out.Host = p.hostMode
	}
}

func (p *Proxy) isTrusted(ip string) bool {
	if len(p.trusted) == 0 {
		return false
	}
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return false
	}
	a = a.Unmap()
	for _, pf := range p.trusted {
		if pf.Contains(a) {
			return true
		}
	}
	return false
}

// proxyTransport sends the outbound request and retries it once on another
// origin when the connection fails.
type proxyTransport Proxy

// RoundTrip sends req to the chosen origin, and on a connection failure
// once more to another, as Proxy.retryable allows.
func (t *proxyTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	p := (*Proxy)(t)
	st, _ := req.Context().Value(attemptKey{}).(*attempt)
	if st == nil {
		return p.router.transport.RoundTrip(req)
	}
	resp, err := p.send(req, st.origin)
	if err == nil || !p.retryable(req, st, err) {
		return resp, err
	}
	_, alt, perr := p.router.pick(st.in, st.origin)
	if perr != nil {
		return nil, err
	}
	req2 := req.Clone(req.Context())
	if st.hasBody {
		body, gerr := req.GetBody()
		if gerr != nil {
			return nil, err
		}
		req2.Body = body
	}
	u := *st.in.URL
	req2.URL = &u
	(&httputil.ProxyRequest{In: st.in, Out: req2}).SetURL(alt.base)
	p.setHost(req2, st.in)
	st.retried = true
	p.retries.Add(1)
	p.logger.Debug("routing: retrying on another origin", "from", st.origin.name, "to", alt.name, "method", req.Method, "error", err)
	st.origin = alt
	return p.send(req2, alt)
}

// send is one attempt on one origin, recorded for passive health.
func (p *Proxy) send(req *http.Request, o *originState) (*http.Response, error) {
	o.requests.Add(1)
	resp, err := p.router.transport.RoundTrip(req)
	if err != nil {
		if req.Context().Err() == nil { // the client going away is not the origin's fault
			p.router.trafficResult(o, false, err.Error())
		}
		return nil, err
	}
	if resp.StatusCode >= 500 {
		p.router.trafficResult(o, false, "answered "+resp.Status)
	} else {
		p.router.trafficResult(o, true, "")
	}
	return resp, nil
}

// retryable reports whether a failed attempt may be sent to another origin:
// once, while the client is still there, with a body only if it was
// buffered, and either because the connection was never made (the origin
// saw nothing) or because the request is idempotent. No response byte has
// reached the client at this point.
func (p *Proxy) retryable(req *http.Request, st *attempt, err error) bool {
	if st.retried || req.Context().Err() != nil || !st.replayable {
		return false
	}
	return st.idempotent || notSent(err)
}

// notSent reports whether err means the origin was never reached: a failed
// dial (refused, unreachable, timed out, no such host).
func notSent(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// proxyError answers 502 when the origin could not be reached.
func (p *Proxy) proxyError(w http.ResponseWriter, r *http.Request, err error) {
	if r.Context().Err() != nil {
		w.WriteHeader(http.StatusBadGateway) // the client is gone; nobody reads this
		return
	}
	p.badGateway.Add(1)
	name := ""
	if st, _ := r.Context().Value(attemptKey{}).(*attempt); st != nil {
		name = st.origin.name
	}
	p.logger.Warn("routing: origin unreachable", "origin", name, "method", r.Method, "path", r.URL.Path, "error", err)
	writeJSON(w, http.StatusBadGateway, "bad_gateway", "The origin could not be reached.")
}

func writeJSON(w http.ResponseWriter, status int, code, desc string) {
	b, _ := json.Marshal(map[string]string{"error": code, "error_description": desc})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)+1))
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

var buffers = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// bufferPool lends ReverseProxy its copy buffers.
type bufferPool struct{}

// Get lends a 32 KiB buffer.
func (bufferPool) Get() []byte { return *buffers.Get().(*[]byte) }

// Put takes a buffer back.
func (bufferPool) Put(b []byte) { buffers.Put(&b) }
