package replication

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// NATSConfig names a JetStream stream of change events.
type NATSConfig struct {
	// URL is the NATS server URL, e.g. nats://127.0.0.1:4222.
	URL string
	// Stream is the JetStream stream name (default "AUTHHERO_CHANGES").
	Stream string
	// Subject is the subject events are published on (default
	// "authhero.changes").
	Subject string
	// MaxAge is how long the stream keeps events (default 7 days). A
	// consumer offline for longer misses events; Reconcile repairs that.
	MaxAge time.Duration
	// Duplicates is the stream's de-duplication window for Nats-Msg-Id
	// (default 10 minutes).
	Duplicates time.Duration
	// Timeout bounds one publish or connect (default 5s).
	Timeout time.Duration
	// Options are extra connection options (credentials, TLS).
	Options []nats.Option
}

func (c NATSConfig) withDefaults() NATSConfig {
	if c.Stream == "" {
		c.Stream = "AUTHHERO_CHANGES"
	}
	if c.Subject == "" {
		c.Subject = "authhero.changes"
	}
	if c.MaxAge <= 0 {
		c.MaxAge = 7 * 24 * time.Hour
	}
	if c.Duplicates <= 0 {
		c.Duplicates = 10 * time.Minute
	}
	if c.Timeout <= 0 {
		c.Timeout = 5 * time.Second
	}
	return c
}

// connect opens a connection that reconnects by itself, and makes sure the
// stream exists.
func (c NATSConfig) connect(ctx context.Context) (*nats.Conn, jetstream.JetStream, error) {
	opts := append([]nats.Option{nats.Name("authhero-replication"), nats.Timeout(c.Timeout),
		nats.MaxReconnects(-1), nats.ReconnectWait(250 * time.Millisecond)}, c.Options...)
	nc, err := nats.Connect(c.URL, opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("replication: connect to NATS: %w", err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, nil, err
	}
	cctx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()
	if _, err := js.Stream(cctx, c.Stream); errors.Is(err, jetstream.ErrStreamNotFound) {
		_, err = js.CreateStream(cctx, jetstream.StreamConfig{Name: c.Stream, Subjects: []string{c.Subject},
			Storage: jetstream.FileStorage, MaxAge: c.MaxAge, Duplicates: c.Duplicates})
		if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
			err = nil
		}
		if err != nil {
			nc.Close()
			return nil, nil, fmt.Errorf("replication: create stream %s: %w", c.Stream, err)
		}
	} else if err != nil {
		nc.Close()
		return nil, nil, fmt.Errorf("replication: stream %s: %w", c.Stream, err)
	}
	return nc, js, nil
}

// NATSPublisher publishes events to a JetStream stream, with the event id as
// Nats-Msg-Id so that JetStream drops a re-publish within its duplicate
// window. It connects on first use and reconnects after failures; while NATS
// is unreachable Publish fails and the relay keeps the events.
type NATSPublisher struct {
	cfg NATSConfig

	mu sync.Mutex
	nc *nats.Conn
	js jetstream.JetStream
}

// NewNATSPublisher returns a publisher for cfg; it does not connect yet.
func NewNATSPublisher(cfg NATSConfig) *NATSPublisher {
	return &NATSPublisher{cfg: cfg.withDefaults()}
}

func (p *NATSPublisher) stream(ctx context.Context) (jetstream.JetStream, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.nc != nil && !p.nc.IsClosed() {
		return p.js, nil
	}
	nc, js, err := p.cfg.connect(ctx)
	if err != nil {
		return nil, err
	}
	p.nc, p.js = nc, js
	return js, nil
}

// Publish sends ev and waits for JetStream's acknowledgement.
func (p *NATSPublisher) Publish(ctx context.Context, ev Event) error {
	js, err := p.stream(ctx)
	if err != nil {
		return err
	}
	data, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, p.cfg.Timeout)
	defer cancel()
	if _, err := js.Publish(ctx, p.cfg.Subject, data, jetstream.WithMsgID(ev.ID)); err != nil {
		p.Close() // the next attempt reconnects and makes sure the stream exists
		return fmt.Errorf("replication: publish %s: %w", ev.ID, err)
	}
	return nil
}

// Close closes the connection.
func (p *NATSPublisher) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.nc != nil {
		p.nc.Close()
		p.nc = nil
	}
	return nil
}

// RunNATS consumes events from the stream of cfg through the durable
// consumer named durable (one per target database, e.g. its origin id) and
// applies them in stream order until ctx ends. A message is acknowledged
// once applied, skipped, found duplicate or stale, or stored as a dead
// letter; otherwise it is redelivered after a second. Connection failures
// are retried with backoff. It returns nil when ctx ends.
func (ap *Applier) RunNATS(ctx context.Context, cfg NATSConfig, durable string) error {
	cfg = cfg.withDefaults()
	if durable == "" {
		return errors.New("replication: RunNATS needs a durable consumer name")
	}
	backoff := 250 * time.Millisecond
	for {
		err := ap.consumeNATS(ctx, cfg, durable)
		if ctx.Err() != nil {
			return nil
		}
		if ap.Logger != nil {
			ap.Logger.Warn("replication: NATS consumer stopped; reconnecting", "err", err, "retry_in", backoff)
		}
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
		backoff = min(2*backoff, 10*time.Second)
	}
}

// natsBatch caps the events applied in one transaction.
const natsBatch = 100

func (ap *Applier) consumeNATS(ctx context.Context, cfg NATSConfig, durable string) error {
	nc, js, err := cfg.connect(ctx)
	if err != nil {
		return err
	}
	defer nc.Close()
	cctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	cons, err := js.CreateOrUpdateConsumer(cctx, cfg.Stream, jetstream.ConsumerConfig{
		Durable: durable, FilterSubject: cfg.Subject, AckPolicy: jetstream.AckExplicitPolicy,
		DeliverPolicy: jetstream.DeliverAllPolicy, AckWait: 30 * time.Second, MaxAckPending: 1000,
	})
	cancel()
	if err != nil {
		return fmt.Errorf("replication: consumer %s: %w", durable, err)
	}
	it, err := cons.Messages(jetstream.PullMaxMessages(256))
	if err != nil {
		return err
	}
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		select {
		case <-ctx.Done():
		case <-stop:
		}
		it.Stop()
	}()
	for {
		msg, err := it.Next()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, jetstream.ErrMsgIteratorClosed) {
				return ctx.Err()
			}
			return err
		}
		// Take what else is already buffered: one commit for a burst.
		msgs := []jetstream.Msg{msg}
		for len(msgs) < natsBatch {
			m, err := it.Next(jetstream.NextMaxWait(time.Millisecond))
			if err != nil {
				break
			}
			msgs = append(msgs, m)
		}
		evs := make([]Event, 0, len(msgs))
		kept := msgs[:0]
		for _, m := range msgs {
			var ev Event
			if err := json.Unmarshal(m.Data(), &ev); err != nil {
				if ap.Logger != nil {
					ap.Logger.Error("replication: undecodable message dropped", "subject", m.Subject(), "err", err)
				}
				m.Term()
				continue
			}
			evs = append(evs, ev)
			kept = append(kept, m)
		}
		outs, err := ap.ApplyBatch(ctx, evs)
		if err != nil && ap.Logger != nil {
			ap.Logger.Warn("replication: apply failed; redelivering", "err", err)
		}
		for i, m := range kept {
			if outs[i] == "" {
				m.NakWithDelay(time.Second)
			} else {
				m.Ack()
			}
		}
	}
}
