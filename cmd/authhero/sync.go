package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/authhero-go/authhero/adapters/bunadapter"
	"github.com/authhero-go/authhero/replication"
)

// syncConfig is the file `authhero sync --config` reads, e.g. a relay and
// an applier over NATS JetStream:
//
//	{
//	  "origin": "eu-west",
//	  "source": "postgres://.../authhero",
//	  "publisher": {"type": "nats", "url": "nats://nats:4222", "stream": "AUTHHERO_CHANGES", "subject": "authhero.changes"},
//	  "target": "postgres://.../authhero",
//	  "subscriber": {"type": "nats", "url": "nats://nats:4222", "stream": "AUTHHERO_CHANGES", "subject": "authhero.changes"}
//	}
//
// or over HTTP: "publisher": {"type": "webhook", "url": "https://peer/replication", "secret_env": "REPLICATION_SECRET"}
// and "subscriber": {"type": "webhook", "listen": ":9090", "path": "/replication", "secret_env": "REPLICATION_SECRET"}.
type syncConfig struct {
	// Origin is this database's origin id: the one its serving instances
	// record events with. The applier skips events from it.
	Origin string `json:"origin"`
	// Source is the database whose outbox the relay publishes; "" runs no
	// relay.
	Source    string        `json:"source"`
	Publisher *syncEndpoint `json:"publisher"`
	// Target is the database the applier writes; "" runs no applier.
	Target     string        `json:"target"`
	Subscriber *syncEndpoint `json:"subscriber"`
	// PollInterval is how often the relay looks for new events (default
	// 250ms).
	PollInterval string `json:"poll_interval"`
}

// syncEndpoint is a publisher or subscriber.
type syncEndpoint struct {
	// Type is "nats" or "webhook".
	Type string `json:"type"`
	// URL is the NATS server, or the webhook URL a publisher posts to.
	URL string `json:"url"`
	// Stream and Subject name the JetStream stream (defaults
	// AUTHHERO_CHANGES, authhero.changes).
	Stream  string `json:"stream"`
	Subject string `json:"subject"`
	// Durable is the subscriber's JetStream consumer (default: the origin).
	Durable string `json:"durable"`
	// Listen and Path are where a webhook subscriber receives events
	// (default path /replication).
	Listen string `json:"listen"`
	Path   string `json:"path"`
	// Secret, or the environment variable SecretEnv, is the webhook HMAC
	// secret.
	Secret    string `json:"secret"`
	SecretEnv string `json:"secret_env"`
}

func (e *syncEndpoint) secret() ([]byte, error) {
	s := e.Secret
	if e.SecretEnv != "" {
		s = os.Getenv(e.SecretEnv)
	}
	if len(s) < 16 {
		return nil, errors.New("a webhook needs a secret of at least 16 characters (secret or secret_env)")
	}
	return []byte(s), nil
}

func (e *syncEndpoint) nats() replication.NATSConfig {
	return replication.NATSConfig{URL: e.URL, Stream: e.Stream, Subject: e.Subject}
}

// prune deletes applied-event ids older than a week from the target, hourly,
// until ctx ends (a relay prunes its own source).
func prune(ctx context.Context, db *bunadapter.Adapter, logger *slog.Logger) error {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			if _, err := db.Changes().Prune(ctx, time.Now().Add(-7*24*time.Hour)); err != nil && ctx.Err() == nil {
				logger.Warn("replication: pruning applied event ids failed", "err", err)
			}
		}
	}
}

func loadSyncConfig(path string) (*syncConfig, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var c syncConfig
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	switch {
	case c.Origin == "":
		return nil, fmt.Errorf("%s: origin is required", path)
	case c.Source == "" && c.Target == "":
		return nil, fmt.Errorf("%s: nothing to run: set source (relay) and/or target (applier)", path)
	case c.Source != "" && c.Publisher == nil:
		return nil, fmt.Errorf("%s: source needs a publisher", path)
	case c.Target != "" && c.Subscriber == nil:
		return nil, fmt.Errorf("%s: target needs a subscriber", path)
	}
	for _, e := range []*syncEndpoint{c.Publisher, c.Subscriber} {
		if e != nil && e.Type != "nats" && e.Type != "webhook" {
			return nil, fmt.Errorf("%s: endpoint type %q: use nats or webhook", path, e.Type)
		}
	}
	return &c, nil
}

