package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
)

// Handler serves h behind a Lambda function URL: each event becomes a
// net/http request and the handler's response becomes the function URL
// response.
//
// The request gets the event's method, raw path and raw query string, its
// headers, its cookies joined into one Cookie header, and its body, decoded
// when the event has it base64-encoded. Host is the requestContext domain
// name (the host header when that is empty). The request counts as TLS (r.TLS
// is set and X-Forwarded-Proto is https) because function URLs and API
// Gateway accept HTTPS only. RemoteAddr is requestContext.http.sourceIp, the
// caller AWS saw, with port 0. X-Request-Id is the AWS request id unless the
// caller sent one.
//
// The response carries the status (200 when the handler sets none), the
// headers (several values joined with ", "), every Set-Cookie value as an
// entry of cookies, and the body: base64-encoded unless it is UTF-8 text
// (text/*, JSON, XML, JavaScript or a form) without a Content-Encoding.
// Without a Content-Type, one is sniffed as net/http does. A request whose
// base64 body does not decode is answered 400 without calling h.
//
// The body is buffered: use the function URL's BUFFERED invoke mode.
func Handler(h http.Handler) func(context.Context, events.LambdaFunctionURLRequest) (events.LambdaFunctionURLResponse, error) {
	return func(ctx context.Context, e events.LambdaFunctionURLRequest) (events.LambdaFunctionURLResponse, error) {
		c := e.RequestContext
		res := serve(ctx, h, event{
			method: c.HTTP.Method, rawPath: e.RawPath, path: c.HTTP.Path, rawQuery: e.RawQueryString,
			protocol: c.HTTP.Protocol, sourceIP: c.HTTP.SourceIP, domainName: c.DomainName, requestID: c.RequestID,
			headers: e.Headers, cookies: e.Cookies, body: e.Body, isBase64: e.IsBase64Encoded,
		})
		return events.LambdaFunctionURLResponse{StatusCode: res.status, Headers: res.headers, Cookies: res.cookies,
			Body: res.body, IsBase64Encoded: res.isBase64}, nil
	}
}

// APIGatewayV2Handler is Handler for an API Gateway HTTP API route with a
// Lambda proxy integration of payload format 2.0. Use the $default stage:
// API Gateway keeps the name of any other stage in the raw path.
func APIGatewayV2Handler(h http.Handler) func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	return func(ctx context.Context, e events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		c := e.RequestContext
		res := serve(ctx, h, event{
			method: c.HTTP.Method, rawPath: e.RawPath, path: c.HTTP.Path, rawQuery: e.RawQueryString,
			protocol: c.HTTP.Protocol, sourceIP: c.HTTP.SourceIP, domainName: c.DomainName, requestID: c.RequestID,
			headers: e.Headers, cookies: e.Cookies, body: e.Body, isBase64: e.IsBase64Encoded,
		})
		return events.APIGatewayV2HTTPResponse{StatusCode: res.status, Headers: res.headers, Cookies: res.cookies,
			Body: res.body, IsBase64Encoded: res.isBase64}, nil
	}
}

// event is what function URL and HTTP API (payload 2.0) events share.
type event struct {
	method, rawPath, path, rawQuery, protocol, sourceIP, domainName, requestID string

	headers  map[string]string
	cookies  []string
	body     string
	isBase64 bool
}

// result is what their responses share.
type result struct {
	status   int
	headers  map[string]string
	cookies  []string
	body     string
	isBase64 bool
}

// serve runs h on the request of e and returns its response.
func serve(ctx context.Context, h http.Handler, e event) result {
	req, err := newRequest(ctx, e)
	if err != nil {
		return result{status: http.StatusBadRequest, headers: map[string]string{"Content-Type": "text/plain; charset=utf-8"},
			body: err.Error() + "\n"}
	}
	w := &responseWriter{header: http.Header{}}
	h.ServeHTTP(w, req)
	return w.result(req.Method)
}

