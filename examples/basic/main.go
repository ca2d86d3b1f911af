// Command basic is a host application that embeds authhero-go: its own
// net/http server serves its own routes and middleware beside the identity
// provider, on one embedded SQLite database.
//
//	go run ./examples/basic            # listens on :3000
package main

import (
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"

	"github.com/authhero-go/authhero"
	"github.com/authhero-go/authhero/adapters"
	"github.com/authhero-go/authhero/adapters/bunadapter"
)

func main() {
	addr := flag.String("listen", "127.0.0.1:3000", "listen address")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "authhero-basic")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	if err := run(ctx, ln, filepath.Join(dir, "basic.db"), os.Stdout); err != nil {
		log.Fatal(err)
	}
}

// run serves the host application on ln until ctx ends.
func run(ctx context.Context, ln net.Listener, dbPath string, out io.Writer) error {
	db, err := bunadapter.Open(ctx, "sqlite://"+dbPath)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		return err
	}
	key := make([]byte, 32) // in production: the same 32 bytes on every instance
	rand.Read(key)
	app, err := authhero.InitMultiTenant(authhero.Options{
		DataAdapter:   db.DataAdapters,
		EncryptionKey: key,
		Logger:        slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		return err
	}
	if _, err := app.CreateTenant(ctx, adapters.Tenant{ID: "main", FriendlyName: "Main"}); err != nil {
		return err
	}
	c, secret, err := app.CreateManagementClient(ctx, "main", "host admin", "", "")
	if err != nil {
		return err
	}

	// Routes and middleware on the App itself, like AuthHero's app.get/app.use.
	app.HandleFunc("GET /hello", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "hello from the host app")
	})
	app.Use(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Host-App", "basic")
			next.ServeHTTP(w, r)
		})
	})

	// Or the App mounted inside the host's own mux.
	mux := http.NewServeMux()
	mux.HandleFunc("GET /internal/status", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.Handle("/", app)

	fmt.Fprintf(out, "listening on http://%s\nmanagement client: %s %s\n", ln.Addr(), c.ClientID, secret)
	srv := &http.Server{Handler: mux}
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	if err := srv.Serve(ln); err != http.ErrServerClosed {
		return err
	}
	return nil
}