// syncCmd runs a relay and/or an applier from a config file until ctx ends
// (SIGTERM or SIGINT).
func syncCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("sync", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "sync.json", "replication config file (JSON)")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	cfg, err := loadSyncConfig(*path)
	if err != nil {
		return err
	}
	poll := 250 * time.Millisecond
	if cfg.PollInterval != "" {
		if poll, err = time.ParseDuration(cfg.PollInterval); err != nil {
			return fmt.Errorf("poll_interval: %w", err)
		}
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	open := func(dsn string) (*bunadapter.Adapter, error) {
		a, err := bunadapter.Open(ctx, dsn)
		if err != nil {
			return nil, err
		}
		if err := a.Migrate(ctx); err != nil {
			a.Close()
			return nil, err
		}
		return a, nil
	}

	var tasks []func(ctx context.Context) error
	var relay *replication.Relay
	var ap *replication.Applier
	if cfg.Source != "" {
		src, err := open(cfg.Source)
		if err != nil {
			return err
		}
		defer src.Close()
		var pub replication.Publisher
		if cfg.Publisher.Type == "nats" {
			pub = replication.NewNATSPublisher(cfg.Publisher.nats())
		} else {
			secret, err := cfg.Publisher.secret()
			if err != nil {
				return err
			}
			pub = &replication.WebhookPublisher{URL: cfg.Publisher.URL, Secret: secret}
		}
		defer pub.Close()
		relay = &replication.Relay{Source: src, Publisher: pub, Interval: poll, Logger: logger}
		tasks = append(tasks, relay.Run)
	}
	if cfg.Target != "" {
		dst, err := open(cfg.Target)
		if err != nil {
			return err
		}
		defer dst.Close()
		ap = &replication.Applier{Target: dst, Origin: cfg.Origin, Logger: logger}
		tasks = append(tasks, func(ctx context.Context) error { return prune(ctx, dst, logger) })
		sub := cfg.Subscriber
		if sub.Type == "nats" {
			durable := sub.Durable
			if durable == "" {
				durable = cfg.Origin
			}
			tasks = append(tasks, func(ctx context.Context) error { return ap.RunNATS(ctx, sub.nats(), durable) })
		} else {
			secret, err := sub.secret()
			if err != nil {
				return err
			}
			p := sub.Path
			if p == "" {
				p = "/replication"
			}
			mux := http.NewServeMux()
			mux.Handle(p, ap.WebhookHandler(secret))
			ln, err := net.Listen("tcp", sub.Listen)
			if err != nil {
				return err
			}
			srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second}
			fmt.Fprintf(stdout, "receiving replication webhooks on http://%s%s\n", displayAddr(ln.Addr()), p)
			tasks = append(tasks, func(ctx context.Context) error {
				go func() {
					<-ctx.Done()
					sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
					defer cancel()
					srv.Shutdown(sctx)
				}()
				if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
					return err
				}
				return nil
			})
		}
	}
	fmt.Fprintf(stdout, "authhero sync running (origin %s, relay: %t, applier: %t)\n", cfg.Origin, relay != nil, ap != nil)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// Backlog, outcomes and lag as Prometheus metrics on METRICS_ADDR.
	if addr := os.Getenv("METRICS_ADDR"); addr != "" {
		reg := prometheus.NewRegistry()
		reg.MustRegister(replication.Collector{Relay: relay, Applier: ap})
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return fmt.Errorf("METRICS_ADDR: %w", err)
		}
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
		msrv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
		go msrv.Serve(ln)
		defer msrv.Close()
		fmt.Fprintf(stdout, "metrics on http://%s/metrics\n", ln.Addr())
	}
	errs := make(chan error, len(tasks))
	var wg sync.WaitGroup
	for _, task := range tasks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := task(ctx); err != nil {
				errs <- err
				cancel()
			}
		}()
	}
	wg.Wait()
	close(errs)
	if relay != nil {
		s := relay.Stats()
		fmt.Fprintf(stdout, "relay: published %d, backlog %d\n", s.Published, s.Backlog)
	}
	if ap != nil {
		s := ap.Stats()
		fmt.Fprintf(stdout, "applier: applied %d, duplicate %d, stale %d, skipped %d, dead letters %d, lag p50 %s p99 %s\n",
			s.Applied, s.Duplicates, s.Stale, s.Skipped, s.DeadLettered, s.LagP50, s.LagP99)
	}
	return <-errs
}
