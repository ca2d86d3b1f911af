package main

import (
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/require"
)

// seen is what a handler got from the adapter.
type seen struct {
	r    *http.Request
	body []byte
}

// recorder returns a handler that records its request and then runs respond.
func recorder(s *seen, respond func(w http.ResponseWriter, r *http.Request)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.r = r
		s.body, _ = io.ReadAll(r.Body)
		if respond != nil {
			respond(w, r)
		}
	})
}

type ctxKey struct{}

func TestRequestTranslation(t *testing.T) {
	ctx := context.WithValue(context.Background(), ctxKey{}, "invocation")
	body := []byte{0x00, 0x01, 0xfe, 0xff, 'x'}
	e := events.LambdaFunctionURLRequest{
		Version:        "2.0",
		RawPath:        "/echo/a%2Fb/caf%C3%A9",
		RawQueryString: "x=1&x=2&q=a%20b",
		Cookies:        []string{"a=1", "__Host-s=v=w"},
		Headers: map[string]string{
			"content-type":      "application/octet-stream",
			"host":              "header-host.example",
			"x-multi":           "one,two",
			"x-forwarded-proto": "http",
		},
		RequestContext: events.LambdaFunctionURLRequestContext{
			DomainName: "auth.example.com",
			RequestID:  "req-123",
			HTTP: events.LambdaFunctionURLRequestContextHTTPDescription{
				Method: "PUT", Path: "/echo/a/b/café", Protocol: "HTTP/1.1", SourceIP: "192.0.2.10",
			},
		},
		Body:            base64.StdEncoding.EncodeToString(body),
		IsBase64Encoded: true,
	}
	var s seen
	res, err := Handler(recorder(&s, nil))(ctx, e)
	require.NoError(t, err)
	require.Equal(t, 200, res.StatusCode)

	r := s.r
	require.Equal(t, "invocation", r.Context().Value(ctxKey{}), "the invocation's context reaches the handler")
	require.Equal(t, "PUT", r.Method)
	require.Equal(t, "/echo/a/b/café", r.URL.Path)
	require.Equal(t, "/echo/a%2Fb/caf%C3%A9", r.URL.EscapedPath(), "the raw path is kept, %2F included")
	require.Equal(t, "x=1&x=2&q=a%20b", r.URL.RawQuery)
	require.Equal(t, []string{"1", "2"}, r.URL.Query()["x"])
	require.Equal(t, "a b", r.URL.Query().Get("q"))
	require.Equal(t, "/echo/a%2Fb/caf%C3%A9?x=1&x=2&q=a%20b", r.RequestURI)
	require.Equal(t, "HTTP/1.1", r.Proto)
	require.Equal(t, 1, r.ProtoMajor)
	require.Equal(t, 1, r.ProtoMinor)

	require.Equal(t, "auth.example.com", r.Host, "Host is the domain name")
	require.Empty(t, r.Header.Values("Host"), "Host is promoted out of the header map, as net/http does")
	require.Equal(t, "one,two", r.Header.Get("X-Multi"))
	require.Equal(t, "application/octet-stream", r.Header.Get("Content-Type"))
	require.Equal(t, "https", r.Header.Get("X-Forwarded-Proto"), "function URLs are HTTPS only")
	require.NotNil(t, r.TLS)
	require.Equal(t, "auth.example.com", r.TLS.ServerName)
	require.Equal(t, "192.0.2.10:0", r.RemoteAddr)
	require.Equal(t, "req-123", r.Header.Get("X-Request-Id"))

	require.Equal(t, "a=1; __Host-s=v=w", r.Header.Get("Cookie"))
	c, err := r.Cookie("__Host-s")
	require.NoError(t, err)
	require.Equal(t, "v=w", c.Value)
	c, err = r.Cookie("a")
	require.NoError(t, err)
	require.Equal(t, "1", c.Value)

	require.Equal(t, body, s.body, "a base64 body is decoded")
	require.Equal(t, int64(len(body)), r.ContentLength)
}

