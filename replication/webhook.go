package replication

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// SignatureHeader carries "sha256=" and the hex HMAC-SHA256 of the request
// body under the shared secret.
const SignatureHeader = "X-Authhero-Signature"

// maxWebhookBody bounds a webhook request (an entity document is at most
// 1 MiB).
const maxWebhookBody = 4 << 20

// Sign returns the SignatureHeader value for body.
func Sign(secret, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// Verify reports, in constant time, whether sig is Sign(secret, body).
func Verify(secret, body []byte, sig string) bool {
	return len(secret) > 0 && hmac.Equal([]byte(Sign(secret, body)), []byte(sig))
}

// WebhookPublisher POSTs each event as JSON to URL, signed with Secret
// (SignatureHeader) and with Idempotency-Key set to the event id. Each
// attempt is bounded by Timeout; 5xx, 408, 429 and network errors are
// retried up to Retries times with doubling backoff, other statuses fail at
// once.
type WebhookPublisher struct {
	// URL receives the events (an Applier.WebhookHandler).
	URL string
	// Secret is the shared HMAC secret; required.
	Secret []byte
	// Client sends the requests; nil uses http.DefaultClient.
	Client *http.Client
	// Timeout bounds one attempt (default 10s).
	Timeout time.Duration
	// Retries is how many times a failed attempt is repeated (default 2).
	Retries int
	// Backoff is the first wait between attempts (default 200ms).
	Backoff time.Duration
}

// Publish delivers ev; nil means the receiver answered 2xx.
func (p *WebhookPublisher) Publish(ctx context.Context, ev Event) error {
	if len(p.Secret) == 0 {
		return errors.New("replication: the webhook publisher needs a secret")
	}
	body, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	retries, backoff := p.Retries, p.Backoff
	if retries <= 0 {
		retries = 2
	}
	if backoff <= 0 {
		backoff = 200 * time.Millisecond
	}
	for attempt := 0; ; attempt++ {
		retry, err := p.post(ctx, body, ev.ID)
		if err == nil {
			return nil
		}
		if !retry || attempt >= retries {
			return err
		}
		t := time.NewTimer(backoff << attempt)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
	}
}

func (p *WebhookPublisher) post(ctx context.Context, body []byte, id string) (retry bool, err error) {
	timeout := p.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.URL, bytes.NewReader(body))
	if err != nil {
		return false, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(SignatureHeader, Sign(p.Secret, body))
	req.Header.Set("Idempotency-Key", id)
	client := p.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return true, fmt.Errorf("replication: webhook %s: %w", id, err)
	}
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	resp.Body.Close()
	if resp.StatusCode/100 == 2 {
		return false, nil
	}
	retry = resp.StatusCode >= 500 || resp.StatusCode == http.StatusRequestTimeout || resp.StatusCode == http.StatusTooManyRequests
	return retry, fmt.Errorf("replication: webhook %s: %s: %s", id, resp.Status, bytes.TrimSpace(msg))
}

// Close does nothing; it makes WebhookPublisher a Publisher.
func (p *WebhookPublisher) Close() error { return nil }

// WebhookHandler receives events from a WebhookPublisher with the same
// secret: it answers 401 to a missing or wrong signature, 400 to a body that
// is not an event (or whose Idempotency-Key is not its id), 503 when the
// event could not be applied or stored as a dead letter (the publisher
// retries), and 200 with {"outcome": ...} otherwise.
func (ap *Applier) WebhookHandler(secret []byte) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reply := func(status int, field, value string) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			json.NewEncoder(w).Encode(map[string]string{field: value})
		}
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			reply(http.StatusMethodNotAllowed, "error", "POST only")
			return
		}
		if len(secret) == 0 {
			reply(http.StatusInternalServerError, "error", "no webhook secret configured")
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxWebhookBody))
		if err != nil {
			reply(http.StatusRequestEntityTooLarge, "error", "body too large")
			return
		}
		if !Verify(secret, body, r.Header.Get(SignatureHeader)) {
			reply(http.StatusUnauthorized, "error", "bad signature")
			return
		}
		var ev Event
		if err := json.Unmarshal(body, &ev); err != nil || ev.ID == "" {
			reply(http.StatusBadRequest, "error", "not a change event")
			return
		}
		if k := r.Header.Get("Idempotency-Key"); k != "" && k != ev.ID {
			reply(http.StatusBadRequest, "error", "Idempotency-Key is not the event id")
			return
		}
		out, err := ap.Apply(r.Context(), ev)
		if err != nil {
			reply(http.StatusServiceUnavailable, "error", "not applied; retry later")
			return
		}
		reply(http.StatusOK, "outcome", out)
	})
}