// newRequest builds the net/http request an event stands for.
func newRequest(ctx context.Context, e event) (*http.Request, error) {
	body := []byte(e.body)
	if e.isBase64 {
		b, err := base64.StdEncoding.DecodeString(e.body)
		if err != nil {
			return nil, errors.New("the event's body is not valid base64")
		}
		body = b
	}
	target := e.rawPath
	if target == "" {
		target = e.path
	}
	if target == "" {
		target = "/"
	}
	if e.rawQuery != "" {
		target += "?" + e.rawQuery
	}
	u, err := url.ParseRequestURI(target)
	if err != nil {
		return nil, errors.New("the event's path is not a valid request target")
	}
	method := e.method
	if method == "" {
		method = http.MethodGet
	}
	req, err := http.NewRequestWithContext(ctx, method, "/", bytes.NewReader(body))
	if err != nil {
		return nil, errors.New("the event's method is not valid")
	}
	req.URL, req.RequestURI = u, target
	if p := e.protocol; p != "" {
		if major, minor, ok := http.ParseHTTPVersion(p); ok {
			req.Proto, req.ProtoMajor, req.ProtoMinor = p, major, minor
		}
	}
	for k, v := range e.headers {
		req.Header.Add(k, v)
	}
	if len(e.cookies) > 0 {
		req.Header.Set("Cookie", strings.Join(e.cookies, "; "))
	}
	req.Host = e.domainName
	if req.Host == "" {
		req.Host = req.Header.Get("Host")
	}
	req.Header.Del("Host") // as net/http's server does: Host lives in req.Host
	serverName := req.Host
	if h, _, err := net.SplitHostPort(serverName); err == nil {
		serverName = h
	}
	req.TLS = &tls.ConnectionState{HandshakeComplete: true, ServerName: serverName}
	req.Header.Set("X-Forwarded-Proto", "https")
	if e.sourceIP != "" {
		req.RemoteAddr = net.JoinHostPort(e.sourceIP, "0")
	}
	if e.requestID != "" && req.Header.Get("X-Request-Id") == "" {
		req.Header.Set("X-Request-Id", e.requestID)
	}
	return req, nil
}

// responseWriter buffers a response, as the events carry it whole.
type responseWriter struct {
	header http.Header
	sent   http.Header // the header as it was at WriteHeader
	status int
	body   bytes.Buffer
}

// Header returns the header map to set before WriteHeader.
func (w *responseWriter) Header() http.Header { return w.header }

// WriteHeader records the status and freezes the header; informational
// (1xx) statuses are dropped, as a buffered response cannot send them.
func (w *responseWriter) WriteHeader(code int) {
	if w.status != 0 || (code >= 100 && code < 200) {
		return
	}
	w.status = code
	w.sent = w.header.Clone()
}

// Write buffers body bytes, first sending status 200 if none was.
func (w *responseWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	return w.body.Write(p)
}

// Flush does nothing: the response is sent when the handler returns.
func (w *responseWriter) Flush() {}

// result is the response as the events carry it.
func (w *responseWriter) result(method string) result {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	body := w.body.Bytes()
	if method == http.MethodHead || w.status == http.StatusNoContent || w.status == http.StatusNotModified {
		body = nil
	}
	if _, ok := w.sent["Content-Type"]; !ok && len(body) > 0 && w.sent.Get("Content-Encoding") == "" {
		w.sent.Set("Content-Type", http.DetectContentType(body))
	}
	r := result{status: w.status, headers: make(map[string]string, len(w.sent))}
	for k, vs := range w.sent {
		switch {
		case k == "Set-Cookie":
			r.cookies = append(r.cookies, vs...)
		case len(vs) > 0:
			r.headers[k] = strings.Join(vs, ", ")
		}
	}
	if isText(w.sent, body) {
		r.body = string(body)
	} else {
		r.body, r.isBase64 = base64.StdEncoding.EncodeToString(body), true
	}
	return r
}

// isText reports whether a body can travel as a JSON string unchanged:
// UTF-8 of a textual media type, not compressed.
func isText(h http.Header, body []byte) bool {
	if len(body) == 0 {
		return true
	}
	if ce := h.Get("Content-Encoding"); ce != "" && !strings.EqualFold(ce, "identity") {
		return false
	}
	mt, _, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil {
		return false
	}
	switch {
	case strings.HasPrefix(mt, "text/"), strings.HasSuffix(mt, "+json"), strings.HasSuffix(mt, "+xml"):
	case mt == "application/json", mt == "application/javascript", mt == "application/xml",
		mt == "application/x-www-form-urlencoded", mt == "application/jwt":
	default:
		return false
	}
	return utf8.Valid(body)
}