func TestRequestFallbacks(t *testing.T) {
	var s seen
	h := Handler(recorder(&s, nil))

	// No domain name: the host header; IPv6 source; plain body; caller's request id kept.
	_, err := h(context.Background(), events.LambdaFunctionURLRequest{
		Headers: map[string]string{"host": "fallback.example", "x-request-id": "mine"},
		RequestContext: events.LambdaFunctionURLRequestContext{RequestID: "aws",
			HTTP: events.LambdaFunctionURLRequestContextHTTPDescription{Method: "POST", Path: "/p", SourceIP: "2001:db8::4a"}},
		Body: "plain text",
	})
	require.NoError(t, err)
	require.Equal(t, "fallback.example", s.r.Host)
	require.Equal(t, "/p", s.r.URL.Path, "requestContext.http.path when rawPath is empty")
	require.Equal(t, "[2001:db8::4a]:0", s.r.RemoteAddr)
	require.Equal(t, "plain text", string(s.body))
	require.Equal(t, "mine", s.r.Header.Get("X-Request-Id"))
	require.Empty(t, s.r.Header.Get("Cookie"))

	// Nothing at all: GET /.
	_, err = h(context.Background(), events.LambdaFunctionURLRequest{})
	require.NoError(t, err)
	require.Equal(t, "GET", s.r.Method)
	require.Equal(t, "/", s.r.URL.Path)
	require.Equal(t, http.NoBody, s.r.Body)
}

func TestBadBase64BodyIs400(t *testing.T) {
	called := false
	h := http.HandlerFunc(func(http.ResponseWriter, *http.Request) { called = true })
	res, err := Handler(h)(context.Background(), events.LambdaFunctionURLRequest{
		RequestContext: events.LambdaFunctionURLRequestContext{HTTP: events.LambdaFunctionURLRequestContextHTTPDescription{Method: "POST"}},
		Body:           "not base64!", IsBase64Encoded: true,
	})
	require.NoError(t, err)
	require.Equal(t, 400, res.StatusCode)
	require.False(t, called)
}

func TestResponseTranslation(t *testing.T) {
	png := []byte{0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0x00, 0xff}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "a", Value: "1", Path: "/", HttpOnly: true, Secure: true})
		http.SetCookie(w, &http.Cookie{Name: "b", Value: "2", MaxAge: -1})
		w.Header().Add("Vary", "Origin")
		w.Header().Add("Vary", "Accept-Encoding")
		w.Header().Set("Content-Type", "image/png")
		w.WriteHeader(http.StatusCreated)
		w.Header().Set("X-Too-Late", "1") // after WriteHeader: not sent
		w.Write(png[:4])
		w.Write(png[4:])
	})
	res, err := Handler(h)(context.Background(), events.LambdaFunctionURLRequest{})
	require.NoError(t, err)
	require.Equal(t, 201, res.StatusCode)
	require.Equal(t, []string{"a=1; Path=/; HttpOnly; Secure", "b=2; Max-Age=0"}, res.Cookies)
	require.NotContains(t, res.Headers, "Set-Cookie", "cookies travel in cookies, not headers")
	require.Equal(t, "Origin, Accept-Encoding", res.Headers["Vary"])
	require.Equal(t, "image/png", res.Headers["Content-Type"])
	require.NotContains(t, res.Headers, "X-Too-Late")
	require.True(t, res.IsBase64Encoded, "binary bodies are base64-encoded")
	got, err := base64.StdEncoding.DecodeString(res.Body)
	require.NoError(t, err)
	require.Equal(t, png, got)
}

