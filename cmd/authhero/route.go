package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/authhero-go/authhero/routing"
)

// route runs the routing reverse proxy in front of several deployments:
// `authhero route --config routing.json --listen :8080`.
func route(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("route", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", os.Getenv("AUTHHERO_ROUTING_CONFIG"), "routing configuration, JSON: pools, steering, health_check (env AUTHHERO_ROUTING_CONFIG)")
	addr := fs.String("listen", ":8080", "listen address")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if *configPath == "" {
		fmt.Fprintln(stderr, "authhero route: --config is required (a JSON file with pools, steering and health_check)")
		fs.Usage()
		return errUsage
	}
	data, err := os.ReadFile(*configPath)
	if err != nil {
		return err
	}
	cfg, err := routing.ParseConfig(data)
	if err != nil {
		return fmt.Errorf("%s: %w", *configPath, err)
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	proxy, err := routing.NewProxy(cfg, routing.WithLogger(logger))
	if err != nil {
		return err
	}
	defer proxy.Close()

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	// No read or write timeout: bodies stream both ways. Slow header
	// senders and idle connections are still cut off.
	srv := &http.Server{Handler: proxy, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 120 * time.Second,
		ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}
	fmt.Fprintf(stdout, "authhero route listening on http://%s (policy %s, %d pools, health %s every %s)\n",
		displayAddr(ln.Addr()), cfg.Steering.Policy, len(cfg.Pools), cfg.HealthCheck.Path, cfg.HealthCheck.Interval)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return srv.Shutdown(sctx)
	}
}