func TestResponseBodyEncoding(t *testing.T) {
	for _, tc := range []struct {
		name, method, contentType, encoding, body string
		base64                                    bool
		wantType, wantBody                        string
	}{
		{name: "json", contentType: "application/json", body: `{"a":"é"}`, wantBody: `{"a":"é"}`},
		{name: "html", contentType: "text/html; charset=utf-8", body: "<p>hi</p>", wantBody: "<p>hi</p>"},
		{name: "problem+json", contentType: "application/problem+json", body: `{}`, wantBody: `{}`},
		{name: "form", contentType: "application/x-www-form-urlencoded", body: "a=1", wantBody: "a=1"},
		{name: "sniffed html", body: "<!doctype html><p>x</p>", wantType: "text/html; charset=utf-8", wantBody: "<!doctype html><p>x</p>"},
		{name: "sniffed binary", body: "\x00\x01\x02", wantType: "application/octet-stream", base64: true},
		{name: "gzip text", contentType: "text/plain", encoding: "gzip", body: "\x1f\x8b\x08", base64: true},
		{name: "text not utf-8", contentType: "text/plain", body: "caf\xe9", base64: true},
		{name: "unparsable type", contentType: "text/;;", body: "x", base64: true},
		{name: "empty", contentType: "application/octet-stream", body: "", wantBody: ""},
		{name: "head", method: "HEAD", contentType: "text/plain", body: "dropped", wantBody: ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tc.contentType != "" {
					w.Header().Set("Content-Type", tc.contentType)
				}
				if tc.encoding != "" {
					w.Header().Set("Content-Encoding", tc.encoding)
				}
				io.WriteString(w, tc.body)
			})
			res, err := Handler(h)(context.Background(), events.LambdaFunctionURLRequest{
				RequestContext: events.LambdaFunctionURLRequestContext{HTTP: events.LambdaFunctionURLRequestContextHTTPDescription{Method: tc.method}},
			})
			require.NoError(t, err)
			require.Equal(t, 200, res.StatusCode)
			require.Equal(t, tc.base64, res.IsBase64Encoded)
			if tc.base64 {
				got, err := base64.StdEncoding.DecodeString(res.Body)
				require.NoError(t, err)
				require.Equal(t, tc.body, string(got))
			} else {
				require.Equal(t, tc.wantBody, res.Body)
			}
			if tc.wantType != "" {
				require.Equal(t, tc.wantType, res.Headers["Content-Type"])
			}
		})
	}
}

func TestNoWriteIs200(t *testing.T) {
	res, err := Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))(context.Background(), events.LambdaFunctionURLRequest{})
	require.NoError(t, err)
	require.Equal(t, 200, res.StatusCode)
	require.Empty(t, res.Body)
	require.False(t, res.IsBase64Encoded)
	require.Empty(t, res.Cookies)
}

// TestAPIGatewayV2Handler checks that the HTTP API variant translates the
// same way as the function URL one.
func TestAPIGatewayV2Handler(t *testing.T) {
	var s seen
	h := recorder(&s, func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "c", Value: "3"})
		w.Header().Set("Content-Type", "application/octet-stream")
		w.WriteHeader(http.StatusAccepted)
		w.Write([]byte{0xff})
	})
	res, err := APIGatewayV2Handler(h)(context.Background(), events.APIGatewayV2HTTPRequest{
		RawPath: "/v2/x", RawQueryString: "k=v", Cookies: []string{"a=1", "b=2"},
		Headers: map[string]string{"authorization": "Bearer t"},
		RequestContext: events.APIGatewayV2HTTPRequestContext{DomainName: "auth.example.com", RequestID: "gw-1",
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "DELETE", Protocol: "HTTP/1.1", SourceIP: "203.0.113.7"}},
		Body: base64.StdEncoding.EncodeToString([]byte("hi")), IsBase64Encoded: true,
	})
	require.NoError(t, err)
	require.Equal(t, "DELETE", s.r.Method)
	require.Equal(t, "/v2/x", s.r.URL.Path)
	require.Equal(t, "k=v", s.r.URL.RawQuery)
	require.Equal(t, "auth.example.com", s.r.Host)
	require.Equal(t, "Bearer t", s.r.Header.Get("Authorization"))
	require.Equal(t, "a=1; b=2", s.r.Header.Get("Cookie"))
	require.Equal(t, "203.0.113.7:0", s.r.RemoteAddr)
	require.Equal(t, "gw-1", s.r.Header.Get("X-Request-Id"))
	require.NotNil(t, s.r.TLS)
	require.Equal(t, "hi", string(s.body))

	require.Equal(t, 202, res.StatusCode)
	require.Equal(t, []string{"c=3"}, res.Cookies)
	require.True(t, res.IsBase64Encoded)
	require.Equal(t, base64.StdEncoding.EncodeToString([]byte{0xff}), res.Body)
}
